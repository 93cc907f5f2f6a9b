package dev.airlock.bundle;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.airlock.error.DigestMismatchException;
import dev.airlock.error.UsageException;
import dev.airlock.error.VerificationException;
import dev.airlock.model.Descriptor;
import dev.airlock.model.Digest;
import dev.airlock.model.MediaType;
import dev.airlock.model.RawManifest;
import dev.airlock.progress.ProgressListener;
import dev.airlock.sign.KeyGen;
import dev.airlock.sign.Pem;
import dev.airlock.sign.SignatureInfo;
import dev.airlock.sign.Signer;
import dev.airlock.sign.TrustPolicy;
import java.io.ByteArrayInputStream;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class BundleRoundTripTest {
    static final UUID ID = UUID.fromString("0b7c6a3e-9a53-4b59-8f2c-6e1f4b0d2a11");
    static final Instant CREATED = Instant.parse("2025-01-02T03:04:05Z");

    @TempDir
    static Path keys;
    static Signer signer;
    static TrustPolicy trust;

    @TempDir
    Path dir;

    @BeforeAll
    static void keys() {
        KeyGen.Result k = KeyGen.generate(keys.resolve("signer"), Optional.of("CN=airlock test"));
        signer = Signer.load(k.privateKey(), Optional.of(k.certificate()));
        trust = TrustPolicy.fromFiles(List.of(k.publicKey()), false);
    }

    static WriteOptions options() {
        return WriteOptions.defaults().withSigner(signer).withIdentity(ID, CREATED);
    }

    @Test
    void tarRoundTripServesEveryBlobByteIdentical() throws Exception {
        TestContent c = TestContent.standard();
        Path out = dir.resolve("b.tar");
        WriteResult r = BundleWriter.write(out, c.images, c.order(), c.opener(), options(), ProgressListener.NONE);
        assertEquals(Files.size(out), r.bytes());
        assertEquals(Digest.sha256(Files.readAllBytes(out)), r.sha256());
        assertEquals(r.sha256().hex() + "  b.tar\n", Files.readString(r.checksumFile()));
        try (BundleArchive a = BundleArchive.open(out, trust)) {
            assertTrue(a.randomAccess());
            assertEquals(SignatureInfo.Status.TRUSTED, a.signature().status());
            assertEquals(Optional.of("CN=airlock test"), a.signature().certificateSubject());
            assertEquals(c.images, a.images());
            assertEquals(ID, a.manifest().bundleId());
            assertEquals(CREATED, a.manifest().created());
            for (Descriptor d : c.order()) {
                try (InputStream in = a.openBlob("any", d)) {
                    assertArrayEquals(c.bytes.get(d.digest()), in.readAllBytes(), d.toString());
                }
            }
            RawManifest m = a.fetchManifest("example.com/team/multi", "1.0");
            assertEquals(c.images.get(0).digest(), m.digest());
            assertEquals(MediaType.OCI_INDEX, m.mediaType());
            assertEquals(c.images.get(1).digest(), a.fetchManifest("docker.io/rancher/pause", "3.1").digest());
            assertTrue(a.headManifest("x", c.images.get(2).digest().toString()).isPresent());
            assertFalse(dev.airlock.store.ImageDestination.class.isAssignableFrom(BundleArchive.class), "a bundle has no write methods");
        }
        VerifyResult v = BundleVerifier.verify(out, trust, ProgressListener.NONE);
        assertEquals(c.order().size() + 2, v.files());
        assertFalse(v.compressed());
    }

    @Test
    void parallelPositionalReadsAreCorrect() throws Exception {
        TestContent c = TestContent.standard();
        Path out = dir.resolve("p.tar");
        BundleWriter.write(out, c.images, c.order(), c.opener(), options(), ProgressListener.NONE);
        ExecutorService pool = Executors.newFixedThreadPool(8);
        try (BundleArchive a = BundleArchive.open(out, trust)) {
            List<Future<Boolean>> fs = new ArrayList<>();
            for (int round = 0; round < 20; round++) {
                for (Descriptor d : c.order()) {
                    fs.add(pool.submit(() -> {
                        try (InputStream in = a.openBlob("r", d)) {
                            return java.util.Arrays.equals(c.bytes.get(d.digest()), in.readAllBytes());
                        }
                    }));
                }
            }
            for (Future<Boolean> f : fs) {
                assertTrue(f.get());
            }
        } finally {
            pool.shutdownNow();
        }
    }

    @Test
    void zstdRoundTripStreamsOnceInDependencyOrder() throws Exception {
        TestContent c = TestContent.standard();
        Path out = dir.resolve("b.tar.zst");
        BundleWriter.write(out, c.images, c.order(), c.opener(), options().withCompression(false, 3, 2), ProgressListener.NONE);
        byte[] head = Files.readAllBytes(out);
        assertEquals(0x28, head[0] & 0xff);
        try (BundleArchive a = BundleArchive.open(out, trust)) {
            assertFalse(a.randomAccess());
            Map<Digest, byte[]> seen = new LinkedHashMap<>();
            a.stream((f, in) -> seen.put(f.sha256(), in.readAllBytes()), ProgressListener.NONE);
            assertEquals(new ArrayList<>(c.bytes.keySet()), new ArrayList<>(seen.keySet()));
            for (Map.Entry<Digest, byte[]> e : seen.entrySet()) {
                assertArrayEquals(c.bytes.get(e.getKey()), e.getValue());
            }
            assertThrows(UsageException.class, () -> a.stream((f, in) -> { }, ProgressListener.NONE));
            assertThrows(UsageException.class, () -> a.openBlob("x", c.order().get(0)));
        }
        assertTrue(BundleVerifier.verify(out, trust, ProgressListener.NONE).compressed());
    }

    @Test
    void sameInputGivesIdenticalBytes() throws Exception {
        TestContent c = TestContent.standard();
        for (String name : List.of("d.tar", "d.tar.zst")) {
            Path one = dir.resolve("1-" + name);
            Path two = dir.resolve("2-" + name);
            BundleWriter.write(one, c.images, c.order(), c.opener(), options(), ProgressListener.NONE);
            BundleWriter.write(two, c.images, TestContent.standard().order(), TestContent.standard().opener(), options(), ProgressListener.NONE);
            assertArrayEquals(Files.readAllBytes(one), Files.readAllBytes(two), name);
        }
    }

    @Test
    void unsignedBundleNeedsAllowUnsigned() {
        TestContent c = TestContent.standard();
        Path out = dir.resolve("u.tar");
        BundleWriter.write(out, c.images, c.order(), c.opener(), WriteOptions.defaults(), ProgressListener.NONE);
        VerificationException e = assertThrows(VerificationException.class, () -> BundleVerifier.verify(out, trust, ProgressListener.NONE));
        assertTrue(e.getMessage().contains("not signed"), e.getMessage());
        assertEquals(SignatureInfo.Status.UNSIGNED, BundleVerifier.verify(out, TrustPolicy.allowUnsignedOnly(), ProgressListener.NONE).signature().status());
    }

    @Test
    void writerRefusesOrderViolationAndLeavesNothing() {
        TestContent c = TestContent.standard();
        List<Descriptor> order = c.order();
        Descriptor firstManifest = order.stream().filter(d -> d.mediaType().isImageManifest()).findFirst().orElseThrow();
        order.remove(firstManifest);
        order.add(0, firstManifest);
        Path out = dir.resolve("o.tar");
        VerificationException e = assertThrows(VerificationException.class,
                () -> BundleWriter.write(out, c.images, order, c.opener(), options(), ProgressListener.NONE));
        assertTrue(e.getMessage().contains("comes after it"), e.getMessage());
        assertEquals(List.of(), listing(dir));
    }

    @Test
    void writerVerifiesBlobContent() {
        TestContent c = TestContent.standard();
        Descriptor layer = c.order().get(0);
        BlobOpener lying = d -> {
            byte[] b = c.bytes.get(d.digest()).clone();
            if (d.equals(layer)) {
                b[b.length / 2] ^= 1;
            }
            return new ByteArrayInputStream(b);
        };
        Path out = dir.resolve("v.tar");
        assertThrows(DigestMismatchException.class, () -> BundleWriter.write(out, c.images, c.order(), lying, options(), ProgressListener.NONE));
        assertEquals(List.of(), listing(dir));
    }

    @Test
    void writerRefusesPlatformClaimThatDisagreesWithConfig() {
        TestContent c = TestContent.standard();
        List<BundleImage> images = new ArrayList<>(c.images);
        BundleImage first = images.get(0);
        images.set(0, new BundleImage(first.source(), first.descriptor(), List.of(dev.airlock.model.Platform.parse("linux/s390x")), Optional.empty()));
        VerificationException e = assertThrows(VerificationException.class,
                () -> BundleWriter.write(dir.resolve("x.tar"), images, c.order(), c.opener(), options(), ProgressListener.NONE));
        assertTrue(e.getMessage().contains("lists platforms"), e.getMessage());
    }

    @Test
    void signerPublicKeyIsWrittenAndBundleJsonIsCompactUtf8() throws Exception {
        TestContent c = TestContent.standard();
        Path out = dir.resolve("k.tar");
        WriteResult r = BundleWriter.write(out, c.images, c.order(), c.opener(), options(), ProgressListener.NONE);
        String json = new String(r.manifest().bytes(), StandardCharsets.UTF_8);
        assertTrue(json.startsWith("{\"formatVersion\":1,\"bundleId\":\"" + ID + "\",\"created\":\"2025-01-02T03:04:05Z\""), json);
        assertFalse(json.contains("\n"));
        assertEquals(signer.publicKeyPem(), Pem.publicKeyPem(signer.publicKey()));
    }

    static List<Path> listing(Path dir) {
        try (var s = Files.list(dir)) {
            return s.toList();
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }
}
