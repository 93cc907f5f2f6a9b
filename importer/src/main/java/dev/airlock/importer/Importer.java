package dev.airlock.importer;

import dev.airlock.bundle.BundleArchive;
import dev.airlock.bundle.BundleImage;
import dev.airlock.bundle.BundleManifest;
import dev.airlock.bundle.WriteOptions;
import dev.airlock.model.Digest;
import dev.airlock.receipt.Receipt;
import dev.airlock.receipt.ReceiptFiles;
import java.util.Set;
import dev.airlock.concurrent.Workers;
import dev.airlock.copy.CopyJob;
import dev.airlock.copy.CopyOptions;
import dev.airlock.copy.CopyResult;
import dev.airlock.copy.GraphCopier;
import dev.airlock.copy.GraphPlanner;
import dev.airlock.copy.ReferrerOptions;
import dev.airlock.bundle.BundleArtifacts;
import dev.airlock.copy.ImageOutcome;
import dev.airlock.copy.ImagePlan;
import dev.airlock.copy.ImageReport;
import dev.airlock.copy.ImageReport.Status;
import dev.airlock.copy.PlanPreview;
import dev.airlock.copy.SourceImage;
import dev.airlock.error.AirlockException;
import dev.airlock.error.InternalException;
import dev.airlock.model.Descriptor;
import dev.airlock.model.ImageReference;
import dev.airlock.progress.ProgressListener;
import dev.airlock.sign.SignatureInfo;
import dev.airlock.sign.TrustPolicy;
import dev.airlock.store.ImageSource;
import dev.airlock.store.ImageStore;
import java.io.ByteArrayInputStream;
import java.io.InputStream;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.function.BiFunction;

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
 * {@code .tar.zst} can only be read front to back and is read ONCE: its bundle.json lists the
 * images using each blob ({@code files[].images}, mandatory, checked against the graph by the
 * reader), so each blob goes to its images' repositories as it passes (upload into the first,
 * mount into the others), each manifest is pushed by digest as it passes (after its blobs), and
 * tags follow once the stream ended with everything verified. A dry run of a .tar.zst reads it
 * once to plan (manifests and configs, which are small, are kept in memory). No extraction, no
 * temporary files.
 */
public final class Importer {
    private final ImageStore target;
    private final ProgressListener progress;
    /** Opens the bundle (a test counts the reads of a file through it). */
    private BiFunction<Path, TrustPolicy, BundleArchive> opener = BundleArchive::open;

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
    Importer withOpener(BiFunction<Path, TrustPolicy, BundleArchive> open) {
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
        try (BundleArchive archive = opener.apply(request.bundle(), request.trust())) {
            ImportResult result = run(request, archive, t0);
            if (request.receipt().isPresent() && !request.dryRun()) {
                ImportRequest.ReceiptOutput out = request.receipt().get();
                Receipt r = new ReceiptMaker(target, request.mapping(), request.jobs(), progress).make(
                        archive.images().stream().map(BundleImage::source).toList(), List.of(archive.manifest().bundleId()),
                        WriteOptions.defaults().tool().version());
                ReceiptFiles.write(out.file(), r, out.signer());
            }
            return result;
        }
    }

    private ImportResult run(ImportRequest request, BundleArchive archive, long t0) {
        String signature = archive.signature().describe();
        if (archive.signature().status() != SignatureInfo.Status.TRUSTED) {
            progress.note("warning: " + archive.describe() + " is " + signature + "; importing it because unsigned bundles are allowed");
        }
        List<BundleImage> images = archive.images();
        // two images onto one target tag: refused before anything is read or pushed
        request.mapping().checkDistinct(images.stream().map(BundleImage::source).toList());
        // a volume: what its images need from other volumes is looked up (missing: the image waits);
        // a delta: everything it relies on must be at the target before anything is uploaded
        boolean isVolume = archive.manifest().volume().isPresent();
        VolumeState volume = isVolume ? VolumeState.check(archive, target, request.mapping(), request.jobs(), progress) : VolumeState.NONE;
        Set<Digest> external = isVolume ? volume.external()
                : new TargetRequirements(archive, target, request.mapping(), request.jobs(), progress).check(request.dryRun());
        if (!archive.randomAccess() && !request.dryRun()) {
            beforeFirstUpload.run();
            return streamOnce(request, archive, signature, t0, external, volume);
        }
        ImageSource source = archive.randomAccess() ? archive : readHeads(archive);
        List<CopyJob> jobs = jobs(request, images, volumePlans(plan(request, source, archive.manifest(), external), volume));
        List<Timed<PlanPreview>> previews = previews(jobs, request.jobs());
        boolean upToDate = previews.stream().allMatch(p -> p.value().upToDate());
        if (request.dryRun() || upToDate) {
            List<ImageReport> reports = new ArrayList<>();
            for (int i = 0; i < jobs.size(); i++) {
                PlanPreview p = previews.get(i).value();
                reports.add(report(request, images.get(i), request.dryRun() ? Status.PLANNED : Status.OK, Optional.of(p.describe()),
                        0, p.presentBytes(), 0, request.dryRun() ? p.missingBlobs().size() : 0, previews.get(i).seconds()));
            }
            return new ImportResult(request.bundle(), signature, request.mapping().toString(), request.dryRun(), upToDate,
                    false, reports, seconds(t0));
        }
        beforeFirstUpload.run();
        GraphCopier copier = copier(request);
        return finish(request, images, copier.copy(jobs), copier, signature, t0, volume);
    }

    /** Each plan as a volume imports it: a waiting image without the manifests whose content is not at the target yet. */
    private static List<ImagePlan> volumePlans(List<ImagePlan> plans, VolumeState volume) {
        List<ImagePlan> out = new ArrayList<>();
        for (int i = 0; i < plans.size(); i++) {
            out.add(volume.plan(i, plans.get(i)));
        }
        return out;
    }

    private GraphCopier copier(ImportRequest request) {
        return new GraphCopier(new CopyOptions(request.jobs(), true, false, progress));
    }

    private List<CopyJob> jobs(ImportRequest request, List<BundleImage> images, List<ImagePlan> plans) {
        List<CopyJob> jobs = new ArrayList<>();
        for (int i = 0; i < images.size(); i++) {
            ImageReference dst = request.mapping().map(images.get(i).source());
            jobs.add(new CopyJob(plans.get(i), target, dst.repository(), dst.tag().isEmpty() ? List.of() : List.of(dst.tag())));
        }
        return jobs;
    }

    /**
     * A .tar.zst: one pass. Blobs and manifests are placed as they pass (the reader has verified
     * each manifest and checked the routing before handing it over); the plans are made from the
     * kept manifests and configs when the stream has ended, then tags.
     */
    private ImportResult streamOnce(ImportRequest request, BundleArchive archive, String signature, long t0, Set<Digest> external,
                                    VolumeState volume) {
        List<BundleImage> images = archive.images();
        List<GraphCopier.Destination> destinations = new ArrayList<>();
        for (BundleImage img : images) {
            ImageReference dst = request.mapping().map(img.source());
            destinations.add(new GraphCopier.Destination(target, dst.repository(), dst.tag().isEmpty() ? List.of() : List.of(dst.tag())));
        }
        long total = archive.manifest().files().stream().filter(f -> f.isBlob() && !f.descriptor().mediaType().isManifest())
                .mapToLong(BundleManifest.FileEntry::size).sum();
        BundleHeads heads = new BundleHeads(archive.describe());
        GraphCopier copier = copier(request);
        CopyResult copied;
        try {
            copied = copier.copyRouted(destinations, total, sink -> archive.stream((f, in) -> {
                Descriptor d = f.descriptor();
                List<Integer> to = f.images().orElseThrow(() -> new InternalException(archive.describe() + ": " + f.path() + " has no images list", null));
                InputStream content = in;
                if (BundleHeads.keeps(d)) {
                    byte[] bytes = in.readAllBytes();
                    heads.add(d, bytes);
                    if (d.mediaType().isManifest()) {
                        dev.airlock.model.RawManifest m = heads.fetchManifest("", d.digest().toString());
                        boolean complete = volume.complete(m);
                        // a waiting image of a volume gets only the manifests whose content is at the target
                        sink.manifest(m, complete ? to : to.stream().filter(i -> volume.waitingFor(i).isEmpty()).toList());
                        return;
                    }
                    content = new ByteArrayInputStream(bytes);
                }
                sink.blob(d, to, content);
            }, ProgressListener.NONE), () -> volumePlans(plan(request, heads, archive.manifest(), external), volume));
        } catch (AirlockException e) {
            // the bundle itself failed (a verification failure of the stream): nothing is tagged
            throw failed(request, images, null, e, signature, t0);
        }
        List<ImageOutcome> outcomes = copied.outcomes();
        List<CopyJob> jobs = outcomes.stream().map(ImageOutcome::job).toList();
        boolean nothingWritten = copied.manifestsWritten() == 0
                && outcomes.stream().allMatch(o -> o.ok() && o.bytesPushed() == 0 && o.bytesMounted() == 0);
        if (nothingWritten && jobs.stream().allMatch(Importer::tagsInPlace)) {
            List<ImageReport> reports = new ArrayList<>();
            for (int i = 0; i < jobs.size(); i++) {
                reports.add(report(request, images.get(i), Status.OK, Optional.of("up to date"), 0, outcomes.get(i).bytesSkipped(), 0, 0,
                        outcomes.get(i).duration().toNanos() / 1e9));
            }
            return new ImportResult(request.bundle(), signature, request.mapping().toString(), false, true, false, reports, seconds(t0));
        }
        return finish(request, images, copied, copier, signature, t0, volume);
    }

    private static boolean tagsInPlace(CopyJob job) {
        if (!PlanPreview.attachmentsToWrite(job).isEmpty()) {
            return false;
        }
        for (String tag : job.tags()) {
            Optional<Descriptor> current = job.target().headManifest(job.targetRepository(), tag);
            if (current.isEmpty() || !current.get().digest().equals(job.plan().digest())) {
                return false;
            }
        }
        return true;
    }

    /**
     * Plans every image from the bundle (or from the manifests and configs kept while it streamed),
     * with the artifacts bundle.json lists for it. A delta's required items are external: not read,
     * not descended into. A required manifest whose bytes are needed (an image top, for its tag;
     * an attached artifact, for its cosign tag or referrers index entry) is read back from the
     * image's target repository by digest (verified) ({@link TargetBacked}).
     */
    private List<ImagePlan> plan(ImportRequest request, ImageSource bundle, BundleManifest manifest, Set<Digest> external) {
        List<BundleImage> images = manifest.images();
        List<SourceImage> sources = new ArrayList<>();
        for (BundleImage img : images) {
            ImageSource source = external.isEmpty() ? bundle
                    : new TargetBacked(bundle, target, request.mapping().map(img.source()).repository(), external);
            sources.add(new SourceImage(img.source(), BundleArtifacts.of(source, manifest), img.source().repository(), img.digest().toString(),
                    img.originalDigest()));
        }
        List<ImagePlan> plans = new GraphPlanner(List.of(), ReferrerOptions.REQUIRED, external).planAll(sources, request.jobs());
        for (int i = 0; i < images.size(); i++) {
            if (!plans.get(i).digest().equals(images.get(i).digest())) {
                throw new InternalException("planned " + plans.get(i).digest() + " for " + images.get(i).source() + ", bundle says "
                        + images.get(i).digest(), null);
            }
        }
        return plans;
    }

    /** Tags every image when all arrived; otherwise throws with every image's state. */
    private ImportResult finish(ImportRequest request, List<BundleImage> images, CopyResult copied, GraphCopier copier,
                                String signature, long t0, VolumeState volume) {
        Optional<AirlockException> failure = copied.failure();
        if (failure.isEmpty()) {
            List<List<String>> notes = new ArrayList<>();
            try {
                for (int i = 0; i < copied.outcomes().size(); i++) {
                    ImageOutcome o = copied.outcomes().get(i);
                    if (volume.waitingFor(i).isPresent()) {
                        notes.add(List.of()); // a volume's image not complete at the target yet: no tag
                        continue;
                    }
                    List<String> n = copier.tag(o);
                    n.forEach(line -> progress.note("warning: " + line));
                    notes.add(n);
                }
            } catch (AirlockException e) {
                throw failed(request, images, copied, e, signature, t0);
            }
            List<ImageReport> reports = new ArrayList<>();
            for (int i = 0; i < images.size(); i++) {
                Optional<java.util.TreeSet<Integer>> waits = volume.waitingFor(i);
                reports.add(report(request, images.get(i), waits.isPresent() ? Status.WAITING : Status.OK,
                        waits.map(v -> "waiting for volume" + (v.size() > 1 ? "s " : " ")
                                + v.stream().map(String::valueOf).collect(java.util.stream.Collectors.joining(", "))
                                + " (this volume's part is at the target; not tagged yet)"), copied.outcomes().get(i))
                        .withArtifacts(copied.outcomes().get(i).job().plan().artifacts().size(), notes.get(i)));
            }
            return new ImportResult(request.bundle(), signature, request.mapping().toString(), false, false, true, reports, seconds(t0));
        }
        throw failed(request, images, copied, failure.get(), signature, t0);
    }

    /**
     * The exception for an import that tagged nothing: each image FAILED with its own reason, or
     * NOT_ATTEMPTED (not reached after an earlier failure, or arrived but not tagged because
     * another image failed). {@code copied} is null when the bundle failed before any outcome.
     */
    private ImportFailedException failed(ImportRequest request, List<BundleImage> images, CopyResult copied, AirlockException cause,
                                         String signature, long t0) {
        List<ImageReport> reports = new ArrayList<>();
        for (int i = 0; i < images.size(); i++) {
            ImageOutcome o = copied == null ? null : copied.outcomes().get(i);
            if (o == null) {
                reports.add(report(request, images.get(i), Status.FAILED, Optional.of(cause.getMessage()), 0, 0, 0, 0, seconds(t0)));
            } else if (o.failure().isPresent()) {
                reports.add(report(request, images.get(i), Status.FAILED, Optional.of(o.failure().get().getMessage()), o));
            } else if (o.status() == ImageOutcome.Status.NOT_ATTEMPTED) {
                reports.add(report(request, images.get(i), Status.NOT_ATTEMPTED, Optional.of("not attempted: stopped after an earlier failure"), o));
            } else {
                reports.add(report(request, images.get(i), Status.NOT_ATTEMPTED,
                        Optional.of("arrived complete, but not tagged because another image failed"), o));
            }
        }
        ImportResult result = new ImportResult(request.bundle(), signature, request.mapping().toString(), false, false, false,
                reports, seconds(t0));
        return new ImportFailedException(result, cause);
    }

    /** A value and the seconds it took to get. */
    private record Timed<T>(T value, double seconds) {
    }

    /** What each job would write, asked (HEADs only) for several images at once. */
    private static List<Timed<PlanPreview>> previews(List<CopyJob> jobs, int parallel) {
        ExecutorService pool = Executors.newFixedThreadPool(Math.max(1, Math.min(parallel, jobs.size())), Workers.named("preview"));
        try {
            List<Future<Timed<PlanPreview>>> futures = new ArrayList<>();
            for (CopyJob job : jobs) {
                futures.add(pool.submit(() -> {
                    long t = System.nanoTime();
                    PlanPreview p = PlanPreview.of(job);
                    return new Timed<>(p, seconds(t));
                }));
            }
            List<Timed<PlanPreview>> out = new ArrayList<>();
            for (Future<Timed<PlanPreview>> f : futures) {
                out.add(Workers.join(f));
            }
            return out;
        } finally {
            pool.shutdownNow();
        }
    }

    /** A dry run of a .tar.zst: one verifying pass that keeps manifests and configs (small) to plan from. */
    private BundleHeads readHeads(BundleArchive archive) {
        BundleHeads heads = new BundleHeads(archive.describe());
        archive.stream((f, in) -> {
            Descriptor d = f.descriptor();
            if (BundleHeads.keeps(d)) {
                heads.add(d, in.readAllBytes());
            }
        }, progress);
        return heads;
    }

    private static ImageReport report(ImportRequest request, BundleImage img, Status status, Optional<String> detail, ImageOutcome o) {
        return report(request, img, status, detail, o.bytesPushed(), o.bytesSkipped(), o.bytesMounted(), 0, o.duration().toNanos() / 1e9);
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
