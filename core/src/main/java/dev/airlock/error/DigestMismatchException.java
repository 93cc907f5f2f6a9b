package dev.airlock.error;

/** Content whose sha256 or size differs from what its descriptor promised. */
public class DigestMismatchException extends VerificationException {
    private static final long serialVersionUID = 1L;

    public DigestMismatchException(String message) {
        super(message);
    }
}
