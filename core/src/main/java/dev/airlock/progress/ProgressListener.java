package dev.airlock.progress;

/**
 * Receives progress of long work (export, import, sync, verify). Implementations must be
 * thread-safe: workers call {@link #bytes} concurrently. The CLI renders it (TTY: live line;
 * not a TTY: a plain line every few seconds); libraries only report.
 */
public interface ProgressListener {
    /** Reports nothing. */
    ProgressListener NONE = new ProgressListener() {
    };

    /** A phase starts, e.g. "fetching", "pushing", "verifying", with what it will process. */
    default void begin(String phase, long totalBytes, int totalItems) {
    }

    /** {@code delta} more bytes were processed (transferred, hashed, or found already present). */
    default void bytes(long delta) {
    }

    /** One item (an image, a file) completed; {@code item} names it for a log line. */
    default void itemDone(String item) {
    }

    /** A line worth showing the operator now: a warning or a notable fact. */
    default void note(String line) {
    }

    /** The current phase ended. */
    default void end() {
    }
}
