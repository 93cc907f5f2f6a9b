package dev.airlock.sync;

import dev.airlock.error.AirlockException;
import dev.airlock.error.ExitCodes;
import dev.airlock.copy.ImageReport;

/**
 * Some images of a sync failed. Exit code {@link ExitCodes#PARTIAL} when others arrived; the
 * first failure's own code when nothing arrived.
 */
public class SyncFailedException extends AirlockException {
    private static final long serialVersionUID = 1L;
    private final transient SyncResult result;
    private final int exitCode;

    public SyncFailedException(SyncResult result, int firstFailureCode) {
        super(message(result));
        this.result = result;
        boolean someOk = result.images().stream().anyMatch(i -> i.status() == ImageReport.Status.OK);
        this.exitCode = someOk ? ExitCodes.PARTIAL : firstFailureCode;
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
