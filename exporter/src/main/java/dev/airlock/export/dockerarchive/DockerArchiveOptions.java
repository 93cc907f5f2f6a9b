package dev.airlock.export.dockerarchive;

import dev.airlock.progress.ProgressListener;
import java.nio.file.Path;
import java.util.Objects;

/**
 * How to read docker-save archives.
 *
 * @param indexFormat OCI (default) or Docker manifest list / schema 2 manifests
 * @param threads     compression workers; the output does not depend on this number
 * @param scratchDir  parent of the temp directory holding compressed layers and configs until
 *                    {@link DockerArchiveSource#close()}; needs about the compressed size of all layers
 * @param progress    receives phases, bytes and warnings (e.g. an arm image without variant)
 */
public record DockerArchiveOptions(IndexFormat indexFormat, int threads, Path scratchDir, ProgressListener progress) {
    public DockerArchiveOptions {
        Objects.requireNonNull(indexFormat, "indexFormat");
        Objects.requireNonNull(scratchDir, "scratchDir");
        progress = progress == null ? ProgressListener.NONE : progress;
        if (threads < 1) {
            throw new IllegalArgumentException("threads must be at least 1");
        }
    }

    /** OCI format, one worker per core, scratch in java.io.tmpdir, no progress. */
    public static DockerArchiveOptions defaults() {
        return new DockerArchiveOptions(IndexFormat.OCI, Runtime.getRuntime().availableProcessors(),
                Path.of(System.getProperty("java.io.tmpdir")), ProgressListener.NONE);
    }

    public DockerArchiveOptions withIndexFormat(IndexFormat f) {
        return new DockerArchiveOptions(f, threads, scratchDir, progress);
    }

    public DockerArchiveOptions withThreads(int n) {
        return new DockerArchiveOptions(indexFormat, n, scratchDir, progress);
    }

    public DockerArchiveOptions withScratchDir(Path dir) {
        return new DockerArchiveOptions(indexFormat, threads, dir, progress);
    }

    public DockerArchiveOptions withProgress(ProgressListener p) {
        return new DockerArchiveOptions(indexFormat, threads, scratchDir, p);
    }
}
