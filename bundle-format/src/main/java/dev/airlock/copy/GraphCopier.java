package dev.airlock.copy;

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
import java.util.IdentityHashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
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
                work.computeIfAbsent(d.digest(), k -> new BlobWork(d, job.plan().source())).add(job, j);
            }
        }
        long total = work.values().stream().mapToLong(w -> w.blob.size()).sum();
        options.progress().begin("copying", total, n);
        ExecutorService pool = Executors.newFixedThreadPool(options.jobs(), Workers.named("copy"));
        try {
            List<Future<?>> futures = new ArrayList<>();
            for (BlobWork w : work.values()) {
                futures.add(pool.submit(() -> {
                    if (stop.get()) {
                        return;
                    }
                    try {
                        w.run(pushed, skipped, mounted);
                    } catch (RuntimeException e) {
                        AirlockException a = Workers.unwrap(e);
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
                }));
            }
            futures.forEach(Workers::join);
            futures.clear();
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
            String ref = m.digest().toString();
            if (job.target().headManifest(job.targetRepository(), ref).isEmpty()) {
                job.target().pushManifest(job.targetRepository(), ref, m);
            }
        }
    }

    /** One unique blob and every target repository that needs it. */
    private final class BlobWork {
        private final Descriptor blob;
        private final SourceImage source;
        /** target store → repository → first job index needing it there. */
        private final Map<ImageStore, Map<String, Integer>> destinations = new IdentityHashMap<>();
        private final List<Integer> allJobs = new ArrayList<>();

        BlobWork(Descriptor blob, SourceImage source) {
            this.blob = blob;
            this.source = source;
        }

        void add(CopyJob job, int index) {
            destinations.computeIfAbsent(job.target(), k -> new LinkedHashMap<>()).putIfAbsent(job.targetRepository(), index);
            allJobs.add(index);
        }

        List<Integer> jobIndexes() {
            return allJobs;
        }

        void run(AtomicLongArray pushed, AtomicLongArray skipped, AtomicLongArray mounted) {
            boolean counted = false;
            for (var byStore : destinations.entrySet()) {
                ImageStore target = byStore.getKey();
                String holder = null;
                for (var dest : byStore.getValue().entrySet()) {
                    String repo = dest.getKey();
                    int job = dest.getValue();
                    if (target.blobSize(repo, blob.digest()).isPresent()) {
                        skipped.addAndGet(job, blob.size());
                        if (options.readSkippedBlobs()) {
                            drain();
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
                        target.pushBlob(repo, blob, () -> {
                            InputStream in = source.store().openBlob(source.repository(), blob);
                            return first ? new CountingInputStream(in, options.progress()) : in;
                        });
                        pushed.addAndGet(job, blob.size());
                        counted = true;
                    }
                    holder = repo;
                }
            }
        }

        /** Reads the source blob to its end so that it is verified, discarding the bytes. */
        private void drain() {
            try (InputStream in = new CountingInputStream(source.store().openBlob(source.repository(), blob), options.progress())) {
                in.transferTo(OutputStream.nullOutputStream());
            } catch (IOException e) {
                throw new LocalIoException("reading blob " + blob.digest() + " from " + source.store().describe() + ": " + e.getMessage(), e);
            }
        }
    }

}
