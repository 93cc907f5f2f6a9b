package dev.airlock.copy;

import dev.airlock.error.AirlockException;
import java.time.Duration;
import java.util.Optional;

/**
 * What happened to one image. Bytes are counted for the blobs this image was the first to need
 * in its target repository.
 *
 * @param failure empty when the whole graph (blobs and manifests) is in the target
 */
public record ImageOutcome(CopyJob job, Optional<AirlockException> failure, long bytesPushed, long bytesSkipped,
                           long bytesMounted, Duration duration) {
    public boolean ok() {
        return failure.isEmpty();
    }
}
