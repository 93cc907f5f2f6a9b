package dev.airlock.importer;

import dev.airlock.bundle.BundleImage;
import dev.airlock.bundle.BundleWriter;
import dev.airlock.bundle.WriteOptions;
import dev.airlock.copy.GraphPlanner;
import dev.airlock.copy.ImagePlan;
import dev.airlock.copy.SourceImage;
import dev.airlock.model.Descriptor;
import dev.airlock.model.Digest;
import dev.airlock.model.ImageReference;
import dev.airlock.model.RawManifest;
import dev.airlock.progress.ProgressListener;
import dev.airlock.sign.Signer;
import dev.airlock.store.ImageStore;
import java.io.ByteArrayInputStream;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * Writes a bundle of images read from a registry, the way export does (plan with the engine's
 * planner, blobs before the manifests that use them, each once), for import tests that must not
 * depend on the exporter module.
 */
final class TestBundles {
    private TestBundles() {
    }

    /** Like the exporter: bundle.json lists the images using each blob. */
    static Path write(Path out, ImageStore source, List<ImageReference> refs, Optional<Signer> signer, boolean zstd) {
        List<SourceImage> sources = refs.stream().map(r -> SourceImage.of(r, source)).toList();
        List<ImagePlan> plans = new GraphPlanner(List.of()).planAll(sources, 4);
        Map<Digest, Descriptor> order = new LinkedHashMap<>();
        Map<Digest, byte[]> manifests = new HashMap<>();
        Map<Digest, String> repoOf = new HashMap<>();
        List<BundleImage> images = new ArrayList<>();
        for (ImagePlan p : plans) {
            for (Descriptor b : p.blobs()) {
                order.putIfAbsent(b.digest(), b);
                repoOf.putIfAbsent(b.digest(), p.source().repository());
            }
            for (RawManifest m : p.manifests()) {
                order.putIfAbsent(m.digest(), m.descriptor());
                manifests.put(m.digest(), m.bytes());
            }
            images.add(BundleImage.of(p.source().name(), p.top().descriptor(), p.platforms()));
        }
        WriteOptions options = WriteOptions.defaults().withCompression(zstd, 3, 1)
                .withImageGraphs(plans.stream().map(ImagePlan::digests).toList());
        if (signer.isPresent()) {
            options = options.withSigner(signer.get());
        }
        BundleWriter.write(out, images, new ArrayList<>(order.values()), d -> manifests.containsKey(d.digest())
                ? new ByteArrayInputStream(manifests.get(d.digest()))
                : source.openBlob(repoOf.get(d.digest()), d), options, ProgressListener.NONE);
        return out;
    }
}
