package dev.airlock.copy;

import dev.airlock.error.AirlockException;
import dev.airlock.error.ExitCodes;
import java.util.List;

/**
 * Planning failed for one or more images; every failure is listed at once so the operator fixes
 * the list in one go. The exit code and the cause are {@link dev.airlock.error.FailurePolicy}'s.
 */
public class PlanException extends AirlockException {
    private static final long serialVersionUID = 1L;
    private final transient List<AirlockException> failures;

    public PlanException(List<AirlockException> failures) {
        super(message(failures), dev.airlock.error.FailurePolicy.decisive(failures).orElse(null));
        this.failures = List.copyOf(failures);
    }

    /** One failure per image that could not be planned. */
    public List<AirlockException> failures() {
        return failures;
    }

    @Override
    public int exitCode() {
        return failures.isEmpty() ? ExitCodes.FAILURE : dev.airlock.error.FailurePolicy.exitCode(failures, 0, 0);
    }

    private static String message(List<AirlockException> failures) {
        if (failures.size() == 1) {
            return failures.get(0).getMessage();
        }
        StringBuilder sb = new StringBuilder(failures.size() + " images cannot be resolved:");
        for (AirlockException f : failures) {
            sb.append("\n  - ").append(f.getMessage());
        }
        return sb.toString();
    }
}
