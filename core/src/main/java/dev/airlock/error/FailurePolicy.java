package dev.airlock.error;

import java.util.Collection;
import java.util.Optional;

/**
 * The one rule for which failure of a multi-image job (export, import, sync, planning) sets the
 * exit code and leads the message. Used by every job; nothing else decides.
 *
 * <ol>
 * <li>Content that failed verification (a checksum, a signature, a lying platform) outranks
 *     everything else: an operator must never read "registry error, retry" when the data itself
 *     was wrong somewhere.</li>
 * <li>Otherwise the first failure, in image order (the order of the operator's list).</li>
 * <li>Images that were not attempted because the job stopped after a failure never decide: they
 *     are not failures of their own.</li>
 * </ol>
 * The exit code is that failure's own, except that a job whose other images completed (sync,
 * where each image is tagged on its own) ends with {@link ExitCodes#PARTIAL}.
 */
public final class FailurePolicy {
    private FailurePolicy() {
    }

    /** The failure that decides, from failures given in image order; empty when there is none. */
    public static Optional<AirlockException> decisive(Collection<? extends AirlockException> failures) {
        AirlockException first = null;
        for (AirlockException f : failures) {
            if (f == null) {
                continue;
            }
            if (f instanceof VerificationException) {
                return Optional.of(f);
            }
            if (first == null) {
                first = f;
            }
        }
        return Optional.ofNullable(first);
    }

    /**
     * The exit code of a job.
     *
     * @param failures     the failures, in image order
     * @param completed    images that arrived complete (tagged) in spite of the failures
     * @param notAttempted images not attempted because the job stopped early
     */
    public static int exitCode(Collection<? extends AirlockException> failures, int completed, int notAttempted) {
        Optional<AirlockException> d = decisive(failures);
        if (d.isEmpty()) {
            return notAttempted > 0 ? ExitCodes.PARTIAL : ExitCodes.OK;
        }
        if (completed > 0) {
            return ExitCodes.PARTIAL;
        }
        AirlockException f = d.get();
        return f instanceof VerificationException ? ExitCodes.VERIFICATION : f.exitCode();
    }
}
