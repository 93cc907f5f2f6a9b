package dev.airlock.sync;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.airlock.error.ExitCodes;
import dev.airlock.copy.ImageReport;
import dev.airlock.copy.ImageReport.Status;
import dev.airlock.model.TargetMapping;
import dev.airlock.model.ImageReference;
import dev.airlock.model.Platform;
import dev.airlock.model.RawManifest;
import dev.airlock.progress.ProgressListener;
import dev.airlock.registry.RegistryOptions;
import dev.airlock.registry.RegistryStore;
import dev.airlock.testkit.RegistryProcess;
import dev.airlock.testkit.TestImages;
import dev.airlock.testkit.TestImages.TestImage;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** Registry → registry mirror between two real Distribution registries. */
class SyncerTest {
    static RegistryProcess regA;
    static RegistryProcess regB;
    static RegistryStore a;
    static RegistryStore b;
    static TestImage oci;
    static TestImage docker;
    static TestImage single;

    @BeforeAll
    static void start() {
        regA = RegistryProcess.start();
        regB = RegistryProcess.start();
        a = RegistryStore.open(regA.host(), RegistryOptions.anonymous());
        b = RegistryStore.open(regB.host(), RegistryOptions.anonymous());
        oci = TestImages.image("app").oci().attestation().oddJson().baseSeed(7).build();
        docker = TestImages.image("db").docker().platforms("linux/amd64", "linux/arm64", "linux/arm/v7", "linux/arm/v5").baseSeed(7).build();
        single = TestImages.image("tool").singlePlatform("linux/arm64").tag("v2").build();
        oci.pushTo(a, "team/app");
        docker.pushTo(a, "library/db");
        single.pushTo(a, "tool");
    }

    @AfterAll
    static void stop() {
        if (a != null) {
            a.close();
        }
        if (b != null) {
            b.close();
        }
        if (regA != null) {
            regA.close();
        }
        if (regB != null) {
            regB.close();
        }
    }

    private static ImageReference ref(String path) {
        return ImageReference.parse(regA.host() + "/" + path);
    }

    private SyncResult sync(List<ImageReference> refs, String prefix, boolean failFast, boolean dryRun, List<String> lines) {
        Syncer s = new Syncer(host -> {
            assertEquals(regA.host(), host);
            return a;
        }, b, ProgressListener.NONE);
        int[] n = {0};
        return s.run(new SyncRequest(refs, TargetMapping.parse(regB.host() + "/" + prefix, false), List.of(), 4, failFast, dryRun),
                r -> lines.add(Syncer.line(r, ++n[0], refs.size())));
    }

    private static void assertSameGraph(TestImage img, String repo, String tag) {
        RawManifest top = b.fetchManifest(repo, tag);
        assertArrayEquals(img.top().bytes(), top.bytes(), "top-level bytes of " + repo);
        assertEquals(img.top().digest(), top.digest());
        assertEquals(img.top().mediaType(), top.mediaType());
        for (RawManifest c : img.children()) {
            assertArrayEquals(c.bytes(), b.fetchManifest(repo, c.digest().toString()).bytes(), "child " + c.digest());
        }
        for (TestImages.Blob blob : img.blobs()) {
            assertEquals(blob.bytes().length, b.blobSize(repo, blob.digest()).orElseThrow(), "blob " + blob.digest());
        }
    }

    @Test
    void mirrorsOciAndDockerMultiArchByteExactThenSecondRunOnlyChecks() {
        List<ImageReference> refs = List.of(ref("team/app:1.0"), ref("library/db:1.0"), ref("tool:v2"));
        List<String> lines = new ArrayList<>();
        SyncResult r = sync(refs, "mirror", false, false, lines);
        assertTrue(r.ok(), lines::toString);
        assertEquals(3, lines.size());
        assertTrue(lines.get(0).startsWith("1/3 " + regA.host() + "/team/app:1.0 → " + regB.host() + "/mirror/team/app:1.0 ok ("), lines.get(0));
        assertSameGraph(oci, "mirror/team/app", "1.0");
        assertSameGraph(docker, "mirror/library/db", "1.0");
        assertSameGraph(single, "mirror/tool", "v2");
        assertEquals(List.of(Platform.parse("linux/amd64"), Platform.parse("linux/arm64"), Platform.parse("linux/arm/v7"),
                Platform.parse("linux/arm/v5")), r.images().get(1).platforms());
        for (ImageReport i : r.images()) {
            assertTrue(i.bytesUploaded() + i.bytesMounted() > 0, i.toString());
        }

        List<String> again = new ArrayList<>();
        SyncResult second = sync(refs, "mirror", false, false, again);
        assertTrue(second.ok());
        assertEquals(0, second.bytesUploaded(), "a second sync uploads nothing");
        assertEquals(0, second.images().stream().mapToLong(ImageReport::bytesMounted).sum());
        assertTrue(again.stream().allMatch(l -> l.contains(" ok (up to date, ")), again::toString);
        assertEquals(r.images().stream().map(ImageReport::digest).toList(), second.images().stream().map(ImageReport::digest).toList());
    }

    @Test
    void aMissingReferenceFailsAloneAndTheOthersComplete() {
        List<ImageReference> refs = List.of(ref("team/app:1.0"), ref("team/nope:9"), ref("library/db:1.0"));
        List<String> lines = new ArrayList<>();
        SyncFailedException e = assertThrows(SyncFailedException.class, () -> sync(refs, "partial", false, false, lines));
        assertEquals(ExitCodes.PARTIAL, e.exitCode());
        assertEquals(3, lines.size(), lines::toString);
        assertTrue(lines.get(1).startsWith("2/3 " + regA.host() + "/team/nope:9 → " + regB.host() + "/partial/team/nope:9 failed: "), lines.get(1));
        assertTrue(lines.get(1).contains("not found"), lines.get(1));
        assertTrue(lines.get(0).contains(" ok (") && lines.get(2).contains(" ok ("), lines::toString);
        assertEquals(List.of(Status.OK, Status.FAILED, Status.OK), e.result().images().stream().map(ImageReport::status).toList());
        assertTrue(e.getMessage().contains("1 of 3 images failed") && e.getMessage().contains("team/nope:9"), e.getMessage());
        assertSameGraph(docker, "partial/library/db", "1.0");
        assertTrue(b.headManifest("partial/team/nope", "9").isEmpty());
    }

    @Test
    void failFastStopsAtTheFirstFailure() {
        List<ImageReference> refs = List.of(ref("team/nope:9"), ref("tool:v2"));
        List<String> lines = new ArrayList<>();
        SyncFailedException e = assertThrows(SyncFailedException.class, () -> sync(refs, "ff", true, false, lines));
        assertEquals(1, lines.size(), lines::toString);
        assertEquals(ExitCodes.REGISTRY, e.exitCode(), "nothing arrived: the failure's own code");
        assertEquals(Status.NOT_ATTEMPTED, e.result().images().get(1).status());
        assertTrue(b.headManifest("ff/tool", "v2").isEmpty());
    }

    @Test
    void dryRunWritesNothing() {
        List<ImageReference> refs = List.of(ref("tool:v2"));
        List<String> lines = new ArrayList<>();
        SyncResult r = sync(refs, "dry", false, true, lines);
        assertEquals(Status.PLANNED, r.images().get(0).status());
        assertTrue(lines.get(0).contains("would push " + single.blobs().size() + " blobs"), lines.get(0));
        assertTrue(b.headManifest("dry/tool", "v2").isEmpty());
        assertFalse(b.blobSize("dry/tool", single.blobs().get(0).digest()).isPresent());
    }
}
