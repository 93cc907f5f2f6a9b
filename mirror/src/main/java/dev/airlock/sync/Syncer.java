package dev.airlock.sync;

import dev.airlock.copy.CopyJob;
import dev.airlock.copy.CopyOptions;
import dev.airlock.copy.GraphCopier;
import dev.airlock.copy.GraphPlanner;
import dev.airlock.copy.ImageOutcome;
import dev.airlock.copy.ImagePlan;
import dev.airlock.copy.SourceImage;
import dev.airlock.error.AirlockException;
import dev.airlock.error.ExitCodes;
import dev.airlock.copy.ImageReport;
import dev.airlock.copy.ImageReport.Status;
import dev.airlock.copy.PlanPreview;
import dev.airlock.model.ImageReference;
import dev.airlock.progress.ProgressListener;
import dev.airlock.store.ImageStore;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.function.Consumer;
import java.util.function.Function;

/**
 * Mirrors images from registries to one target registry with the one copy engine
 * ({@link GraphCopier}): per image, its graph is resolved, blobs are streamed source → target
 * (verified on the way, no temporary files; present ones skipped), child manifests then the
 * index are pushed by digest, and the tag is moved last, as soon as that image is complete.
 * A failing image is reported and the next one starts (unless {@code failFast}).
 *
 * <pre>{@code
 * SyncResult r = new Syncer(host -> registryStoreFor(host), target, progress)
 *         .run(new SyncRequest(refs, TargetMapping.parse("reg:5000/mirror", false), List.of(), 8, false, false),
 *              line -> System.out.println(Syncer.line(line, i, n)));
 * }</pre>
 */
public final class Syncer {
    private final Function<String, ImageStore> sources;
    private final ImageStore target;
    private final ProgressListener progress;

    /**
     * @param sources  the store for a source registry host (called once per image; the caller
     *                 caches and closes them)
     * @param target   the target registry, {@code mapping.registry()}
     * @param progress bytes and phases
     */
    public Syncer(Function<String, ImageStore> sources, ImageStore target, ProgressListener progress) {
        this.sources = Objects.requireNonNull(sources, "sources");
        this.target = Objects.requireNonNull(target, "target");
        this.progress = Objects.requireNonNull(progress, "progress");
    }

    /**
     * Syncs every image in order; {@code onImage} gets each image's report as soon as it is done.
     * Throws {@link SyncFailedException} (after every image was tried, or at the first failure
     * with {@code failFast}) when any image failed; returns the result otherwise.
     */
    public SyncResult run(SyncRequest request, Consumer<ImageReport> onImage) {
        long started = System.nanoTime();
        // two images onto one target tag: refused before anything is pushed
        request.mapping().checkDistinct(request.images());
        GraphPlanner planner = new GraphPlanner(request.platforms(), request.referrers());
        GraphCopier copier = new GraphCopier(new CopyOptions(request.jobs(), false, false, progress));
        List<ImageReport> reports = new ArrayList<>();
        List<AirlockException> failures = new ArrayList<>();
        boolean stopped = false;
        for (ImageReference src : request.images()) {
            ImageReference dst = request.mapping().map(src);
            if (stopped) {
                reports.add(new ImageReport(src, dst, Optional.empty(), List.of(), Status.NOT_ATTEMPTED,
                        Optional.of("not attempted: stopped after an earlier failure (--fail-fast)"), 0, 0, 0, 0, 0));
                continue;
            }
            Attempt a = syncOne(planner, copier, src, dst, request.dryRun());
            ImageReport r = a.report();
            reports.add(r);
            onImage.accept(r);
            if (a.failure().isPresent()) {
                failures.add(a.failure().get());
                stopped = request.failFast();
            }
        }
        SyncResult result = new SyncResult(request.mapping().toString(), request.dryRun(), reports, (System.nanoTime() - started) / 1e9);
        if (!result.ok()) {
            throw new SyncFailedException(result, failures);
        }
        return result;
    }

    /** One image's report and, when it failed, why. */
    private record Attempt(ImageReport report, Optional<AirlockException> failure) {
    }

    private Attempt syncOne(GraphPlanner planner, GraphCopier copier, ImageReference src, ImageReference dst, boolean dryRun) {
        long t0 = System.nanoTime();
        ImagePlan plan = null;
        try {
            plan = planner.plan(SourceImage.of(src, sources.apply(src.registry())));
            List<String> notes = new ArrayList<>();
            plan.warnings().forEach(notes::add);
            notes.forEach(n -> progress.note("warning: " + n));
            CopyJob job = new CopyJob(plan, target, dst.repository(), dst.tag().isEmpty() ? List.of() : List.of(dst.tag()));
            if (dryRun) {
                PlanPreview p = PlanPreview.of(job);
                return new Attempt(new ImageReport(src, dst, Optional.of(plan.digest()), plan.platforms(), Status.PLANNED,
                        Optional.of(p.describe()), 0, p.presentBytes(), 0, p.missingBlobs().size(), secondsSince(t0)), Optional.empty());
            }
            ImageOutcome out = copier.copy(List.of(job)).outcomes().get(0);
            if (out.ok()) {
                List<String> attached = copier.tag(out);
                attached.forEach(n -> progress.note("warning: " + n));
                notes.addAll(attached);
            } else {
                throw out.failure().get();
            }
            return new Attempt(new ImageReport(src, dst, Optional.of(plan.digest()), plan.platforms(), Status.OK, Optional.empty(),
                    out.bytesPushed(), out.bytesSkipped(), out.bytesMounted(), 0, secondsSince(t0))
                    .withArtifacts(plan.artifacts().size(), notes), Optional.empty());
        } catch (AirlockException e) {
            return new Attempt(new ImageReport(src, dst, plan == null ? Optional.empty() : Optional.of(plan.digest()),
                    plan == null ? List.of() : plan.platforms(), Status.FAILED, Optional.of(oneLine(e.getMessage())),
                    0, 0, 0, 0, secondsSince(t0)), Optional.of(e));
        }
    }

    /**
     * The per-image line: {@code 2/5 docker.io/rancher/pause:3.1 → reg:5000/m/rancher/pause:3.1 ok (4.1 MB, 0.8 s)},
     * {@code … failed: reason}, or in a dry run {@code … would push 3 blobs (…)…}.
     */
    public static String line(ImageReport r, int number, int total) {
        String head = number + "/" + total + " " + r.source() + " → " + r.target() + " ";
        return switch (r.status()) {
            case OK -> head + "ok (" + (r.bytesUploaded() + r.bytesMounted() == 0 ? "up to date"
                    : dev.airlock.progress.Sizes.bytes(r.bytesUploaded() + r.bytesMounted())) + ", "
                    + dev.airlock.progress.Sizes.seconds(r.seconds()) + ")";
            case FAILED -> head + "failed: " + r.detail().orElse("(no reason)");
            case PLANNED -> head + r.detail().orElse("");
            case NOT_ATTEMPTED, WAITING -> head + "not attempted";
        };
    }

    private static double secondsSince(long t0) {
        return (System.nanoTime() - t0) / 1e9;
    }

    private static String oneLine(String s) {
        return s == null ? "(no message)" : s.replace('\n', ' ').replace('\r', ' ');
    }
}
