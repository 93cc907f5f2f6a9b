package dev.airlock.preflight;

import dev.airlock.error.AirlockException;
import dev.airlock.error.ExitCodes;

/** The target cannot take the bundle: found before anything of it was uploaded (exit code 7). */
public final class TargetRefusedException extends AirlockException {
    private static final long serialVersionUID = 1L;

    public TargetRefusedException(String message) {
        super(message);
    }

    @Override
    public int exitCode() {
        return ExitCodes.TARGET_REFUSES;
    }
}
