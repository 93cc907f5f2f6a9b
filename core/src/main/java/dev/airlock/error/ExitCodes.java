package dev.airlock.error;

/** The process exit codes, decided here and documented in README.md and docs/. */
public final class ExitCodes {
    /** Success. */
    public static final int OK = 0;
    /** A failure that fits no other class (a bug, an unexpected state). */
    public static final int FAILURE = 1;
    /** Bad command line or bad input reference. */
    public static final int USAGE = 2;
    /** The bundle or content failed verification: checksum, signature, trust, structure, hostile entry. */
    public static final int VERIFICATION = 3;
    /** A registry refused or failed an operation (after retries). */
    public static final int REGISTRY = 4;
    /** Local I/O failed: file missing, disk full, permission. */
    public static final int IO = 5;
    /** Some images of a multi-image job failed while others completed (sync without --fail-fast). */
    public static final int PARTIAL = 6;
    /** The target registry cannot take the bundle (preflight): no push permission, a media type or name it refuses. */
    public static final int TARGET_REFUSES = 7;
    /** A delta bundle relies on content the target registry does not hold (nothing was pushed). */
    public static final int TARGET_LACKS = 8;
    /**
     * An import of volumes finished without error, but some images wait for volumes not imported
     * yet (their part is at the target, untagged); importing those volumes completes them.
     */
    public static final int WAITING = 9;

    private ExitCodes() {
    }
}
