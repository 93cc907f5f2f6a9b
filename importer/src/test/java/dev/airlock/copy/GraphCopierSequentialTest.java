package dev.airlock.copy;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.airlock.error.VerificationException;
import dev.airlock.model.Descriptor;
import dev.airlock.model.ImageReference;
import dev.airlock.model.RawManifest;
import dev.airlock.progress.ProgressListener;
import dev.airlock.layout.DirectoryStore;
import dev.airlock.testkit.TestImages;
import dev.airlock.testkit.TestImages.TestImage;
import java.io.InputStream;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The engine fed by a source that is read once, in its own order (a .tar.zst bundle). */
class GraphCopierSequentialTest {
    @TempDir
    Path tmp;

    @Test
    void placesEachBlobAsItPassesThenPushesManifests() throws Exception {
        DirectoryStore src = DirectoryStore.open(tmp.resolve("src"));
        TestImage img = TestImages.image("app").docker().platforms("linux/amd64", "linux/arm/v7").build();
        img.pushTo(src, "app");
        ImagePlan plan = new GraphPlanner(List.of()).plan(SourceImage.of(ImageReference.parse("example.org/app:1.0"), src));
        DirectoryStore dst = DirectoryStore.open(tmp.resolve("dst"));
        List<Descriptor> order = new ArrayList<>(plan.blobs());
        Collections.reverse(order);
        List<String> opened = new ArrayList<>();
        GraphCopier copier = new GraphCopier(new CopyOptions(4, true, false, ProgressListener.NONE));
        ImageOutcome out = copier.copySequential(List.of(new CopyJob(plan, dst, "app", List.of("1.0"))), sink -> {
            for (Descriptor d : order) {
                opened.add(d.digest().toString());
                try (InputStream in = src.openBlob("app", d)) {
                    sink.accept(d, in);
                }  catch (java.io.IOException e) {
                    throw new java.io.UncheckedIOException(e);
                }
            }
        }).get(0);
        assertTrue(out.ok(), out.toString());
        assertEquals(plan.blobBytes(), out.bytesPushed());
        assertEquals(order.stream().map(d -> d.digest().toString()).toList(), opened, "read in the source's order");
        copier.tag(out);
        assertArrayEquals(img.top().bytes(), dst.fetchManifest("app", "1.0").bytes());
        for (RawManifest c : img.children()) {
            assertArrayEquals(c.bytes(), dst.fetchManifest("app", c.digest().toString()).bytes());
        }
    }

    @Test
    void aBlobTheSourceNeverOffersFailsTheImageAndNoManifestIsPushed() {
        DirectoryStore src = DirectoryStore.open(tmp.resolve("src"));
        TestImage img = TestImages.image("app").singlePlatform("linux/amd64").build();
        img.pushTo(src, "app");
        ImagePlan plan = new GraphPlanner(List.of()).plan(SourceImage.of(ImageReference.parse("example.org/app:1.0"), src));
        DirectoryStore dst = DirectoryStore.open(tmp.resolve("dst"));
        Descriptor skipped = plan.blobs().get(plan.blobs().size() - 1);
        ImageOutcome out = new GraphCopier(new CopyOptions(2, true, false, ProgressListener.NONE))
                .copySequential(List.of(new CopyJob(plan, dst, "app", List.of("1.0"))), sink -> {
                    for (Descriptor d : plan.blobs()) {
                        if (!d.equals(skipped)) {
                            sink.accept(d, src.openBlob("app", d));
                        }
                    }
                }).get(0);
        assertFalse(out.ok());
        assertTrue(out.failure().get() instanceof VerificationException);
        assertTrue(out.failure().get().getMessage().contains(skipped.digest() + " needed by example.org/app:1.0 is not in the source"),
                out.failure().get().getMessage());
        assertTrue(dst.headManifest("app", img.top().digest().toString()).isEmpty());
    }
}
