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
                new CopyJob(plans.get(1), dst, "db", List.of("1.0"))));
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
        List<ImageOutcome> again = copier.copy(List.of(new CopyJob(plans.get(0), dst, "app", List.of("1.0"))));
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
}
