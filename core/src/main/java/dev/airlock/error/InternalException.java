package dev.airlock.error;

/** A bug or an unexpected state: the operator should report it. Exit code 1. */
public class InternalException extends AirlockException {
    private static final long serialVersionUID = 1L;

    public InternalException(String message, Throwable cause) {
        super("internal error: " + message, cause);
    }

    @Override
    public int exitCode() {
        return ExitCodes.FAILURE;
    }
}
