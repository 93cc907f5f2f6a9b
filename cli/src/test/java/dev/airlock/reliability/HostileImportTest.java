package dev.airlock.reliability;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.airlock.bundle.BundleLayout;
import dev.airlock.cli.Airlock;
import dev.airlock.error.ExitCodes;
import dev.airlock.model.Descriptor;
import dev.airlock.model.MediaType;
import dev.airlock.model.Platform;
import dev.airlock.model.RawManifest;
import dev.airlock.sign.KeyGen;
import dev.airlock.sign.Signer;
import dev.airlock.testkit.RegistryAudit;
import dev.airlock.testkit.RegistryProcess;
import dev.airlock.testkit.TestImages;
import dev.airlock.testkit.TestImages.TestImage;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import java.util.function.UnaryOperator;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Hostile bundles through {@code airlock import} into a real, empty docker-registry. Every bundle
 * carries a signature by the TRUSTED key (the worst case: an insider or a stolen key), so only
 * the structural checks stand between it and the registry. Each must end with exit code 3
 * (verification), exactly one line on stderr without a stack trace, and NOTHING in the registry:
 * no repository, no blob, no upload (HTTP catalog and storage directory).
 */
class HostileImportTest {
    @TempDir
    static Path keys;
    static Signer signer;
    static Path trust;
    static TestImage good;

    @TempDir
    Path dir;
    RegistryProcess registry;

    @BeforeAll
    static void keys() {
        KeyGen.Result k = KeyGen.generate(keys.resolve("ops"), Optional.of("CN=hostile"));
        signer = Signer.load(k.privateKey(), Optional.of(k.certificate()));
        trust = k.publicKey();
        good = TestImages.image("victim").oci().layerSize(2048).build();
    }

    @BeforeEach
    void start() {
        registry = RegistryProcess.start();
    }

    @AfterEach
    void stop() {
        registry.close();
    }

    @Test
    void theForgeMakesImportableBundles() {
        // control: the same forge without damage imports fine, so the refusals below are the checks' doing
        Path p = new BundleForge().image("example.com/victim:1.0", good).write(dir.resolve("ok.tar"), signer);
        assertEquals(0, importRun(p).code);
        RegistryAudit.assertConsistent(registry);
    }

    @Test
    void zstdBombAfterTheEndOfTheArchive() {
        // a .tar is checked to its end at open: nothing is pushed
        refused(new BundleForge().image("example.com/victim:1.0", good)
                .write(dir.resolve("bomb.tar"), signer, false, UnaryOperator.identity(), List.of(), 2L << 20), "more than end-of-archive padding");
        // a .tar.zst is read once (every bundle routes its blobs): what passed before the end is verified
        // content pushed by digest; the junk after the end fails the import before any tag
        Path p = new BundleForge().image("example.com/victim:1.0", good)
                .write(dir.resolve("bomb.tar.zst"), signer, true, UnaryOperator.identity(), List.of(), 1L << 30);
        Run r = importRun(p);
        List<String> lines = r.err.lines().filter(l -> !l.isBlank()).toList();
        assertEquals(ExitCodes.VERIFICATION, r.code, r.err);
        assertEquals(1, lines.size(), "stderr must be one line: " + r.err);
        assertTrue(lines.get(0).contains("after the end of the tar archive"), lines.get(0));
        RegistryAudit.Report audit = RegistryAudit.assertConsistent(registry);
        assertEquals(0, audit.tagCount(), audit.toString());
    }

    @Test
    void entryClaimingATerabyte() throws IOException {
        Path p = new BundleForge().image("example.com/victim:1.0", good).write(dir.resolve("huge.tar"), signer);
        BundleForge.patchSize(p, BundleLayout.blobPath(good.blobs().get(0).digest()), 1L << 40);
        refused(p, "");
    }

    @Test
    void deeplyNestedConfig() {
        BundleForge f = new BundleForge();
        Descriptor layer = f.add(MediaType.OCI_LAYER_GZIP, TestImages.layer(MediaType.OCI_LAYER_GZIP, "deep", 512).bytes());
        Descriptor cfg = f.add(MediaType.OCI_CONFIG, ("{\"os\":\"linux\",\"architecture\":\"amd64\",\"x\":" + "[".repeat(200_000)
                + "]".repeat(200_000) + "}").getBytes(StandardCharsets.UTF_8));
        RawManifest m = manifest(f, cfg, layer);
        f.image("example.com/deep:1", m, List.of(Platform.parse("linux/amd64")));
        refused(f.write(dir.resolve("deep.tar"), signer), "nesting depth");
    }

    @Test
    void deeplyNestedBundleJson() {
        Path p = new BundleForge().image("example.com/victim:1.0", good).write(dir.resolve("deepjson.tar"), signer, false,
                b -> ("{\"formatVersion\":1,\"x\":" + "{\"a\":".repeat(100_000) + "1" + "}".repeat(100_000) + "}").getBytes(StandardCharsets.UTF_8),
                List.of(), 0);
        refused(p, "nesting depth");
    }

    @Test
    void indexWith100000Entries() {
        BundleForge f = new BundleForge();
        Descriptor layer = f.add(MediaType.OCI_LAYER_GZIP, TestImages.layer(MediaType.OCI_LAYER_GZIP, "wide", 512).bytes());
        Descriptor cfg = f.add(MediaType.OCI_CONFIG, "{\"os\":\"linux\",\"architecture\":\"amd64\"}".getBytes(StandardCharsets.UTF_8));
        RawManifest m = manifest(f, cfg, layer);
        String entry = "{\"mediaType\":\"" + m.mediaType() + "\",\"digest\":\"" + m.digest() + "\",\"size\":" + m.size()
                + ",\"platform\":{\"architecture\":\"amd64\",\"os\":\"linux\"}}";
        String idx = "{\"schemaVersion\":2,\"mediaType\":\"" + MediaType.OCI_INDEX + "\",\"manifests\":["
                + String.join(",", java.util.Collections.nCopies(100_000, entry)) + "]}";
        byte[] bytes = idx.getBytes(StandardCharsets.UTF_8);
        f.add(MediaType.OCI_INDEX, bytes);
        f.images.add(dev.airlock.bundle.BundleImage.of(Fixture.ref("example.com/wide:1"), Descriptor.ofBytes(MediaType.OCI_INDEX, bytes),
                List.of(Platform.parse("linux/amd64"))));
        refused(f.write(dir.resolve("wide.tar"), signer), "over the 4194304-byte limit");
    }

    @Test
    void indexesNestedSixDeep() {
        // an index whose only child is an index whose only child is ... (a manifest cannot name itself:
        // that needs a SHA-256 fixed point; this is the closest thing that can be built)
        BundleForge f = new BundleForge();
        Descriptor layer = f.add(MediaType.OCI_LAYER_GZIP, TestImages.layer(MediaType.OCI_LAYER_GZIP, "nest", 512).bytes());
        Descriptor cfg = f.add(MediaType.OCI_CONFIG, "{\"os\":\"linux\",\"architecture\":\"amd64\"}".getBytes(StandardCharsets.UTF_8));
        RawManifest child = manifest(f, cfg, layer);
        for (int i = 0; i < 6; i++) {
            String idx = "{\"schemaVersion\":2,\"mediaType\":\"" + MediaType.OCI_INDEX + "\",\"manifests\":[{\"mediaType\":\"" + child.mediaType()
                    + "\",\"digest\":\"" + child.digest() + "\",\"size\":" + child.size() + ",\"platform\":{\"architecture\":\"amd64\",\"os\":\"linux\"}}]}";
            child = RawManifest.of(MediaType.OCI_INDEX, idx.getBytes(StandardCharsets.UTF_8));
            f.add(MediaType.OCI_INDEX, child.bytes());
        }
        f.image("example.com/nest:1", child, List.of(Platform.parse("linux/amd64")));
        refused(f.write(dir.resolve("nest.tar"), signer), "nested deeper than");
    }

    @Test
    void indexPlatformLiesAboutItsChild() {
        TestImage liar = TestImages.image("liar").platforms("linux/amd64", "linux/arm64").lieAboutPlatform("linux/arm64", "linux/amd64")
                .layerSize(1024).build();
        refused(new BundleForge().image("example.com/liar:1.0", liar).write(dir.resolve("liar.tar"), signer), "but its config");
    }

    @Test
    void indexPlatformLieHiddenByListingTheConfigAsALayer() {
        TestImage liar = TestImages.image("liar").platforms("linux/amd64", "linux/arm64").lieAboutPlatform("linux/arm64", "linux/amd64")
                .layerSize(1024).build();
        BundleForge f = new BundleForge().image("example.com/liar:1.0", liar);
        f.relabel(liar.platforms().get(1).config().digest(), MediaType.OCI_LAYER_GZIP);
        refused(f.write(dir.resolve("liar2.tar"), signer), "but bundle.json lists it as");
    }

    @Test
    void blobMatchesBundleJsonButNotTheDescriptorThatReferencesIt() {
        BundleForge f = new BundleForge();
        Descriptor layer = f.add(MediaType.OCI_LAYER_GZIP, TestImages.layer(MediaType.OCI_LAYER_GZIP, "sized", 512).bytes());
        Descriptor cfg = f.add(MediaType.OCI_CONFIG, "{\"os\":\"linux\",\"architecture\":\"amd64\"}".getBytes(StandardCharsets.UTF_8));
        RawManifest m = manifest(f, cfg, Descriptor.of(layer.mediaType(), layer.digest(), layer.size() + 1));
        f.image("example.com/sized:1", m, List.of(Platform.parse("linux/amd64")));
        refused(f.write(dir.resolve("sized.tar"), signer), "but the bundle's blob has");
    }

    @Test
    void trustedBundleJsonListsAFileThatIsNotThere() {
        BundleForge.Blob ghost = new BundleForge.Blob(MediaType.OCI_LAYER_GZIP, "not in the archive".getBytes(StandardCharsets.UTF_8));
        for (boolean zstd : new boolean[] {false, true}) {
            Path p = new BundleForge().image("example.com/victim:1.0", good)
                    .write(dir.resolve("ghost" + (zstd ? ".tar.zst" : ".tar")), signer, zstd, UnaryOperator.identity(), List.of(ghost), 0);
            refused(p, "missing from the archive");
        }
    }

    // ---- files[].images (which images use each blob): signed, but checked against the graph

    @Test
    void theForgeMakesImportableRoutedBundles() {
        TestImage other = TestImages.image("other").oci().layerSize(1024).build();
        Path p = new BundleForge().image("example.com/victim:1.0", good).image("example.com/other:1.0", other).routed(r -> { })
                .write(dir.resolve("routed-ok.tar.zst"), signer, true, UnaryOperator.identity(), List.of(), 0);
        Run r = importRun(p);
        assertEquals(0, r.code, r.err);
        assertEquals(2, RegistryAudit.assertConsistent(registry).tagCount());
    }

    @Test
    void routingListsAnImageForABlobItDoesNotUse() {
        // a layer of the victim is also routed to the other image's repository: caught when that
        // image's top passes, before it is pushed; no tag anywhere
        TestImage other = TestImages.image("other").oci().layerSize(1024).build();
        routingLie(other, r -> r.put(good.blobs().get(good.blobs().size() - 1).digest(), List.of(0, 1)), "which its graph does not reference");
    }

    @Test
    void routingOmitsAnImageThatUsesTheBlob() {
        TestImage other = TestImages.image("other").oci().layerSize(1024).build();
        routingLie(other, r -> r.put(good.blobs().get(good.blobs().size() - 1).digest(), List.of(1)), "bundle.json does not list image");
    }

    @Test
    void routingWhereAnImagesTopDoesNotListIt() {
        // structural: refused when bundle.json is parsed, before anything is pushed, even from a .tar.zst
        TestImage other = TestImages.image("other").oci().layerSize(1024).build();
        for (boolean zstd : new boolean[] {false, true}) {
            String entry = good.top().digest().hex() + "\",\"mediaType\":\"" + good.top().mediaType() + "\",\"images\":[";
            UnaryOperator<byte[]> lie = json -> {
                String t = new String(json, StandardCharsets.UTF_8);
                assertTrue(t.contains(entry + "0]"), t);
                return t.replace(entry + "0]", entry + "1]").getBytes(StandardCharsets.UTF_8); // signed after the edit
            };
            Path p = new BundleForge().image("example.com/victim:1.0", good).image("example.com/other:1.0", other).routed(r -> { })
                    .write(dir.resolve("top" + (zstd ? ".tar.zst" : ".tar")), signer, zstd, lie, List.of(), 0);
            refused(p, "does not list it");
        }
    }

    /** A .tar refuses at open (nothing pushed); a .tar.zst read once refuses mid-stream: exit 3, one line, no tag, consistent. */
    private void routingLie(TestImage other, java.util.function.Consumer<java.util.Map<dev.airlock.model.Digest, List<Integer>>> lie, String fragment) {
        BundleForge f = new BundleForge().image("example.com/victim:1.0", good).image("example.com/other:1.0", other).routed(lie);
        refused(f.write(dir.resolve("lie.tar"), signer), fragment);
        Run r = importRun(f.write(dir.resolve("lie.tar.zst"), signer, true, UnaryOperator.identity(), List.of(), 0));
        List<String> lines = r.err.lines().filter(l -> !l.isBlank()).toList();
        assertEquals(ExitCodes.VERIFICATION, r.code, r.err);
        assertEquals(1, lines.size(), "stderr must be one line: " + r.err);
        assertTrue(lines.get(0).contains(fragment), lines.get(0));
        RegistryAudit.Report audit = RegistryAudit.assertConsistent(registry);
        assertEquals(0, audit.tagCount(), audit.toString());
    }

    // ---- helpers

    private static RawManifest manifest(BundleForge f, Descriptor cfg, Descriptor layer) {
        String json = "{\"schemaVersion\":2,\"mediaType\":\"" + MediaType.OCI_MANIFEST + "\",\"config\":" + BundleForge.desc(cfg)
                + ",\"layers\":[" + BundleForge.desc(layer) + "]}";
        RawManifest m = RawManifest.of(MediaType.OCI_MANIFEST, json.getBytes(StandardCharsets.UTF_8));
        f.add(MediaType.OCI_MANIFEST, m.bytes());
        return m;
    }

    record Run(int code, String out, String err) {
    }

    /**
     * The hostile corpus is about what the BUNDLE can get into the registry, checked down to the
     * storage directory; import's preflight would leave its own few-byte probes there
     * (PREFIX/airlock-preflight, Distribution 2.8 refuses deletes by default), so it is off here.
     * PreflightCommandTest covers the preflight in front of a refusing target.
     */
    private Run importRun(Path bundle) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        int code = Airlock.run(new PrintWriter(out, true), new PrintWriter(err, true), "import", bundle.toString(),
                "--to", registry.host() + "/hostile", "--trust", trust.toString(), "--no-preflight", "-q");
        return new Run(code, out.toString(), err.toString());
    }

    /** Exit 3, one line on stderr naming the problem, no stack trace, and an empty registry. */
    private void refused(Path bundle, String fragment) {
        Run r = importRun(bundle);
        List<String> lines = r.err.lines().filter(l -> !l.isBlank()).toList();
        assertEquals(ExitCodes.VERIFICATION, r.code, r.err);
        assertEquals(1, lines.size(), "stderr must be one line: " + r.err);
        String line = lines.get(0);
        assertTrue(line.startsWith("airlock: "), line);
        assertTrue(line.contains(fragment), "lacks '" + fragment + "': " + line);
        assertFalse(line.contains("Exception") || line.contains("\tat ") || line.contains("unexpected error"), line);
        RegistryAudit.assertEmpty(registry);
    }
}
