package dev.airlock.importer;

import dev.airlock.concurrent.Workers;
import dev.airlock.copy.GraphPlanner;
import dev.airlock.copy.ImagePlan;
import dev.airlock.copy.ReferrerOptions;
import dev.airlock.copy.SourceImage;
import dev.airlock.error.AirlockException;
import dev.airlock.model.Digest;
import dev.airlock.model.ImageReference;
import dev.airlock.model.RawManifest;
import dev.airlock.model.TargetMapping;
import dev.airlock.progress.ProgressListener;
import dev.airlock.receipt.Receipt;
import dev.airlock.store.ImageStore;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
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
 * with the engine's {@link GraphPlanner} using the target as the source, reading manifests only
 * ({@link GraphPlanner#withoutConfigReads()}: every manifest fetched by digest and verified; the
 * artifacts attached to its manifests found the way the target makes them findable: cosign tags,
 * the referrers tag-schema index, the referrers API), images in parallel ({@code jobs}). Blobs,
 * image configs included, are not asked one by one: each is referenced by a manifest read from
 * that repository by digest, and a registry accepts a manifest only with its blobs present there
 * (Distribution refuses one whose blobs it lacks; the importer still checks every item a delta
 * relies on before its first upload). So a receipt does not prove that a blob is still there (one
 * deleted through the registry's API after its manifest was accepted is still listed), nor does it
 * check an index entry's platform against its config (export did, before the image crossed).
 * Nothing is assumed from a bundle.
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
        // the artifacts of every image are looked for on one pool beside it (a thread pool per image cost 400 thread starts for 100)
        ExecutorService finding = Executors.newFixedThreadPool(jobs, Workers.named("referrers"));
        // manifests only: a receipt neither reads configs nor checks platforms; one planner for all the
        // images, so that a repository's tag list (cosign and sha256-<hex> tags) is asked for once
        GraphPlanner planner = new GraphPlanner(List.of(), ReferrerOptions.ALL).withoutConfigReads();
        try {
            List<Future<Optional<ImagePlan>>> plans = new ArrayList<>();
            for (ImageReference src : sources) {
                plans.add(pool.submit(() -> plan(planner, src, finding)));
            }
            List<Optional<ImagePlan>> planned = new ArrayList<>();
            for (Future<Optional<ImagePlan>> f : plans) {
                planned.add(Workers.join(f));
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
                // every blob is referenced by a manifest read from this repository by digest: the registry
                // accepted that manifest only with its blobs there (one request per manifest, none per blob)
                List<Receipt.Blob> blobs = p.get().blobs().stream().map(b -> new Receipt.Blob(b.digest(), b.size())).toList();
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
            finding.shutdownNow();
        }
    }

    /**
     * The image's graph at the target, or empty when its tag does not exist there, or its graph
     * there is incomplete or damaged (then nothing of it is claimed, with a warning).
     */
    private Optional<ImagePlan> plan(GraphPlanner planner, ImageReference src, ExecutorService finding) {
        ImageReference dst = mapping.map(src);
        try {
            // the tag is read once (GET, its bytes hashed): no HEAD before it
            return Optional.of(planner.planSharing(new SourceImage(dst, target, dst.repository(), dst.reference()), finding));
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
}
