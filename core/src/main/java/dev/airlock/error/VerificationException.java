package dev.airlock.error;

/** The bundle or a piece of content is not what it claims to be: digest or size mismatch, bad or untrusted signature, missing or unlisted entry, hostile tar entry, malformed JSON, platform mismatch. */
public class VerificationException extends AirlockException {
    private static final long serialVersionUID = 1L;

    public VerificationException(String message) {
        super(message);
    }

    public VerificationException(String message, Throwable cause) {
        super(message, cause);
    }

    @Override
    public int exitCode() {
        return ExitCodes.VERIFICATION;
    }
}
