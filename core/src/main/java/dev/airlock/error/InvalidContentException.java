package dev.airlock.error;

/** JSON or structure that cannot be accepted: bad syntax, duplicate keys, trailing data, unknown media type, missing field. */
public class InvalidContentException extends VerificationException {
    private static final long serialVersionUID = 1L;

    public InvalidContentException(String message) {
        super(message);
    }

    public InvalidContentException(String message, Throwable cause) {
        super(message, cause);
    }
}
