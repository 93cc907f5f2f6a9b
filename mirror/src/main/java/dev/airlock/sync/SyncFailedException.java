package dev.airlock.sync;

import dev.airlock.error.AirlockException;
import dev.airlock.error.ExitCodes;
import dev.airlock.copy.ImageReport;

/**
 * Some images of a sync failed. The exit code is {@link dev.airlock.error.FailurePolicy}'s:
 * {@link ExitCodes#PARTIAL} when others arrived, else the deciding failure's own code.
 */
public class SyncFailedException extends AirlockException {
    private static final long serialVersionUID = 1L;
    private final transient SyncResult result;
    private final int exitCode;

    /** @param failures each failed image's failure, in image order */
    public SyncFailedException(SyncResult result, java.util.List<AirlockException> failures) {
        super(message(result), dev.airlock.error.FailurePolicy.decisive(failures).orElse(null));
        this.result = result;
        int ok = (int) result.images().stream().filter(i -> i.status() == ImageReport.Status.OK).count();
        int notTried = (int) result.images().stream().filter(i -> i.status() == ImageReport.Status.NOT_ATTEMPTED).count();
        this.exitCode = dev.airlock.error.FailurePolicy.exitCode(failures, ok, notTried);
    }

    public SyncResult result() {
        return result;
    }

    @Override
    public int exitCode() {
        return exitCode;
    }

    private static String message(SyncResult r) {
        var failed = r.images().stream().filter(i -> i.status() == ImageReport.Status.FAILED).toList();
        long notTried = r.images().stream().filter(i -> i.status() == ImageReport.Status.NOT_ATTEMPTED).count();
        StringBuilder sb = new StringBuilder("sync to " + r.target() + ": " + failed.size() + " of " + r.images().size() + " images failed");
        if (notTried > 0) {
            sb.append(", ").append(notTried).append(" not attempted (--fail-fast)");
        }
        sb.append(": ");
        sb.append(String.join("; ", failed.stream().map(i -> i.source().toString()).toList()));
        return sb.toString();
    }
}
