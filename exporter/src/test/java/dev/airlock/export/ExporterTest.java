package dev.airlock.export;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.airlock.bundle.BundleImage;
import dev.airlock.bundle.BundleManifest;
import dev.airlock.bundle.BundleVerifier;
import dev.airlock.bundle.VerifyResult;
import dev.airlock.copy.CopyJob;
import dev.airlock.copy.CopyOptions;
import dev.airlock.copy.GraphCopier;
import dev.airlock.copy.GraphPlanner;
import dev.airlock.copy.ImageOutcome;
import dev.airlock.copy.ImagePlan;
import dev.airlock.copy.PlanException;
import dev.airlock.copy.SourceImage;
import dev.airlock.error.AirlockException;
import dev.airlock.model.Descriptor;
import dev.airlock.model.Digest;
import dev.airlock.model.ImageIndex;
import dev.airlock.model.ImageManifest;
import dev.airlock.model.ImageReference;
import dev.airlock.model.ManifestView;
import dev.airlock.model.Platform;
import dev.airlock.model.RawManifest;
import dev.airlock.progress.ProgressListener;
import dev.airlock.registry.RegistryOptions;
import dev.airlock.registry.RegistryStore;
import dev.airlock.registry.TransportOptions;
import dev.airlock.sign.KeyGen;
import dev.airlock.sign.Signer;
import dev.airlock.sign.TrustPolicy;
import dev.airlock.layout.DirectoryStore;
import dev.airlock.testkit.RegistryProcess;
import dev.airlock.testkit.TestImages;
import dev.airlock.testkit.TestImages.TestImage;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.atomic.AtomicLong;
import java.util.stream.Collectors;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveInputStream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Export against a real Distribution registry: byte-exact, each blob once, resumable, plan first. */
class ExporterTest {
    static RegistryProcess registry;
    static RegistryStore store;
    /** OCI index, four platforms incl. arm/v5 and arm/v7, attestations, odd JSON. */
    static TestImage app;
    /** Docker manifest list sharing base layers with app. */
    static TestImage db;
    /** A single-platform OCI manifest (arm64/v8) sharing base layers too. */
    static TestImage tool;
    static List<String> refs;

    @TempDir
    Path tmp;

    @BeforeAll
    static void pushImages() {
        registry = RegistryProcess.start();
        store = RegistryStore.open(registry.host(), RegistryOptions.anonymous());
        app = TestImages.image("app").oci().platforms("linux/amd64", "linux/arm64/v8", "linux/arm/v7", "linux/arm/v5")
                .attestation().oddJson().baseSeed(1).layerSize(48 * 1024).ownLayers(2).build();
        db = TestImages.image("db").docker().platforms("linux/amd64", "linux/arm64/v8", "linux/arm/v7")
                .baseSeed(1).layerSize(48 * 1024).build();
        tool = TestImages.image("tool").singlePlatform("linux/arm64/v8").baseSeed(1).layerSize(48 * 1024).build();
        app.pushTo(store, "team/app");
        app.pushTo(store, "mirror/app");
        db.pushTo(store, "team/db");
        tool.pushTo(store, "tools/tool");
        String h = registry.host();
        refs = List.of(h + "/team/app:1.0", h + "/mirror/app:1.0", h + "/team/db:1.0", h + "/tools/tool:1.0");
    }

    @AfterAll
    static void stopRegistry() {
        if (store != null) {
            store.close();
        }
        if (registry != null) {
            registry.close();
        }
    }

    private Exporter exporter() {
        return new Exporter(SourceStores.registries(RegistryOptions.anonymous()));
    }

    private ExportRequest request(String name) {
        return ExportRequest.to(tmp.resolve(name)).cacheDir(tmp.resolve("cache")).jobs(4);
    }

    @Test
    void exportsEveryPlatformByteExactWithEachBlobOnceInDependencyOrder() throws Exception {
        List<String> notes = new ArrayList<>();
        ExportResult r = exporter().export(request("all.tar").references(refs).progress(new ProgressListener() {
            @Override
            public void note(String line) {
                notes.add(line);
            }
        }));

        // Digests equal the source's, platforms as pushed.
        assertEquals(4, r.images().size());
        List<TestImage> sources = List.of(app, app, db, tool);
        for (int i = 0; i < 4; i++) {
            assertEquals(sources.get(i).top().digest(), r.images().get(i).digest());
            assertTrue(r.images().get(i).originalDigest().isEmpty());
        }
        assertEquals(List.of("linux/amd64", "linux/arm64/v8", "linux/arm/v7", "linux/arm/v5"),
                r.images().get(0).platforms().stream().map(Platform::toString).toList());
        assertTrue(notes.stream().anyMatch(n -> n.contains("not signed")), notes.toString());

        // Every blob and manifest of the source once in the archive, byte-exact, in dependency order.
        Map<String, byte[]> entries = readTar(r.bundle());
        Map<Digest, byte[]> expected = new LinkedHashMap<>();
        for (TestImage img : List.of(app, db, tool)) {
            img.blobs().forEach(b -> expected.put(b.digest(), b.bytes()));
            img.children().forEach(m -> expected.put(m.digest(), m.bytes()));
            expected.put(img.top().digest(), img.top().bytes());
        }
        Set<String> blobNames = entries.keySet().stream().filter(n -> n.startsWith("blobs/")).collect(Collectors.toSet());
        assertEquals(expected.size(), blobNames.size(), "each unique blob once, nothing else");
        for (var e : expected.entrySet()) {
            byte[] got = entries.get("blobs/sha256/" + e.getKey().hex());
            assertArrayEquals(e.getValue(), got, "blob " + e.getKey());
        }
        assertEquals(expected.size(), r.blobs());
        assertEquals(expected.values().stream().mapToLong(b -> b.length).sum(), r.uniqueBytes());
        long layerAndConfigBytes = java.util.stream.Stream.of(app, db, tool).flatMap(i -> i.blobs().stream())
                .collect(Collectors.toMap(TestImages.Blob::digest, b -> (long) b.bytes().length, (a, b) -> a))
                .values().stream().mapToLong(Long::longValue).sum();
        assertEquals(layerAndConfigBytes, r.fetchedBytes(), "a fresh cache: every unique blob fetched once");
        assertEquals(0, r.cachedBytes(), "blobs shared between images are not counted as cache hits");
        assertDependencyOrder(new ArrayList<>(entries.keySet()), entries);

        // bundle.json lists the images with their source references and digests; BUNDLE.sha256 matches.
        BundleManifest bm = BundleManifest.parse(entries.get("airlock/bundle.json"), "test bundle");
        assertEquals(refs, bm.images().stream().map(i -> i.source().toString()).toList());
        assertEquals(r.images().stream().map(ExportResult.ExportedImage::digest).toList(),
                bm.images().stream().map(BundleImage::digest).toList());
        String sum = Files.readString(r.checksumFile(), StandardCharsets.UTF_8);
        assertEquals(sha256(r.bundle()) + "  all.tar\n", sum);
        assertEquals(Files.size(r.bundle()), r.bundleBytes());

        // The bundle verifies (unsigned allowed here; the signed case is below).
        VerifyResult v = BundleVerifier.verify(r.bundle(), TrustPolicy.allowUnsignedOnly(), ProgressListener.NONE);
        assertEquals(4, v.manifest().images().size());

        // A second export is served from the cache: nothing fetched.
        ExportResult again = exporter().export(request("again.tar").references(refs));
        assertEquals(0, again.fetchedBytes());
        assertEquals(layerAndConfigBytes, again.cachedBytes());
    }

    @Test
    void aSignedBundleVerifiesWithTheSignersKey() throws Exception {
        KeyGen.Result keys = KeyGen.generate(tmp.resolve("ops"), Optional.empty());
        List<String> notes = new ArrayList<>();
        ExportResult r = exporter().export(request("signed.tar.zst").references(List.of(refs.get(3)))
                .signer(Optional.of(Signer.load(keys.privateKey(), Optional.of(keys.certificate()))))
                .progress(new ProgressListener() {
                    @Override
                    public void note(String line) {
                        notes.add(line);
                    }
                }));
        assertTrue(r.signed());
        assertEquals(keys.fingerprint(), r.signer().orElseThrow());
        assertTrue(notes.stream().noneMatch(n -> n.contains("not signed")), notes.toString());
        VerifyResult v = BundleVerifier.verify(r.bundle(), TrustPolicy.fromFiles(List.of(keys.publicKey()), false), ProgressListener.NONE);
        assertTrue(v.compressed());
        assertEquals(tool.top().digest(), v.manifest().images().get(0).digest());
        KeyGen.Result other = KeyGen.generate(tmp.resolve("other"), Optional.empty());
        assertThrows(AirlockException.class, () -> BundleVerifier.verify(r.bundle(),
                TrustPolicy.fromFiles(List.of(other.publicKey()), false), ProgressListener.NONE));
    }

    @Test
    void skopeoReadsAnImageFromTheBundle() throws Exception {
        // skopeo 1.9 looks up only OCI media types by name in index.json, so the OCI image is the one to ask for.
        ExportResult r = exporter().export(request("skopeo.tar").references(List.of(refs.get(2), refs.get(0))));
        assertArrayEquals(app.top().bytes(), skopeo("inspect", "--raw", "oci-archive:" + r.bundle() + ":" + refs.get(0)));
        String inspect = new String(skopeo("inspect", "--override-arch", "arm", "--override-variant", "v5",
                "oci-archive:" + r.bundle() + ":" + refs.get(0)), StandardCharsets.UTF_8);
        TestImages.PlatformImage armV5 = app.platforms().get(3);
        assertEquals("linux/arm/v5", armV5.platform().toString());
        for (TestImages.Blob layer : armV5.layers()) {
            assertTrue(inspect.contains(layer.digest().toString()), "arm/v5 layer " + layer.digest() + " in " + inspect);
        }
        assertTrue(inspect.contains("\"Architecture\": \"arm\""), inspect);
    }

    private static byte[] skopeo(String... args) throws Exception {
        List<String> cmd = new ArrayList<>(List.of("skopeo"));
        cmd.addAll(List.of(args));
        Process p = new ProcessBuilder(cmd).redirectError(ProcessBuilder.Redirect.INHERIT).start();
        byte[] out = p.getInputStream().readAllBytes();
        assertEquals(0, p.waitFor(), "exit code of " + cmd);
        return out;
    }

    @Test
    void platformFilterKeepsExactlyThoseTwoAndTheResultIsAcceptedByDistribution() throws Exception {
        List<String> notes = new ArrayList<>();
        ExportResult r = exporter().export(request("two.tar").references(List.of(refs.get(2), refs.get(0)))
                .platforms(List.of(Platform.parse("linux/amd64"), Platform.parse("linux/arm64")))
                .progress(new ProgressListener() {
                    @Override
                    public void note(String line) {
                        notes.add(line);
                    }
                }));
        ExportResult.ExportedImage dbOut = r.images().get(0);
        assertEquals(db.top().digest(), dbOut.originalDigest().orElseThrow());
        assertFalse(dbOut.digest().equals(db.top().digest()));
        assertTrue(notes.stream().anyMatch(n -> n.contains(db.top().digest().toString()) && n.contains(dbOut.digest().toString())),
                "the output says the digest changed: " + notes);

        Map<String, byte[]> entries = readTar(r.bundle());
        BundleManifest bm = BundleManifest.parse(entries.get("airlock/bundle.json"), "test bundle");
        assertEquals(db.top().digest(), bm.images().get(0).originalDigest().orElseThrow(), "bundle.json records the original digest");
        RawManifest index = RawManifest.of(db.top().mediaType(), entries.get("blobs/sha256/" + dbOut.digest().hex()));
        List<Descriptor> kept = ((ImageIndex) index.view()).manifests();
        assertEquals(List.of("linux/amd64", "linux/arm64/v8"), kept.stream().map(d -> d.platform().orElseThrow().toString()).toList());
        ImageIndex appIndex = (ImageIndex) RawManifest.of(app.top().mediaType(),
                entries.get("blobs/sha256/" + r.images().get(1).digest().hex())).view();
        assertEquals(4, appIndex.manifests().size(), "two platforms and their two attestations");
        assertFalse(entries.containsKey("blobs/sha256/" + db.top().digest().hex()), "the unfiltered index is not in the bundle");

        // Push the filtered image from the bundle's layout to a stock Distribution registry.
        Path layout = extract(entries, tmp.resolve("layout"));
        DirectoryStore bundleDir = DirectoryStore.open(layout);
        ImagePlan plan = new GraphPlanner(List.of()).plan(new SourceImage(ImageReference.parse(refs.get(2)), bundleDir, "x",
                dbOut.digest().toString()));
        GraphCopier copier = new GraphCopier(new CopyOptions(2, false, true, ProgressListener.NONE));
        List<ImageOutcome> out = copier.copy(List.of(new CopyJob(plan, store, "filtered/db", List.of("two")))).outcomes();
        assertTrue(out.get(0).ok(), () -> out.get(0).failure().toString());
        copier.tag(out.get(0));
        RawManifest back = store.fetchManifest("filtered/db", "two");
        assertEquals(dbOut.digest(), back.digest());
        assertArrayEquals(index.bytes(), back.bytes());
    }

    @Test
    void anExportWhoseRegistryDiesMidwayResumesFetchingOnlyWhatIsMissing() {
        long total = app.blobBytes();
        ExportRequest req = request("resume.tar").references(List.of(refs.get(0))).jobs(1);
        RegistryOptions once = RegistryOptions.anonymous().withTransport(TransportOptions.defaults().withMaxAttempts(1));
        try (RegistryStore fragile = RegistryStore.open(registry.host(), once)) {
            CountingStore dying = new CountingStore(fragile);
            dying.onLayerOpen = n -> {
                if (n == 4) {
                    registry.kill();
                }
            };
            AirlockException e = assertThrows(AirlockException.class, () -> new Exporter(host -> dying).export(req));
            assertTrue(e.getMessage().contains(registry.host()), e.getMessage());
        } finally {
            registry.restart();
        }
        assertFalse(Files.exists(req.output()), "no bundle under the final name after a failure");

        DirectoryStore cache = DirectoryStore.open(req.cacheDir().orElseThrow());
        Set<Digest> missing = new HashSet<>();
        long missingBytes = 0;
        for (TestImages.Blob b : app.blobs()) {
            if (cache.blobSize("", b.digest()).isEmpty()) {
                missing.add(b.digest());
                missingBytes += b.bytes().length;
            }
        }
        assertTrue(missingBytes > 0 && missingBytes < total, "the first run stopped midway: " + missingBytes + " of " + total + " missing");

        CountingStore counting = new CountingStore(store);
        ExportResult r = new Exporter(host -> counting).export(req);
        Set<Digest> layersMissing = app.blobs().stream().filter(b -> !b.descriptor().mediaType().isImageConfig())
                .map(TestImages.Blob::digest).filter(missing::contains).collect(Collectors.toSet());
        assertEquals(layersMissing, new HashSet<>(counting.layersOpened()), "only the missing layers are fetched");
        assertEquals(counting.layersOpened().size(), new HashSet<>(counting.layersOpened()).size(), "each fetched once");
        assertEquals(missingBytes, r.fetchedBytes());
        assertEquals(total - missingBytes, r.cachedBytes());
        assertEquals(app.top().digest(), r.images().get(0).digest());
    }

    @Test
    void withoutACacheAnInterruptedExportResumesFromItsPartialBundleFetchingOnlyWhatIsMissing() throws Exception {
        // no --cache: every blob goes straight into the bundle file once; the partial file and its
        // journal are what a re-run resumes from
        ExportRequest req = ExportRequest.to(tmp.resolve("inplace.tar")).jobs(1).references(List.of(refs.get(0)));
        RegistryOptions once = RegistryOptions.anonymous().withTransport(TransportOptions.defaults().withMaxAttempts(1));
        List<String> notes = new ArrayList<>();
        try (RegistryStore fragile = RegistryStore.open(registry.host(), once)) {
            CountingStore dying = new CountingStore(fragile);
            dying.onLayerOpen = n -> {
                if (n == 4) {
                    registry.kill();
                }
            };
            ProgressListener noting = new ProgressListener() {
                @Override
                public void note(String line) {
                    notes.add(line);
                }
            };
            AirlockException e = assertThrows(AirlockException.class, () -> new Exporter(host -> dying).export(req.progress(noting)));
            assertTrue(e.getMessage().contains(registry.host()), e.getMessage());
        } finally {
            registry.restart();
        }
        assertFalse(Files.exists(req.output()), "no bundle under the final name after a failure");
        Path partial = dev.airlock.bundle.PlacedBundle.partialOf(req.output());
        assertTrue(Files.exists(partial), "the partial bundle stays for the re-run");
        assertTrue(notes.stream().anyMatch(n -> n.contains(partial.toString()) && n.contains("resume")), notes.toString());
        Set<Digest> journalled = Files.readAllLines(dev.airlock.bundle.PlacedBundle.journalOf(req.output())).stream().skip(1)
                .map(Digest::parse).collect(Collectors.toSet());
        Set<Digest> layers = app.blobs().stream().filter(b -> !b.descriptor().mediaType().isImageConfig()).map(TestImages.Blob::digest)
                .collect(Collectors.toSet());
        Set<Digest> layersMissing = new HashSet<>(layers);
        layersMissing.removeAll(journalled);
        assertTrue(!layersMissing.isEmpty() && layersMissing.size() < layers.size(), "stopped midway: " + layersMissing.size() + " of " + layers.size());

        CountingStore counting = new CountingStore(store);
        ExportResult r = new Exporter(host -> counting).export(req);
        assertEquals(layersMissing, new HashSet<>(counting.layersOpened()), "only the layers not in the journal are fetched");
        assertEquals(counting.layersOpened().size(), new HashSet<>(counting.layersOpened()).size(), "each fetched once");
        assertFalse(Files.exists(partial));
        assertFalse(Files.exists(dev.airlock.bundle.PlacedBundle.journalOf(req.output())));
        Map<String, byte[]> entries = readTar(r.bundle());
        for (TestImages.Blob b : app.blobs()) {
            assertArrayEquals(b.bytes(), entries.get("blobs/sha256/" + b.digest().hex()), "blob " + b.digest());
        }
        assertEquals(sha256(r.bundle()) + "  inplace.tar\n", Files.readString(r.checksumFile(), StandardCharsets.UTF_8));
        BundleVerifier.verify(r.bundle(), TrustPolicy.allowUnsignedOnly(), ProgressListener.NONE);
    }

    @Test
    void aBlobDamagedInTheCacheSinceAnEarlierRunIsCaughtWhileWritingAndLeavesNoBundle() throws IOException {
        // Blobs fetched in this run are hashed once (while fetched); blobs found in the cache from an
        // earlier run are hashed again while written, so a damaged one stops the export.
        ExportRequest first = request("first.tar").references(List.of(refs.get(0)));
        exporter().export(first);
        TestImages.Blob layer = app.blobs().stream().filter(b -> !b.descriptor().mediaType().isImageConfig()).findFirst().orElseThrow();
        Path file = DirectoryStore.open(first.cacheDir().orElseThrow()).blobPath(layer.digest());
        byte[] bytes = Files.readAllBytes(file);
        bytes[bytes.length / 2] ^= 1;
        Files.write(file, bytes);

        ExportRequest again = request("again.tar").references(List.of(refs.get(0)));
        AirlockException e = assertThrows(AirlockException.class, () -> exporter().export(again));
        assertTrue(e.getMessage().contains(layer.digest().toString()), e.getMessage());
        assertEquals(3, e.exitCode(), e.getMessage());
        assertFalse(Files.exists(again.output()), "no bundle from a damaged cache");
    }

    @Test
    void aLargeLayerArrivesAsParallelRangesByteExactAndADamagedOneLeavesNoTemporaryFile() throws Exception {
        TestImage big = TestImages.image("big").oci().singlePlatform("linux/amd64").baseSeed(30).layerSize(3 * 1024 * 1024).build();
        big.pushTo(store, "ml/big");
        TestImages.Blob layer = big.blobs().stream().filter(b -> b.bytes().length > 1024 * 1024).findFirst().orElseThrow();
        RegistryOptions ranged = RegistryOptions.anonymous().withTransport(TransportOptions.defaults().withRangedDownloads(1024 * 1024, 512 * 1024));
        try (dev.airlock.testkit.FaultProxy proxy = dev.airlock.testkit.FaultProxy.in(registry)) {
            ExportResult r = new Exporter(SourceStores.registries(ranged)).export(request("big.tar").references(List.of(proxy.host() + "/ml/big:1.0")));
            assertTrue(proxy.rangeRequests() >= 6, "the 3 MiB layer came as 512 KiB ranges: " + proxy.rangeRequests());
            assertArrayEquals(layer.bytes(), readTar(r.bundle()).get("blobs/sha256/" + layer.digest().hex()));
            BundleVerifier.verify(r.bundle(), TrustPolicy.allowUnsignedOnly(), ProgressListener.NONE);

            // the same layer damaged in the registry's storage: the whole digest fails, nothing is left behind
            Path data = registry.storage().resolve("docker/registry/v2/blobs/sha256/" + layer.digest().hex().substring(0, 2) + "/"
                    + layer.digest().hex() + "/data");
            byte[] bytes = Files.readAllBytes(data);
            bytes[bytes.length - 100] ^= 1;
            Files.write(data, bytes);
            ExportRequest again = request("damaged.tar").cacheDir(tmp.resolve("fresh-cache")).references(List.of(proxy.host() + "/ml/big:1.0"));
            AirlockException e = assertThrows(AirlockException.class, () -> new Exporter(SourceStores.registries(ranged)).export(again));
            assertEquals(3, e.exitCode(), e.getMessage());
            assertTrue(e.getMessage().contains(layer.digest().toString()), e.getMessage());
            assertFalse(Files.exists(again.output()));
            Path cached = DirectoryStore.open(again.cacheDir().orElseThrow()).blobPath(layer.digest());
            assertFalse(Files.exists(cached), "no damaged blob in the cache");
            try (var left = Files.list(cached.getParent())) {
                assertEquals(List.of(), left.map(p -> p.getFileName().toString()).filter(n -> n.startsWith(".tmp-")).toList(), "no temporary file left");
            }
            bytes[bytes.length - 100] ^= 1;
            Files.write(data, bytes);
        }
    }

    @Test
    void aFailingWriteStopsTheExportAndLeavesNoBundle() {
        AtomicLong seen = new AtomicLong();
        ProgressListener cancelAfterFirstBytes = new ProgressListener() {
            @Override
            public void bytes(long delta) {
                if (seen.addAndGet(delta) > 1000) {
                    throw new IllegalStateException("cancelled by test");
                }
            }
        };
        ExportRequest req = request("cancel.tar").references(List.of(refs.get(0)));
        AirlockException e = assertThrows(AirlockException.class, () -> exporter().export(req.progress(cancelAfterFirstBytes)));
        assertTrue(e.getMessage().contains("cancelled by test"), e.getMessage());
        assertFalse(Files.exists(req.output()));
        assertTrue(Thread.getAllStackTraces().keySet().stream().noneMatch(t -> t.getName().equals("airlock-fetch") && t.isAlive()),
                "the fetch has ended when export returns");
    }

    @Test
    void badReferencesAreAllListedBeforeAnyLayerIsDownloaded() {
        CountingStore counting = new CountingStore(store);
        AtomicLong bytes = new AtomicLong();
        String h = registry.host();
        ExportRequest req = request("bad.tar").references(List.of(refs.get(0), h + "/team/nope:1.0", h + "/team/app:no-such-tag"))
                .progress(new ProgressListener() {
                    @Override
                    public void bytes(long delta) {
                        bytes.addAndGet(delta);
                    }
                });
        PlanException e = assertThrows(PlanException.class, () -> new Exporter(host -> counting).export(req));
        assertEquals(2, e.failures().size());
        assertTrue(e.getMessage().contains(h + "/team/nope:1.0") && e.getMessage().contains(h + "/team/app:no-such-tag"), e.getMessage());
        assertEquals(List.of(), counting.layersOpened(), "no layer fetched");
        assertEquals(0, bytes.get());
        assertFalse(Files.exists(req.output()));
    }

    @Test
    void imageListFilesAreReadWithCommentsAndNormalised() throws IOException {
        Path list = tmp.resolve("images.txt");
        Files.writeString(list, "# k3s-images.txt style\n\n" + refs.get(2) + "\n  " + refs.get(3) + "   # trailing comment\n",
                StandardCharsets.UTF_8);
        ExportResult r = exporter().export(request("list.tar").references(List.of(refs.get(3))).imageLists(List.of(list)));
        assertEquals(List.of(refs.get(3), refs.get(2)), r.images().stream().map(i -> i.source().toString()).toList(),
                "command-line references first, duplicates once");
    }

    // ------------------------------------------------------------------ helpers

    /** Every blob entry comes after the blobs it references. */
    private static void assertDependencyOrder(List<String> names, Map<String, byte[]> entries) {
        Set<String> before = new HashSet<>();
        for (String n : names) {
            if (!n.startsWith("blobs/sha256/")) {
                continue;
            }
            byte[] bytes = entries.get(n);
            ManifestView v = sniff(bytes);
            if (v instanceof ImageManifest m) {
                for (Descriptor d : m.blobs()) {
                    assertTrue(before.contains(d.digest().hex()), n + " comes before its blob " + d.digest());
                }
            } else if (v instanceof ImageIndex i) {
                for (Descriptor d : i.manifests()) {
                    assertTrue(before.contains(d.digest().hex()), n + " comes before its child " + d.digest());
                }
            }
            before.add(n.substring("blobs/sha256/".length()));
        }
    }

    private static ManifestView sniff(byte[] bytes) {
        String s = new String(bytes, StandardCharsets.UTF_8);
        if (!s.contains("\"schemaVersion\"") || !(s.contains("\"layers\"") || s.contains("\"manifests\""))) {
            return null;
        }
        try {
            return RawManifest.sniff(bytes, "entry").view();
        } catch (AirlockException e) {
            return null;
        }
    }

    /** Entry name → bytes, in archive order; fails on a duplicate name. */
    static Map<String, byte[]> readTar(Path tar) throws IOException {
        Map<String, byte[]> out = new LinkedHashMap<>();
        try (TarArchiveInputStream in = new TarArchiveInputStream(Files.newInputStream(tar))) {
            TarArchiveEntry e;
            while ((e = in.getNextEntry()) != null) {
                byte[] prev = out.put(e.getName(), in.readAllBytes());
                assertTrue(prev == null, "entry " + e.getName() + " appears twice");
            }
        }
        return out;
    }

    private static Path extract(Map<String, byte[]> entries, Path dir) throws IOException {
        for (var e : entries.entrySet()) {
            Path p = dir.resolve(e.getKey());
            Files.createDirectories(p.getParent());
            Files.write(p, e.getValue());
        }
        return dir;
    }

    private static String sha256(Path file) throws Exception {
        MessageDigest md = MessageDigest.getInstance("SHA-256");
        try (InputStream in = Files.newInputStream(file)) {
            byte[] buf = new byte[1 << 16];
            int n;
            while ((n = in.read(buf)) > 0) {
                md.update(buf, 0, n);
            }
        }
        return java.util.HexFormat.of().formatHex(md.digest());
    }
}
