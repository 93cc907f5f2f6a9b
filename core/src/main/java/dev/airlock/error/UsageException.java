package dev.airlock.error;

/** The operator asked for something that cannot be done as asked: a malformed reference, an unknown platform, conflicting options. */
public class UsageException extends AirlockException {
    private static final long serialVersionUID = 1L;

    public UsageException(String message) {
        super(message);
    }

    public UsageException(String message, Throwable cause) {
        super(message, cause);
    }

    @Override
    public int exitCode() {
        return ExitCodes.USAGE;
    }
}
