package dev.airlock.copy;

import dev.airlock.concurrent.Workers;
import dev.airlock.error.AirlockException;
import dev.airlock.error.InternalException;
import dev.airlock.error.LocalIoException;
import dev.airlock.error.RegistryException;
import dev.airlock.io.ProgressInputStream;
import dev.airlock.model.Descriptor;
import dev.airlock.model.Digest;
import dev.airlock.model.RawManifest;
import dev.airlock.store.ImageDestination.BlobContent;
import dev.airlock.store.ImageStore;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
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
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Supplier;

/**
 * The one copy engine: export (registry → cache), import (bundle → registry) and sync (registry →
 * registry) are this class with different ends.
 *
 * <p>Order makes it safe: (1) every blob, each once per target repository, in parallel: skipped
 * when the target has it (with the descriptor's size), mounted from another repository of the
 * same target when possible, else streamed from the source and verified on the way; (2) per
 * image, child manifests by digest then the top by digest, each read back; (3) {@link #tag}
 * last, by the caller, only for images whose graph is complete. A failure leaves no tag on an
 * incomplete image; a re-run skips what arrived.
 *
 * <p>Each call keeps its state in one {@link CopyRun}: failures, counters, the fail-fast stop and
 * each image's own duration; its {@link CopyResult} has an outcome per image.
 */
public final class GraphCopier {
    private final CopyOptions options;

    public GraphCopier(CopyOptions options) {
        this.options = Objects.requireNonNull(options, "options");
    }

    /** Copies blobs and manifests of every job (no tags), reading blobs from each plan's source. */
    public CopyResult copy(List<CopyJob> jobs) {
        CopyRun run = new CopyRun(jobs.size(), options.failFast());
        // Unique blobs, each with the (store, repository) destinations that need it, first-user job first.
        Map<Digest, BlobWork> work = new LinkedHashMap<>();
        for (int j = 0; j < jobs.size(); j++) {
            CopyJob job = jobs.get(j);
            for (Descriptor d : job.plan().blobs()) {
                SourceImage src = job.plan().source();
                work.computeIfAbsent(d.digest(), k -> new BlobWork(d, src.store().describe(),
                                src.store().blobContent(src.repository(), d, options.jobs()), false))
                        .add(job.target(), job.targetRepository(), j);
            }
        }
        long total = work.values().stream().mapToLong(w -> w.blob.size()).sum();
        AtomicLong written = new AtomicLong();
        options.progress().begin("copying", total, jobs.size());
        ExecutorService pool = Executors.newFixedThreadPool(options.jobs(), Workers.named("copy"));
        try {
            List<Future<?>> futures = new ArrayList<>();
            for (BlobWork w : work.values()) {
                futures.add(pool.submit(() -> w.place(run)));
            }
            futures.forEach(Workers::join);
            futures.clear();
            for (int j = 0; j < jobs.size(); j++) {
                int image = j;
                futures.add(pool.submit(() -> pushManifests(jobs.get(image), image, run, written)));
            }
            futures.forEach(Workers::join);
        } finally {
            pool.shutdownNow();
            options.progress().end();
        }
        return new CopyResult(run.outcomes(jobs), written.get());
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
        /** A config or layer; its content verifies size and sha256 itself and fails at its end when they differ. */
        void blob(Descriptor blob, List<Integer> destinations, InputStream content);

        /**
         * A manifest or index, verified, passing after everything it references: pushed by
         * digest (never tagged here) to each destination that has not failed.
         */
        void manifest(RawManifest manifest, List<Integer> destinations);
    }

    /**
     * Copies from a source that can be read only once, front to back, and whose graphs are not
     * known before it passes (a {@code .tar.zst} bundle whose bundle.json routes each blob to its
     * images): each blob is placed as it passes into every destination listed for it (skip /
     * upload into the first; mount into the others, else upload again from the first one's
     * verified copy, since the source cannot be read twice), and each manifest is pushed by digest
     * as it passes (the source guarantees everything it references passed before). No tags. When
     * the source has passed, {@code plans} (one per destination, known by then) make the outcomes
     * for {@link #tag}. An exception of the source itself (a verification failure) propagates.
     */
    public CopyResult copyRouted(List<Destination> destinations, long totalBytes, RoutedSource source,
                                 Supplier<List<ImagePlan>> plans) {
        int n = destinations.size();
        CopyRun run = new CopyRun(n, options.failFast());
        AtomicLong written = new AtomicLong();
        options.progress().begin("copying", totalBytes, n);
        try {
            source.forEach(new RoutedSink() {
                @Override
                public void blob(Descriptor blob, List<Integer> to, InputStream content) {
                    AtomicBoolean opened = new AtomicBoolean();
                    BlobWork w = new BlobWork(blob, "the source", BlobContent.selfVerifying(() -> {
                        if (opened.getAndSet(true)) {
                            throw new IOException("blob " + blob.digest() + " can be read only once (a stream); run the job again to resume");
                        }
                        return content;
                    }), true);
                    for (int j : to) {
                        Destination d = destinations.get(j);
                        w.add(d.target(), d.repository(), j);
                    }
                    w.place(run);
                }

                @Override
                public void manifest(RawManifest m, List<Integer> to) {
                    Map<ImageStore, Set<String>> done = new IdentityHashMap<>();
                    for (int j : to) {
                        Destination d = destinations.get(j);
                        if (!run.live(j) || !done.computeIfAbsent(d.target(), k -> new HashSet<>()).add(d.repository())) {
                            continue;
                        }
                        run.begin(List.of(j));
                        try {
                            if (pushManifest(d.target(), d.repository(), m)) {
                                written.incrementAndGet();
                            }
                        } catch (RuntimeException e) {
                            List<Integer> same = new ArrayList<>();
                            for (int k : to) {
                                Destination o = destinations.get(k);
                                if (o.target() == d.target() && o.repository().equals(d.repository())) {
                                    same.add(k);
                                }
                            }
                            run.fail(same, Workers.unwrap(e));
                        }
                    }
                }
            });
        } finally {
            options.progress().end();
        }
        List<ImagePlan> ps = plans.get();
        List<CopyJob> jobs = new ArrayList<>(n);
        for (int j = 0; j < n; j++) {
            Destination d = destinations.get(j);
            CopyJob job = new CopyJob(ps.get(j), d.target(), d.repository(), d.tags());
            jobs.add(job);
            if (!run.live(j)) {
                continue;
            }
            Optional<RawManifest> absent = job.plan().manifests().stream()
                    .filter(m -> d.target().headManifest(d.repository(), m.digest().toString()).isEmpty()).findFirst();
            if (absent.isPresent()) {
                run.fail(j, new InternalException(job.describe() + ": manifest " + absent.get().digest()
                        + " of the plan did not pass in the source", null));
            } else {
                run.complete(j);
            }
        }
        return new CopyResult(run.outcomes(jobs), written.get());
    }

    /**
     * Points every tag of a successfully copied image at its top manifest (last step). A tag that
     * already points at the same digest is left alone. Then the image's attached artifacts are
     * made findable: cosign tags keep their names; on a target without the referrers API the
     * referrers tag schema index {@code sha256-<hex>} is written, merged with what is there; on a
     * target with it, the listing is checked. Returns one line per artifact that needs saying
     * (no subject at the target, not listed by the target's API).
     */
    public List<String> tag(ImageOutcome outcome) {
        if (!outcome.ok()) {
            throw new IllegalStateException("refusing to tag an incomplete image: " + outcome.job().describe());
        }
        CopyJob job = outcome.job();
        RawManifest top = job.plan().top();
        for (String tag : job.tags()) {
            pushTag(job, tag, top);
        }
        return attach(job);
    }

    private static void pushTag(CopyJob job, String tag, RawManifest m) {
        Optional<Descriptor> current = job.target().headManifest(job.targetRepository(), tag);
        if (current.isPresent() && current.get().digest().equals(m.digest())) {
            return;
        }
        job.target().pushManifest(job.targetRepository(), tag, m);
    }

    private static List<String> attach(CopyJob job) {
        List<String> notes = new ArrayList<>();
        String name = job.plan().source().name().toString();
        Map<Digest, List<Artifact>> referrers = new LinkedHashMap<>();
        for (Artifact a : job.plan().artifacts()) {
            if (a.subjectDropped()) {
                notes.add(name + ": artifact " + a.digest() + " (" + a.artifactType() + ", " + a.foundBy() + ") was attached to the source index "
                        + a.subject() + ", which the platform filter rewrote: carried, but at the target it has no subject");
                continue;
            }
            Optional<String> tag = a.tag();
            if (tag.isPresent()) {
                pushTag(job, tag.get(), a.manifest());
            } else {
                referrers.computeIfAbsent(a.subject(), k -> new ArrayList<>()).add(a);
            }
        }
        if (referrers.isEmpty() || !(job.target() instanceof dev.airlock.store.ReferrersSource rs)) {
            return notes;
        }
        String repo = job.targetRepository();
        for (var e : referrers.entrySet()) {
            Optional<List<Descriptor>> listed = rs.referrersApi(repo, e.getKey());
            if (listed.isPresent()) {
                for (Artifact a : e.getValue()) {
                    if (listed.get().stream().noneMatch(d -> d.digest().equals(a.digest()))) {
                        notes.add(name + ": artifact " + a.digest() + " attached to " + e.getKey() + " is at " + job.target().describe() + " " + repo
                                + " but its referrers API does not list it");
                    }
                }
                continue;
            }
            String schema = dev.airlock.store.ReferrersSource.schemaTag(e.getKey());
            Optional<RawManifest> existing;
            try {
                existing = Optional.of(job.target().fetchManifest(repo, schema));
            } catch (RegistryException x) {
                if (!x.isNotFound()) {
                    throw x;
                }
                existing = Optional.empty();
            }
            Optional<RawManifest> merged = ReferrersIndex.merge(existing, e.getValue().stream().map(Artifact::referrerDescriptor).toList());
            if (merged.isPresent()) {
                job.target().pushManifest(repo, schema, merged.get());
            }
        }
        return notes;
    }

    private void pushManifests(CopyJob job, int image, CopyRun run, AtomicLong written) {
        if (!run.live(image)) {
            return;
        }
        run.begin(List.of(image));
        try {
            for (RawManifest m : job.plan().manifests()) {
                if (pushManifest(job.target(), job.targetRepository(), m)) {
                    written.incrementAndGet();
                }
            }
            run.complete(image);
            options.progress().itemDone(job.plan().source().name().toString());
        } catch (RuntimeException e) {
            run.fail(image, Workers.unwrap(e));
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
        } catch (dev.airlock.error.DigestMismatchException | RegistryException e) {
            throw new RegistryException("manifest " + ref + " pushed to " + target.describe() + " " + repository
                    + " reads back damaged (" + e.getMessage() + "): the registry keeps a broken copy under that digest, e.g. after"
                    + " a crash; remove it from the registry's storage (or run its garbage collection) and re-run", 0, List.of("DAMAGED_CONTENT"), e);
        }
        return true;
    }

    /** One unique blob and every target repository that needs it. */
    private final class BlobWork {
        private final Descriptor blob;
        /** The source, for messages. */
        private final String from;
        private final BlobContent content;
        /** The content can be read only once (a stream). */
        private final boolean oneShot;
        /** target store → repository → first job index needing it there. */
        private final Map<ImageStore, Map<String, Integer>> destinations = new IdentityHashMap<>();
        private final List<Integer> images = new ArrayList<>();

        BlobWork(Descriptor blob, String from, BlobContent content, boolean oneShot) {
            this.blob = blob;
            this.from = from;
            this.content = content;
            this.oneShot = oneShot;
        }

        void add(ImageStore target, String repository, int image) {
            destinations.computeIfAbsent(target, k -> new LinkedHashMap<>()).putIfAbsent(repository, image);
            images.add(image);
        }

        /** Places the blob in every destination; a failure fails every image that needs it. */
        void place(CopyRun run) {
            if (run.stopped()) {
                return;
            }
            run.begin(images);
            try {
                run(run);
            } catch (RuntimeException e) {
                run.fail(images, Workers.unwrap(e));
            }
        }

        private void run(CopyRun run) {
            boolean counted = false;
            boolean read = false;
            ImageStore copyStore = null; // where a verified copy is once the one-shot content is read
            String copyRepo = null;
            for (var byStore : destinations.entrySet()) {
                ImageStore target = byStore.getKey();
                String holder = null;
                for (var dest : byStore.getValue().entrySet()) {
                    String repo = dest.getKey();
                    int image = dest.getValue();
                    if (present(target, repo)) {
                        run.skipped(image, blob.size());
                        if (options.readSkippedBlobs() && !read) {
                            drain();
                            read = true;
                        } else if (!counted) {
                            options.progress().bytes(blob.size());
                        }
                        counted = true;
                    } else if (holder != null && target.mountBlob(repo, blob, holder)) {
                        run.mounted(image, blob.size());
                        if (!counted) {
                            options.progress().bytes(blob.size());
                        }
                        counted = true;
                    } else {
                        boolean first = !counted;
                        BlobContent src = content;
                        if (oneShot && read && copyStore != null) {
                            // the stream passed already: upload again from the verified copy in the target
                            ImageStore s = copyStore;
                            String r = copyRepo;
                            src = BlobContent.selfVerifying(() -> s.openBlob(r, blob));
                        }
                        target.pushBlob(repo, blob, counting(src, first));
                        run.pushed(image, blob.size());
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

        /** {@code from}, its bytes reported to the progress listener when {@code report} (the first copy of a blob). */
        private BlobContent counting(BlobContent from, boolean report) {
            return new BlobContent() {
                @Override
                public InputStream open() throws IOException {
                    InputStream in = from.open();
                    return report ? new ProgressInputStream(in, options.progress()) : in;
                }

                @Override
                public boolean verifiesItself() {
                    return from.verifiesItself();
                }

                @Override
                public boolean writeInto(dev.airlock.io.BlobRegion file, java.util.function.LongConsumer progress) throws IOException {
                    return from.writeInto(file, report ? n -> {
                        options.progress().bytes(n);
                        progress.accept(n);
                    } : progress);
                }
            };
        }

        /**
         * Present means present with the descriptor's size: a HEAD answering another size for the
         * same digest is a lie or a damaged file, never "already there".
         */
        private boolean present(ImageStore target, String repo) {
            Optional<Long> size = target.blobSize(repo, blob.digest());
            if (size.isPresent() && size.get() != blob.size()) {
                options.progress().note("warning: " + target.describe() + " " + repo + " answers that blob " + blob.digest() + " has "
                        + size.get() + " bytes, but it has " + blob.size() + ": not taken as present, uploading it");
                return false;
            }
            return size.isPresent();
        }

        /** Reads the source blob to its end so that it is verified, discarding the bytes. */
        private void drain() {
            try (InputStream in = new ProgressInputStream(content.open(), options.progress())) {
                in.transferTo(OutputStream.nullOutputStream());
            } catch (IOException e) {
                throw new LocalIoException("reading blob " + blob.digest() + " from " + from + ": " + e.getMessage(), e);
            }
        }
    }
}
