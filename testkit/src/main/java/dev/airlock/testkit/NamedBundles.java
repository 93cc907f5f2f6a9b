package dev.airlock.testkit;

import dev.airlock.bundle.BundleImage;
import dev.airlock.bundle.BundleWriter;
import dev.airlock.bundle.WriteOptions;
import dev.airlock.model.Descriptor;
import dev.airlock.model.Digest;
import dev.airlock.model.ImageReference;
import dev.airlock.model.Platform;
import dev.airlock.model.RawManifest;
import dev.airlock.progress.ProgressListener;
import dev.airlock.testkit.TestImages.TestImage;
import java.io.ByteArrayInputStream;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/** Real unsigned bundles of testkit images under chosen source names (e.g. docker.io/rancher/pause:3.1), written with BundleWriter. */
public final class NamedBundles {
    private NamedBundles() {
    }

    /** One image under one source reference. */
    public record Named(String source, TestImage image) {
    }

    public static Named named(String source, TestImage image) {
        return new Named(source, image);
    }

    /** A multi-arch OCI image (index) as {@code docker.io/rancher/pause:3.1} and a single-platform Docker image. */
    public static List<Named> mixed() {
        return List.of(
                named("docker.io/rancher/pause:3.1", TestImages.image("pause").oci().tag("3.1").platforms("linux/amd64", "linux/arm64").build()),
                named("quay.io/team/tool:2", TestImages.image("tool").docker().tag("2").singlePlatform("linux/amd64").baseSeed(7).build()));
    }

    /** Writes the bundle (zstd-compressed when {@code out} ends in .zst), listing which images use each blob, as export does. */
    public static Path write(Path out, List<Named> images) {
        Map<Digest, byte[]> blobs = new LinkedHashMap<>();
        Map<Digest, Descriptor> order = new LinkedHashMap<>();
        List<BundleImage> bundleImages = new ArrayList<>();
        List<java.util.Set<Digest>> graphs = new ArrayList<>();
        for (Named n : images) {
            TestImage img = n.image();
            java.util.Set<Digest> graph = new java.util.HashSet<>(img.manifestDigests());
            img.blobs().forEach(b -> graph.add(b.digest()));
            graphs.add(graph);
            for (TestImages.Blob b : img.blobs()) {
                blobs.putIfAbsent(b.digest(), b.bytes());
                order.putIfAbsent(b.digest(), b.descriptor());
            }
            for (RawManifest c : img.children()) {
                blobs.putIfAbsent(c.digest(), c.bytes());
                order.putIfAbsent(c.digest(), c.descriptor());
            }
            blobs.putIfAbsent(img.top().digest(), img.top().bytes());
            order.putIfAbsent(img.top().digest(), img.top().descriptor());
            List<Platform> platforms = img.platforms().stream().map(TestImages.PlatformImage::platform).toList();
            bundleImages.add(new BundleImage(ImageReference.parse(n.source()), img.top().descriptor(), platforms, Optional.empty()));
        }
        BundleWriter.write(out, bundleImages, new ArrayList<>(order.values()), d -> new ByteArrayInputStream(blobs.get(d.digest())),
                WriteOptions.defaults().withImageGraphs(graphs), ProgressListener.NONE);
        return out;
    }
}
