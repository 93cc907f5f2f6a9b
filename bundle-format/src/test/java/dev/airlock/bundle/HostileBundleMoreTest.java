package dev.airlock.bundle;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import com.github.luben.zstd.ZstdOutputStream;
import dev.airlock.bundle.Forge.Entry;
import dev.airlock.error.ExitCodes;
import dev.airlock.error.VerificationException;
import dev.airlock.model.Descriptor;
import dev.airlock.model.Digest;
import dev.airlock.model.ImageReference;
import dev.airlock.model.MediaType;
import dev.airlock.model.Platform;
import dev.airlock.progress.ProgressListener;
import dev.airlock.sign.KeyGen;
import dev.airlock.sign.Signer;
import dev.airlock.sign.TrustPolicy;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import java.util.function.UnaryOperator;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveOutputStream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Hostile bundles beyond {@link HostileBundleTest}: decompression bombs, huge and deeply nested
 * JSON, oversized indexes, blobs that match bundle.json but not the descriptor that references them.
 * All signed by the TRUSTED key (an insider, or a stolen key), so only the structural checks can
 * object. Each must fail with one VerificationException (exit 3), one line, naming the bundle.
 */
class HostileBundleMoreTest {
    static final long GIB = 1L << 30;
    @TempDir
    static Path shared;
    static Signer signer;
    static TrustPolicy trust;

    @TempDir
    Path dir;

    @BeforeAll
    static void keys() {
        KeyGen.Result k = KeyGen.generate(shared.resolve("signer"), Optional.empty());
        signer = Signer.load(k.privateKey(), Optional.of(k.certificate()));
        trust = TrustPolicy.fromFiles(List.of(k.certificate()), false);
    }

    // ---- blobs that match bundle.json but not the descriptor that references them

    @Test
    void configListedAsALayerSoItsPlatformLieWouldGoUnchecked() throws IOException {
        TestContent c = new TestContent(21);
        Descriptor layer = c.layer(MediaType.OCI_LAYER_GZIP, 500);
        Descriptor cfg = c.config(MediaType.OCI_CONFIG, Platform.of("linux", "amd64", ""), List.of(layer));
        Descriptor m = c.manifest(MediaType.OCI_MANIFEST, cfg, List.of(layer)).withPlatform(Platform.of("linux", "arm64", "v8"));
        Descriptor idx = c.index(MediaType.OCI_INDEX, List.of(m));
        List<BundleImage> imgs = List.of(BundleImage.of(ImageReference.parse("liar:1"), idx, List.of(Platform.parse("linux/arm64/v8"))));
        Map<Digest, MediaType> types = Forge.types(c);
        types.put(cfg.digest(), MediaType.OCI_LAYER_GZIP); // hide the config from the platform check
        expect(write(Forge.signedBundle(imgs, c.bytes, types, signer, UnaryOperator.identity()), false),
                "references " + cfg.digest() + " as application/vnd.oci.image.config.v1+json but bundle.json lists it as");
    }

    @Test
    void childManifestListedUnderAnotherMediaType() throws IOException {
        TestContent c = new TestContent(22);
        Descriptor layer = c.layer(MediaType.DOCKER_LAYER_GZIP, 500);
        Descriptor cfg = c.config(MediaType.DOCKER_CONFIG, Platform.of("linux", "amd64", ""), List.of(layer));
        Descriptor m = c.manifest(MediaType.DOCKER_MANIFEST, cfg, List.of(layer));
        // the index names the child as an OCI manifest although it is (and is listed as) a Docker manifest
        Descriptor asOci = Descriptor.of(MediaType.OCI_MANIFEST, m.digest(), m.size()).withPlatform(Platform.of("linux", "amd64", ""));
        Descriptor idx = c.index(MediaType.OCI_INDEX, List.of(asOci));
        List<BundleImage> imgs = List.of(BundleImage.of(ImageReference.parse("mixed:1"), idx, List.of(Platform.parse("linux/amd64"))));
        expect(write(Forge.signedBundle(imgs, c.bytes, Forge.types(c), signer, UnaryOperator.identity()), false),
                "as application/vnd.oci.image.manifest.v1+json but bundle.json lists it as application/vnd.docker");
    }

    @Test
    void layerSizeInTheManifestDiffersFromTheListedBlob() throws IOException {
        TestContent c = new TestContent(23);
        Descriptor layer = c.layer(MediaType.OCI_LAYER_GZIP, 500);
        Descriptor cfg = c.config(MediaType.OCI_CONFIG, Platform.of("linux", "amd64", ""), List.of(layer));
        Descriptor lying = Descriptor.of(layer.mediaType(), layer.digest(), layer.size() + 1);
        Descriptor m = c.manifest(MediaType.OCI_MANIFEST, cfg, List.of(lying));
        List<BundleImage> imgs = List.of(BundleImage.of(ImageReference.parse("sized:1"), m, List.of(Platform.parse("linux/amd64"))));
        expect(write(Forge.signedBundle(imgs, c.bytes, Forge.types(c), signer, UnaryOperator.identity()), false),
                "with size " + (layer.size() + 1) + " but the bundle's blob has " + layer.size());
    }

    @Test
    void imageListedAsAnIndexButItsBlobIsListedAsAManifest() throws IOException {
        TestContent c = new TestContent(24);
        Descriptor layer = c.layer(MediaType.OCI_LAYER_GZIP, 500);
        Descriptor cfg = c.config(MediaType.OCI_CONFIG, Platform.of("linux", "amd64", ""), List.of(layer));
        Descriptor m = c.manifest(MediaType.OCI_MANIFEST, cfg, List.of(layer));
        Descriptor claimed = Descriptor.of(MediaType.OCI_INDEX, m.digest(), m.size());
        List<BundleImage> imgs = List.of(BundleImage.of(ImageReference.parse("kind:1"), claimed, List.of(Platform.parse("linux/amd64"))));
        expect(write(Forge.signedBundle(imgs, c.bytes, Forge.types(c), signer, UnaryOperator.identity()), false), "but bundle.json lists");
    }

    // ---- huge and deeply nested JSON

    @Test
    void deeplyNestedConfig() throws IOException {
        TestContent c = new TestContent(25);
        Descriptor layer = c.layer(MediaType.OCI_LAYER_GZIP, 500);
        String deep = "{\"os\":\"linux\",\"architecture\":\"amd64\",\"x\":" + "[".repeat(100_000) + "]".repeat(100_000) + "}";
        Descriptor cfg = c.add(MediaType.OCI_CONFIG, deep.getBytes(StandardCharsets.UTF_8));
        Descriptor m = c.manifest(MediaType.OCI_MANIFEST, cfg, List.of(layer));
        List<BundleImage> imgs = List.of(BundleImage.of(ImageReference.parse("deep:1"), m, List.of(Platform.parse("linux/amd64"))));
        expect(write(Forge.signedBundle(imgs, c.bytes, Forge.types(c), signer, UnaryOperator.identity()), false), "nesting depth");
    }

    @Test
    void deeplyNestedBundleJson() throws IOException {
        TestContent c = TestContent.standard();
        expect(write(Forge.signedBundle(c.images, c.bytes, Forge.types(c), signer,
                b -> ("{\"x\":" + "[".repeat(50_000) + "]".repeat(50_000) + "}").getBytes(StandardCharsets.UTF_8)), false), "nesting depth");
    }

    @Test
    void manifestOverTheJsonLimit() throws IOException {
        TestContent c = new TestContent(26);
        Descriptor layer = c.layer(MediaType.OCI_LAYER_GZIP, 500);
        Descriptor cfg = c.config(MediaType.OCI_CONFIG, Platform.of("linux", "amd64", ""), List.of(layer));
        String pad = " ".repeat(5 << 20);
        String json = "{\"schemaVersion\":2,\"mediaType\":\"" + MediaType.OCI_MANIFEST + "\",\"config\":" + TestContent.desc(cfg)
                + ",\"layers\":[" + TestContent.desc(layer) + "]}" + pad;
        Descriptor m = c.add(MediaType.OCI_MANIFEST, json.getBytes(StandardCharsets.UTF_8));
        List<BundleImage> imgs = List.of(BundleImage.of(ImageReference.parse("huge:1"), m, List.of(Platform.parse("linux/amd64"))));
        expect(write(Forge.signedBundle(imgs, c.bytes, Forge.types(c), signer, UnaryOperator.identity()), false), "over the 4194304-byte limit");
    }

    @Test
    void indexWith100000Entries() throws IOException {
        expect(write(bigIndex(100_000), false), "over the 4194304-byte limit");
    }

    @Test
    void indexWith20000EntriesUnderTheByteLimit() throws IOException {
        expect(write(bigIndex(20_000), false), "over the limit of 10000");
    }

    /** An index naming {@code n} manifests (all the same one): small per entry, huge in count. */
    private static List<Entry> bigIndex(int n) {
        TestContent c = new TestContent(27);
        Descriptor layer = c.layer(MediaType.OCI_LAYER_GZIP, 300);
        Descriptor cfg = c.config(MediaType.OCI_CONFIG, Platform.of("linux", "amd64", ""), List.of(layer));
        Descriptor m = c.manifest(MediaType.OCI_MANIFEST, cfg, List.of(layer));
        String entry = "{\"mediaType\":\"" + MediaType.OCI_MANIFEST + "\",\"digest\":\"" + m.digest() + "\",\"size\":" + m.size()
                + ",\"platform\":{\"architecture\":\"amd64\",\"os\":\"linux\"}}";
        StringBuilder sb = new StringBuilder("{\"schemaVersion\":2,\"mediaType\":\"" + MediaType.OCI_INDEX + "\",\"manifests\":[");
        for (int i = 0; i < n; i++) {
            sb.append(i == 0 ? "" : ",").append(entry);
        }
        Descriptor idx = c.add(MediaType.OCI_INDEX, sb.append("]}").toString().getBytes(StandardCharsets.UTF_8));
        List<BundleImage> imgs = List.of(BundleImage.of(ImageReference.parse("wide:1"), idx, List.of(Platform.parse("linux/amd64"))));
        return Forge.signedBundle(imgs, c.bytes, Forge.types(c), signer, UnaryOperator.identity());
    }

    // ---- decompression bombs (.tar.zst): a few KiB on disk, gigabytes when inflated

    @Test
    void zstdBombListedInBundleJsonIsStreamedAndRefusedByItsDigest() throws IOException {
        // the trusted signer listed a 512 MiB layer whose sha256 is wrong: it is inflated in bounded
        // memory (streamed, hashed, never held) and refused at its end
        TestContent c = new TestContent(28);
        Descriptor bomb = Descriptor.of(MediaType.OCI_LAYER_GZIP, Digest.sha256("not zeros".getBytes(StandardCharsets.UTF_8)), GIB / 2);
        Descriptor cfg = c.add(MediaType.OCI_CONFIG, "{\"os\":\"linux\",\"architecture\":\"amd64\"}".getBytes(StandardCharsets.UTF_8));
        Descriptor m = c.manifest(MediaType.OCI_MANIFEST, cfg, List.of(bomb));
        List<BundleImage> imgs = List.of(BundleImage.of(ImageReference.parse("bomb:1"), m, List.of(Platform.parse("linux/amd64"))));
        List<Object[]> blobs = List.of(new Object[] {cfg, null}, new Object[] {bomb, null}, new Object[] {m, null});
        Path p = streamingBundle(imgs, c, blobs, bomb, GIB / 2, true, 0);
        assertTrue(Files.size(p) < 1 << 20, "the bomb is small on disk: " + Files.size(p));
        expect(p, "content has digest");
    }

    @Test
    void zstdBombBehindAHeaderThatDisagreesWithBundleJsonIsNotInflated() throws IOException {
        // the tar header says 256 MiB, bundle.json says 12 bytes: refused before a byte of it is read
        TestContent c = new TestContent(29);
        Descriptor small = Descriptor.of(MediaType.OCI_LAYER_GZIP, Digest.sha256(new byte[12]), 12);
        Descriptor cfg = c.add(MediaType.OCI_CONFIG, "{\"os\":\"linux\",\"architecture\":\"amd64\"}".getBytes(StandardCharsets.UTF_8));
        Descriptor m = c.manifest(MediaType.OCI_MANIFEST, cfg, List.of(small));
        List<BundleImage> imgs = List.of(BundleImage.of(ImageReference.parse("bomb:2"), m, List.of(Platform.parse("linux/amd64"))));
        List<Object[]> blobs = List.of(new Object[] {cfg, null}, new Object[] {small, null}, new Object[] {m, null});
        expect(streamingBundle(imgs, c, blobs, small, GIB / 4, true, 0), "in the tar header but bundle.json lists 12");
    }

    @Test
    void zstdBombAfterTheEndOfTheArchive() throws IOException {
        // a complete, valid bundle followed by 1 GiB of zeros inside the zstd stream: refused after 1 MiB
        TestContent c = new TestContent(30);
        Descriptor layer = c.layer(MediaType.OCI_LAYER_GZIP, 300);
        Descriptor cfg = c.config(MediaType.OCI_CONFIG, Platform.of("linux", "amd64", ""), List.of(layer));
        Descriptor m = c.manifest(MediaType.OCI_MANIFEST, cfg, List.of(layer));
        List<BundleImage> imgs = List.of(BundleImage.of(ImageReference.parse("tail:1"), m, List.of(Platform.parse("linux/amd64"))));
        List<Object[]> blobs = List.of(new Object[] {layer, null}, new Object[] {cfg, null}, new Object[] {m, null});
        expect(streamingBundle(imgs, c, blobs, null, 0, true, GIB), "bytes after the end of the tar archive");
    }

    // ---- helpers

    /**
     * A signed bundle written as a stream (so a blob of gigabytes never sits in memory): blob
     * {@code zeros} is {@code zerosSize} zero bytes in the archive whatever bundle.json says; then
     * {@code trailingZeros} zero bytes after the tar's end.
     */
    private Path streamingBundle(List<BundleImage> imgs, TestContent c, List<Object[]> blobs, Descriptor zeros, long zerosSize,
                                 boolean zstd, long trailingZeros) throws IOException {
        byte[] index = BundleWriter.indexJson(imgs);
        List<BundleManifest.FileEntry> files = new ArrayList<>();
        files.add(new BundleManifest.FileEntry(BundleLayout.OCI_LAYOUT, BundleLayout.OCI_LAYOUT_BYTES.length, Digest.sha256(BundleLayout.OCI_LAYOUT_BYTES), Optional.empty()));
        files.add(new BundleManifest.FileEntry(BundleLayout.INDEX_JSON, index.length, Digest.sha256(index), Optional.of(MediaType.OCI_INDEX)));
        java.util.Set<Digest> all = new java.util.LinkedHashSet<>();
        for (Object[] b : blobs) {
            all.add(((Descriptor) b[0]).digest());
        }
        java.util.Map<Digest, List<Integer>> lists = Forge.routes(imgs, all, c.bytes::get);
        for (Object[] b : blobs) {
            files.add(BundleManifest.FileEntry.ofBlob((Descriptor) b[0]).withImages(lists.get(((Descriptor) b[0]).digest())));
        }
        byte[] json = BundleManifest.create(UUID.randomUUID(), Instant.EPOCH, new BundleManifest.Tool("forge", "1"), imgs, files).bytes();
        Path p = dir.resolve("stream" + (zstd ? ".tar.zst" : ".tar"));
        try (OutputStream f = Files.newOutputStream(p); OutputStream body = zstd ? new ZstdOutputStream(f, 1) : f) {
            TarArchiveOutputStream tar = new TarArchiveOutputStream(body, "UTF-8");
            tar.setBigNumberMode(TarArchiveOutputStream.BIGNUMBER_POSIX);
            put(tar, BundleLayout.OCI_LAYOUT, BundleLayout.OCI_LAYOUT_BYTES);
            put(tar, BundleLayout.BUNDLE_JSON, json);
            put(tar, BundleLayout.SIGNATURE, signer.sign(json));
            put(tar, BundleLayout.SIGNER_KEY, signer.publicKeyPem().getBytes(StandardCharsets.US_ASCII));
            put(tar, BundleLayout.INDEX_JSON, index);
            for (Object[] b : blobs) {
                Descriptor d = (Descriptor) b[0];
                if (zeros != null && d.digest().equals(zeros.digest())) {
                    TarArchiveEntry e = new TarArchiveEntry(BundleLayout.blobPath(d.digest()));
                    e.setSize(zerosSize);
                    e.setModTime(0L);
                    tar.putArchiveEntry(e);
                    byte[] buf = new byte[1 << 20];
                    for (long left = zerosSize; left > 0; left -= buf.length) {
                        tar.write(buf, 0, (int) Math.min(buf.length, left));
                    }
                    tar.closeArchiveEntry();
                } else {
                    put(tar, BundleLayout.blobPath(d.digest()), c.bytes.get(d.digest()));
                }
            }
            tar.finish();
            byte[] buf = new byte[1 << 20];
            for (long left = trailingZeros; left > 0; left -= buf.length) {
                body.write(buf, 0, (int) Math.min(buf.length, left));
            }
        }
        return p;
    }

    private static void put(TarArchiveOutputStream tar, String name, byte[] data) throws IOException {
        TarArchiveEntry e = new TarArchiveEntry(name);
        e.setSize(data.length);
        e.setModTime(0L);
        tar.putArchiveEntry(e);
        tar.write(data);
        tar.closeArchiveEntry();
    }

    private Path write(List<Entry> es, boolean zstd) throws IOException {
        Path p = Files.createTempFile(dir, "hostile", zstd ? ".tar.zst" : ".tar");
        Forge.write(p, es, zstd);
        return p;
    }

    /** verify() and open()+stream() must both fail with one VerificationException naming the problem. */
    private static void expect(Path p, String fragment) {
        try {
            BundleVerifier.verify(p, trust, ProgressListener.NONE);
            fail("verify accepted a hostile bundle; expected: " + fragment);
        } catch (VerificationException e) {
            oneLine(e, fragment);
        }
        try (BundleArchive a = BundleArchive.open(p, trust)) {
            a.stream((f, in) -> in.transferTo(OutputStream.nullOutputStream()), ProgressListener.NONE);
            fail("BundleArchive accepted a hostile bundle; expected: " + fragment);
        } catch (VerificationException e) {
            oneLine(e, fragment);
        }
    }

    private static void oneLine(VerificationException e, String fragment) {
        String m = e.getMessage();
        assertTrue(m.contains(fragment), "message lacks '" + fragment + "': " + m);
        assertFalse(m.contains("\n"), "message is not one line: " + m);
        assertTrue(m.startsWith("bundle "), "message does not name the bundle: " + m);
        assertEquals(ExitCodes.VERIFICATION, e.exitCode());
    }
}
