package dev.airlock.copy;

import dev.airlock.store.ImageDestination;
import dev.airlock.concurrent.Workers;
import dev.airlock.error.AirlockException;
import dev.airlock.error.LocalIoException;
import dev.airlock.model.Descriptor;
import dev.airlock.model.Digest;
import dev.airlock.model.RawManifest;
import dev.airlock.store.ImageStore;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.IdentityHashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLongArray;

/**
 * The one copy engine: export (registry → cache), import (bundle → registry) and sync (registry →
 * registry) are this class with different stores at the ends.
 *
 * <p>Order makes it safe: (1) every blob, each once per target repository, in parallel: skipped
 * when the target has it, mounted from another repository of the same target when possible,
 * else streamed from the source and verified on the way; (2) per image, child manifests by
 * digest then the top by digest; (3) {@link #tag} last, only for images whose graph is complete.
 * A failure leaves no tag on an incomplete image; a re-run skips what arrived.
 */
public final class GraphCopier {
    private final CopyOptions options;

    public GraphCopier(CopyOptions options) {
        this.options = options;
    }

    /** Copies blobs and manifests of every job (no tags). One outcome per job, in order. */
    public List<ImageOutcome> copy(List<CopyJob> jobs) {
        return run(jobs, null);
    }

    /**
     * Like {@link #copy}, for a source that can only be read once, front to back (a zstd-compressed
     * bundle): {@code source} offers every blob in its own order and the engine places each one
     * as it passes (skip / mount / upload, one blob at a time); blobs no job needs are left to the
     * source to drain. Then the manifests, as in {@link #copy}. Each blob is read at most once, so
     * an upload that needs a second attempt fails the image (a re-run resumes).
     */
    public List<ImageOutcome> copySequential(List<CopyJob> jobs, SequentialSource source) {
        return run(jobs, Objects.requireNonNull(source, "source"));
    }

    /** A source read once, in its own order. */
    @FunctionalInterface
    public interface SequentialSource {
        /**
         * Calls {@code sink} for each blob in order with its content stream, which verifies size
         * and sha256 itself (like {@link ImageStore#openBlob}) and fails at its end when they differ.
         */
        void forEach(BlobSink sink);
    }

    /** Receives one blob of a {@link SequentialSource}. */
    @FunctionalInterface
    public interface BlobSink {
        void accept(Descriptor blob, InputStream content);
    }

    /**
     * Where one image goes when its graph becomes known only as a {@link RoutedSource} passes.
     * {@code tags} are applied by {@link #tag} on the outcome, as for {@link CopyJob}.
     */
    public record Destination(ImageStore target, String repository, List<String> tags) {
        public Destination {
            Objects.requireNonNull(target, "target");
            Objects.requireNonNull(repository, "repository");
            tags = List.copyOf(tags);
        }
    }

    /** A source read once, in its own (dependency) order, whose items say which destinations need them. */
    @FunctionalInterface
    public interface RoutedSource {
        void forEach(RoutedSink sink);
    }

    /** Receives the items of a {@link RoutedSource}; destinations are indexes into the destination list. */
    public interface RoutedSink {
        /** A config or layer, its content verifying itself (as in {@link SequentialSource}). */
        void blob(Descriptor blob, List<Integer> destinations, InputStream content);

        /**
         * A manifest or index, verified, passing after everything it references: pushed by
         * digest (never tagged here) to each destination that has not failed.
         */
        void manifest(RawManifest manifest, List<Integer> destinations);
    }

    /** The outcomes of {@link #copyRouted}, and how many manifests were actually written. */
    public record RoutedCopy(List<ImageOutcome> outcomes, long manifestsWritten) {
        public RoutedCopy {
            outcomes = List.copyOf(outcomes);
        }
    }

    /**
     * Like {@link #copySequential}, for a source whose graphs are not known before it passes (a
     * {@code .tar.zst} bundle whose bundle.json routes each blob to its images): each blob is
     * placed as it passes into every destination listed for it (skip / upload into the first;
     * mount into the others, else upload again from the first one's verified copy, since the
     * source cannot be read twice), and each manifest is pushed by digest as it passes (the source
     * guarantees everything it references passed before). No tags. When the source has passed,
     * {@code plans} (one per destination, known by then) make the outcomes for {@link #tag}.
     * An exception of the source itself (a verification failure) propagates.
     */
    public RoutedCopy copyRouted(List<Destination> destinations, long totalBytes, RoutedSource source,
                                 java.util.function.Supplier<List<ImagePlan>> plans) {
        long started = System.nanoTime();
        int n = destinations.size();
        AirlockException[] failures = new AirlockException[n];
        AtomicLongArray pushed = new AtomicLongArray(n);
        AtomicLongArray skipped = new AtomicLongArray(n);
        AtomicLongArray mounted = new AtomicLongArray(n);
        AtomicBoolean stop = new AtomicBoolean();
        long[] manifestsWritten = new long[1];
        options.progress().begin("copying", totalBytes, n);
        try {
            source.forEach(new RoutedSink() {
                @Override
                public void blob(Descriptor blob, List<Integer> to, InputStream content) {
                    BlobWork w = new BlobWork(blob, null, "the source");
                    for (int j : to) {
                        Destination d = destinations.get(j);
                        w.add(d.target(), d.repository(), j);
                    }
                    runBlob(w, w.once(content), failures, stop, pushed, skipped, mounted);
                }

                @Override
                public void manifest(RawManifest m, List<Integer> to) {
                    Map<ImageStore, Set<String>> done = new IdentityHashMap<>();
                    for (int j : to) {
                        Destination d = destinations.get(j);
                        synchronized (failures) {
                            if (failures[j] != null || stop.get()) {
                                continue;
                            }
                        }
                        if (!done.computeIfAbsent(d.target(), k -> new HashSet<>()).add(d.repository())) {
                            continue;
                        }
                        try {
                            if (pushManifest(d.target(), d.repository(), m)) {
                                manifestsWritten[0]++;
                            }
                        } catch (RuntimeException e) {
                            AirlockException a = Workers.unwrap(e);
                            synchronized (failures) {
                                for (int k : to) {
                                    Destination o = destinations.get(k);
                                    if (failures[k] == null && o.target() == d.target() && o.repository().equals(d.repository())) {
                                        failures[k] = a;
                                    }
                                }
                            }
                            if (options.failFast()) {
                                stop.set(true);
                            }
                        }
                    }
                }
            });
        } finally {
            options.progress().end();
        }
        List<ImagePlan> ps = plans.get();
        Duration took = Duration.ofNanos(System.nanoTime() - started);
        List<ImageOutcome> out = new ArrayList<>(n);
        for (int j = 0; j < n; j++) {
            AirlockException f = failures[j];
            if (f == null && stop.get()) {
                f = new dev.airlock.error.InternalException("not copied: stopped after an earlier failure", null);
            }
            Destination d = destinations.get(j);
            CopyJob job = new CopyJob(ps.get(j), d.target(), d.repository(), d.tags());
            if (f == null) {
                for (RawManifest m : job.plan().manifests()) {
                    if (d.target().headManifest(d.repository(), m.digest().toString()).isEmpty()) {
                        f = new dev.airlock.error.InternalException(job.describe() + ": manifest " + m.digest()
                                + " of the plan did not pass in the source", null);
                        break;
                    }
                }
            }
            out.add(new ImageOutcome(job, Optional.ofNullable(f), pushed.get(j), skipped.get(j), mounted.get(j), took));
        }
        return new RoutedCopy(out, manifestsWritten[0]);
    }

    private List<ImageOutcome> run(List<CopyJob> jobs, SequentialSource sequential) {
        long started = System.nanoTime();
        int n = jobs.size();
        AirlockException[] failures = new AirlockException[n];
        AtomicLongArray pushed = new AtomicLongArray(n);
        AtomicLongArray skipped = new AtomicLongArray(n);
        AtomicLongArray mounted = new AtomicLongArray(n);
        AtomicBoolean stop = new AtomicBoolean();

        // Unique blobs, each with the (store, repository) destinations that need it, first-user job first.
        Map<Digest, BlobWork> work = new LinkedHashMap<>();
        for (int j = 0; j < n; j++) {
            CopyJob job = jobs.get(j);
            for (Descriptor d : job.plan().blobs()) {
                work.computeIfAbsent(d.digest(), k -> new BlobWork(d, job.plan().source(), job.plan().source().store().describe()))
                        .add(job.target(), job.targetRepository(), j);
            }
        }
        long total = work.values().stream().mapToLong(w -> w.blob.size()).sum();
        options.progress().begin("copying", total, n);
        ExecutorService pool = Executors.newFixedThreadPool(options.jobs(), Workers.named("copy"));
        try {
            List<Future<?>> futures = new ArrayList<>();
            if (sequential == null) {
                for (BlobWork w : work.values()) {
                    futures.add(pool.submit(() -> runBlob(w, w.fromSource(), failures, stop, pushed, skipped, mounted)));
                }
                futures.forEach(Workers::join);
                futures.clear();
            } else {
                Set<Digest> seen = new HashSet<>();
                sequential.forEach((blob, content) -> {
                    BlobWork w = work.get(blob.digest());
                    if (w != null && seen.add(blob.digest())) {
                        runBlob(w, w.once(content), failures, stop, pushed, skipped, mounted);
                    }
                });
                for (BlobWork w : work.values()) {
                    if (!seen.contains(w.blob.digest())) {
                        fail(w, new dev.airlock.error.VerificationException(w.source.store().describe() + ": blob " + w.blob.digest()
                                + " needed by " + w.source.name() + " is not in the source"), failures, stop);
                    }
                }
            }
            for (int j = 0; j < n; j++) {
                int idx = j;
                futures.add(pool.submit(() -> {
                    CopyJob job = jobs.get(idx);
                    synchronized (failures) {
                        if (failures[idx] != null || stop.get()) {
                            return;
                        }
                    }
                    try {
                        pushManifests(job);
                        options.progress().itemDone(job.plan().source().name().toString());
                    } catch (RuntimeException e) {
                        synchronized (failures) {
                            failures[idx] = Workers.unwrap(e);
                        }
                        if (options.failFast()) {
                            stop.set(true);
                        }
                    }
                }));
            }
            futures.forEach(Workers::join);
        } finally {
            pool.shutdownNow();
            options.progress().end();
        }
        Duration took = Duration.ofNanos(System.nanoTime() - started);
        List<ImageOutcome> out = new ArrayList<>(n);
        for (int j = 0; j < n; j++) {
            AirlockException f = failures[j];
            if (f == null && stop.get()) {
                f = new dev.airlock.error.InternalException("not copied: stopped after an earlier failure", null);
            }
            out.add(new ImageOutcome(jobs.get(j), Optional.ofNullable(f), pushed.get(j), skipped.get(j), mounted.get(j), took));
        }
        return out;
    }

    private void runBlob(BlobWork w, ImageDestination.BlobContent content, AirlockException[] failures, AtomicBoolean stop,
                         AtomicLongArray pushed, AtomicLongArray skipped, AtomicLongArray mounted) {
        if (stop.get()) {
            return;
        }
        try {
            w.run(content, pushed, skipped, mounted);
        } catch (RuntimeException e) {
            fail(w, Workers.unwrap(e), failures, stop);
        }
    }

    private void fail(BlobWork w, AirlockException a, AirlockException[] failures, AtomicBoolean stop) {
        synchronized (failures) {
            for (int j : w.jobIndexes()) {
                if (failures[j] == null) {
                    failures[j] = a;
                }
            }
        }
        if (options.failFast()) {
            stop.set(true);
        }
    }

    /**
     * Points every tag of a successfully copied image at its top manifest (last step). A tag that
     * already points at the same digest is left alone.
     */
    public void tag(ImageOutcome outcome) {
        if (!outcome.ok()) {
            throw new IllegalStateException("refusing to tag an incomplete image: " + outcome.job().describe());
        }
        CopyJob job = outcome.job();
        RawManifest top = job.plan().top();
        for (String tag : job.tags()) {
            Optional<Descriptor> current = job.target().headManifest(job.targetRepository(), tag);
            if (current.isPresent() && current.get().digest().equals(top.digest())) {
                continue;
            }
            job.target().pushManifest(job.targetRepository(), tag, top);
        }
    }

    private void pushManifests(CopyJob job) {
        for (RawManifest m : job.plan().manifests()) {
            pushManifest(job.target(), job.targetRepository(), m);
        }
    }

    /**
     * Pushes {@code m} by digest unless the repository has it, then reads it back: a registry
     * that already holds a file under that digest keeps it instead of writing ours (Distribution
     * does), and after a crash that file can be truncated. A manifest that does not read back
     * byte-exact is never tagged. True when it was written.
     */
    private static boolean pushManifest(ImageStore target, String repository, RawManifest m) {
        String ref = m.digest().toString();
        if (target.headManifest(repository, ref).isPresent()) {
            return false;
        }
        target.pushManifest(repository, ref, m);
        try {
            target.fetchManifest(repository, ref);
        } catch (dev.airlock.error.DigestMismatchException | dev.airlock.error.RegistryException e) {
            throw new dev.airlock.error.RegistryException("manifest " + ref + " pushed to " + target.describe() + " " + repository
                    + " reads back damaged (" + e.getMessage() + "): the registry keeps a broken copy under that digest, e.g. after"
                    + " a crash; remove it from the registry's storage (or run its garbage collection) and re-run", 0, List.of("DAMAGED_CONTENT"), e);
        }
        return true;
    }

    /** One unique blob and every target repository that needs it. */
    private final class BlobWork {
        private final Descriptor blob;
        /** The source image (null for a routed source). */
        private final SourceImage source;
        /** The source, for messages. */
        private final String from;
        /** The content can be read only once (a sequential source). */
        private boolean oneShot;
        /** target store → repository → first job index needing it there. */
        private final Map<ImageStore, Map<String, Integer>> destinations = new IdentityHashMap<>();
        private final List<Integer> allJobs = new ArrayList<>();

        BlobWork(Descriptor blob, SourceImage source, String from) {
            this.blob = blob;
            this.source = source;
            this.from = from;
        }

        void add(ImageStore target, String repository, int index) {
            destinations.computeIfAbsent(target, k -> new LinkedHashMap<>()).putIfAbsent(repository, index);
            allJobs.add(index);
        }

        List<Integer> jobIndexes() {
            return allJobs;
        }

        /** Content read from the source store (may be opened again for a retry). */
        ImageDestination.BlobContent fromSource() {
            // ImageStore.openBlob streams verify size and digest themselves (the interface's contract)
            return ImageDestination.BlobContent.selfVerifying(() -> source.store().openBlob(source.repository(), blob));
        }

        /** Content that can be opened once (a sequential source). */
        ImageDestination.BlobContent once(InputStream content) {
            oneShot = true;
            AtomicBoolean opened = new AtomicBoolean();
            // a sequential source gives verifying streams too (SequentialSource's contract)
            return ImageDestination.BlobContent.selfVerifying(() -> {
                if (opened.getAndSet(true)) {
                    throw new IOException("blob " + blob.digest() + " of " + from
                            + " can be read only once (sequential source); run the job again to resume");
                }
                return content;
            });
        }

        void run(ImageDestination.BlobContent content, AtomicLongArray pushed, AtomicLongArray skipped, AtomicLongArray mounted) {
            boolean counted = false;
            boolean read = false;
            ImageStore copyStore = null; // where a verified copy is once the one-shot content is read
            String copyRepo = null;
            for (var byStore : destinations.entrySet()) {
                ImageStore target = byStore.getKey();
                String holder = null;
                for (var dest : byStore.getValue().entrySet()) {
                    String repo = dest.getKey();
                    int job = dest.getValue();
                    if (target.blobSize(repo, blob.digest()).isPresent()) {
                        skipped.addAndGet(job, blob.size());
                        if (options.readSkippedBlobs() && !read) {
                            drain(content);
                            read = true;
                        } else if (!counted) {
                            options.progress().bytes(blob.size());
                        }
                        counted = true;
                    } else if (holder != null && target.mountBlob(repo, blob, holder)) {
                        mounted.addAndGet(job, blob.size());
                        if (!counted) {
                            options.progress().bytes(blob.size());
                        }
                        counted = true;
                    } else {
                        boolean first = !counted;
                        ImageDestination.BlobContent from = content;
                        if (oneShot && read && copyStore != null) {
                            // the source passed already: upload again from the verified copy in the target
                            ImageStore s = copyStore;
                            String r = copyRepo;
                            from = ImageDestination.BlobContent.selfVerifying(() -> s.openBlob(r, blob));
                        }
                        ImageDestination.BlobContent src = from;
                        ImageDestination.BlobContent counting = () -> {
                            InputStream in = src.open();
                            return first ? new dev.airlock.io.ProgressInputStream(in, options.progress()) : in;
                        };
                        target.pushBlob(repo, blob, src.verifiesItself() ? ImageDestination.BlobContent.selfVerifying(counting) : counting);
                        pushed.addAndGet(job, blob.size());
                        counted = true;
                        read = true;
                    }
                    holder = repo;
                    if (copyStore == null) {
                        copyStore = target;
                        copyRepo = repo;
                    }
                }
            }
        }

        /** Reads the source blob to its end so that it is verified, discarding the bytes. */
        private void drain(ImageDestination.BlobContent content) {
            try (InputStream in = new dev.airlock.io.ProgressInputStream(content.open(), options.progress())) {
                in.transferTo(OutputStream.nullOutputStream());
            } catch (IOException e) {
                throw new LocalIoException("reading blob " + blob.digest() + " from " + from + ": " + e.getMessage(), e);
            }
        }
    }

}
