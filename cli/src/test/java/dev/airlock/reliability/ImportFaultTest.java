package dev.airlock.reliability;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.airlock.error.AirlockException;
import dev.airlock.error.ExitCodes;
import dev.airlock.importer.ImportFailedException;
import dev.airlock.importer.ImportResult;
import dev.airlock.progress.ProgressListener;
import dev.airlock.registry.RegistryOptions;
import dev.airlock.registry.RegistryStore;
import dev.airlock.registry.TransportOptions;
import dev.airlock.reliability.FaultingStore.Point;
import dev.airlock.store.ImageStore;
import dev.airlock.testkit.FaultProxy;
import dev.airlock.testkit.RegistryAudit;
import dev.airlock.testkit.RegistryProcess;
import java.io.IOException;
import java.io.RandomAccessFile;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.Optional;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Faults injected into real imports (bundle → real docker-registry): the registry process killed
 * at several points, connections dropped, stalled and refused through {@link FaultProxy}, the
 * bundle truncated while it is read. After each: the run either failed (never a success on
 * incomplete work) or everything arrived; {@link RegistryAudit} finds no tag pointing at an
 * incomplete graph and no reference to a missing blob; a re-run completes.
 */
class ImportFaultTest {
    @TempDir
    static Path tmp;
    static Fixture fx;

    @BeforeAll
    static void setUp() {
        fx = new Fixture(tmp, 192 * 1024);
    }

    @AfterAll
    static void tearDown() {
        if (fx != null) {
            fx.close();
        }
    }

    // ---- registry killed (SIGKILL) at several points, restarted before the re-run

    @ParameterizedTest
    @ValueSource(strings = {"tar", "zst"})
    void registryKilledDuringABlobUpload(String kind) {
        killAt(Point.BLOB_BYTES, fx.oci.blobBytes() / 2, kind);
    }

    @Test
    void registryKilledBetweenManifests() {
        killAt(Point.MANIFEST, 3, "tar");
    }

    @ParameterizedTest
    @ValueSource(strings = {"tar", "zst"})
    void registryKilledBetweenManifestsAndTags(String kind) {
        killAt(Point.TAG, 1, kind);
    }

    @Test
    void registryKilledBetweenTwoTags() {
        killAt(Point.TAG, 2, "tar");
    }

    private void killAt(Point point, long at, String kind) {
        try (RegistryProcess target = RegistryProcess.start()) {
            AirlockException e;
            try (RegistryStore real = RegistryStore.open(target.host(), Fixture.impatient());
                 FaultingStore store = new FaultingStore(real, point, at, target::kill)) {
                e = mustFail(store, target, bundle(kind), 4);
                assertTrue(store.fired(), "the kill happened");
            }
            assertEquals(ExitCodes.REGISTRY, e.exitCode(), e.getMessage());
            target.restart();
            if (point == Point.TAG && at == 2) {
                assertEquals(1, RegistryAudit.of(target).tagCount(), "the tag pushed before the kill is there, nothing else");
            }
            checkAndRerun(target, kind);
        }
    }

    @Test
    void registryKilledAndRestartedDuringUploadIsSurvivedByRetries() throws Exception {
        try (RegistryProcess target = RegistryProcess.start()) {
            RegistryOptions patient = RegistryOptions.anonymous().withTransport(TransportOptions.defaults().withMaxAttempts(6)
                    .withBackoff(Duration.ofMillis(200), Duration.ofSeconds(1)).withTimeouts(Duration.ofSeconds(2), Duration.ofSeconds(5)));
            try (RegistryStore real = RegistryStore.open(target.host(), patient);
                 // half-way through a blob's bytes the registry dies and comes back (same port, same
                 // storage) before the hook returns: the upload in flight breaks, and its retry
                 // (and any other worker's) meets the restarted registry
                 FaultingStore store = new FaultingStore(real, Point.BLOB_BYTES, fx.oci.blobBytes() / 2, () -> {
                     target.kill();
                     target.restart();
                 })) {
                Optional<AirlockException> e = run(store, target, fx.tar, 4);
                assertTrue(store.fired());
                assertTrue(e.isEmpty(), () -> "the retries bridge a registry restart, but: " + e.get().getMessage());
            }
            checkAndRerun(target, "tar");
        }
    }

    // ---- network faults through a TCP proxy in front of the real registry

    @Test
    void connectionResetWhileUploadingABlob() {
        viaProxy(p -> p.dropUpstreamAfter(fx.oci.blobBytes() / 3), true);
    }

    @Test
    void connectionResetWhileReadingAnswers() {
        viaProxy(p -> p.dropDownstreamAfter(2000), true);
    }

    @Test
    void answerStalledLongerThanTheReadTimeout() {
        viaProxy(p -> p.stallDownstreamAfter(1500, Duration.ofSeconds(8)), true);
    }

    @Test
    void serverErrorsAreRetriedAndSurvived() {
        viaProxy(p -> p.answer500s(2), false);
    }

    @Test
    void connectionResetsAreRetriedAndSurvived() {
        viaProxy(p -> p.dropUpstreamAfter(fx.oci.blobBytes() / 3), false);
    }

    private void viaProxy(java.util.function.Consumer<FaultProxy> arm, boolean impatient) {
        try (RegistryProcess target = RegistryProcess.start(); FaultProxy proxy = FaultProxy.in(target)) {
            RegistryOptions opts = impatient ? Fixture.impatient() : RegistryOptions.anonymous().withTransport(TransportOptions.defaults()
                    .withMaxAttempts(4).withBackoff(Duration.ofMillis(50), Duration.ofMillis(200)));
            arm.accept(proxy);
            try (RegistryStore store = RegistryStore.open(proxy.host(), opts)) {
                Optional<AirlockException> e = run(store, target, fx.tar, 4);
                assertTrue(proxy.faultsFired() > 0, "the fault fired");
                if (impatient) {
                    assertTrue(e.isPresent(), "with one attempt per request the fault fails the run");
                    assertEquals(ExitCodes.REGISTRY, e.get().exitCode(), e.get().getMessage());
                } else {
                    assertTrue(e.isEmpty(), () -> "retries should survive one fault: " + e.get().getMessage());
                }
            }
            proxy.clear();
            checkAndRerun(target, "tar");
        }
    }

    // ---- the bundle file truncated while the import reads it

    @ParameterizedTest
    @ValueSource(strings = {"tar", "zst"})
    void bundleTruncatedWhileItIsRead(String kind) throws IOException {
        Path copy = tmp.resolve("truncated-" + kind + (kind.equals("zst") ? ".tar.zst" : ".tar"));
        Files.copy(bundle(kind), copy, StandardCopyOption.REPLACE_EXISTING);
        long size = Files.size(copy);
        try (RegistryProcess target = RegistryProcess.start()) {
            AirlockException e;
            try (RegistryStore real = RegistryStore.open(target.host(), Fixture.impatient());
                 FaultingStore store = new FaultingStore(real, Point.BLOB_BYTES, fx.oci.blobBytes() / 3, () -> truncate(copy, size / 2))) {
                e = mustFail(store, target, copy, 4);
                assertTrue(store.fired());
            }
            assertEquals(ExitCodes.VERIFICATION, e.exitCode(), e.getMessage());
            assertTrue(e.getMessage().contains("truncated"), e.getMessage());
            checkAndRerun(target, kind);
        }
    }

    // ---- the rules

    /** Runs an import that must fail; checks the message is one line and nothing reports success. */
    private static AirlockException mustFail(ImageStore store, RegistryProcess target, Path bundle, int jobs) {
        Optional<AirlockException> e = run(store, target, bundle, jobs);
        assertTrue(e.isPresent(), "the faulty import reported success");
        return e.get();
    }

    /** Runs an import; a success must be complete, a failure must be a one-line Airlock error. */
    private static Optional<AirlockException> run(ImageStore store, RegistryProcess target, Path bundle, int jobs) {
        try {
            ImportResult r = Fixture.importInto(store, target.host() + "/m", bundle, fx.trust, jobs, ProgressListener.NONE);
            assertTrue(r.ok() && r.tagged(), r.toString());
            if (!target.isRunning()) {
                target.restart();
            }
            fx.assertComplete(target, "m"); // success must mean complete
            return Optional.empty();
        } catch (AirlockException e) {
            assertNotEquals(0, e.exitCode());
            assertFalse(e.getMessage().contains("\n"), "one line: " + e.getMessage());
            if (e instanceof ImportFailedException f) {
                assertFalse(f.result().ok());
            }
            return Optional.of(e);
        }
    }

    /**
     * The registry (running again) is consistent; a clean re-run completes everything. A SIGKILL
     * can leave Distribution with a truncated file under a manifest's digest (it writes manifests
     * in place and later trusts any file under that digest): then the re-run must refuse to tag
     * (the read-back check), and completes once the operator removed the damaged file.
     */
    private static void checkAndRerun(RegistryProcess target, String kind) {
        if (!target.isRunning()) {
            target.restart();
        }
        RegistryAudit.assertConsistent(target);
        java.util.List<Path> damaged = damagedBlobFiles(target.storage());
        if (!damaged.isEmpty()) {
            int tagsBefore = RegistryAudit.of(target).tagCount();
            try (RegistryStore s = RegistryStore.open(target.host(), RegistryOptions.anonymous())) {
                AirlockException e = org.junit.jupiter.api.Assertions.assertThrows(AirlockException.class,
                        () -> Fixture.importInto(s, target.host() + "/m", bundle(kind), fx.trust, 4, ProgressListener.NONE));
                assertTrue(e.getMessage().contains("reads back damaged"), e.getMessage());
            }
            assertEquals(tagsBefore, RegistryAudit.of(target).tagCount(), "no tag moved onto a damaged manifest");
            damaged.forEach(p -> p.toFile().delete());
        }
        try (RegistryStore s = RegistryStore.open(target.host(), RegistryOptions.anonymous())) {
            ImportResult r = Fixture.importInto(s, target.host() + "/m", bundle(kind), fx.trust, 4, ProgressListener.NONE);
            assertTrue(r.ok() && (r.tagged() || r.upToDate()), r.toString());
        }
        fx.assertComplete(target, "m");
    }

    /** Blob data files in a Distribution storage tree whose sha256 is not their name. */
    static java.util.List<Path> damagedBlobFiles(Path storage) {
        Path blobs = storage.resolve("docker/registry/v2/blobs/sha256");
        if (!Files.isDirectory(blobs)) {
            return java.util.List.of();
        }
        try (var files = Files.walk(blobs)) {
            return files.filter(f -> f.getFileName().toString().equals("data")).filter(f -> {
                try {
                    return !dev.airlock.model.Digest.sha256(Files.readAllBytes(f)).hex().equals(f.getParent().getFileName().toString());
                } catch (IOException e) {
                    throw new UncheckedIOException(e);
                }
            }).toList();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /**
     * Deterministic version of the crash damage: a truncated file already sits under the top
     * manifest's digest. The registry accepts the push (it keeps its file), the read-back catches
     * it, nothing is tagged; after the damaged file is removed the re-run completes.
     */
    @Test
    void aDamagedManifestFileInTheRegistryIsNeverTagged() throws IOException {
        try (RegistryProcess target = RegistryProcess.start()) {
            String hex = fx.oci.top().digest().hex();
            Path data = target.storage().resolve("docker/registry/v2/blobs/sha256/" + hex.substring(0, 2) + "/" + hex + "/data");
            Files.createDirectories(data.getParent());
            byte[] bytes = fx.oci.top().bytes();
            Files.write(data, java.util.Arrays.copyOf(bytes, bytes.length / 2));
            try (RegistryStore s = RegistryStore.open(target.host(), RegistryOptions.anonymous())) {
                AirlockException e = org.junit.jupiter.api.Assertions.assertThrows(AirlockException.class,
                        () -> Fixture.importInto(s, target.host() + "/m", fx.tar, fx.trust, 4, ProgressListener.NONE));
                assertEquals(ExitCodes.REGISTRY, e.exitCode(), e.getMessage());
                assertTrue(e.getMessage().contains("reads back damaged"), e.getMessage());
            }
            assertEquals(0, RegistryAudit.of(target).tagCount(), "nothing tagged");
            assertEquals(java.util.List.of(data), damagedBlobFiles(target.storage()));
            Files.delete(data);
            try (RegistryStore s = RegistryStore.open(target.host(), RegistryOptions.anonymous())) {
                ImportResult r = Fixture.importInto(s, target.host() + "/m", fx.tar, fx.trust, 4, ProgressListener.NONE);
                assertTrue(r.ok() && r.tagged(), r.toString());
            }
            fx.assertComplete(target, "m");
        }
    }

    private static Path bundle(String kind) {
        return kind.equals("zst") ? fx.zst : fx.tar;
    }

    private static void truncate(Path p, long size) {
        try (RandomAccessFile f = new RandomAccessFile(p.toFile(), "rw")) {
            f.setLength(size);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static void sleep(long ms) {
        try {
            Thread.sleep(ms);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
