package dev.airlock.importer;

import dev.airlock.bundle.BundleArchive;
import dev.airlock.bundle.BundleImage;
import dev.airlock.copy.CopyJob;
import dev.airlock.copy.CopyOptions;
import dev.airlock.copy.GraphCopier;
import dev.airlock.copy.GraphPlanner;
import dev.airlock.copy.ImageOutcome;
import dev.airlock.copy.ImagePlan;
import dev.airlock.copy.SourceImage;
import dev.airlock.error.AirlockException;
import dev.airlock.error.InternalException;
import dev.airlock.error.VerificationException;
import dev.airlock.importer.ImageReport.Status;
import dev.airlock.model.ImageReference;
import dev.airlock.progress.ProgressListener;
import dev.airlock.store.ImageStore;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Optional;

/**
 * Replays a bundle into a registry, byte-exact, with the one copy engine ({@link GraphCopier}).
 *
 * <ol>
 * <li>The bundle is opened in place and its signature checked against the trust policy before
 *     anything else ({@link BundleArchive#open}); an unsigned or untrusted bundle stops here.</li>
 * <li>Every image's graph is planned from the bundle (manifests, configs, platform checks).</li>
 * <li>If the target already holds every blob, manifest and tag, nothing is read or written
 *     (a re-run asks only HEADs).</li>
 * <li>Otherwise: blobs (skip what exists, mount from another repository, else upload, each
 *     verified while it streams; blobs already present are still read so that every byte of the
 *     bundle is checked), then child manifests and indexes by digest.</li>
 * <li>Tags last, and only when every image arrived: a tampered or truncated bundle, or a
 *     registry failing half-way, leaves no new tag anywhere. A re-run resumes (everything is
 *     keyed by digest).</li>
 * </ol>
 * An uncompressed {@code .tar} is read with positional reads by {@code jobs} workers. A
 * {@code .tar.zst} can only be read front to back: a first pass verifies the whole bundle and
 * keeps its manifests and configs (small) in memory, a second pass streams each blob to the
 * registry as it passes. No extraction, no temporary files.
 */
public final class Importer {
    private final ImageStore target;
    private final ProgressListener progress;

    /**
     * @param target   the registry named by the request's mapping (the caller opens and closes it)
     * @param progress bytes and phases
     */
    public Importer(ImageStore target, ProgressListener progress) {
        this.target = Objects.requireNonNull(target, "target");
        this.progress = Objects.requireNonNull(progress, "progress");
    }

    /**
     * Imports (or, with {@code dryRun}, plans) the bundle. Throws {@link ImportFailedException}
     * (carrying every image's state) when any image did not arrive; the bundle's own problems
     * found before anything was pushed (signature, structure) throw their VerificationException.
     */
    public ImportResult run(ImportRequest request) {
        long t0 = System.nanoTime();
        List<CopyJob> jobs = new ArrayList<>();
        List<BundleImage> images;
        String signature;
        boolean randomAccess;
        try (BundleArchive archive = BundleArchive.open(request.bundle(), request.trust())) {
            signature = archive.signature().describe();
            if (archive.signature().status() != dev.airlock.sign.SignatureInfo.Status.TRUSTED) {
                progress.note("warning: " + archive.describe() + " is " + signature + "; importing it because unsigned bundles are allowed");
            }
            images = archive.images();
            randomAccess = archive.randomAccess();
            ImageStore source = archive;
            if (!randomAccess) {
                source = readHeads(archive);
            }
            List<SourceImage> sources = new ArrayList<>();
            for (BundleImage img : images) {
                sources.add(new SourceImage(img.source(), source, img.source().repository(), img.digest().toString()));
            }
            List<ImagePlan> plans = new GraphPlanner(List.of()).planAll(sources, request.jobs());
            for (int i = 0; i < images.size(); i++) {
                ImagePlan plan = plans.get(i);
                BundleImage img = images.get(i);
                if (!plan.digest().equals(img.digest())) {
                    throw new InternalException("planned " + plan.digest() + " for " + img.source() + ", bundle says " + img.digest(), null);
                }
                ImageReference dst = request.mapping().map(img.source());
                jobs.add(new CopyJob(plan, target, dst.repository(), dst.tag().isEmpty() ? List.of() : List.of(dst.tag())));
            }

            List<PlanPreview> previews = previews(jobs, request.jobs());
            boolean upToDate = previews.stream().allMatch(PlanPreview::upToDate);
            if (request.dryRun() || upToDate) {
                List<ImageReport> reports = new ArrayList<>();
                for (int i = 0; i < jobs.size(); i++) {
                    PlanPreview p = previews.get(i);
                    CopyJob job = jobs.get(i);
                    reports.add(report(request, images.get(i), job, request.dryRun() ? Status.PLANNED : Status.OK, Optional.of(p.describe()),
                            0, p.presentBytes(), 0, request.dryRun() ? p.missingBlobs().size() : 0, seconds(t0)));
                }
                return new ImportResult(request.bundle(), signature, request.mapping().toString(), request.dryRun(), upToDate,
                        false, reports, seconds(t0));
            }

            GraphCopier copier = new GraphCopier(new CopyOptions(request.jobs(), true, false, progress));
            List<ImageOutcome> outcomes;
            AirlockException aborted = null;
            if (randomAccess) {
                outcomes = copier.copy(jobs);
            } else {
                outcomes = null;
                try (BundleArchive again = BundleArchive.open(request.bundle(), request.trust())) {
                    checkSame(archive, again);
                    outcomes = copier.copySequential(jobs, sink -> again.stream((f, in) -> sink.accept(f.descriptor(), in), ProgressListener.NONE));
                } catch (AirlockException e) {
                    aborted = e;
                }
            }
            return finish(request, images, jobs, outcomes, aborted, copier, signature, t0);
        }
    }

    private ImportResult finish(ImportRequest request, List<BundleImage> images, List<CopyJob> jobs, List<ImageOutcome> outcomes,
                                AirlockException aborted, GraphCopier copier, String signature, long t0) {
        AirlockException first = aborted;
        if (first == null) {
            // a verification failure anywhere outranks a registry failure elsewhere
            for (ImageOutcome o : outcomes) {
                if (o.failure().isPresent() && (first == null || o.failure().get() instanceof VerificationException
                        && !(first instanceof VerificationException))) {
                    first = o.failure().get();
                }
            }
        }
        boolean tagged = false;
        if (first == null) {
            try {
                for (ImageOutcome o : outcomes) {
                    copier.tag(o);
                }
                tagged = true;
            } catch (AirlockException e) {
                first = e;
            }
        }
        List<ImageReport> reports = new ArrayList<>();
        for (int i = 0; i < jobs.size(); i++) {
            ImageOutcome o = outcomes == null ? null : outcomes.get(i);
            AirlockException own = o == null ? aborted : o.failure().orElse(null);
            Status status = own != null ? Status.FAILED : tagged ? Status.OK : Status.NOT_ATTEMPTED;
            Optional<String> detail = own != null ? Optional.of(own.getMessage())
                    : tagged ? Optional.empty() : Optional.of("arrived complete, but not tagged because another image failed");
            reports.add(report(request, images.get(i), jobs.get(i), status, detail,
                    o == null ? 0 : o.bytesPushed(), o == null ? 0 : o.bytesSkipped(), o == null ? 0 : o.bytesMounted(), 0,
                    o == null ? seconds(t0) : o.duration().toNanos() / 1e9));
        }
        ImportResult result = new ImportResult(request.bundle(), signature, request.mapping().toString(), false, false, tagged,
                reports, seconds(t0));
        if (first != null) {
            throw new ImportFailedException(result, first);
        }
        return result;
    }

    /** What each job would write, asked (HEADs only) for several images at once. */
    private static List<PlanPreview> previews(List<CopyJob> jobs, int parallel) {
        java.util.concurrent.ExecutorService pool = java.util.concurrent.Executors.newFixedThreadPool(Math.max(1, Math.min(parallel, jobs.size())), r -> {
            Thread t = new Thread(r, "airlock-preview");
            t.setDaemon(true);
            return t;
        });
        try {
            List<java.util.concurrent.Future<PlanPreview>> futures = new ArrayList<>();
            for (CopyJob job : jobs) {
                futures.add(pool.submit(() -> PlanPreview.of(job)));
            }
            List<PlanPreview> out = new ArrayList<>();
            for (java.util.concurrent.Future<PlanPreview> f : futures) {
                try {
                    out.add(f.get());
                } catch (java.util.concurrent.ExecutionException e) {
                    if (e.getCause() instanceof AirlockException a) {
                        throw a;
                    }
                    throw new InternalException("checking the target: " + e.getCause(), e.getCause());
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    throw new dev.airlock.error.LocalIoException("interrupted");
                }
            }
            return out;
        } finally {
            pool.shutdownNow();
        }
    }

    /** First pass over a .tar.zst: verify everything, keep manifests and configs. */
    private BundleHeads readHeads(BundleArchive archive) {
        BundleHeads heads = new BundleHeads(archive.describe());
        archive.stream((f, in) -> {
            var d = f.descriptor();
            if (BundleHeads.keeps(d)) {
                heads.add(d, in.readAllBytes());
            }
        }, progress);
        return heads;
    }

    /** The file must not have changed between the two passes over a .tar.zst. */
    private static void checkSame(BundleArchive first, BundleArchive second) {
        if (!java.util.Arrays.equals(first.manifest().bytes(), second.manifest().bytes())) {
            throw new VerificationException(first.describe() + ": bundle.json changed between the verifying pass and the import pass");
        }
    }

    private static ImageReport report(ImportRequest request, BundleImage img, CopyJob job, Status status, Optional<String> detail,
                                      long uploaded, long skipped, long mounted, int toPush, double seconds) {
        ImageReference dst = request.mapping().map(img.source());
        return new ImageReport(img.source(), dst, Optional.of(job.plan().digest()), job.plan().platforms(), status, detail,
                uploaded, skipped, mounted, toPush, seconds);
    }

    private static double seconds(long t0) {
        return (System.nanoTime() - t0) / 1e9;
    }
}
