package dev.airlock.importer;

import dev.airlock.store.ImageSource;
import dev.airlock.copy.ImageReport;

import dev.airlock.error.AirlockException;
import dev.airlock.error.ExitCodes;
import dev.airlock.error.VerificationException;

/**
 * An import did not complete; no tag was moved. The exit code says why: verification
 * ({@link ExitCodes#VERIFICATION}) wins over a registry failure ({@link ExitCodes#REGISTRY}),
 * because a tampered bundle must never look like a network problem worth retrying.
 */
public class ImportFailedException extends AirlockException {
    private static final long serialVersionUID = 1L;
    private final transient ImportResult result;
    private final int exitCode;

    public ImportFailedException(ImportResult result, AirlockException cause) {
        super(message(result, cause), cause);
        this.result = result;
        // an import tags nothing unless every image arrived: never a partial success
        this.exitCode = dev.airlock.error.FailurePolicy.exitCode(java.util.List.of(cause), 0, 0);
    }

    /** Every image's state (failed ones carry their reason); tags were not moved. */
    public ImportResult result() {
        return result;
    }

    @Override
    public int exitCode() {
        return exitCode;
    }

    private static String message(ImportResult r, AirlockException cause) {
        long failed = r.images().stream().filter(i -> i.status() == ImageReport.Status.FAILED).count();
        return "import of " + r.bundle() + " into " + r.target() + " stopped, no tag was written ("
                + failed + " of " + r.images().size() + " images failed; a re-run resumes): " + cause.getMessage();
    }
}
