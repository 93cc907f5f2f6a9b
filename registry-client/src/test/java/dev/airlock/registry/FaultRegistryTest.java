package dev.airlock.registry;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.airlock.error.AirlockException;
import dev.airlock.error.DigestMismatchException;
import dev.airlock.error.RegistryException;
import dev.airlock.model.Descriptor;
import dev.airlock.model.Digest;
import dev.airlock.model.MediaType;
import dev.airlock.model.RawManifest;
import dev.airlock.testkit.FaultProxy;
import dev.airlock.testkit.RegistryProcess;
import dev.airlock.testkit.TestImages;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.Random;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** Faults injected by a TCP proxy in front of a real docker-registry, and damaged registry storage. */
class FaultRegistryTest {
    static final int MIB = 1024 * 1024;
    static RegistryProcess registry;
    static FaultProxy proxy;
    static RegistryStore store;
    static RegistryStore direct;

    @BeforeAll
    static void start() {
        registry = RegistryProcess.start();
        proxy = FaultProxy.in(registry);
        TransportOptions t = TransportOptions.defaults().withMaxAttempts(5).withBackoff(Duration.ofMillis(20), Duration.ofMillis(200))
                .withTimeouts(Duration.ofSeconds(5), Duration.ofSeconds(2)).withChunking(2L * MIB, 512 * 1024);
        store = RegistryStore.open(proxy.host(), RegistryOptions.anonymous().withTransport(t));
        direct = RegistryStore.open(registry.host(), RegistryOptions.anonymous());
    }

    @AfterEach
    void disarm() {
        proxy.clear();
    }

    @AfterAll
    static void stop() {
        store.close();
        direct.close();
        proxy.close();
        registry.close();
    }

    /** Deterministic pseudo-random content of {@code size} bytes, generated on every open (never held). */
    static final class Generated {
        final long seed;
        final long size;
        final Descriptor descriptor;

        Generated(long seed, long size) {
            this.seed = seed;
            this.size = size;
            MessageDigest sha = Digest.newSha256();
            try (InputStream in = open()) {
                byte[] buf = new byte[64 * 1024];
                int n;
                while ((n = in.read(buf)) > 0) {
                    sha.update(buf, 0, n);
                }
            } catch (IOException e) {
                throw new AssertionError(e);
            }
            this.descriptor = Descriptor.of(MediaType.OCI_LAYER, Digest.ofSha256(sha.digest()), size);
        }

        InputStream open() {
            Random r = new Random(seed);
            return new InputStream() {
                long left = size;

                @Override
                public int read() {
                    byte[] one = new byte[1];
                    return read(one, 0, 1) < 0 ? -1 : one[0] & 0xff;
                }

                @Override
                public int read(byte[] b, int off, int len) {
                    if (left == 0) {
                        return -1;
                    }
                    int n = (int) Math.min(len, left);
                    byte[] chunk = new byte[n];
                    r.nextBytes(chunk);
                    System.arraycopy(chunk, 0, b, off, n);
                    left -= n;
                    return n;
                }
            };
        }
    }

    static Digest readAll(InputStream in) throws IOException {
        MessageDigest sha = Digest.newSha256();
        try (in) {
            byte[] buf = new byte[64 * 1024];
            int n;
            while ((n = in.read(buf)) > 0) {
                sha.update(buf, 0, n);
            }
        }
        return Digest.ofSha256(sha.digest());
    }

    @Test
    void chunkedUploadOfAMultiMegabyteBlob() throws IOException {
        Generated g = new Generated(1, 5L * MIB + 123);
        store.pushBlob("fault/chunked", g.descriptor, g::open);
        assertEquals(g.size, direct.blobSize("fault/chunked", g.descriptor.digest()).orElseThrow());
        assertEquals(g.descriptor.digest(), readAll(direct.openBlob("fault/chunked", g.descriptor)));
    }

    @Test
    void connectionDroppedInTheMiddleOfAPatchEndsInACorrectBlobThroughAFreshSession() throws IOException {
        int fired0 = proxy.faultsFired();
        Generated g = new Generated(2, 4L * MIB + 77);
        int resumes = store.uploadResumes();
        int restarts = store.uploadRestarts();
        // chunks of 512 KiB: the drop falls ~300 KB into the body of the third PATCH
        proxy.dropUpstreamAfter(MIB + 300_000);
        store.pushBlob("fault/drop-up", g.descriptor, g::open);
        assertEquals(1, proxy.faultsFired() - fired0);
        // Distribution 2.8 keeps the part of the broken PATCH it received, so the stored size no
        // longer matches the session's state token: the status query answers 404 BLOB_UPLOAD_INVALID
        // ("upload resumed at wrong offest" in its log) and cancels the session. The client must
        // then start a fresh session (a restart, not a resume from a Range) and still end right.
        // A Range resume against this registry is covered by aFailedChunkContinuesFromTheRangeTheRegistryReports.
        assertEquals(0, store.uploadResumes() - resumes, "Distribution 2.8 cannot resume after a PATCH broken mid-body");
        assertEquals(1, store.uploadRestarts() - restarts, "the upload should have started one fresh session");
        assertEquals(g.size, direct.blobSize("fault/drop-up", g.descriptor.digest()).orElseThrow());
        assertEquals(g.descriptor.digest(), readAll(direct.openBlob("fault/drop-up", g.descriptor)));
    }

    @Test
    void aFailedChunkContinuesFromTheRangeTheRegistryReports() throws IOException {
        // the third PATCH never reaches the registry (the proxy answers 503): the upload asks for its
        // status and continues at the registry's offset instead of starting again
        Generated g = new Generated(8, 3L * MIB + 5);
        int resumes = store.uploadResumes();
        int restarts = store.uploadRestarts();
        int fired0 = proxy.faultsFired();
        proxy.failRequests("PATCH", 2, 1, 503);
        store.pushBlob("fault/resume", g.descriptor, g::open);
        assertEquals(1, proxy.faultsFired() - fired0);
        assertEquals(1, store.uploadResumes() - resumes);
        assertEquals(0, store.uploadRestarts() - restarts);
        assertEquals(g.descriptor.digest(), readAll(direct.openBlob("fault/resume", g.descriptor)));
    }

    @Test
    void connectionDroppedInTheMiddleOfAMonolithicUploadIsRetried() throws IOException {
        int fired0 = proxy.faultsFired();
        Generated g = new Generated(3, 900_000);
        proxy.dropUpstreamAfter(400_000);
        store.pushBlob("fault/drop-mono", g.descriptor, g::open);
        assertEquals(1, proxy.faultsFired() - fired0);
        assertEquals(g.descriptor.digest(), readAll(direct.openBlob("fault/drop-mono", g.descriptor)));
    }

    @Test
    void connectionDroppedInTheMiddleOfADownloadResumesToAVerifiedBlob() throws IOException {
        int fired0 = proxy.faultsFired();
        Generated g = new Generated(4, 3L * MIB);
        direct.pushBlob("fault/drop-down", g.descriptor, g::open);
        proxy.dropDownstreamAfter(MIB + 4321);
        assertEquals(g.descriptor.digest(), readAll(store.openBlob("fault/drop-down", g.descriptor)));
        assertEquals(1, proxy.faultsFired() - fired0);
    }

    @Test
    void stalledDownloadTimesOutAndResumes() throws IOException {
        int fired0 = proxy.faultsFired();
        Generated g = new Generated(5, 2L * MIB);
        direct.pushBlob("fault/stall", g.descriptor, g::open);
        proxy.stallDownstreamAfter(700_000, Duration.ofSeconds(6));
        assertEquals(g.descriptor.digest(), readAll(store.openBlob("fault/stall", g.descriptor)));
        assertEquals(1, proxy.faultsFired() - fired0);
    }

    @Test
    void aBurstOf500sIsRetriedAndATooLongOneIsAClearError() {
        int fired0 = proxy.faultsFired();
        var img = TestImages.image("burst").oci().singlePlatform("linux/amd64").build();
        img.pushTo(direct, "fault/burst");
        proxy.answer500s(3);
        RawManifest m = store.fetchManifest("fault/burst", img.tag());
        assertArrayEquals(img.top().bytes(), m.bytes());
        assertEquals(3, proxy.faultsFired() - fired0);
        fired0 = proxy.faultsFired();
        proxy.answer500s(50);
        RegistryException e = assertThrows(RegistryException.class, () -> store.fetchManifest("fault/burst", img.tag()));
        assertEquals(500, e.status());
        assertTrue(e.getMessage().startsWith("fetching manifest " + img.tag() + " from " + proxy.host() + "/fault/burst: 500 UNKNOWN"), e.getMessage());
        assertTrue(e.getMessage().contains("after 5 attempts"), e.getMessage());
    }

    @Test
    void tooManyRequestsWithRetryAfterIsHonoured() {
        int fired0 = proxy.faultsFired();
        var img = TestImages.image("429").oci().singlePlatform("linux/amd64").build();
        img.pushTo(direct, "fault/429");
        proxy.answerStatus(2, 429, "Retry-After: 0\r\n");
        assertEquals(img.top().digest(), store.fetchManifest("fault/429", img.tag()).digest());
        assertEquals(2, proxy.faultsFired() - fired0);
    }

    @Test
    void blobWithWrongBytesInStorageIsRejected() throws IOException {
        Generated g = new Generated(6, 300_000);
        direct.pushBlob("fault/tampered", g.descriptor, g::open);
        Path data = blobData(g.descriptor.digest());
        byte[] bytes = Files.readAllBytes(data);
        bytes[150_000] ^= 0x40;
        Files.write(data, bytes);
        DigestMismatchException e = assertThrows(DigestMismatchException.class, () -> readAll(store.openBlob("fault/tampered", g.descriptor)));
        assertTrue(e.getMessage().contains(g.descriptor.digest().toString()), e.getMessage());
    }

    @Test
    void blobWithAShortBodyIsRejected() throws IOException {
        Generated g = new Generated(7, 300_000);
        direct.pushBlob("fault/short", g.descriptor, g::open);
        Path data = blobData(g.descriptor.digest());
        byte[] bytes = Files.readAllBytes(data);
        Files.write(data, java.util.Arrays.copyOf(bytes, 200_000));
        AirlockException e = assertThrows(AirlockException.class, () -> readAll(store.openBlob("fault/short", g.descriptor)));
        assertInstanceOf(DigestMismatchException.class, e, e.getMessage());
        assertTrue(e.getMessage().contains("truncated"), e.getMessage());
    }

    @Test
    void manifestWithWrongBytesInStorageIsRejected() throws IOException {
        var img = TestImages.image("tampered-manifest").oci().singlePlatform("linux/amd64").build();
        img.pushTo(direct, "fault/tm");
        Path data = blobData(img.top().digest());
        String text = Files.readString(data).replace("\"schemaVersion\"", "\"schemaVersion\" ");
        Files.writeString(data, text);
        assertThrows(DigestMismatchException.class, () -> store.fetchManifest("fault/tm", img.top().digest().toString()));
        assertThrows(DigestMismatchException.class, () -> store.fetchManifest("fault/tm", img.tag()));
    }

    @Test
    void parallelTransfersThroughFewConnectionsStayCorrect() throws Exception {
        TransportOptions t = TransportOptions.defaults().withMaxConcurrentRequests(2).withChunking(MIB, 256 * 1024);
        try (RegistryStore narrow = RegistryStore.open(proxy.host(), RegistryOptions.anonymous().withTransport(t))) {
            var pool = java.util.concurrent.Executors.newFixedThreadPool(6);
            try {
                var futures = new java.util.ArrayList<java.util.concurrent.Future<Digest>>();
                for (int i = 0; i < 12; i++) {
                    Generated g = new Generated(100 + i, 200_000 + i * 150_000L);
                    futures.add(pool.submit(() -> {
                        narrow.pushBlob("fault/parallel", g.descriptor, g::open);
                        assertEquals(g.descriptor.digest(), readAll(narrow.openBlob("fault/parallel", g.descriptor)));
                        return g.descriptor.digest();
                    }));
                }
                for (var f : futures) {
                    f.get();
                }
            } finally {
                pool.shutdownNow();
            }
        }
    }

    @Test
    void aWorkerHoldingADownloadCanStillWriteToTheSameRegistry() throws Exception {
        TransportOptions t = TransportOptions.defaults().withMaxConcurrentRequests(1);
        try (RegistryStore one = RegistryStore.open(registry.host(), RegistryOptions.anonymous().withTransport(t))) {
            Generated g = new Generated(200, 400_000);
            one.pushBlob("fault/one-a", g.descriptor, g::open);
            try (InputStream in = one.openBlob("fault/one-a", g.descriptor)) {
                // the only permit is held by the open stream; copying it into another repository must not deadlock
                one.pushBlob("fault/one-b", g.descriptor, () -> in);
            }
            assertEquals(g.descriptor.digest(), readAll(one.openBlob("fault/one-b", g.descriptor)));
        }
    }

    static Path blobData(Digest d) {
        return registry.storage().resolve("docker/registry/v2/blobs/sha256/" + d.hex().substring(0, 2) + "/" + d.hex() + "/data");
    }
}
