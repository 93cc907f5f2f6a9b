package dev.airlock.registry;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.airlock.error.DigestMismatchException;
import dev.airlock.error.RegistryException;
import dev.airlock.model.Descriptor;
import dev.airlock.model.Digest;
import dev.airlock.model.MediaType;
import dev.airlock.registry.FaultRegistryTest.Generated;
import dev.airlock.store.ImageDestination.BlobContent;
import dev.airlock.testkit.FaultProxy;
import dev.airlock.testkit.RegistryProcess;
import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Large blobs fetched as several ranged GETs at once into a file, from a real docker-registry
 * (which serves {@code Range}) through {@link FaultProxy}: byte-exact, digest checked, falling back
 * to one stream when ranges are ignored or answered wrongly.
 */
class RangedDownloadTest {
    static final int MIB = 1024 * 1024;
    /** 5 pieces of 1 MiB and a short sixth one. */
    static final Generated BLOB = new Generated(19, 5L * MIB + 4321);
    static final String REPO = "ranged/blob";
    static RegistryProcess registry;
    static FaultProxy proxy;
    static RegistryStore store;
    static RegistryStore direct;

    @TempDir
    Path dir;

    @BeforeAll
    static void start() {
        registry = RegistryProcess.start();
        proxy = FaultProxy.in(registry);
        TransportOptions t = TransportOptions.defaults().withMaxAttempts(3).withBackoff(Duration.ofMillis(20), Duration.ofMillis(100))
                .withTimeouts(Duration.ofSeconds(5), Duration.ofSeconds(5)).withRangedDownloads(2L * MIB, MIB);
        store = RegistryStore.open(proxy.host(), RegistryOptions.anonymous().withTransport(t));
        direct = RegistryStore.open(registry.host(), RegistryOptions.anonymous());
        direct.pushBlob(REPO, BLOB.descriptor, BLOB::open);
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

    /** Fetches {@code blob} with {@code parallel} requests into a new file; returns the file. */
    private Path fetch(Descriptor blob, int parallel, AtomicLong progress) throws IOException {
        Path file = Files.createTempFile(dir, "blob", ".part");
        BlobContent c = store.blobContent(REPO, blob, parallel);
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.WRITE, StandardOpenOption.READ)) {
            assertTrue(c.writeInto(dev.airlock.io.BlobRegion.of(ch), progress::addAndGet), "a large blob with parallel > 1 writes itself into the file");
        }
        return file;
    }

    private static Digest sha256(Path file) throws IOException {
        return FaultRegistryTest.readAll(Files.newInputStream(file));
    }

    @Test
    void aLargeBlobArrivesByteExactAsSeveralRangesAtOnce() throws IOException {
        int ranges = proxy.rangeRequests();
        int fallbacks = store.rangeFallbacks();
        AtomicLong progress = new AtomicLong();
        Path file = fetch(BLOB.descriptor, 3, progress);
        assertEquals(BLOB.size, Files.size(file));
        assertEquals(BLOB.descriptor.digest(), sha256(file));
        assertEquals(6, proxy.rangeRequests() - ranges, "one ranged GET per 1 MiB piece");
        assertEquals(0, store.rangeFallbacks() - fallbacks);
        assertEquals(BLOB.size, progress.get(), "every byte reported once");
    }

    @Test
    void aRangeCutShortIsAskedAgainFromWhereItStopped() throws IOException {
        int fired = proxy.faultsFired();
        int ranges = proxy.rangeRequests();
        int fallbacks = store.rangeFallbacks();
        AtomicLong progress = new AtomicLong();
        proxy.dropDownstreamAfter(2L * MIB + 777);
        Path file = fetch(BLOB.descriptor, 2, progress);
        assertEquals(BLOB.descriptor.digest(), sha256(file));
        assertEquals(1, proxy.faultsFired() - fired);
        assertEquals(7, proxy.rangeRequests() - ranges, "six pieces and one request for the rest of the cut one");
        assertEquals(0, store.rangeFallbacks() - fallbacks);
        assertEquals(BLOB.size, progress.get());
    }

    @Test
    void aRegistryThatIgnoresRangeIsReadAsOneStream() throws IOException {
        int fallbacks = store.rangeFallbacks();
        AtomicLong progress = new AtomicLong();
        proxy.ignoreRanges();
        Path file = fetch(BLOB.descriptor, 4, progress);
        assertEquals(BLOB.size, Files.size(file));
        assertEquals(BLOB.descriptor.digest(), sha256(file));
        assertEquals(1, store.rangeFallbacks() - fallbacks);
        assertEquals(BLOB.size, progress.get(), "bytes of the abandoned ranges are not reported twice");
    }

    @Test
    void anAnswerForAnotherRangeFallsBackToOneStream() throws IOException {
        int fallbacks = store.rangeFallbacks();
        // the registry is asked for one byte later than we asked: its Content-Range does not match
        proxy.rewriteRanges(v -> {
            long from = Long.parseLong(v.substring("bytes=".length(), v.indexOf('-')));
            return "bytes=" + (from + 1) + v.substring(v.indexOf('-'));
        });
        Path file = fetch(BLOB.descriptor, 3, new AtomicLong());
        assertEquals(BLOB.descriptor.digest(), sha256(file));
        assertEquals(1, store.rangeFallbacks() - fallbacks);
    }

    @Test
    void tamperedContentFailsTheWholeDigest() throws IOException {
        Generated g = new Generated(20, 3L * MIB + 1);
        direct.pushBlob(REPO, g.descriptor, g::open);
        Digest d = g.descriptor.digest();
        Path data = registry.storage().resolve("docker/registry/v2/blobs/sha256/" + d.hex().substring(0, 2) + "/" + d.hex() + "/data");
        byte[] bytes = Files.readAllBytes(data);
        bytes[2 * MIB + 5] ^= 1;
        Files.write(data, bytes);
        DigestMismatchException e = assertThrows(DigestMismatchException.class, () -> fetch(g.descriptor, 3, new AtomicLong()));
        assertTrue(e.getMessage().contains("content has digest"), e.getMessage());
        assertTrue(e.getMessage().contains(g.descriptor.digest().toString()), e.getMessage());
    }

    @Test
    void anAbsentBlobIsNotFoundWithoutFallingBack() {
        int fallbacks = store.rangeFallbacks();
        Descriptor absent = Descriptor.of(MediaType.OCI_LAYER, Digest.parse("sha256:" + "ab".repeat(32)), 4L * MIB);
        RegistryException e = assertThrows(RegistryException.class, () -> fetch(absent, 3, new AtomicLong()));
        assertTrue(e.isNotFound(), e.getMessage());
        assertEquals(0, store.rangeFallbacks() - fallbacks);
    }

    @Test
    void smallBlobsAndOneJobStayOneStream() throws IOException {
        Generated small = new Generated(21, MIB + 10);
        assertFalse(store.blobContent(REPO, small.descriptor, 4).writeInto(null, n -> { }), "below the threshold");
        assertFalse(store.blobContent(REPO, BLOB.descriptor, 1).writeInto(null, n -> { }), "one job: no parallel ranges");
    }
}
