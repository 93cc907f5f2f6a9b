package dev.airlock.error;

/**
 * A delta bundle relies on content at the target (its {@code requires}) that the target does not
 * hold: the import stops before any upload. Exit code {@link ExitCodes#TARGET_LACKS}.
 */
public class TargetLacksException extends AirlockException {
    private static final long serialVersionUID = 1L;

    public TargetLacksException(String message) {
        super(message);
    }

    @Override
    public int exitCode() {
        return ExitCodes.TARGET_LACKS;
    }
}
