package dev.airlock.copy;

import dev.airlock.progress.ProgressListener;
import java.util.Objects;

/**
 * How the engine copies.
 *
 * @param jobs              parallel blob transfers
 * @param readSkippedBlobs  read (and so verify) source blobs even when the target already has
 *                          them: import uses it so that every byte of a bundle is checked before
 *                          any tag moves
 * @param failFast          stop starting new work after the first failure
 * @param progress          receives bytes and finished images
 */
public record CopyOptions(int jobs, boolean readSkippedBlobs, boolean failFast, ProgressListener progress) {
    public CopyOptions {
        if (jobs < 1 || jobs > 256) {
            throw new dev.airlock.error.UsageException("parallel transfers (jobs) must be between 1 and 256, got " + jobs);
        }
        Objects.requireNonNull(progress, "progress");
    }

    /** A sensible default: 8 parallel transfers (I/O bound, not CPU bound). */
    public static int defaultJobs() {
        return 8;
    }
}
