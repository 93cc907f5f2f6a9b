package dev.airlock.export;

import dev.airlock.model.Digest;
import dev.airlock.model.ImageReference;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.UUID;

/**
 * A finished export into volumes.
 *
 * @param setId         the set's id (in every volume's bundle.json)
 * @param standalone    written with {@code --standalone-volumes}
 * @param volumeSize    the most bytes a volume may have (as asked)
 * @param volumes       each volume written, in order
 * @param images        every image of the set (bytes: its blobs and manifests once)
 * @param uniqueBytes   every blob and manifest of the set once: what one bundle would carry
 * @param totalBytes    sum of the volume files' sizes
 * @param repeatedBytes configs and layers carried more than once (only with {@code standalone})
 * @param fetchedBytes  blob bytes downloaded by this run
 * @param cachedBytes   blob bytes found in the cache
 */
public record VolumeSetResult(UUID setId, boolean standalone, long volumeSize, List<Volume> volumes, List<ExportResult.ExportedImage> images,
                              long uniqueBytes, long totalBytes, long repeatedBytes, long fetchedBytes, long cachedBytes, boolean signed,
                              Optional<String> signer, Duration duration) {
    public VolumeSetResult {
        volumes = List.copyOf(volumes);
        images = List.copyOf(images);
    }

    /**
     * One volume file.
     *
     * @param index        1-based
     * @param images       the set images it lists (it carries all their manifests)
     * @param blobs        files of it that are blobs (configs, layers, manifests)
     * @param requiredItems configs and layers its images need from other volumes
     */
    public record Volume(int index, Path file, Path checksumFile, Digest sha256, long bytes, List<ImageReference> images, int blobs,
                         int requiredItems) {
        public Volume {
            images = List.copyOf(images);
        }
    }
}
