package dev.airlock.copy;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.airlock.error.VerificationException;
import dev.airlock.model.Descriptor;
import dev.airlock.model.ImageIndex;
import dev.airlock.model.ImageReference;
import dev.airlock.model.Platform;
import dev.airlock.model.RawManifest;
import dev.airlock.progress.ProgressListener;
import dev.airlock.layout.DirectoryStore;
import dev.airlock.testkit.TestImages;
import dev.airlock.testkit.TestImages.TestImage;
import java.io.InputStream;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The engine between two layout directories: order, dedup, filters, failures. */
class GraphCopierTest {
    @TempDir
    Path tmp;

    private static SourceImage source(DirectoryStore s, TestImage img) {
        return SourceImage.of(ImageReference.parse("example.org/" + img.name() + ":" + img.tag()), s);
    }

    @Test
    void copiesEveryManifestByteExactAndEachBlobOnce() throws Exception {
        DirectoryStore src = DirectoryStore.open(tmp.resolve("src"));
        TestImage oci = TestImages.image("app").attestation().oddJson().build();
        TestImage docker = TestImages.image("db").docker().platforms("linux/amd64", "linux/arm/v5", "linux/arm64").build();
        oci.pushTo(src, "app");
        docker.pushTo(src, "db");
        List<ImagePlan> plans = new GraphPlanner(List.of()).planAll(List.of(source(src, oci), source(src, docker)), 4);
        assertEquals(oci.top().digest(), plans.get(0).digest());
        assertTrue(plans.get(0).originalDigest().isEmpty());
        assertEquals(List.of(Platform.parse("linux/amd64"), Platform.parse("linux/arm64/v8"), Platform.parse("linux/arm/v7")),
                plans.get(0).platforms());

        DirectoryStore dst = DirectoryStore.open(tmp.resolve("dst"));
        AtomicLong bytes = new AtomicLong();
        ProgressListener p = new ProgressListener() {
            @Override
            public void bytes(long delta) {
                bytes.addAndGet(delta);
            }
        };
        GraphCopier copier = new GraphCopier(new CopyOptions(4, false, false, p));
        List<ImageOutcome> out = copier.copy(List.of(new CopyJob(plans.get(0), dst, "app", List.of("1.0")),
                new CopyJob(plans.get(1), dst, "db", List.of("1.0")))).outcomes();
        assertTrue(out.stream().allMatch(ImageOutcome::ok), () -> out.toString());
        out.forEach(copier::tag);
        for (TestImage img : List.of(oci, docker)) {
            for (RawManifest m : img.children()) {
                assertArrayEquals(m.bytes(), dst.fetchManifest("x", m.digest().toString()).bytes());
            }
            assertArrayEquals(img.top().bytes(), dst.fetchManifest("x", img.top().digest().toString()).bytes());
            for (TestImages.Blob b : img.blobs()) {
                try (InputStream in = dst.openBlob("x", b.descriptor())) {
                    assertArrayEquals(b.bytes(), in.readAllBytes());
                }
            }
        }
        long unique = java.util.stream.Stream.concat(oci.blobs().stream(), docker.blobs().stream())
                .map(TestImages.Blob::descriptor).collect(java.util.stream.Collectors.toMap(Descriptor::digest, Descriptor::size, (a, b) -> a))
                .values().stream().mapToLong(Long::longValue).sum();
        assertEquals(unique, bytes.get(), "each shared blob is transferred once");

        // A second copy finds everything and moves nothing.
        List<ImageOutcome> again = copier.copy(List.of(new CopyJob(plans.get(0), dst, "app", List.of("1.0")))).outcomes();
        assertEquals(0, again.get(0).bytesPushed());
        assertEquals(plans.get(0).blobBytes(), again.get(0).bytesSkipped());
    }

    @Test
    void platformFilterRewritesTheIndexAndKeepsMatchingAttestations() {
        DirectoryStore src = DirectoryStore.open(tmp.resolve("src"));
        TestImage oci = TestImages.image("app").attestation().build();
        oci.pushTo(src, "app");
        ImagePlan plan = new GraphPlanner(List.of(Platform.parse("linux/amd64"), Platform.parse("linux/arm64")))
                .plan(source(src, oci));
        assertEquals(oci.top().digest(), plan.originalDigest().orElseThrow());
        ImageIndex index = (ImageIndex) plan.top().view();
        assertEquals(4, index.manifests().size(), "2 platforms + their 2 attestations");
        assertEquals(plan.top().mediaType(), oci.top().mediaType());
        assertEquals(List.of(Platform.parse("linux/amd64"), Platform.parse("linux/arm64/v8")), plan.platforms());
        assertEquals(plan.top(), plan.manifests().get(plan.manifests().size() - 1), "top is pushed last");
        assertFalse(plan.manifests().stream().anyMatch(m -> m.digest().equals(oci.top().digest())));
    }

    @Test
    void missingReferencesAreAllListedBeforeAnyLayerMoves() {
        DirectoryStore src = DirectoryStore.open(tmp.resolve("src"));
        TestImage oci = TestImages.image("app").build();
        oci.pushTo(src, "app");
        PlanException e = assertThrows(PlanException.class, () -> new GraphPlanner(List.of()).planAll(List.of(
                source(src, oci),
                SourceImage.of(ImageReference.parse("example.org/nope:1"), src),
                SourceImage.of(ImageReference.parse("example.org/gone:2"), src)), 2));
        assertEquals(2, e.failures().size());
        assertTrue(e.getMessage().contains("example.org/nope:1") && e.getMessage().contains("example.org/gone:2"), e.getMessage());
    }

    @Test
    void anIndexEntryWhosePlatformLiesAboutItsChildIsRefused() {
        DirectoryStore src = DirectoryStore.open(tmp.resolve("src"));
        TestImage liar = TestImages.image("liar").lieAboutPlatform("linux/arm/v7", "linux/arm64").build();
        liar.pushTo(src, "liar");
        VerificationException e = assertThrows(VerificationException.class, () -> new GraphPlanner(List.of()).plan(source(src, liar)));
        assertTrue(e.getMessage().contains("claims platform linux/arm/v7") && e.getMessage().contains("linux/arm64"), e.getMessage());
    }

    /** A target that fails every blob upload to one repository (a registry refusing that repository). */
    private static final class RefusingRepository extends dev.airlock.testkit.ForwardingStore {
        private final String refused;

        RefusingRepository(dev.airlock.store.ImageStore delegate, String refused) {
            super(delegate);
            this.refused = refused;
        }

        @Override
        public void pushBlob(String repository, Descriptor blob, dev.airlock.store.ImageDestination.BlobContent content) {
            if (repository.equals(refused)) {
                throw new dev.airlock.error.RegistryException("pushing blob " + blob.digest() + " to " + repository + ": 403 DENIED", 403,
                        List.of("DENIED"));
            }
            super.pushBlob(repository, blob, content);
        }
    }

    @Test
    void eachImageHasItsOwnOutcomeAndAFailFastRunMarksTheRestNotAttempted() {
        DirectoryStore src = DirectoryStore.open(tmp.resolve("src"));
        TestImage app = TestImages.image("app").build();
        TestImage db = TestImages.image("db").docker().build();
        TestImage tool = TestImages.image("tool").singlePlatform("linux/amd64").build();
        app.pushTo(src, "app");
        db.pushTo(src, "db");
        tool.pushTo(src, "tool");
        List<ImagePlan> plans = new GraphPlanner(List.of()).planAll(List.of(source(src, app), source(src, db), source(src, tool)), 2);
        DirectoryStore dst = DirectoryStore.open(tmp.resolve("dst"));
        RefusingRepository target = new RefusingRepository(dst, "db");
        List<CopyJob> jobs = List.of(new CopyJob(plans.get(0), target, "app", List.of("1")), new CopyJob(plans.get(1), target, "db", List.of("1")),
                new CopyJob(plans.get(2), target, "tool", List.of("1")));

        // without fail-fast: the others complete, each with its own time
        CopyResult all = new GraphCopier(new CopyOptions(1, false, false, ProgressListener.NONE)).copy(jobs);
        assertEquals(List.of(ImageOutcome.Status.COPIED, ImageOutcome.Status.FAILED, ImageOutcome.Status.COPIED),
                all.outcomes().stream().map(ImageOutcome::status).toList());
        assertTrue(all.failure().orElseThrow().getMessage().contains("403 DENIED"), all.failure().toString());
        assertEquals(0, all.notAttempted());
        assertTrue(all.outcomes().stream().allMatch(o -> !o.duration().isNegative() && !o.duration().isZero()), all.outcomes()::toString);
        assertEquals(4, dev.airlock.error.FailurePolicy.exitCode(List.of(all.failure().get()), 0, 0), "a registry refusal is exit 4");

        // with fail-fast and one worker: the image after the failure is not attempted, and never an internal error
        DirectoryStore dst2 = DirectoryStore.open(tmp.resolve("dst2"));
        RefusingRepository target2 = new RefusingRepository(dst2, "app");
        List<CopyJob> jobs2 = jobs.stream().map(j -> new CopyJob(j.plan(), target2, j.targetRepository(), j.tags())).toList();
        CopyResult stopped = new GraphCopier(new CopyOptions(1, false, true, ProgressListener.NONE)).copy(jobs2);
        assertEquals(ImageOutcome.Status.FAILED, stopped.outcomes().get(0).status());
        assertTrue(stopped.notAttempted() >= 1, stopped.outcomes()::toString);
        for (ImageOutcome o : stopped.outcomes().subList(1, 3)) {
            if (o.status() == ImageOutcome.Status.NOT_ATTEMPTED) {
                assertTrue(o.failure().isEmpty());
                assertEquals(java.time.Duration.ZERO, o.duration());
                assertTrue(dst2.headManifest(o.job().targetRepository(), o.job().plan().digest().toString()).isEmpty(), "nothing pushed for " + o);
            }
        }
        assertFalse(stopped.failure().orElseThrow() instanceof dev.airlock.error.InternalException, "not attempted is not a bug");
        assertEquals(6, dev.airlock.error.FailurePolicy.exitCode(List.of(), 0, 1), "not attempted alone is partial");
    }

    /** A target whose HEAD claims every blob, with a wrong size (a lying or damaged registry). */
    private static final class LyingSizes extends dev.airlock.testkit.ForwardingStore {
        LyingSizes(dev.airlock.store.ImageStore delegate) {
            super(delegate);
        }

        @Override
        public java.util.Optional<Long> blobSize(String repository, dev.airlock.model.Digest digest) {
            return java.util.Optional.of(12345L);
        }
    }

    @Test
    void aHeadWithAnotherSizeIsNotPresentTheBlobIsUploadedAndTheOperatorTold() throws Exception {
        DirectoryStore src = DirectoryStore.open(tmp.resolve("src"));
        TestImage app = TestImages.image("app").singlePlatform("linux/amd64").build();
        app.pushTo(src, "app");
        ImagePlan plan = new GraphPlanner(List.of()).plan(source(src, app));
        DirectoryStore dst = DirectoryStore.open(tmp.resolve("dst"));
        LyingSizes target = new LyingSizes(dst);
        List<String> notes = new java.util.concurrent.CopyOnWriteArrayList<>();
        ProgressListener p = new ProgressListener() {
            @Override
            public void note(String line) {
                notes.add(line);
            }
        };
        CopyJob job = new CopyJob(plan, target, "app", List.of("1"));
        assertFalse(PlanPreview.of(job).upToDate(), "a dry run does not believe the sizes either");
        assertEquals(plan.blobs().size(), PlanPreview.of(job).missingBlobs().size());
        CopyResult r = new GraphCopier(new CopyOptions(2, false, false, p)).copy(List.of(job));
        assertTrue(r.ok(), r.outcomes()::toString);
        assertEquals(plan.blobBytes(), r.outcomes().get(0).bytesPushed());
        assertEquals(0, r.outcomes().get(0).bytesSkipped());
        for (TestImages.Blob b : app.blobs()) {
            try (InputStream in = dst.openBlob("app", b.descriptor())) {
                assertArrayEquals(b.bytes(), in.readAllBytes());
            }
        }
        assertTrue(notes.stream().anyMatch(n -> n.contains("12345 bytes") && n.contains("not taken as present, uploading it")), notes::toString);
    }
}
