package dev.airlock.copy;

import dev.airlock.error.AirlockException;
import java.time.Duration;
import java.util.Objects;
import java.util.Optional;

/**
 * What the engine did for one image. Bytes are counted for the blobs this image was the first to
 * need in its target repository.
 *
 * @param status   {@link Status}
 * @param failure  present exactly when {@code status} is {@link Status#FAILED}
 * @param duration this image's own time: from the first transfer for it to its last manifest
 *                 (zero when not attempted)
 */
public record ImageOutcome(CopyJob job, Status status, Optional<AirlockException> failure, long bytesPushed, long bytesSkipped,
                           long bytesMounted, Duration duration) {

    /** How one image's copy ended. */
    public enum Status {
        /** Every blob and manifest is at the target (not tagged yet: {@link GraphCopier#tag} does that). */
        COPIED,
        /** This image's own transfer or manifest failed. */
        FAILED,
        /** Not attempted: the run stopped after another image failed (fail-fast). Not a failure of its own. */
        NOT_ATTEMPTED
    }

    public ImageOutcome {
        Objects.requireNonNull(job, "job");
        Objects.requireNonNull(status, "status");
        Objects.requireNonNull(failure, "failure");
        Objects.requireNonNull(duration, "duration");
        if (failure.isPresent() != (status == Status.FAILED)) {
            throw new IllegalArgumentException("an outcome has a failure exactly when it is FAILED: " + status);
        }
    }

    public boolean ok() {
        return status == Status.COPIED;
    }
}
