package dev.airlock.error;

/** Local file-system I/O failed: a missing file, a full disk, a permission problem. */
public class LocalIoException extends AirlockException {
    private static final long serialVersionUID = 1L;

    public LocalIoException(String message) {
        super(message);
    }

    public LocalIoException(String message, Throwable cause) {
        super(message, cause);
    }

    @Override
    public int exitCode() {
        return ExitCodes.IO;
    }
}
