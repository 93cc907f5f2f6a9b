package dev.airlock.importer;

import dev.airlock.copy.ImageReport;
import dev.airlock.model.TargetMapping;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import dev.airlock.bundle.BundleArchive;
import dev.airlock.bundle.BundleManifest;
import dev.airlock.error.ExitCodes;
import dev.airlock.error.VerificationException;
import dev.airlock.copy.ImageReport.Status;
import dev.airlock.model.ImageReference;
import dev.airlock.model.Json;
import dev.airlock.model.Platform;
import dev.airlock.model.RawManifest;
import dev.airlock.progress.ProgressListener;
import dev.airlock.registry.RegistryOptions;
import dev.airlock.registry.RegistryStore;
import dev.airlock.registry.TransportOptions;
import dev.airlock.sign.KeyGen;
import dev.airlock.sign.Signer;
import dev.airlock.sign.TrustPolicy;
import dev.airlock.testkit.RegistryProcess;
import dev.airlock.testkit.TestImages;
import dev.airlock.testkit.TestImages.TestImage;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Registry A → bundle → registry B, all real Distribution registries. */
class ImporterTest {
    @TempDir
    static Path tmp;
    static RegistryProcess regA;
    static RegistryProcess regB;
    static RegistryStore a;
    static RegistryStore b;
    static TestImage oci;
    static TestImage docker;
    static TestImage single;
    static List<ImageReference> refs;
    static Signer signer;
    static TrustPolicy trust;
    static Path bundleTar;

    @BeforeAll
    static void start() {
        regA = RegistryProcess.start();
        regB = RegistryProcess.start();
        a = RegistryStore.open(regA.host(), RegistryOptions.anonymous());
        b = RegistryStore.open(regB.host(), RegistryOptions.anonymous());
        oci = TestImages.image("app").oci().attestation().oddJson().baseSeed(3).layerSize(96 * 1024).build();
        docker = TestImages.image("pause").docker().platforms("linux/amd64", "linux/arm64", "linux/arm/v7", "linux/arm/v5")
                .baseSeed(3).layerSize(96 * 1024).build();
        single = TestImages.image("tool").singlePlatform("linux/arm64").tag("v2").build();
        oci.pushTo(a, "team/app");
        docker.pushTo(a, "rancher/pause");
        single.pushTo(a, "tool");
        refs = List.of(ref("team/app:1.0"), ref("rancher/pause:1.0"), ref("tool:v2"));
        KeyGen.Result k = KeyGen.generate(tmp.resolve("ops"), Optional.of("CN=import test"));
        signer = Signer.load(k.privateKey(), Optional.of(k.certificate()));
        trust = TrustPolicy.fromFiles(List.of(k.publicKey()), false);
        bundleTar = TestBundles.write(tmp.resolve("images.tar"), a, refs, Optional.of(signer), false);
    }

    @AfterAll
    static void stop() {
        for (AutoCloseable c : new AutoCloseable[] {a, b, regA, regB}) {
            try {
                if (c != null) {
                    c.close();
                }
            } catch (Exception ignored) {
                // best effort
            }
        }
    }

    static ImageReference ref(String path) {
        return ImageReference.parse(regA.host() + "/" + path);
    }

    static ImportResult importInto(RegistryStore target, String to, Path bundle, TrustPolicy policy, boolean dryRun, ProgressListener p) {
        return new Importer(target, p).run(new ImportRequest(bundle, TargetMapping.parse(to, false), policy, 4, dryRun));
    }

    /** Every manifest of {@code img} at {@code repo} with the same bytes, every blob present. */
    static void assertArrived(RegistryStore store, TestImage img, String repo) {
        RawManifest top = store.fetchManifest(repo, img.tag());
        assertArrayEquals(img.top().bytes(), top.bytes(), "top of " + repo);
        assertEquals(img.top().mediaType(), top.mediaType());
        for (RawManifest c : img.children()) {
            RawManifest got = store.fetchManifest(repo, c.digest().toString());
            assertArrayEquals(c.bytes(), got.bytes(), "child " + c.digest() + " of " + repo);
        }
        for (TestImages.Blob blob : img.blobs()) {
            assertEquals(blob.bytes().length, store.blobSize(repo, blob.digest()).orElseThrow(), "blob " + blob.digest() + " in " + repo);
        }
    }

    static void assertNoTags(RegistryStore store, String prefix) {
        for (ImageReference r : refs) {
            assertTrue(store.headManifest(prefix + "/" + r.repository(), r.tag()).isEmpty(), "no tag " + prefix + "/" + r);
        }
    }

    static String skopeoRaw(String host, String repoTag) throws Exception {
        Process p = new ProcessBuilder("skopeo", "inspect", "--raw", "--tls-verify=false", "docker://" + host + "/" + repoTag)
                .redirectErrorStream(true).start();
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        p.getInputStream().transferTo(out);
        assertTrue(p.waitFor(60, TimeUnit.SECONDS));
        assertEquals(0, p.exitValue(), out.toString(StandardCharsets.UTF_8));
        return out.toString(StandardCharsets.UTF_8);
    }

    @Test
    void importsByteExactIntoAnEmptyRegistryAndAReimportOnlyChecks() throws Exception {
        ImportResult r = importInto(b, regB.host() + "/mirror", bundleTar, trust, false, ProgressListener.NONE);
        assertTrue(r.ok() && r.tagged(), r.toString());
        assertTrue(r.signature().contains("trusted"), r.signature());
        assertArrived(b, oci, "mirror/team/app");
        assertArrived(b, docker, "mirror/rancher/pause");
        assertArrived(b, single, "mirror/tool");
        assertEquals(List.of(oci.top().digest(), docker.top().digest(), single.top().digest()),
                r.images().stream().map(i -> i.digest().orElseThrow()).toList(), "report digests equal the bundle's");
        assertEquals(regB.host() + "/mirror/rancher/pause:1.0", r.images().get(1).target().toString());
        assertTrue(r.bytesUploaded() > 0);

        // skopeo sees the right platforms at the target
        JsonNode index = Json.parse(skopeoRaw(regB.host(), "mirror/rancher/pause:1.0").getBytes(StandardCharsets.UTF_8), "skopeo output");
        List<Platform> platforms = new ArrayList<>();
        index.get("manifests").forEach(e -> platforms.add(Platform.of(e.get("platform").get("os").asText(),
                e.get("platform").get("architecture").asText(), e.get("platform").path("variant").asText(""))));
        assertEquals(List.of(Platform.parse("linux/amd64"), Platform.parse("linux/arm64"), Platform.parse("linux/arm/v7"),
                Platform.parse("linux/arm/v5")), platforms);
        assertArrayEquals(docker.top().bytes(), skopeoRaw(regB.host(), "mirror/rancher/pause:1.0").getBytes(StandardCharsets.UTF_8));

        ImportResult again = importInto(b, regB.host() + "/mirror", bundleTar, trust, false, ProgressListener.NONE);
        assertTrue(again.upToDate(), again.toString());
        assertEquals(0, again.bytesUploaded());
        assertEquals(0, again.bytesMounted());
        assertEquals(r.images().stream().map(ImageReport::digest).toList(), again.images().stream().map(ImageReport::digest).toList());
    }

    @Test
    void importsARoutedZstdBundleReadingTheFileOnce() {
        // the same OCI image in a second repository: its whole graph is shared across repositories,
        // and app and pause share base layers (baseSeed 3)
        oci.pushTo(a, "team/app-copy");
        List<ImageReference> four = new ArrayList<>(refs);
        four.add(ref("team/app-copy:1.0"));
        Path zst = TestBundles.write(tmp.resolve("routed.tar.zst"), a, four, Optional.of(signer), true);
        try (BundleArchive arch = BundleArchive.open(zst, trust)) {
            assertTrue(arch.manifest().files().stream().filter(BundleManifest.FileEntry::isBlob).allMatch(f -> f.images().isPresent()));
            assertTrue(arch.manifest().files().stream().anyMatch(f -> f.images().map(l -> l.size() > 1).orElse(false)), "shared blobs");
        }
        AtomicInteger opens = new AtomicInteger();
        ImportRequest req = new ImportRequest(zst, TargetMapping.parse(regB.host() + "/once", false), trust, 4, false);
        ImportResult r = counted(b, opens, ProgressListener.NONE).run(req);
        assertTrue(r.ok() && r.tagged(), r.toString());
        assertEquals(1, opens.get(), "a routed .tar.zst is read exactly once");
        assertTrue(r.bytesMounted() > 0, "blobs shared across repositories are uploaded once and mounted: " + r);
        assertArrived(b, oci, "once/team/app");
        assertArrived(b, oci, "once/team/app-copy");
        assertArrived(b, docker, "once/rancher/pause");
        assertArrived(b, single, "once/tool");
        for (ImageReport i : r.images()) {
            assertEquals(b.headManifest(i.target().repository(), i.target().tag()).orElseThrow().digest(), i.digest().orElseThrow(), i.toString());
        }

        opens.set(0);
        ImportResult again = counted(b, opens, ProgressListener.NONE).run(req);
        assertEquals(1, opens.get());
        assertTrue(again.upToDate(), again.toString());
        assertEquals(0, again.bytesUploaded());
        assertEquals(0, again.bytesMounted());
    }

    @Test
    void aTargetLyingThatItHoldsEveryBlobWithAnotherSizeGetsThemUploaded() {
        // issue 20 item 6: HEAD answers 200 with Content-Length 12345 for every blob, none is stored
        try (RegistryProcess fresh = RegistryProcess.start();
             dev.airlock.testkit.FaultProxy proxy = dev.airlock.testkit.FaultProxy.in(fresh);
             RegistryStore lying = RegistryStore.open(proxy.host(), RegistryOptions.anonymous());
             RegistryStore direct = RegistryStore.open(fresh.host(), RegistryOptions.anonymous())) {
            proxy.lieAboutBlobSizes(12345);
            List<String> notes = new java.util.concurrent.CopyOnWriteArrayList<>();
            ProgressListener p = new ProgressListener() {
                @Override
                public void note(String line) {
                    notes.add(line);
                }
            };
            ImportResult dry = importInto(lying, proxy.host() + "/lie", bundleTar, trust, true, ProgressListener.NONE);
            assertTrue(dry.images().stream().allMatch(i -> i.blobsToPush() > 0), "a dry run does not believe the sizes: " + dry);
            ImportResult r = importInto(lying, proxy.host() + "/lie", bundleTar, trust, false, p);
            assertTrue(r.ok() && r.tagged(), r.toString());
            assertTrue(proxy.faultsFired() > 0, "the proxy lied");
            assertEquals(0, r.bytesSkipped(), "nothing counted as present: " + r);
            assertTrue(r.bytesUploaded() > 0);
            assertTrue(notes.stream().anyMatch(n -> n.contains("12345 bytes") && n.contains("uploading it")), notes::toString);
            // what the lying front did not hide: the real registry holds every blob, byte-exact
            assertArrived(direct, oci, "lie/team/app");
            assertArrived(direct, docker, "lie/rancher/pause");
            assertArrived(direct, single, "lie/tool");
        }
    }

    /** An importer that counts every open (= every read) of the bundle file. */
    private static Importer counted(RegistryStore target, AtomicInteger opens, ProgressListener p) {
        return new Importer(target, p).withOpener((path, policy) -> {
            opens.incrementAndGet();
            return BundleArchive.open(path, policy);
        });
    }

    @Test
    void importsIntoARegistryAlreadyHoldingHalfTheBlobs() {
        List<TestImages.Blob> blobs = docker.blobs();
        long preloaded = 0;
        for (int i = 0; i < blobs.size(); i += 2) {
            TestImages.Blob blob = blobs.get(i);
            b.pushBlob("half/rancher/pause", blob.descriptor(), () -> new java.io.ByteArrayInputStream(blob.bytes()));
            preloaded += blob.bytes().length;
        }
        ImportResult r = importInto(b, regB.host() + "/half", bundleTar, trust, false, ProgressListener.NONE);
        assertTrue(r.ok() && r.tagged(), r.toString());
        ImageReport pause = r.images().get(1);
        assertEquals(preloaded, pause.bytesSkipped(), pause.toString());
        assertEquals(docker.blobBytes() - preloaded, pause.bytesUploaded() + pause.bytesMounted(), pause.toString());
        assertArrived(b, docker, "half/rancher/pause");
    }

    @Test
    void aFlippedByteInALayerPushesNoTagAtAll() throws IOException {
        Path bad = tmp.resolve("flipped.tar");
        Files.copy(bundleTar, bad);
        TestImages.Blob layer = docker.platforms().get(2).layers().get(docker.platforms().get(2).layers().size() - 1);
        long at = indexOf(Files.readAllBytes(bad), layer.bytes());
        assertTrue(at > 0, "layer found in the tar");
        try (RandomAccessFile f = new RandomAccessFile(bad.toFile(), "rw")) {
            long pos = at + layer.bytes().length / 2;
            f.seek(pos);
            int v = f.read();
            f.seek(pos);
            f.write(v ^ 0x01);
        }
        ImportFailedException e = assertThrows(ImportFailedException.class,
                () -> importInto(b, regB.host() + "/flip", bad, trust, false, ProgressListener.NONE));
        assertEquals(ExitCodes.VERIFICATION, e.exitCode(), e.getMessage());
        assertTrue(e.getMessage().contains(layer.digest().toString()), e.getMessage());
        assertFalse(e.result().tagged());
        assertNoTags(b, "flip");
        assertFalse(b.blobSize("flip/rancher/pause", layer.digest()).isPresent(), "the tampered blob never arrived");
    }

    @Test
    void unsignedOrUntrustedBundlesAreRefusedBeforeAnythingIsPushed() throws Exception {
        Path unsigned = TestBundles.write(tmp.resolve("unsigned.tar"), a, List.of(refs.get(2)), Optional.empty(), false);
        VerificationException e = assertThrows(VerificationException.class,
                () -> importInto(b, regB.host() + "/unsigned", unsigned, trust, false, ProgressListener.NONE));
        assertTrue(e.getMessage().contains("unsigned") || e.getMessage().contains("not signed"), e.getMessage());
        KeyGen.Result other = KeyGen.generate(tmp.resolve("other"), Optional.empty());
        TrustPolicy wrong = TrustPolicy.fromFiles(List.of(other.publicKey()), false);
        assertThrows(VerificationException.class, () -> importInto(b, regB.host() + "/unsigned", bundleTar, wrong, false, ProgressListener.NONE));
        assertFalse(b.blobSize("unsigned/tool", single.blobs().get(0).digest()).isPresent());

        ImportResult ok = importInto(b, regB.host() + "/unsigned", unsigned, TrustPolicy.allowUnsignedOnly(), false, ProgressListener.NONE);
        assertTrue(ok.tagged());
        assertEquals("unsigned", ok.signature());
    }

    @Test
    void dryRunPlansAndWritesNothing() {
        ImportResult r = importInto(b, regB.host() + "/dry", bundleTar, trust, true, ProgressListener.NONE);
        assertTrue(r.dryRun());
        assertTrue(r.images().stream().allMatch(i -> i.status() == Status.PLANNED), r.toString());
        assertEquals(single.blobs().size(), r.images().get(2).blobsToPush());
        assertTrue(r.images().get(2).detail().orElseThrow().startsWith("would push"), r.images().get(2).toString());
        assertNoTags(b, "dry");
        assertFalse(b.blobSize("dry/tool", single.blobs().get(0).digest()).isPresent());
    }

    @Test
    void aRegistryKilledMidImportLeavesNoTagAndARerunAfterRestartCompletes() {
        try (RegistryProcess regC = RegistryProcess.start()) {
            RegistryOptions fast = RegistryOptions.anonymous().withTransport(TransportOptions.defaults().withMaxAttempts(1)
                    .withBackoff(Duration.ofMillis(10), Duration.ofMillis(10)).withTimeouts(Duration.ofSeconds(2), Duration.ofSeconds(5)));
            AtomicBoolean killed = new AtomicBoolean();
            AtomicLong seen = new AtomicLong();
            long total = oci.blobBytes() + docker.blobBytes();
            ProgressListener killer = new ProgressListener() {
                @Override
                public void bytes(long delta) {
                    if (seen.addAndGet(delta) > total / 3 && !killed.getAndSet(true)) {
                        regC.kill();
                    }
                }
            };
            try (RegistryStore c = RegistryStore.open(regC.host(), fast)) {
                ImportFailedException e = assertThrows(ImportFailedException.class,
                        () -> importInto(c, regC.host() + "/k", bundleTar, trust, false, killer));
                assertTrue(killed.get());
                assertEquals(ExitCodes.REGISTRY, e.exitCode(), e.getMessage());
                assertFalse(e.result().tagged());
            }
            regC.restart();
            try (RegistryStore c = RegistryStore.open(regC.host(), fast)) {
                assertNoTags(c, "k");
                ImportResult r = importInto(c, regC.host() + "/k", bundleTar, trust, false, ProgressListener.NONE);
                assertTrue(r.ok() && r.tagged(), r.toString());
                assertTrue(r.bytesSkipped() > 0, "the re-run skipped what had arrived before the kill");
                assertArrived(c, oci, "k/team/app");
                assertArrived(c, docker, "k/rancher/pause");
                assertArrived(c, single, "k/tool");
            }
        }
    }

    private static long indexOf(byte[] hay, byte[] needle) {
        outer:
        for (int i = 0; i + needle.length <= hay.length; i++) {
            for (int j = 0; j < 64 && j < needle.length; j++) {
                if (hay[i + j] != needle[j]) {
                    continue outer;
                }
            }
            return i;
        }
        return -1;
    }
}
