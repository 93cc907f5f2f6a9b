package dev.airlock.cli;

import dev.airlock.bundle.BundleImage;
import dev.airlock.bundle.BundleWriter;
import dev.airlock.bundle.WriteOptions;
import dev.airlock.copy.GraphPlanner;
import dev.airlock.copy.ImagePlan;
import dev.airlock.copy.SourceImage;
import dev.airlock.model.Descriptor;
import dev.airlock.model.ImageReference;
import dev.airlock.progress.ProgressListener;
import dev.airlock.sign.Signer;
import dev.airlock.layout.DirectoryStore;
import dev.airlock.testkit.TestImages;
import dev.airlock.testkit.TestImages.TestImage;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/** Real bundles for command tests: generated multi-arch content → OCI layout dir → BundleWriter. */
final class TestBundles {
    static final String REFERENCE = "registry.example:5000/library/app:1.0";
    static final String REPO = "library/app";

    private TestBundles() {
    }

    /** A bundle of one 3-platform OCI image, signed with {@code key} (+ cert) unless key is null. */
    static Path write(Path dir, String name, Path key, Path cert) {
        return write(dir, name, key, cert, 16 * 1024);
    }

    /** The same with layers of {@code layerSize} bytes. */
    static Path write(Path dir, String name, Path key, Path cert, int layerSize) {
        TestImage image = TestImages.image("app").oci().tag("1.0").platforms("linux/amd64", "linux/arm64", "linux/arm/v7").layerSize(layerSize).build();
        DirectoryStore store = DirectoryStore.open(dir.resolve("store-" + name));
        image.pushTo(store, REPO);
        ImagePlan plan = new GraphPlanner(List.of()).plan(new SourceImage(ImageReference.parse(REFERENCE), store, REPO, "1.0"));
        List<Descriptor> order = new ArrayList<>(plan.blobs());
        plan.manifests().forEach(m -> order.add(m.descriptor()));
        WriteOptions options = WriteOptions.defaults();
        if (key != null) {
            options = options.withSigner(Signer.load(key, Optional.ofNullable(cert)));
        }
        Path out = dir.resolve(name);
        BundleWriter.write(out, List.of(new BundleImage(plan.source().name(), plan.top().descriptor(), plan.platforms(), plan.originalDigest())),
                order, d -> store.openBlob(REPO, d), options, ProgressListener.NONE);
        return out;
    }
}
