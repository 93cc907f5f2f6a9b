package dev.airlock.error;

import java.util.List;

/**
 * A registry refused or failed an operation. Carries the HTTP status (0 when the connection
 * itself failed) and the OCI error codes of the response body, e.g. MANIFEST_BLOB_UNKNOWN.
 */
public class RegistryException extends AirlockException {
    private static final long serialVersionUID = 1L;
    private final int status;
    private final List<String> errorCodes;

    public RegistryException(String message, int status, List<String> errorCodes) {
        super(message);
        this.status = status;
        this.errorCodes = List.copyOf(errorCodes);
    }

    public RegistryException(String message, int status, List<String> errorCodes, Throwable cause) {
        super(message, cause);
        this.status = status;
        this.errorCodes = List.copyOf(errorCodes);
    }

    /** HTTP status, or 0 when no response arrived. */
    public int status() {
        return status;
    }

    /** OCI distribution error codes from the response body, possibly empty. */
    public List<String> errorCodes() {
        return errorCodes;
    }

    /** True for a 404 / *_UNKNOWN answer: the thing asked for is not there. */
    public boolean isNotFound() {
        return status == 404;
    }

    @Override
    public int exitCode() {
        return ExitCodes.REGISTRY;
    }
}
