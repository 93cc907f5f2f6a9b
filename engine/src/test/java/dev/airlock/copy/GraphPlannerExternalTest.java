package dev.airlock.copy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.airlock.layout.DirectoryStore;
import dev.airlock.model.Descriptor;
import dev.airlock.model.Digest;
import dev.airlock.model.ImageReference;
import dev.airlock.model.RawManifest;
import dev.airlock.testkit.TestImages;
import dev.airlock.testkit.TestImages.TestImage;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * GraphPlanner with external digests (what a delta relies on at the target): never fetched, never
 * descended into, recorded in {@link ImagePlan#required()}; the plan's manifests and blobs are
 * only what is carried. The external content is removed from the source so that a read of it fails.
 */
class GraphPlannerExternalTest {
    @TempDir
    Path tmp;

    @Test
    void externalChildrenAndLayersAreRecordedNotRead() throws IOException {
        DirectoryStore src = DirectoryStore.open(tmp.resolve("src"));
        TestImage img = TestImages.image("app").build();
        img.pushTo(src, "app");
        RawManifest child = img.children().get(0);
        Descriptor baseLayer = img.platforms().get(1).layers().get(1).descriptor(); // arm64's own base layer
        deleteBlob(child.digest());
        img.platforms().get(0).layers().forEach(l -> deleteBlob(l.digest()));
        deleteBlob(img.platforms().get(0).config().digest());
        deleteBlob(baseLayer.digest());

        ImagePlan p = new GraphPlanner(List.of(), Set.of(child.digest(), baseLayer.digest()))
                .plan(SourceImage.of(ImageReference.parse("example.org/app:1.0"), src));
        assertEquals(img.top().digest(), p.digest());
        assertFalse(p.topExternal());
        assertEquals(Set.of(child.digest(), baseLayer.digest()), Set.copyOf(p.required().stream().map(Descriptor::digest).toList()));
        assertFalse(p.manifests().stream().anyMatch(m -> m.digest().equals(child.digest())));
        assertTrue(p.manifests().stream().anyMatch(m -> m.digest().equals(img.top().digest())));
        assertEquals(3, p.manifests().size(), "two carried children and the index");
        assertFalse(p.blobs().stream().anyMatch(b -> b.digest().equals(baseLayer.digest())));
        assertFalse(p.blobs().stream().anyMatch(b -> b.digest().equals(img.platforms().get(0).config().digest())), "nothing below the external child");
        assertEquals(3, p.platforms().size(), "the external child's platform comes from its index entry");
    }

    @Test
    void anExternalTopIsTheWholePlan() {
        DirectoryStore src = DirectoryStore.open(tmp.resolve("src"));
        TestImage img = TestImages.image("app").build();
        img.pushTo(src, "app");
        ImagePlan p = new GraphPlanner(List.of(), Set.of(img.top().digest()))
                .plan(SourceImage.of(ImageReference.parse("example.org/app:1.0"), src));
        assertTrue(p.topExternal());
        assertEquals(List.of(img.top().descriptor()), p.required());
        assertTrue(p.manifests().isEmpty() && p.blobs().isEmpty());
        assertEquals(img.top().digest(), p.top().digest());
    }

    private void deleteBlob(Digest d) {
        try {
            Files.delete(tmp.resolve("src").resolve("blobs").resolve("sha256").resolve(d.hex()));
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }
}
