package dev.airlock.importer;

import dev.airlock.concurrent.Workers;
import dev.airlock.copy.GraphPlanner;
import dev.airlock.copy.ImagePlan;
import dev.airlock.copy.ReferrerOptions;
import dev.airlock.model.ImageIndex;
import dev.airlock.model.ImageManifest;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Set;
import dev.airlock.copy.SourceImage;
import dev.airlock.error.AirlockException;
import dev.airlock.model.Descriptor;
import dev.airlock.model.Digest;
import dev.airlock.model.ImageReference;
import dev.airlock.model.RawManifest;
import dev.airlock.model.TargetMapping;
import dev.airlock.progress.ProgressListener;
import dev.airlock.receipt.Receipt;
import dev.airlock.store.ImageStore;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

/**
 * Makes a {@link Receipt} from what a registry holds now ({@code airlock receipt}, and
 * {@code airlock import --receipt} after an import). For each source reference: map it to the
 * target ({@link TargetMapping}), resolve the tag there (absent: listed as absent), walk the graph
 * with the engine's {@link GraphPlanner} using the target as the source (every manifest fetched by
 * digest and verified, image configs read whole, verified and platform-checked; the artifacts
 * attached to its manifests found the way the target makes them findable: cosign tags, the
 * referrers tag-schema index, the referrers API), then HEAD every other blob in parallel: only a
 * blob answering with the descriptor's size is listed. Nothing is assumed from a bundle.
 */
public final class ReceiptMaker {
    private final ImageStore target;
    private final TargetMapping mapping;
    private final int jobs;
    private final ProgressListener progress;

    public ReceiptMaker(ImageStore target, TargetMapping mapping, int jobs, ProgressListener progress) {
        this.target = Objects.requireNonNull(target, "target");
        this.mapping = Objects.requireNonNull(mapping, "mapping");
        this.jobs = Math.max(1, jobs);
        this.progress = Objects.requireNonNull(progress, "progress");
    }

    /** The receipt for {@code sources}, naming {@code bundles} as imported. */
    public Receipt make(List<ImageReference> sources, List<UUID> bundles, String toolVersion) {
        ExecutorService pool = Executors.newFixedThreadPool(jobs, Workers.named("receipt"));
        try {
            List<Future<Optional<ImagePlan>>> plans = new ArrayList<>();
            for (ImageReference src : sources) {
                plans.add(pool.submit(() -> plan(src)));
            }
            List<Optional<ImagePlan>> planned = new ArrayList<>();
            for (Future<Optional<ImagePlan>> f : plans) {
                planned.add(Workers.join(f));
            }
            // every blob once per repository, HEADed in parallel
            Map<String, Future<Boolean>> heads = new LinkedHashMap<>();
            for (Optional<ImagePlan> p : planned) {
                if (p.isEmpty()) {
                    continue;
                }
                String repo = p.get().source().repository();
                Set<Digest> read = configsRead(p.get());
                for (Descriptor b : p.get().blobs()) {
                    // an image config was read whole by the planner, by digest, verified: it is there
                    heads.computeIfAbsent(repo + "@" + b.digest(), k -> read.contains(b.digest())
                            ? java.util.concurrent.CompletableFuture.completedFuture(true)
                            : pool.submit(() -> target.blobSize(repo, b.digest()).filter(s -> s == b.size()).isPresent()));
                }
            }
            List<Receipt.Image> images = new ArrayList<>();
            for (int i = 0; i < sources.size(); i++) {
                ImageReference src = sources.get(i);
                ImageReference dst = mapping.map(src);
                Optional<ImagePlan> p = planned.get(i);
                if (p.isEmpty()) {
                    images.add(Receipt.Image.absent(src, dst));
                    continue;
                }
                String repo = p.get().source().repository();
                List<Receipt.Blob> blobs = new ArrayList<>();
                for (Descriptor b : p.get().blobs()) {
                    if (Workers.join(heads.get(repo + "@" + b.digest()))) {
                        blobs.add(new Receipt.Blob(b.digest(), b.size()));
                    } else {
                        progress.note("warning: " + dst + ": blob " + b.digest() + " is missing at " + target.describe() + " " + repo
                                + " (or has another size): not listed in the receipt");
                    }
                }
                List<Digest> manifests = p.get().manifests().stream().map(RawManifest::digest).toList();
                p.get().warnings().forEach(w -> progress.note("warning: " + w + ": not listed in the receipt"));
                List<Receipt.Attached> artifacts = p.get().artifacts().stream()
                        .filter(a -> manifests.contains(a.subject()) && manifests.contains(a.digest()))
                        .map(a -> new Receipt.Attached(a.subject(), a.digest(), a.foundBy())).distinct().toList();
                images.add(new Receipt.Image(src, dst, Optional.of(p.get().digest()), manifests, blobs, artifacts));
            }
            return Receipt.create(UUID.randomUUID(), Instant.now(), toolVersion,
                    new Receipt.Target(mapping.registry(), mapping.prefix()), bundles, images);
        } finally {
            pool.shutdownNow();
        }
    }

    /**
     * The image's graph at the target, or empty when its tag does not exist there, or its graph
     * there is incomplete or damaged (then nothing of it is claimed, with a warning).
     */
    private Optional<ImagePlan> plan(ImageReference src) {
        ImageReference dst = mapping.map(src);
        try {
            // the tag is read once (GET, its bytes hashed): no HEAD before it
            return Optional.of(new GraphPlanner(List.of(), ReferrerOptions.ALL).plan(new SourceImage(dst, target, dst.repository(), dst.reference())));
        } catch (dev.airlock.error.RegistryException e) {
            if (e.isNotFound() && target.headManifest(dst.repository(), dst.reference()).isEmpty()) {
                return Optional.empty(); // the tag does not exist: absent, not an error
            }
            progress.note("warning: " + dst + " is at " + target.describe() + " but its graph cannot be read whole (" + e.getMessage()
                    + "): listed as absent");
            return Optional.empty();
        } catch (AirlockException e) {
            progress.note("warning: " + dst + " is at " + target.describe() + " but its graph cannot be read whole (" + e.getMessage()
                    + "): listed as absent");
            return Optional.empty();
        }
    }

    /**
     * The image configs the planner read whole (by digest, verified): those of the image's own
     * manifests, walked from its top. An artifact's config was not read and is HEADed like a layer.
     */
    private static Set<Digest> configsRead(ImagePlan p) {
        Map<Digest, RawManifest> byDigest = new HashMap<>();
        p.manifests().forEach(m -> byDigest.put(m.digest(), m));
        Set<Digest> out = new HashSet<>();
        java.util.ArrayDeque<Digest> todo = new java.util.ArrayDeque<>(List.of(p.digest()));
        Set<Digest> seen = new HashSet<>();
        while (!todo.isEmpty()) {
            RawManifest m = byDigest.get(todo.pop());
            if (m == null || !seen.add(m.digest())) {
                continue;
            }
            if (m.view() instanceof ImageIndex idx) {
                idx.manifests().forEach(d -> todo.push(d.digest()));
            } else if (m.view() instanceof ImageManifest im && im.config().mediaType().isImageConfig()) {
                out.add(im.config().digest());
            }
        }
        return out;
    }
}
