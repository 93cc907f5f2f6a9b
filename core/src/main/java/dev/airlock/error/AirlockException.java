package dev.airlock.error;

/**
 * Root of every error Airlock reports. Messages name the action, the object and, where there is
 * one, the other side's answer: "pushing manifest sha256:ab… to 127.0.0.1:5000/app: 400 MANIFEST_BLOB_UNKNOWN".
 * The message is meant to be shown to an operator as one line; {@link #exitCode()} decides the
 * process exit status in one place (the CLI maps nothing else).
 */
public abstract class AirlockException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    protected AirlockException(String message) {
        super(message);
    }

    protected AirlockException(String message, Throwable cause) {
        super(message, cause);
    }

    /** The process exit code this failure maps to; see {@link ExitCodes}. */
    public abstract int exitCode();
}
