package dev.airlock.importer;

import dev.airlock.store.ImageSource;
import dev.airlock.copy.ImageReport;

import dev.airlock.copy.PlanPreview;
import dev.airlock.copy.ImageReport;
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
import dev.airlock.copy.ImageReport.Status;
import dev.airlock.model.ImageReference;
import dev.airlock.progress.ProgressListener;
import dev.airlock.store.ImageStore;
import dev.airlock.model.Descriptor;
import java.io.InputStream;
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
 * {@code .tar.zst} can only be read front to back, and is read ONCE when its bundle.json lists the
 * images using each blob ({@code files[].images}, checked against the graph by the reader): each
 * blob goes to its images' repositories as it passes (upload into the first, mount into the
 * others), each manifest is pushed by digest as it passes (after its blobs), tags after the
 * stream ended with everything verified. A .tar.zst without those lists (older writers) is read
 * twice: a verifying pass that keeps manifests and configs (small) in memory, then a pass that
 * streams the blobs. No extraction, no temporary files.
 */
public final class Importer {
    private final ImageStore target;
    private final ProgressListener progress;
    /** Opens the bundle (a test counts the reads of a file through it). */
    private java.util.function.BiFunction<java.nio.file.Path, dev.airlock.sign.TrustPolicy, BundleArchive> opener = BundleArchive::open;

    /**
     * @param target   the registry named by the request's mapping (the caller opens and closes it)
     * @param progress bytes and phases
     */
    public Importer(ImageStore target, ProgressListener progress) {
        this.target = Objects.requireNonNull(target, "target");
        this.progress = Objects.requireNonNull(progress, "progress");
    }

    /** Runs before the first write to the target (after the bundle was opened, verified as far as it is before copying, and planned). */
    private Runnable beforeFirstUpload = () -> { };

    /**
     * {@code check} runs once before anything is written to the target, and not at all for a dry
     * run or an import with nothing to write (a .tar.zst read in one pass: before its pass); an
     * exception it throws ends the import unchanged. The CLI runs the target preflight here.
     */
    public Importer beforeFirstUpload(Runnable check) {
        this.beforeFirstUpload = Objects.requireNonNull(check, "check");
        return this;
    }

    /** Test hook: every open of the bundle goes through {@code open}. */
    Importer withOpener(java.util.function.BiFunction<java.nio.file.Path, dev.airlock.sign.TrustPolicy, BundleArchive> open) {
        this.opener = Objects.requireNonNull(open, "open");
        return this;
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
        try (BundleArchive archive = opener.apply(request.bundle(), request.trust())) {
            signature = archive.signature().describe();
            if (archive.signature().status() != dev.airlock.sign.SignatureInfo.Status.TRUSTED) {
                progress.note("warning: " + archive.describe() + " is " + signature + "; importing it because unsigned bundles are allowed");
            }
            images = archive.images();
            randomAccess = archive.randomAccess();
            if (!randomAccess && !request.dryRun() && archive.manifest().routed()) {
                beforeFirstUpload.run();
                return streamOnce(request, archive, signature, t0);
            }
            ImageSource source = archive;
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
                    reports.add(report(request, images.get(i), request.dryRun() ? Status.PLANNED : Status.OK, Optional.of(p.describe()),
                            0, p.presentBytes(), 0, request.dryRun() ? p.missingBlobs().size() : 0, seconds(t0)));
                }
                return new ImportResult(request.bundle(), signature, request.mapping().toString(), request.dryRun(), upToDate,
                        false, reports, seconds(t0));
            }

            beforeFirstUpload.run();
            GraphCopier copier = new GraphCopier(new CopyOptions(request.jobs(), true, false, progress));
            List<ImageOutcome> outcomes;
            AirlockException aborted = null;
            if (randomAccess) {
                outcomes = copier.copy(jobs);
            } else {
                outcomes = null;
                try (BundleArchive again = opener.apply(request.bundle(), request.trust())) {
                    checkSame(archive, again);
                    outcomes = copier.copySequential(jobs, sink -> again.stream((f, in) -> sink.accept(f.descriptor(), in), ProgressListener.NONE));
                } catch (AirlockException e) {
                    aborted = e;
                }
            }
            return finish(request, images, jobs, outcomes, aborted, copier, signature, t0);
        }
    }

    /**
     * A .tar.zst whose bundle.json routes each blob to its images: one pass. Blobs and manifests
     * are placed as they pass (the reader has verified each manifest and checked the routing
     * before handing it over); the plans are made from the kept manifests and configs when the
     * stream has ended, then tags.
     */
    private ImportResult streamOnce(ImportRequest request, BundleArchive archive, String signature, long t0) {
        List<BundleImage> images = archive.images();
        List<GraphCopier.Destination> destinations = new ArrayList<>();
        for (BundleImage img : images) {
            ImageReference dst = request.mapping().map(img.source());
            destinations.add(new GraphCopier.Destination(target, dst.repository(), dst.tag().isEmpty() ? List.of() : List.of(dst.tag())));
        }
        long total = archive.manifest().files().stream().filter(f -> f.isBlob() && !f.descriptor().mediaType().isManifest())
                .mapToLong(dev.airlock.bundle.BundleManifest.FileEntry::size).sum();
        BundleHeads heads = new BundleHeads(archive.describe());
        GraphCopier copier = new GraphCopier(new CopyOptions(request.jobs(), true, false, progress));
        GraphCopier.RoutedCopy copied;
        try {
            copied = copier.copyRouted(destinations, total, sink -> archive.stream((f, in) -> {
                Descriptor d = f.descriptor();
                List<Integer> to = f.images().orElseThrow(() -> new InternalException(archive.describe() + ": " + f.path() + " has no images list", null));
                InputStream content = in;
                if (BundleHeads.keeps(d)) {
                    byte[] bytes = in.readAllBytes();
                    heads.add(d, bytes);
                    if (d.mediaType().isManifest()) {
                        sink.manifest(heads.fetchManifest("", d.digest().toString()), to);
                        return;
                    }
                    content = new java.io.ByteArrayInputStream(bytes);
                }
                sink.blob(d, to, content);
            }, ProgressListener.NONE), () -> plan(heads, images, request.jobs()));
        } catch (AirlockException e) {
            return finish(request, images, null, null, e, copier, signature, t0);
        }
        List<ImageOutcome> outcomes = copied.outcomes();
        List<CopyJob> jobs = outcomes.stream().map(ImageOutcome::job).toList();
        boolean nothingWritten = copied.manifestsWritten() == 0
                && outcomes.stream().allMatch(o -> o.ok() && o.bytesPushed() == 0 && o.bytesMounted() == 0);
        if (nothingWritten && jobs.stream().allMatch(Importer::tagsInPlace)) {
            List<ImageReport> reports = new ArrayList<>();
            for (int i = 0; i < jobs.size(); i++) {
                reports.add(report(request, images.get(i), Status.OK, Optional.of("up to date"), 0, outcomes.get(i).bytesSkipped(), 0, 0, seconds(t0)));
            }
            return new ImportResult(request.bundle(), signature, request.mapping().toString(), false, true, false, reports, seconds(t0));
        }
        return finish(request, images, jobs, outcomes, null, copier, signature, t0);
    }

    private static boolean tagsInPlace(CopyJob job) {
        for (String tag : job.tags()) {
            Optional<Descriptor> current = job.target().headManifest(job.targetRepository(), tag);
            if (current.isEmpty() || !current.get().digest().equals(job.plan().digest())) {
                return false;
            }
        }
        return true;
    }

    /** Plans every image from the manifests and configs kept while the bundle streamed. */
    private static List<ImagePlan> plan(BundleHeads heads, List<BundleImage> images, int jobs) {
        List<SourceImage> sources = new ArrayList<>();
        for (BundleImage img : images) {
            sources.add(new SourceImage(img.source(), heads, img.source().repository(), img.digest().toString()));
        }
        List<ImagePlan> plans = new GraphPlanner(List.of()).planAll(sources, jobs);
        for (int i = 0; i < images.size(); i++) {
            if (!plans.get(i).digest().equals(images.get(i).digest())) {
                throw new InternalException("planned " + plans.get(i).digest() + " for " + images.get(i).source() + ", bundle says "
                        + images.get(i).digest(), null);
            }
        }
        return plans;
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
        for (int i = 0; i < images.size(); i++) {
            ImageOutcome o = outcomes == null ? null : outcomes.get(i);
            AirlockException own = o == null ? aborted : o.failure().orElse(null);
            Status status = own != null ? Status.FAILED : tagged ? Status.OK : Status.NOT_ATTEMPTED;
            Optional<String> detail = own != null ? Optional.of(own.getMessage())
                    : tagged ? Optional.empty() : Optional.of("arrived complete, but not tagged because another image failed");
            reports.add(report(request, images.get(i), status, detail,
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

    private static ImageReport report(ImportRequest request, BundleImage img, Status status, Optional<String> detail,
                                      long uploaded, long skipped, long mounted, int toPush, double seconds) {
        ImageReference dst = request.mapping().map(img.source());
        return new ImageReport(img.source(), dst, Optional.of(img.digest()), img.platforms(), status, detail,
                uploaded, skipped, mounted, toPush, seconds);
    }

    private static double seconds(long t0) {
        return (System.nanoTime() - t0) / 1e9;
    }
}
