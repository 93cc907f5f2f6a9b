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
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.UnaryOperator;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Hostile content of issue 20, signed by the TRUSTED key so only the reader's checks can object:
 * keys equal ignoring case in manifests, indexes and configs; a source pinned to another digest;
 * indexes nested deeper than the planner accepts; tar headers the spec does not allow. Each is
 * refused by {@link BundleVerifier} and by {@link BundleArchive} (the importer's reader), from a
 * .tar (indexed reader) and from a .tar.zst (sequential reader), with one line, exit 3. A control
 * bundle built the same way without the defect passes, so each refusal is the check's doing.
 */
class HostileContentBundleTest {
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

    private static final String AMD64 = "{\"architecture\":\"amd64\",\"os\":\"linux\"}";

    /** One amd64 image whose index entry's platform object is {@code platformJson}; config and manifest as given. */
    private List<Entry> bundle(String configJson, UnaryOperator<String> manifestEdit, String platformJson, String source) {
        TestContent c = new TestContent(31);
        Descriptor layer = c.layer(MediaType.OCI_LAYER_GZIP, 400);
        Descriptor cfg = c.add(MediaType.OCI_CONFIG, configJson.getBytes(StandardCharsets.UTF_8));
        String m = "{\"schemaVersion\":2,\"mediaType\":\"" + MediaType.OCI_MANIFEST + "\",\"config\":" + TestContent.desc(cfg) + ",\"layers\":["
                + TestContent.desc(layer) + "]}";
        Descriptor man = c.add(MediaType.OCI_MANIFEST, manifestEdit.apply(m).getBytes(StandardCharsets.UTF_8));
        String idx = "{\"schemaVersion\":2,\"mediaType\":\"" + MediaType.OCI_INDEX + "\",\"manifests\":[{\"mediaType\":\"" + MediaType.OCI_MANIFEST
                + "\",\"digest\":\"" + man.digest() + "\",\"size\":" + man.size() + ",\"platform\":" + platformJson + "}]}";
        Descriptor index = c.add(MediaType.OCI_INDEX, idx.getBytes(StandardCharsets.UTF_8));
        List<BundleImage> imgs = List.of(BundleImage.of(ImageReference.parse(source), index, List.of(Platform.parse("linux/amd64"))));
        return Forge.signedBundle(imgs, c.bytes, Forge.types(c), signer, UnaryOperator.identity());
    }

    private List<Entry> bundle(String configJson, UnaryOperator<String> manifestEdit, String platformJson) {
        return bundle(configJson, manifestEdit, platformJson, "example.com/case:1");
    }

    @Test
    void controlTheSameBundleWithoutCaseVariantsVerifies() throws IOException {
        for (boolean zstd : new boolean[] {false, true}) {
            passes(write(bundle(AMD64, UnaryOperator.identity(), AMD64), zstd));
        }
    }

    @Test
    void indexPlatformWithACaseVariantArchitecture() throws IOException {
        // we would read amd64 (and the check against the amd64 config passes); skopeo/containerd read arm64
        String platform = "{\"architecture\":\"amd64\",\"os\":\"linux\",\"Architecture\":\"arm64\"}";
        both(bundle(AMD64, UnaryOperator.identity(), platform), "has keys \"architecture\" and \"Architecture\" in \"platform\" that are equal ignoring case");
    }

    @Test
    void indexEntryWithASecondPlatformObject() throws IOException {
        String platform = AMD64 + ",\"Platform\":{\"architecture\":\"arm64\",\"os\":\"linux\"}";
        both(bundle(AMD64, UnaryOperator.identity(), platform), "has keys \"platform\" and \"Platform\"");
    }

    @Test
    void manifestWithConfigBesideConfig() throws IOException {
        both(bundle(AMD64, m -> m.replace(",\"layers\"", ",\"Config\":{\"mediaType\":\"" + MediaType.OCI_CONFIG + "\",\"digest\":\"sha256:"
                + "0".repeat(64) + "\",\"size\":2},\"layers\""), AMD64), "has keys \"config\" and \"Config\"");
    }

    @Test
    void configWithACaseVariantArchitecture() throws IOException {
        both(bundle("{\"architecture\":\"amd64\",\"os\":\"linux\",\"ARCHITECTURE\":\"arm64\"}", UnaryOperator.identity(), AMD64),
                "has keys \"architecture\" and \"ARCHITECTURE\"");
    }

    @Test
    void configWithAByteOrderMark() throws IOException {
        both(bundle("\ufeff" + AMD64, UnaryOperator.identity(), AMD64), "starts with a UTF-8 byte order mark");
    }

    @Test
    void manifestWithAByteOrderMark() throws IOException {
        // Distribution refuses such a manifest at push: refused here, before anything is pushed
        both(bundle(AMD64, m -> "\ufeff" + m, AMD64), "starts with a UTF-8 byte order mark");
    }

    // ---- item 7: a source pinned by digest

    /** Rewrites image sources in bundle.json before it is signed (the writer itself refuses a wrong pin). */
    private static UnaryOperator<byte[]> source(String from, String to) {
        return b -> {
            String t = new String(b, StandardCharsets.UTF_8);
            assertTrue(t.contains("\"source\":\"" + from + "\""), t);
            return t.replace("\"source\":\"" + from + "\"", "\"source\":\"" + to + "\"").getBytes(StandardCharsets.UTF_8);
        };
    }

    @Test
    void sourcePinnedToAnotherDigest() throws IOException {
        TestContent c = TestContent.standard();
        String zeros = "sha256:" + "0".repeat(64);
        both(Forge.signedBundle(c.images, c.bytes, Forge.types(c), signer, source("docker.io/library/busybox:latest", "docker.io/library/busybox:latest@" + zeros)),
                "image docker.io/library/busybox:latest@" + zeros + " is pinned to " + zeros + " but the bundle carries sha256:");
    }

    @Test
    void sourcePinnedToItsOwnDigestVerifies() throws IOException {
        List<Entry> probe = bundle(AMD64, UnaryOperator.identity(), AMD64);
        Digest top = Digest.sha256(probe.get(probe.size() - 1).data());
        passes(write(bundle(AMD64, UnaryOperator.identity(), AMD64, "example.com/case:1@" + top), false));
    }

    @Test
    void platformSubsetMustBePinnedToTheRecordedOriginal() throws IOException {
        TestContent c = TestContent.standard();
        BundleImage multi = c.images.get(0);
        Digest original = Digest.sha256("the source index before --platform".getBytes(StandardCharsets.UTF_8));
        ImageReference pinned = multi.source().withDigest(original);
        BundleImage ok = new BundleImage(pinned, multi.descriptor(), multi.platforms(), Optional.of(original));
        Map<Digest, byte[]> own = Forge.reachable(List.of(ok), c.bytes);
        passes(write(Forge.signedBundle(List.of(ok), own, Forge.types(c), signer, UnaryOperator.identity()), false));
        // pinned to the rewritten digest itself while claiming a rewrite: not what was asked for
        both(Forge.signedBundle(List.of(ok), own, Forge.types(c), signer, source(pinned.toString(), multi.source().withDigest(multi.digest()).toString())),
                "but the bundle carries a --platform subset of " + original);
    }

    // ---- nesting: the same limit as the planner (4 levels of indexes)

    @ParameterizedTest
    @ValueSource(ints = {4, 5})
    void indexesNested(int levels) throws IOException {
        TestContent c = new TestContent(32);
        Descriptor layer = c.layer(MediaType.OCI_LAYER_GZIP, 300);
        Descriptor cfg = c.config(MediaType.OCI_CONFIG, Platform.of("linux", "amd64", ""), List.of(layer));
        Descriptor child = c.manifest(MediaType.OCI_MANIFEST, cfg, List.of(layer)).withPlatform(Platform.of("linux", "amd64", ""));
        for (int i = 0; i < levels; i++) {
            child = c.index(MediaType.OCI_INDEX, List.of(child)).withPlatform(Platform.of("linux", "amd64", ""));
        }
        List<BundleImage> imgs = List.of(BundleImage.of(ImageReference.parse("nest:1"), Descriptor.of(child.mediaType(), child.digest(), child.size()),
                List.of(Platform.parse("linux/amd64"))));
        List<Entry> es = Forge.signedBundle(imgs, c.bytes, Forge.types(c), signer, UnaryOperator.identity());
        if (levels <= dev.airlock.model.ManifestView.MAX_INDEX_DEPTH) {
            passes(write(es, false));
            passes(write(es, true));
        } else {
            both(es, "has indexes nested deeper than 4 levels (5)");
        }
    }

    // ---- a 10 000-duplicate index: the error line is capped

    @Test
    void tenThousandDuplicateEntriesGiveAShortLine() throws IOException {
        TestContent c = new TestContent(33);
        Descriptor layer = c.layer(MediaType.OCI_LAYER_GZIP, 300);
        Descriptor cfg = c.config(MediaType.OCI_CONFIG, Platform.of("linux", "amd64", ""), List.of(layer));
        Descriptor m = c.manifest(MediaType.OCI_MANIFEST, cfg, List.of(layer)).withPlatform(Platform.of("linux", "amd64", ""));
        Descriptor idx = c.index(MediaType.OCI_INDEX, Collections.nCopies(10_000, m));
        List<BundleImage> imgs = List.of(BundleImage.of(ImageReference.parse("dup:1"), idx, List.of(Platform.parse("linux/amd64"))));
        String m1 = both(Forge.signedBundle(imgs, c.bytes, Forge.types(c), signer, UnaryOperator.identity()), "and 9,995 more]");
        assertTrue(m1.length() < 1000, m1.length() + " characters: " + m1);
    }

    // ---- tar headers pinned by docs/bundle-format.md

    @Test
    void tarHeaderWithABadChecksum() throws IOException {
        tarDefect(t -> patch(t, lastBlob(t), 136, "00000000001\0", false), "bad checksum");
    }

    @Test
    void tarHeaderWithoutUstarMagic() throws IOException {
        tarDefect(t -> patch(t, lastBlob(t), 257, "\0\0\0\0\0\0\0\0", true), "no POSIX ustar magic");
    }

    @Test
    void tarHeaderWithGnuMagic() throws IOException {
        tarDefect(t -> patch(t, lastBlob(t), 257, "ustar  \0", true), "no POSIX ustar magic");
    }

    @Test
    void tarEntryWithModeBeyond0644() throws IOException {
        tarDefect(t -> patch(t, lastBlob(t), 100, "0004755\0", true), "has mode 4755; bundle entries have mode 0644");
    }

    @Test
    void tarEntryWithANonZeroUid() throws IOException {
        tarDefect(t -> patch(t, lastBlob(t), 108, "0001750\0", true), "has uid 1000 and gid 0");
    }

    @Test
    void tarEntryWithANonZeroGid() throws IOException {
        tarDefect(t -> patch(t, lastBlob(t), 116, "0001750\0", true), "has uid 0 and gid 1000");
    }

    @Test
    void archiveWithoutItsEndRecords() throws IOException {
        tarDefect(t -> {
            long end = endOfLastEntry(t);
            byte[] all = Files.readAllBytes(t);
            Files.write(t, java.util.Arrays.copyOf(all, (int) end));
        }, "ends without the two zero records");
    }

    @Test
    void archiveWithOnlyOneEndRecord() throws IOException {
        tarDefect(t -> {
            long end = endOfLastEntry(t);
            byte[] all = Files.readAllBytes(t);
            Files.write(t, java.util.Arrays.copyOf(all, (int) end + 512));
        }, "ends without the two zero records");
    }

    interface TarEdit {
        void apply(Path tar) throws IOException;
    }

    /** The defect applied to a good signed bundle, as .tar and (the same bytes compressed) as .tar.zst. */
    private void tarDefect(TarEdit edit, String fragment) throws IOException {
        TestContent c = TestContent.standard();
        Path tar = write(Forge.signedBundle(c.images, c.bytes, Forge.types(c), signer, UnaryOperator.identity()), false);
        passes(tar);
        edit.apply(tar);
        expect(tar, fragment);
        Path zst = dir.resolve("defect-" + System.nanoTime() + ".tar.zst");
        try (OutputStream o = new ZstdOutputStream(Files.newOutputStream(zst), 3)) {
            Files.copy(tar, o);
        }
        expect(zst, fragment);
    }

    /** The name of the last entry of the archive. */
    private static String lastBlob(Path tar) throws IOException {
        List<Entry> es = Forge.read(tar);
        return es.get(es.size() - 1).name();
    }

    /** Where the last entry's padded data ends. */
    private static long endOfLastEntry(Path tar) throws IOException {
        byte[] all = Files.readAllBytes(tar);
        long end = -1;
        for (int off = 0; off + 512 <= all.length; ) {
            if (isZero(all, off)) {
                break;
            }
            long size = Long.parseLong(new String(all, off + 124, 11, StandardCharsets.US_ASCII).trim(), 8);
            off += 512 + (int) ((size + 511) / 512 * 512);
            end = off;
        }
        return end;
    }

    private static boolean isZero(byte[] b, int off) {
        for (int i = 0; i < 512; i++) {
            if (b[off + i] != 0) {
                return false;
            }
        }
        return true;
    }

    /** Overwrites {@code value} at {@code field} in the header of {@code name}; recomputes the checksum when {@code fix}. */
    static void patch(Path tar, String name, int field, String value, boolean fix) throws IOException {
        byte[] all = Files.readAllBytes(tar);
        for (int off = 0; off + 512 <= all.length; off += 512) {
            String n = new String(all, off, 100, StandardCharsets.UTF_8).replace("\0", "");
            if (n.equals(name) && all[off + 156] == '0') {
                byte[] v = value.getBytes(StandardCharsets.ISO_8859_1);
                System.arraycopy(v, 0, all, off + field, v.length);
                if (fix) {
                    for (int i = 0; i < 8; i++) {
                        all[off + 148 + i] = ' ';
                    }
                    long sum = 0;
                    for (int i = 0; i < 512; i++) {
                        sum += all[off + i] & 0xff;
                    }
                    System.arraycopy(String.format("%06o", sum).getBytes(StandardCharsets.US_ASCII), 0, all, off + 148, 6);
                    all[off + 154] = 0;
                    all[off + 155] = ' ';
                }
                Files.write(tar, all);
                return;
            }
        }
        throw new IllegalArgumentException("no header for " + name);
    }

    // ---- helpers

    private Path write(List<Entry> es, boolean zstd) throws IOException {
        Path p = Files.createTempFile(dir, "hostile", zstd ? ".tar.zst" : ".tar");
        Forge.write(p, es, zstd);
        return p;
    }

    private static void passes(Path p) {
        BundleVerifier.verify(p, trust, ProgressListener.NONE);
        try (BundleArchive a = BundleArchive.open(p, trust)) {
            a.stream((f, in) -> in.transferTo(OutputStream.nullOutputStream()), ProgressListener.NONE);
        }
    }

    /** Refused from a .tar and from a .tar.zst; returns the .tar's message. */
    private String both(List<Entry> es, String fragment) throws IOException {
        String m = expect(write(es, false), fragment);
        expect(write(es, true), fragment);
        return m;
    }

    /** verify() and open()+stream() must both fail with one VerificationException naming the problem. */
    private static String expect(Path p, String fragment) {
        String first = null;
        try {
            BundleVerifier.verify(p, trust, ProgressListener.NONE);
            fail("verify accepted a hostile bundle; expected: " + fragment);
        } catch (VerificationException e) {
            first = oneLine(e, fragment);
        }
        try (BundleArchive a = BundleArchive.open(p, trust)) {
            a.stream((f, in) -> in.transferTo(OutputStream.nullOutputStream()), ProgressListener.NONE);
            fail("BundleArchive accepted a hostile bundle; expected: " + fragment);
        } catch (VerificationException e) {
            oneLine(e, fragment);
        }
        return first;
    }

    private static String oneLine(VerificationException e, String fragment) {
        String m = e.getMessage();
        assertTrue(m.contains(fragment), "message lacks '" + fragment + "': " + m);
        assertFalse(m.contains("\n"), "message is not one line: " + m);
        assertTrue(m.startsWith("bundle "), "message does not name the bundle: " + m);
        assertEquals(ExitCodes.VERIFICATION, e.exitCode());
        return m;
    }
}
