package dev.airlock.copy;

import dev.airlock.error.AirlockException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLongArray;

/**
 * The state of one engine run, shared by its workers: per image its failure, byte counters, its
 * own start and end, whether its manifests are all at the target; and the run's stop flag
 * (fail-fast). Images are numbered in the order of the jobs. Thread-safe.
 */
final class CopyRun {
    private final int size;
    private final boolean failFast;
    private final AtomicBoolean stop = new AtomicBoolean();
    private final AirlockException[] failures;
    private final long[] started;
    private final long[] finished;
    private final boolean[] complete;
    private final AtomicLongArray pushed;
    private final AtomicLongArray skipped;
    private final AtomicLongArray mounted;

    CopyRun(int size, boolean failFast) {
        this.size = size;
        this.failFast = failFast;
        this.failures = new AirlockException[size];
        this.started = new long[size];
        this.finished = new long[size];
        this.complete = new boolean[size];
        this.pushed = new AtomicLongArray(size);
        this.skipped = new AtomicLongArray(size);
        this.mounted = new AtomicLongArray(size);
    }

    /** True once a failure stopped a fail-fast run: no new work starts. */
    boolean stopped() {
        return stop.get();
    }

    /** True while image {@code i} may still go on: it has not failed and the run is not stopped. */
    synchronized boolean live(int i) {
        return failures[i] == null && !stop.get();
    }

    /** Records the first failure of each image (later ones of the same image are consequences). */
    void fail(Collection<Integer> images, AirlockException failure) {
        long now = System.nanoTime();
        synchronized (this) {
            for (int i : images) {
                if (failures[i] == null) {
                    failures[i] = failure;
                    finished[i] = now;
                    if (started[i] == 0) {
                        started[i] = now;
                    }
                }
            }
        }
        if (failFast) {
            stop.set(true);
        }
    }

    void fail(int image, AirlockException failure) {
        fail(List.of(image), failure);
    }

    /** Work for these images begins (the first call per image starts its clock). */
    synchronized void begin(Collection<Integer> images) {
        long now = System.nanoTime();
        for (int i : images) {
            if (started[i] == 0) {
                started[i] = now;
            }
        }
    }

    /** Every blob and manifest of image {@code i} is at the target. */
    synchronized void complete(int i) {
        if (failures[i] == null) {
            complete[i] = true;
            finished[i] = System.nanoTime();
            if (started[i] == 0) {
                started[i] = finished[i];
            }
        }
    }

    synchronized boolean isComplete(int i) {
        return complete[i];
    }

    void pushed(int i, long bytes) {
        pushed.addAndGet(i, bytes);
    }

    void skipped(int i, long bytes) {
        skipped.addAndGet(i, bytes);
    }

    void mounted(int i, long bytes) {
        mounted.addAndGet(i, bytes);
    }

    /** One outcome per image, in job order. */
    synchronized List<ImageOutcome> outcomes(List<CopyJob> jobs) {
        if (jobs.size() != size) {
            throw new IllegalArgumentException(jobs.size() + " jobs for a run of " + size + " images");
        }
        List<ImageOutcome> out = new ArrayList<>(size);
        for (int i = 0; i < size; i++) {
            ImageOutcome.Status status = failures[i] != null ? ImageOutcome.Status.FAILED
                    : complete[i] ? ImageOutcome.Status.COPIED : ImageOutcome.Status.NOT_ATTEMPTED;
            Duration took = status == ImageOutcome.Status.NOT_ATTEMPTED || started[i] == 0 ? Duration.ZERO
                    : Duration.ofNanos(finished[i] - started[i]);
            out.add(new ImageOutcome(jobs.get(i), status, Optional.ofNullable(failures[i]), pushed.get(i), skipped.get(i),
                    mounted.get(i), took));
        }
        return out;
    }
}
