package dev.airlock.bundle;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

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
import java.io.RandomAccessFile;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.UnaryOperator;
import org.apache.commons.compress.archivers.tar.TarConstants;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The hostile corpus: every damaged or malicious bundle must fail with exactly one
 * VerificationException (exit code 3) whose single-line message names what failed.
 */
class HostileBundleTest {
    @TempDir
    static Path shared;
    static Signer signer;
    static Signer stranger;
    static TrustPolicy trust;
    static TestContent content;
    static List<Entry> good;
    static List<Entry> goodZst;

    @TempDir
    Path dir;

    @BeforeAll
    static void setUp() throws IOException {
        KeyGen.Result k = KeyGen.generate(shared.resolve("signer"), Optional.empty());
        signer = Signer.load(k.privateKey(), Optional.of(k.certificate()));
        trust = TrustPolicy.fromFiles(List.of(k.certificate()), false);
        KeyGen.Result s = KeyGen.generate(shared.resolve("stranger"), Optional.empty());
        stranger = Signer.load(s.privateKey(), Optional.empty());
        content = TestContent.standard();
        Path b = shared.resolve("good.tar");
        BundleWriter.write(b, content.images, content.order(), content.opener(), WriteOptions.defaults().withSigner(signer), ProgressListener.NONE);
        good = Forge.read(b);
        BundleVerifier.verify(b, trust, ProgressListener.NONE, 1);
        BundleVerifier.verify(b, trust, ProgressListener.NONE, 3);
    }

    // ---- content tampering

    @Test
    void flippedByteInLayer() throws IOException {
        expect(mutate(firstOf(MediaType.OCI_LAYER_GZIP), e -> e.withData(Forge.flip(e.data(), e.data().length / 2))), "content has digest");
    }

    @Test
    void flippedByteInLayerIsCaughtByOpenBlobToo() throws IOException {
        Descriptor layer = content.descriptors.get(firstOf(MediaType.OCI_LAYER_GZIP));
        Path p = write(mutate(layer.digest(), e -> e.withData(Forge.flip(e.data(), 10))), false);
        try (BundleArchive a = BundleArchive.open(p, trust); InputStream in = a.openBlob("r", layer)) {
            VerificationException e = assertThrows(VerificationException.class, in::readAllBytes);
            oneLine(e, "content has digest");
        }
    }

    @Test
    void flippedByteInManifest() throws IOException {
        expect(mutate(firstOf(MediaType.OCI_MANIFEST), e -> e.withData(Forge.flip(e.data(), 5))), "manifest");
    }

    @Test
    void flippedByteInBundleJson() throws IOException {
        expect(mutate(BundleLayout.BUNDLE_JSON, e -> e.withData(Forge.flip(e.data(), 40))), "does not verify");
    }

    @Test
    void flippedByteInSignature() throws IOException {
        expect(mutate(BundleLayout.SIGNATURE, e -> e.withData(Forge.flip(e.data(), e.data().length - 3))), "does not verify");
    }

    @Test
    void flippedByteInIndexJson() throws IOException {
        expect(mutate(BundleLayout.INDEX_JSON, e -> e.withData(Forge.flip(e.data(), 30))), "index.json does not match bundle.json");
    }

    @Test
    void flippedByteInCmsSignature() throws IOException {
        expect(mutate(BundleLayout.CMS_SIGNATURE, e -> e.withData(Forge.flip(e.data(), e.data().length - 5))), "bundle.json.p7s");
    }

    // ---- structure

    @Test
    void truncatedArchive() throws IOException {
        Path p = write(good, false);
        truncate(p, Files.size(p) / 2 + 100);
        expect(p, "truncated");
    }

    @Test
    void truncatedArchiveAtEntryBoundary() throws IOException {
        expect(write(good.subList(0, good.size() - 1), false), "is missing from the archive");
    }

    @Test
    void extraUnlistedEntry() throws IOException {
        List<Entry> es = new ArrayList<>(good);
        es.add(Entry.file("blobs/sha256/" + "ab".repeat(32), "surprise".getBytes(StandardCharsets.UTF_8)));
        expect(es, "is not listed in bundle.json");
    }

    @Test
    void missingBlob() throws IOException {
        List<Entry> es = new ArrayList<>(good);
        es.remove(Forge.indexOf(es, BundleLayout.blobPath(firstOf(MediaType.DOCKER_LAYER_GZIP))));
        expect(es, "is missing from the archive");
    }

    @Test
    void missingBlobAlsoUnlistedButReferenced() throws IOException {
        Map<Digest, byte[]> blobs = new LinkedHashMap<>(content.bytes);
        blobs.remove(firstOf(MediaType.DOCKER_CONFIG));
        expect(Forge.signedBundle(content.images, blobs, Forge.types(content), signer, UnaryOperator.identity()), "which is missing from the bundle");
    }

    @Test
    void blobAfterItsManifest() throws IOException {
        Map<Digest, byte[]> blobs = new LinkedHashMap<>();
        Digest layer = firstOf(MediaType.OCI_LAYER_GZIP);
        content.bytes.forEach((d, b) -> {
            if (!d.equals(layer)) {
                blobs.put(d, b);
            }
        });
        blobs.put(layer, content.bytes.get(layer));
        expect(Forge.signedBundle(content.images, blobs, Forge.types(content), signer, UnaryOperator.identity()), "comes after it");
    }

    @Test
    void duplicateEntry() throws IOException {
        List<Entry> es = new ArrayList<>(good);
        es.add(es.get(es.size() - 1));
        expect(es, "duplicate entry");
    }

    @Test
    void duplicateBundleJson() throws IOException {
        List<Entry> es = new ArrayList<>(good);
        es.add(2, Forge.named(good, BundleLayout.BUNDLE_JSON));
        expect(es, "duplicate entry 'airlock/bundle.json'");
    }

    @Test
    void dataAfterEndOfArchive() throws IOException {
        Path p = write(good, false);
        Files.write(p, "trailing garbage".getBytes(StandardCharsets.UTF_8), java.nio.file.StandardOpenOption.APPEND);
        expect(p, "after the end of the tar archive");
    }

    @Test
    void notABundleAtAll() throws IOException {
        Path p = dir.resolve("random.tar");
        Files.write(p, new byte[4096]);
        expect(p, "expected oci-layout");
    }

    // ---- hostile entries

    @Test
    void parentTraversalEntry() throws IOException {
        expect(withExtra(Entry.file("../x", new byte[1])), "'../x' has a '..' path segment");
    }

    @Test
    void dotDotSegmentInside() throws IOException {
        expect(withExtra(Entry.file("blobs/sha256/../../../etc/passwd", new byte[1])), "'..' path segment");
    }

    @Test
    void absoluteEntry() throws IOException {
        expect(withExtra(Entry.file("/etc/x", new byte[1])), "absolute path");
    }

    @Test
    void absoluteEntryFirst() throws IOException {
        List<Entry> es = new ArrayList<>(good);
        es.add(0, Entry.file("/etc/x", new byte[1]));
        expect(es, "absolute path");
    }

    @Test
    void symlinkEntry() throws IOException {
        expect(withExtra(Entry.special("blobs/sha256/" + "cd".repeat(32), TarConstants.LF_SYMLINK, "/etc/shadow")), "symbolic link");
    }

    @Test
    void hardlinkEntry() throws IOException {
        expect(withExtra(Entry.special("blobs/sha256/" + "ef".repeat(32), TarConstants.LF_LINK, "index.json")), "hard link");
    }

    @Test
    void deviceEntry() throws IOException {
        expect(withExtra(Entry.special("dev-null", TarConstants.LF_CHR, "")), "device node");
    }

    @Test
    void fifoEntry() throws IOException {
        expect(withExtra(Entry.special("fifo", TarConstants.LF_FIFO, "")), "FIFO");
    }

    @Test
    void directoryEntry() throws IOException {
        expect(withExtra(Entry.special("blobs/", TarConstants.LF_DIR, "")), "directory");
    }

    @Test
    void unexpectedName() throws IOException {
        expect(withExtra(Entry.file("blobs/sha512/" + "ab".repeat(64), new byte[1])), "not part of the bundle layout");
    }

    // ---- sizes

    @Test
    void tarHeaderSizeDiffersFromListing() throws IOException {
        expect(mutate(firstOf(MediaType.OCI_LAYER_GZIP), e -> e.withData(Forge.concat(e.data(), new byte[7]))), "in the tar header but bundle.json lists");
    }

    @Test
    void headerClaimsMoreThanTheFileHolds() throws IOException {
        Path p = write(good, false);
        patchSize(p, BundleLayout.blobPath(lastBlob()), 50_000_000L);
        expect(p, BundleLayout.blobPath(lastBlob()));
    }

    @Test
    void headerClaimsImpossibleSize() throws IOException {
        Path p = write(good, false);
        patchSize(p, BundleLayout.blobPath(firstOf(MediaType.OCI_LAYER_GZIP)), 3L << 40);
        expect(p, "");
    }

    @Test
    void bundleJsonClaimsHugeSize() throws IOException {
        Path p = write(good, false);
        patchSize(p, BundleLayout.BUNDLE_JSON, 1L << 33);
        expect(p, "bundle.json");
    }

    // ---- bundle.json content (signed by the trusted key, so only the parser can object)

    @Test
    void bundleJsonWithDuplicateKeys() throws IOException {
        expect(Forge.signedBundle(content.images, content.bytes, Forge.types(content), signer,
                b -> new String(b, StandardCharsets.UTF_8).replaceFirst("\\{\"formatVersion\":1,", "{\"formatVersion\":1,\"formatVersion\":1,").getBytes(StandardCharsets.UTF_8)),
                "Duplicate field 'formatVersion'");
    }

    @Test
    void bundleJsonWithTrailingGarbage() throws IOException {
        expect(Forge.signedBundle(content.images, content.bytes, Forge.types(content), signer,
                b -> Forge.concat(b, "{}".getBytes(StandardCharsets.UTF_8))), "not valid JSON");
    }

    @Test
    void bundleJsonWithTraversalPath() throws IOException {
        expect(Forge.signedBundle(content.images, content.bytes, Forge.types(content), signer,
                b -> new String(b, StandardCharsets.UTF_8).replace("\"path\":\"oci-layout\"", "\"path\":\"../oci-layout\"").getBytes(StandardCharsets.UTF_8)),
                "'../oci-layout' is not a bundle layout path");
    }

    @Test
    void bundleJsonWithUnknownField() throws IOException {
        expect(Forge.signedBundle(content.images, content.bytes, Forge.types(content), signer,
                b -> new String(b, StandardCharsets.UTF_8).replaceFirst("\\{\"formatVersion\"", "{\"extra\":true,\"formatVersion\"").getBytes(StandardCharsets.UTF_8)),
                "unknown field 'extra'");
    }

    // ---- signatures and trust

    @Test
    void validSignatureByUntrustedKey() throws IOException {
        expect(Forge.signedBundle(content.images, content.bytes, Forge.types(content), stranger, UnaryOperator.identity()), "untrusted key");
    }

    @Test
    void untrustedButValidIsAcceptedWithAllowUnsigned() throws IOException {
        Path p = write(Forge.signedBundle(content.images, content.bytes, Forge.types(content), stranger, UnaryOperator.identity()), false);
        VerifyResult r = BundleVerifier.verify(p, new TrustPolicy(trust.trusted(), true), ProgressListener.NONE);
        assertEquals(dev.airlock.sign.SignatureInfo.Status.UNTRUSTED, r.signature().status());
    }

    @Test
    void signatureReplacedByAnotherKeysButEmbeddedKeyKept() throws IOException {
        List<Entry> es = new ArrayList<>(good);
        byte[] json = Forge.named(es, BundleLayout.BUNDLE_JSON).data();
        es.set(Forge.indexOf(es, BundleLayout.SIGNATURE), Entry.file(BundleLayout.SIGNATURE, stranger.sign(json)));
        es.remove(Forge.indexOf(es, BundleLayout.CMS_SIGNATURE));
        expect(es, "does not verify");
    }

    @Test
    void signatureStrippedIsUnsigned() throws IOException {
        List<Entry> es = new ArrayList<>(good);
        es.removeIf(e -> BundleLayout.isSignatureFile(e.name()));
        expect(es, "not signed");
    }

    // ---- graph

    @Test
    void indexPlatformDisagreesWithConfig() throws IOException {
        TestContent c = new TestContent(7);
        Descriptor layer = c.layer(MediaType.OCI_LAYER_GZIP, 500);
        Descriptor cfgAmd = c.config(MediaType.OCI_CONFIG, Platform.of("linux", "amd64", ""), List.of(layer));
        Descriptor m1 = c.manifest(MediaType.OCI_MANIFEST, cfgAmd, List.of(layer)).withPlatform(Platform.of("linux", "amd64", ""));
        Descriptor layer2 = c.layer(MediaType.OCI_LAYER_GZIP, 500);
        Descriptor cfgAmd2 = c.config(MediaType.OCI_CONFIG, Platform.of("linux", "amd64", ""), List.of(layer2));
        // the seed bug: an index entry says arm64 but the image inside is amd64
        Descriptor m2 = c.manifest(MediaType.OCI_MANIFEST, cfgAmd2, List.of(layer2)).withPlatform(Platform.of("linux", "arm64", "v8"));
        Descriptor idx = c.index(MediaType.OCI_INDEX, List.of(m1, m2));
        List<BundleImage> imgs = List.of(BundleImage.of(ImageReference.parse("liar:1"), idx, List.of(Platform.parse("linux/amd64"), Platform.parse("linux/arm64/v8"))));
        List<Entry> es = Forge.signedBundle(imgs, c.bytes, Forge.types(c), signer, UnaryOperator.identity());
        expect(es, "is linux/arm64/v8 but its config");
        assertThrows(VerificationException.class,
                () -> BundleWriter.write(dir.resolve("w.tar"), imgs, c.order(), c.opener(), WriteOptions.defaults(), ProgressListener.NONE));
    }

    @Test
    void armEntryWithoutVariantAgainstV7ConfigIsRefused() throws IOException {
        TestContent c = new TestContent(8);
        Descriptor layer = c.layer(MediaType.OCI_LAYER_GZIP, 500);
        Descriptor cfg = c.config(MediaType.OCI_CONFIG, Platform.of("linux", "arm", "v6"), List.of(layer));
        Descriptor m = c.manifest(MediaType.OCI_MANIFEST, cfg, List.of(layer)).withPlatform(Platform.of("linux", "arm", "v7"));
        Descriptor idx = c.index(MediaType.OCI_INDEX, List.of(m));
        List<BundleImage> imgs = List.of(BundleImage.of(ImageReference.parse("arm:1"), idx, List.of(Platform.parse("linux/arm/v7"))));
        expect(Forge.signedBundle(imgs, c.bytes, Forge.types(c), signer, UnaryOperator.identity()), "is linux/arm/v7 but its config");
    }

    // ---- zstd variants

    @Test
    void zstdFlippedLayer() throws IOException {
        Digest layer = firstOf(MediaType.OCI_LAYER_GZIP);
        List<Entry> es = new ArrayList<>(good);
        int i = Forge.indexOf(es, BundleLayout.blobPath(layer));
        es.set(i, es.get(i).withData(Forge.flip(es.get(i).data(), 3)));
        expect(write(es, true), "content has digest");
        Path p = write(es, true);
        try (BundleArchive a = BundleArchive.open(p, trust)) {
            VerificationException e = assertThrows(VerificationException.class, () -> a.stream((f, in) -> in.readAllBytes(), ProgressListener.NONE));
            oneLine(e, "content has digest");
        }
    }

    @Test
    void zstdTruncated() throws IOException {
        Path p = write(good, true);
        truncate(p, Files.size(p) - 200);
        expect(p, "");
    }

    @Test
    void zstdSymlink() throws IOException {
        List<Entry> es = new ArrayList<>(good);
        es.add(3, Entry.special("blobs/sha256/" + "12".repeat(32), TarConstants.LF_SYMLINK, "../../etc/passwd"));
        expect(write(es, true), "symbolic link");
    }

    @Test
    void zstdUnlisted() throws IOException {
        List<Entry> es = new ArrayList<>(good);
        es.add(Entry.file("blobs/sha256/" + "34".repeat(32), new byte[3]));
        expect(write(es, true), "not listed in bundle.json");
    }

    @Test
    void zstdUntrustedSigner() throws IOException {
        expect(write(Forge.signedBundle(content.images, content.bytes, Forge.types(content), stranger, UnaryOperator.identity()), true), "untrusted key");
    }

    // ---- helpers

    private static Digest firstOf(MediaType mt) {
        return content.descriptors.values().stream().filter(d -> d.mediaType().equals(mt)).findFirst().orElseThrow().digest();
    }

    private static Digest lastBlob() {
        List<Digest> all = new ArrayList<>(content.bytes.keySet());
        return all.get(all.size() - 1);
    }

    private List<Entry> mutate(Digest blob, UnaryOperator<Entry> f) {
        return mutate(BundleLayout.blobPath(blob), f);
    }

    private List<Entry> mutate(String name, UnaryOperator<Entry> f) {
        List<Entry> es = new ArrayList<>(good);
        int i = Forge.indexOf(es, name);
        es.set(i, f.apply(es.get(i)));
        return es;
    }

    private List<Entry> withExtra(Entry e) {
        List<Entry> es = new ArrayList<>(good);
        es.add(es.size() - 2, e);
        return es;
    }

    private Path write(List<Entry> es, boolean zstd) throws IOException {
        Path p = Files.createTempFile(dir, "hostile", zstd ? ".tar.zst" : ".tar");
        Forge.write(p, es, zstd);
        return p;
    }

    private void expect(List<Entry> es, String fragment) throws IOException {
        expect(write(es, false), fragment);
        // the random-access reader must refuse the same bundle, unless the damage is in layer bytes
        // it hashes only when they are read
    }

    /**
     * verify() (one sequential pass, and indexed with layers hashed on several threads) and
     * open()+stream() must all fail with one VerificationException naming the problem.
     */
    private static void expect(Path p, String fragment) {
        for (int threads : new int[] {1, 3}) {
            try {
                BundleVerifier.verify(p, trust, ProgressListener.NONE, threads);
                fail("verify (" + threads + " threads) accepted a hostile bundle; expected: " + fragment);
            } catch (VerificationException e) {
                oneLine(e, fragment);
            }
        }
        try (BundleArchive a = BundleArchive.open(p, trust)) {
            a.stream((f, in) -> in.readAllBytes(), ProgressListener.NONE);
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

    private static void truncate(Path p, long size) throws IOException {
        try (RandomAccessFile f = new RandomAccessFile(p.toFile(), "rw")) {
            f.setLength(size);
        }
    }

    /** Rewrites the size field of one tar header in place (base-256 when it does not fit in octal) and fixes its checksum. */
    private static void patchSize(Path tar, String name, long size) throws IOException {
        byte[] all = Files.readAllBytes(tar);
        for (int off = 0; off + 512 <= all.length; off += 512) {
            String n = new String(all, off, 100, StandardCharsets.UTF_8).replace("\0", "");
            if (n.equals(name) && (all[off + 156] == '0' || all[off + 156] == 0)) {
                if (size < 077777777777L) {
                    byte[] oct = String.format("%011o", size).getBytes(StandardCharsets.US_ASCII);
                    System.arraycopy(oct, 0, all, off + 124, 11);
                    all[off + 135] = 0;
                } else {
                    all[off + 124] = (byte) 0x80;
                    for (int i = 0; i < 11; i++) {
                        all[off + 135 - i] = (byte) (size >>> (8 * i));
                    }
                }
                for (int i = 0; i < 8; i++) {
                    all[off + 148 + i] = ' ';
                }
                long sum = 0;
                for (int i = 0; i < 512; i++) {
                    sum += all[off + i] & 0xff;
                }
                byte[] ck = String.format("%06o", sum).getBytes(StandardCharsets.US_ASCII);
                System.arraycopy(ck, 0, all, off + 148, 6);
                all[off + 154] = 0;
                all[off + 155] = ' ';
                Files.write(tar, all);
                return;
            }
        }
        throw new IllegalArgumentException("no header for " + name);
    }
}
