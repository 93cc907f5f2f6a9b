package dev.airlock.copy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.airlock.error.AirlockException;
import dev.airlock.error.VerificationException;
import dev.airlock.layout.DirectoryStore;
import dev.airlock.model.Descriptor;
import dev.airlock.model.Digest;
import dev.airlock.model.ImageReference;
import dev.airlock.model.Platform;
import dev.airlock.model.RawManifest;
import dev.airlock.testkit.ForwardingStore;
import dev.airlock.testkit.TestImages;
import dev.airlock.testkit.TestImages.TestImage;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@link GraphPlanner#withoutConfigReads()} (a receipt's planning): the same manifests and blobs
 * as the planner that reads every config, with no blob read at all; so what it does not check (a
 * config's presence and bytes, an index entry's platform claim) is what the default planner, which
 * export, import and sync use, still refuses.
 */
class GraphPlannerWithoutConfigReadsTest {
    private static final ImageReference REF = ImageReference.parse("example.org/app:1.0");

    @TempDir
    Path tmp;

    @Test
    void listsTheSameManifestsAndBlobsAsThePlannerThatReadsConfigsWithoutReadingABlob() {
        DirectoryStore src = DirectoryStore.open(tmp.resolve("src"));
        TestImage img = TestImages.image("app").oci().attestation().build();
        img.pushTo(src, "app");
        TestImage single = TestImages.image("tool").singlePlatform("linux/arm64").tag("v2").build();
        single.pushTo(src, "tool");
        for (var image : List.of(img, single)) {
            ImageReference ref = ImageReference.parse("example.org/" + (image == img ? "app:1.0" : "tool:v2"));
            ImagePlan reading = new GraphPlanner(List.of()).plan(SourceImage.of(ref, src));
            List<Descriptor> opened = new ArrayList<>();
            ImagePlan manifestsOnly = new GraphPlanner(List.of()).withoutConfigReads().plan(SourceImage.of(ref, counting(src, opened)));
            assertEquals(List.of(), opened, "no blob read");
            assertEquals(reading.digest(), manifestsOnly.digest());
            assertEquals(digests(reading.manifests()), digests(manifestsOnly.manifests()), "same manifests, same order");
            assertEquals(reading.blobs(), manifestsOnly.blobs(), "same blobs (configs included), same order");
            assertEquals(image.blobs().size(), manifestsOnly.blobs().size());
        }
        // the index's platform claims are the platforms (they matched the configs above)
        ImagePlan p = new GraphPlanner(List.of()).withoutConfigReads().plan(SourceImage.of(REF, src));
        assertEquals(img.platforms().stream().map(TestImages.PlatformImage::platform).toList(), p.platforms());
    }

    @Test
    void aConfigMissingAtTheSourceIsStillListedWhereThePlannerThatReadsConfigsFails() throws IOException {
        DirectoryStore src = DirectoryStore.open(tmp.resolve("src"));
        TestImage img = TestImages.image("app").build();
        img.pushTo(src, "app");
        Digest config = img.platforms().get(0).config().digest();
        Files.delete(tmp.resolve("src").resolve("blobs").resolve("sha256").resolve(config.hex()));

        assertThrows(AirlockException.class, () -> new GraphPlanner(List.of()).plan(SourceImage.of(REF, src)), "export reads it");
        ImagePlan p = new GraphPlanner(List.of()).withoutConfigReads().plan(SourceImage.of(REF, src));
        assertEquals(1, p.blobs().stream().filter(b -> b.digest().equals(config)).count(), "listed from the manifest, not checked");
    }

    @Test
    void aPlatformClaimTheConfigContradictsIsNotCheckedWithoutConfigReads() {
        DirectoryStore src = DirectoryStore.open(tmp.resolve("src"));
        TestImage img = TestImages.image("app").lieAboutPlatform("linux/arm/v7", "linux/arm64").build();
        img.pushTo(src, "app");
        assertThrows(VerificationException.class, () -> new GraphPlanner(List.of()).plan(SourceImage.of(REF, src)));
        ImagePlan p = new GraphPlanner(List.of()).withoutConfigReads().plan(SourceImage.of(REF, src));
        assertEquals(img.top().digest(), p.digest());
        assertEquals(true, p.platforms().contains(Platform.parse("linux/arm/v7")), "the claim, as the index makes it");
    }

    @Test
    void aPlatformFilterNeedsTheConfigs() {
        GraphPlanner filtering = new GraphPlanner(List.of(Platform.parse("linux/amd64")));
        assertThrows(IllegalArgumentException.class, filtering::withoutConfigReads);
    }

    @Test
    void externalDigestsStayExternal() {
        DirectoryStore src = DirectoryStore.open(tmp.resolve("src"));
        TestImage img = TestImages.image("app").build();
        img.pushTo(src, "app");
        Digest layer = img.platforms().get(0).layers().get(0).digest();
        ImagePlan p = new GraphPlanner(List.of(), ReferrerOptions.NONE, Set.of(layer)).withoutConfigReads().plan(SourceImage.of(REF, src));
        assertEquals(List.of(layer), p.required().stream().map(Descriptor::digest).toList());
        assertEquals(0, p.blobs().stream().filter(b -> b.digest().equals(layer)).count());
    }

    @Test
    void imagesPlannedOnOnePoolListTheirRepositorysTagsOnce() throws Exception {
        DirectoryStore dir = DirectoryStore.open(tmp.resolve("src"));
        TestImage v1 = TestImages.image("app").tag("1.0").build();
        TestImage v2 = TestImages.image("app").tag("2.0").baseSeed(9).build();
        v1.pushTo(dir, "app");
        v2.pushTo(dir, "app");
        List<String> listed = new java.util.concurrent.CopyOnWriteArrayList<>();
        class Listing extends ForwardingStore implements dev.airlock.store.TagLister {
            Listing() {
                super(dir);
            }

            @Override
            public List<String> listTags(String repository) {
                listed.add(repository);
                return List.of("1.0", "2.0");
            }
        }
        Listing src = new Listing();
        GraphPlanner planner = new GraphPlanner(List.of(), ReferrerOptions.ALL).withoutConfigReads();
        java.util.concurrent.ExecutorService pool = java.util.concurrent.Executors.newFixedThreadPool(2);
        try {
            for (String ref : List.of("example.org/app:1.0", "example.org/app:2.0")) {
                ImagePlan p = planner.planSharing(SourceImage.of(ImageReference.parse(ref), src), pool);
                assertEquals(List.of(), p.artifacts());
            }
            assertEquals(List.of("app"), listed, "one tag list for both images of the repository");
            java.util.concurrent.ExecutorService other = java.util.concurrent.Executors.newFixedThreadPool(1);
            try {
                planner.planSharing(SourceImage.of(ImageReference.parse("example.org/app:1.0"), src), other);
            } finally {
                other.shutdownNow();
            }
            assertEquals(List.of("app", "app"), listed, "another pool, another listing");
        } finally {
            pool.shutdownNow();
        }
    }

    private static List<Digest> digests(List<RawManifest> ms) {
        return ms.stream().map(RawManifest::digest).toList();
    }

    /** {@code store}, recording every blob opened. */
    private static ForwardingStore counting(DirectoryStore store, List<Descriptor> opened) {
        return new ForwardingStore(store) {
            @Override
            public InputStream openBlob(String repository, Descriptor blob) {
                opened.add(blob);
                return super.openBlob(repository, blob);
            }
        };
    }
}
