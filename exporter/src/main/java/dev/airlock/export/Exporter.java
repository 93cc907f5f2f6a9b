package dev.airlock.export;

import dev.airlock.bundle.BundleManifest;
import dev.airlock.receipt.ReceiptFiles;
import java.util.Optional;

import dev.airlock.bundle.BundleImage;
import dev.airlock.bundle.BundleWriter;
import dev.airlock.bundle.PlacedBundle;
import dev.airlock.bundle.WriteOptions;
import dev.airlock.bundle.WriteResult;
import dev.airlock.concurrent.Workers;
import dev.airlock.copy.CopyJob;
import dev.airlock.copy.CopyOptions;
import dev.airlock.copy.CopyResult;
import dev.airlock.copy.GraphCopier;
import dev.airlock.copy.GraphPlanner;
import dev.airlock.copy.ImageOutcome;
import dev.airlock.copy.ImagePlan;
import dev.airlock.copy.SourceImage;
import dev.airlock.error.AirlockException;
import dev.airlock.error.InternalException;
import dev.airlock.error.LocalIoException;
import dev.airlock.error.UsageException;
import dev.airlock.model.Descriptor;
import dev.airlock.model.Digest;
import dev.airlock.model.ImageList;
import dev.airlock.model.ImageReference;
import dev.airlock.model.RawManifest;
import dev.airlock.progress.ProgressListener;
import dev.airlock.layout.DirectoryStore;
import dev.airlock.store.ImageStore;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

/**
 * Registry → bundle: {@code airlock export} as a library call.
 *
 * <ol>
 * <li><b>Plan</b>: every reference is resolved and every manifest, index and config fetched
 *     ({@link GraphPlanner}); all references that fail are reported at once, before any layer moves.</li>
 * <li><b>Lay out</b> (a {@code .tar} bundle): the whole tar layout is computed from the plan and
 *     the file {@code .NAME.partial} created with everything but the configs and layers
 *     ({@link PlacedBundle}).</li>
 * <li><b>Fetch</b>: every blob, each once, in parallel and verified, straight into its slice of
 *     that file ({@link GraphCopier} into a {@link PlacingStore}): every exported byte is written
 *     once; a journal lets an interrupted export resume. A {@code .tar.zst} bundle (a stream)
 *     instead fetches into a staging cache ({@link DirectoryStore}) and is written from it at the
 *     same time ({@link BundleWriter}, {@link ArrivalGate}).</li>
 * <li><b>Finish</b>: graph check, the file's sha256, rename, {@code BUNDLE.sha256}.</li>
 * </ol>
 */
public final class Exporter {
    /** Temporary cache files older than this are left-overs of a killed run and are removed. */
    static final Duration STALE_TEMP = Duration.ofHours(6);

    /** The cache is one content-addressed pool; the engine's target repository name for it. */
    static final String CACHE_REPOSITORY = "cache";

    private final SourceStores sources;

    /** An exporter reading images through {@code sources} (one store per registry host). */
    public Exporter(SourceStores sources) {
        this.sources = sources;
    }

    /** Runs the whole export; throws an {@link AirlockException} subclass on failure, leaving no bundle. */
    public ExportResult export(ExportRequest request) {
        return run(request, (plans, delta, started) -> inPlace(request)
                ? fetchInPlace(plans, delta, request, started)
                : fetchAndWrite(plans, delta, stagingCache(request), request, started));
    }

    /**
     * True when the bundle is written in place ({@link PlacedBundle}: every byte written once): an
     * uncompressed bundle on a file system with sparse files. A {@code .tar.zst} bundle is a
     * stream, and FAT/exFAT would write every byte twice in place (zeros first): both are written
     * from blobs staged in a cache directory.
     */
    static boolean inPlace(ExportRequest request) {
        if (request.compress() || request.output().getFileName().toString().endsWith(".zst")) {
            return false;
        }
        Path dir = request.output().toAbsolutePath().getParent();
        if (dir != null && !PlacedBundle.canWriteInPlace(dir)) {
            request.progress().note(dir + " is on a file system without sparse files (FAT, exFAT): the bundle is streamed once, in order, "
                    + "from blobs staged in the cache directory");
            return false;
        }
        return true;
    }

    /** Where blobs are staged for a streamed bundle or for volumes: the given cache, else the default one. */
    static DirectoryStore stagingCache(ExportRequest request) {
        return openCache(request.cacheDir().orElseGet(CacheDirectory::defaultDirectory));
    }

    /**
     * Exports into volumes of at most {@code volumes.size()} bytes each ({@code -o k3s.tar} →
     * {@code k3s.vol001.tar}, …), each a complete signed bundle (format 3); see {@link VolumeExport}.
     * The volumes are planned from the plans' sizes before any layer is fetched; a blob larger than
     * a volume fails the export then. On failure no volume of this run is left.
     */
    public VolumeSetResult exportVolumes(ExportRequest request, VolumeOptions volumes) {
        if (!request.since().isEmpty()) {
            throw new UsageException("--volume-size and --since cannot be combined: a delta is exported as one bundle");
        }
        return run(request, (plans, delta, started) -> VolumeExport.write(plans, request, volumes, started));
    }

    /** The part after planning: fetch and write (one bundle, or volumes). */
    @FunctionalInterface
    private interface Writing<T> {
        T write(List<ImagePlan> plans, Optional<DeltaPlan> delta, long started);
    }

    private <T> T run(ExportRequest request, Writing<T> writing) {
        long started = System.nanoTime();
        List<ImageReference> refs = request.sources().isEmpty() || !request.references().isEmpty() || !request.imageLists().isEmpty()
                ? ImageList.combine(request.references(), request.imageLists(), "export") : List.of();
        checkOutput(request.output());
        // receipts are checked (signature, structure) before anything is planned
        List<ReceiptFiles.Loaded> receipts = new ArrayList<>();
        for (java.nio.file.Path r : request.since()) {
            ReceiptFiles.Loaded l = ReceiptFiles.read(r, request.receiptTrust());
            if (l.signature().status() != dev.airlock.sign.SignatureInfo.Status.TRUSTED) {
                request.progress().note("warning: " + l.path() + " is " + l.signature().describe() + "; used because unsigned receipts are allowed");
            }
            receipts.add(l);
        }
        ProgressListener progress = request.progress();
        Map<String, ImageStore> opened = new LinkedHashMap<>();
        try {
            List<SourceImage> images = new ArrayList<>();
            for (ImageReference r : refs) {
                images.add(SourceImage.of(r, opened.computeIfAbsent(r.registry(), sources::open)));
            }
            images.addAll(request.sources());
            List<ImagePlan> plans = plan(images, request);
            Optional<DeltaPlan> delta = Optional.empty();
            if (!receipts.isEmpty()) {
                DeltaPlan d = DeltaPlan.of(plans, receipts);
                delta = Optional.of(d);
                plans = d.carried();
            }
            if (request.signer().isEmpty()) {
                progress.note("warning: the bundle is not signed (no signer given): importing it will require allowing unsigned bundles");
            }
            return writing.write(plans, delta, started);
        } finally {
            for (ImageStore s : opened.values()) {
                s.close();
            }
        }
    }

    private static List<ImagePlan> plan(List<SourceImage> images, ExportRequest request) {
        ProgressListener progress = request.progress();
        List<ImagePlan> plans = new GraphPlanner(request.distinctPlatforms(), request.referrers()).planAll(images, request.jobs());
        for (ImagePlan p : plans) {
            artifactNotes(p).forEach(progress::note);
            p.originalDigest().ifPresent(orig -> progress.note(p.source().name() + ": digest changed by the platform filter: "
                    + orig + " → " + p.digest() + " (index rewritten to keep " + p.platforms().size() + " of its platforms)"));
        }
        return plans;
    }

    /**
     * Fetches into the cache on a background thread while the bundle is written from the cache on
     * this one, each blob as soon as it has arrived (in dependency order). A fetch failure fails
     * the write (no bundle); a write failure stops the fetch. Either way this returns only when
     * both have ended.
     */
    private static ExportResult fetchAndWrite(List<ImagePlan> plans, Optional<DeltaPlan> delta, DirectoryStore cache, ExportRequest request,
                                              long started) {
        List<Descriptor> order = bundleOrder(plans);
        Fetched<WriteResult> f = fetchWhileWriting(plans, order, cache, request, gate -> write(plans, delta, order, gate, request));
        return result(plans, delta, f.outcomes(), f.written(), request, Duration.ofNanos(System.nanoTime() - started));
    }

    /**
     * Writes the bundle in place: its layout, headers, bundle.json, signatures and manifests
     * first, then every blob fetched straight into its slice of the file (in parallel, verified
     * while it streams), then the graph check, the file's sha256 and the rename. An export that
     * fails leaves the partial file and its journal; the same export run again resumes it.
     */
    private static ExportResult fetchInPlace(List<ImagePlan> plans, Optional<DeltaPlan> delta, ExportRequest request, long started) {
        List<Descriptor> order = bundleOrder(plans);
        List<BundleImage> images = plans.stream().map(Exporter::bundleImage).toList();
        Map<Digest, byte[]> known = knownManifests(plans);
        Optional<DirectoryStore> cache = request.cacheDir().map(Exporter::openCache);
        ProgressListener progress = request.progress();
        boolean earlier = Files.exists(PlacedBundle.partialOf(request.output()));
        try (PlacedBundle bundle = PlacedBundle.open(request.output(), images, order, known, writeOptions(request, plans, delta), writerDelta(delta))) {
            if (earlier && bundle.resumed().isEmpty()) {
                progress.note("replaced " + bundle.partialFile() + ": it held nothing of this export (another export's, or none of its blobs complete)");
            }
            if (!bundle.resumed().isEmpty()) {
                long bytes = bundle.resumed().stream().mapToLong(x -> bundle.listed(x).orElseThrow().size()).sum();
                progress.note("resuming " + bundle.partialFile() + ": " + bundle.resumed().size() + " blobs (" + bytes
                        + " bytes) of an earlier run are in place and checked");
            }
            List<ImageOutcome> outcomes;
            try {
                outcomes = fetch(plans, new PlacingStore(List.of(bundle), cache), request, exporting(progress));
            } catch (AirlockException e) {
                progress.note("the partial bundle " + bundle.partialFile() + " is kept: run the same export again to resume it");
                throw e;
            }
            WriteResult written = bundle.finish();
            return result(plans, delta, outcomes, written, request, Duration.ofNanos(System.nanoTime() - started));
        }
    }

    /** What the fetch did per image, and what the writer wrote. */
    record Fetched<W>(List<ImageOutcome> outcomes, W written) {
    }

    /**
     * Fetches {@code plans} into the cache on a background thread while {@code writer} writes from
     * the cache on this one, each blob as soon as it has arrived ({@code order}: every blob the
     * writer may open). A fetch failure fails the write; a write failure stops the fetch. Either
     * way this returns only when both have ended.
     */
    static <W> Fetched<W> fetchWhileWriting(List<ImagePlan> plans, List<Descriptor> order, DirectoryStore cache, ExportRequest request,
                                            java.util.function.Function<ArrivalGate, W> writer) {
        ArrivalGate gate = new ArrivalGate(cache, order);
        ExecutorService fetcher = Executors.newSingleThreadExecutor(Workers.named("fetch"));
        Future<List<ImageOutcome>> fetched = fetcher.submit(() -> {
            try {
                List<ImageOutcome> outcomes = fetch(plans, gate, request, notesOnly(request.progress()));
                gate.failMissing(new InternalException("the fetch ended without all blobs in the cache", null));
                return outcomes;
            } catch (RuntimeException e) {
                gate.failMissing(Workers.unwrap(e));
                throw e;
            }
        });
        try {
            W written;
            try {
                written = writer.apply(gate);
            } catch (RuntimeException e) {
                AirlockException failure = Workers.unwrap(e);
                gate.abort(failure);
                try {
                    Workers.join(fetched);
                } catch (AirlockException ignored) {
                    // the write's failure is reported (it is the fetch's own when the write waited for it)
                }
                throw failure;
            }
            return new Fetched<>(Workers.join(fetched), written);
        } finally {
            fetcher.shutdownNow();
            try {
                fetcher.awaitTermination(30, java.util.concurrent.TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }

    /** Only the notes of {@code progress}: where a bundle writer trails the fetch and reports the bytes itself. */
    static ProgressListener notesOnly(ProgressListener progress) {
        return new ProgressListener() {
            @Override
            public void note(String line) {
                progress.note(line);
            }
        };
    }

    static List<ImageOutcome> fetch(List<ImagePlan> plans, ImageStore cache, ExportRequest request, ProgressListener progress) {
        List<CopyJob> jobs = new ArrayList<>();
        for (ImagePlan p : plans) {
            // One repository for the whole cache: a blob shared by several images is one destination,
            // so "skipped" means found in the cache, not "fetched a moment ago for another image".
            jobs.add(new CopyJob(p, cache, CACHE_REPOSITORY, List.of()));
        }
        CopyResult copied = new GraphCopier(new CopyOptions(request.jobs(), false, true, progress)).copy(jobs);
        // fail-fast: the images not attempted after the first failure never decide (FailurePolicy)
        copied.failure().ifPresent(f -> {
            throw f;
        });
        return copied.outcomes();
    }

    private static WriteResult write(List<ImagePlan> plans, Optional<DeltaPlan> delta, List<Descriptor> order, ArrivalGate gate,
                                     ExportRequest request) {
        List<BundleImage> images = plans.stream().map(Exporter::bundleImage).toList();
        return BundleWriter.write(request.output(), images, order, gate.opener(), writeOptions(request, plans, delta), exporting(request.progress()),
                writerDelta(delta));
    }

    /**
     * The writer's options for one bundle: each image's graph (bundle.json says which images use
     * each blob, so an import can stream a .tar.zst once), the delta's carried graphs for a delta.
     */
    private static WriteOptions writeOptions(ExportRequest request, List<ImagePlan> plans, Optional<DeltaPlan> delta) {
        return writeOptions(request, delta.map(DeltaPlan::graphs).orElseGet(() -> plans.stream().map(ImagePlan::digests).toList()));
    }

    /** What a delta relies on at the target, for the writer; {@link BundleWriter.Delta#NONE} for a full bundle. */
    private static BundleWriter.Delta writerDelta(Optional<DeltaPlan> delta) {
        return delta.map(x -> new BundleWriter.Delta(x.requires(), x.basedOn())).orElse(BundleWriter.Delta.NONE);
    }

    /** Every manifest of the plans by digest, with its bytes: written into a bundle in place before any blob is fetched. */
    static Map<Digest, byte[]> knownManifests(List<ImagePlan> plans) {
        Map<Digest, byte[]> known = new LinkedHashMap<>();
        for (ImagePlan p : plans) {
            p.manifests().forEach(m -> known.putIfAbsent(m.digest(), m.bytes()));
        }
        return known;
    }


    /** bundle.json's entry for the image: reference, top, platforms, the digest a platform filter replaced, attached artifacts. */
    static BundleImage bundleImage(ImagePlan p) {
        return new BundleImage(p.source().name(), p.top().descriptor(), p.platforms(), p.originalDigest(), bundleArtifacts(p));
    }

    /** The writer's options for this request: each image's graph, the signer, compression. */
    static WriteOptions writeOptions(ExportRequest request, List<? extends java.util.Collection<Digest>> graphs) {
        WriteOptions options = WriteOptions.defaults().withImageGraphs(graphs);
        if (request.signer().isPresent()) {
            options = options.withSigner(request.signer().get());
        }
        if (request.compress()) {
            options = options.withCompression(true, options.zstdLevel(), options.workers());
        }
        return options;
    }

    /** The writer's progress, shown as the "exporting" phase (the fetch runs underneath it). */
    static ProgressListener exporting(ProgressListener progress) {
        return new ProgressListener() {
            @Override
            public void begin(String phase, long totalBytes, int totalItems) {
                progress.begin("exporting", totalBytes, totalItems);
            }

            @Override
            public void bytes(long delta) {
                progress.bytes(delta);
            }

            @Override
            public void itemDone(String item) {
                progress.itemDone(item);
            }

            @Override
            public void note(String line) {
                progress.note(line);
            }

            @Override
            public void end() {
                progress.end();
            }
        };
    }

    /**
     * Every blob of every image once, in dependency order: all configs and layers first (in
     * first-use order), then the manifests of each image children first, its top last.
     */
    static List<Descriptor> bundleOrder(List<ImagePlan> plans) {
        Map<Digest, Descriptor> order = new LinkedHashMap<>();
        for (ImagePlan p : plans) {
            for (Descriptor d : p.blobs()) {
                order.putIfAbsent(d.digest(), Descriptor.of(d.mediaType(), d.digest(), d.size()));
            }
        }
        for (ImagePlan p : plans) {
            for (RawManifest m : p.manifests()) {
                order.putIfAbsent(m.digest(), m.descriptor());
            }
        }
        return new ArrayList<>(order.values());
    }

    private static ExportResult result(List<ImagePlan> plans, Optional<DeltaPlan> delta, List<ImageOutcome> outcomes, WriteResult written,
                                       ExportRequest request, Duration took) {
        List<ExportResult.ExportedImage> images = new ArrayList<>();
        long fetched = 0;
        long cached = 0;
        for (int i = 0; i < plans.size(); i++) {
            ImagePlan p = plans.get(i);
            int index = i;
            long manifestBytes = p.manifests().stream().mapToLong(RawManifest::size).sum();
            images.add(new ExportResult.ExportedImage(p.source().name(), p.digest(), p.top().mediaType(), p.originalDigest(),
                    p.platforms(), p.blobBytes() + manifestBytes, p.artifacts().size(), artifactNotes(p),
                    delta.map(d -> d.alreadyPresent().get(index)).orElse(false)));
            fetched += outcomes.get(i).bytesPushed();
            cached += outcomes.get(i).bytesSkipped();
        }
        List<Descriptor> blobs = bundleOrder(plans);
        long unique = blobs.stream().mapToLong(Descriptor::size).sum();
        return new ExportResult(images, written.bundle(), written.checksumFile(), written.sha256(), written.bytes(),
                blobs.size(), unique, fetched, cached, request.signer().isPresent(),
                request.signer().map(s -> s.fingerprint()), took,
                delta.map(d -> new ExportResult.Delta(d.basedOn(), d.requires().size(),
                        d.requires().stream().mapToLong(BundleManifest.Required::size).sum())));
    }

    /** bundle.json's record of what is attached to the image. */
    static List<dev.airlock.bundle.BundleArtifact> bundleArtifacts(ImagePlan p) {
        List<dev.airlock.bundle.BundleArtifact> out = new ArrayList<>();
        for (dev.airlock.copy.Artifact a : p.artifacts()) {
            out.add(new dev.airlock.bundle.BundleArtifact(a.subject(), a.digest(), a.manifest().mediaType(), a.artifactType(), a.foundBy(),
                    a.subjectDropped()));
        }
        return out;
    }

    /** One warning line per listed artifact that is not carried, and per artifact carried without its subject. */
    static List<String> artifactNotes(ImagePlan p) {
        List<String> out = new ArrayList<>();
        p.warnings().forEach(w -> out.add("warning: " + w));
        for (dev.airlock.copy.Artifact a : p.artifacts()) {
            if (a.subjectDropped()) {
                out.add("warning: " + p.source().name() + ": artifact " + a.digest() + " (" + a.artifactType() + ", " + a.foundBy()
                        + ") is attached to the source index " + a.subject() + ", which the platform filter rewrote: it is carried without its subject");
            }
        }
        return out;
    }

    private static void checkOutput(Path output) {
        Path abs = output.toAbsolutePath();
        if (Files.isDirectory(abs)) {
            throw new UsageException("output " + output + " is a directory; give a bundle file name, e.g. -o images.tar");
        }
        dev.airlock.io.OutputFiles.requireReplaceable(output, "output");
        dev.airlock.io.OutputFiles.requireReplaceable(abs.resolveSibling(abs.getFileName() + ".sha256"), "checksum file");
        Path dir = abs.getParent();
        if (dir == null || !Files.isDirectory(dir)) {
            throw new LocalIoException("writing bundle " + output + ": directory " + dir + " does not exist");
        }
        if (!Files.isWritable(dir)) {
            throw new LocalIoException("writing bundle " + output + ": directory " + dir + " is not writable");
        }
    }

    /** Opens the cache and removes temporary files that a killed run left long ago. */
    static DirectoryStore openCache(Path dir) {
        DirectoryStore cache = DirectoryStore.open(dir);
        cache.removeLeftovers(STALE_TEMP);
        return cache;
    }
}
