package dev.airlock.bundle;

import dev.airlock.model.Digest;
import dev.airlock.model.ImageReference;
import java.util.List;
import java.util.Objects;
import java.util.UUID;

/**
 * A bundle's place in a volume set (format 3, {@code airlock export --volume-size}): the set it
 * belongs to, its number {@code index} of {@code count}, and every image of the whole set with the
 * volumes that hold part of it. The bundle's own {@code images} are the set images whose
 * {@code volumes} include {@code index}; what they need from other volumes is listed in
 * {@code requires}, each item naming the volume that holds it.
 *
 * @param standalone written with {@code --standalone-volumes}: every volume's images are complete
 *                   in it alone (shared blobs repeated), so it has no {@code requires}
 */
public record BundleVolume(UUID setId, int index, int count, boolean standalone, List<SetImage> images) {
    /** Most volumes in one set (file names are {@code NAME.volNNN.tar}). */
    public static final int MAX_VOLUMES = 999;

    public BundleVolume {
        Objects.requireNonNull(setId, "setId");
        images = List.copyOf(images);
    }

    /**
     * One image of the set.
     *
     * @param volumes the numbers (1-based, ascending) of the volumes holding part of it; each of
     *                them lists the image and carries all its manifests
     */
    public record SetImage(ImageReference source, Digest digest, List<Integer> volumes) {
        public SetImage {
            Objects.requireNonNull(source, "source");
            Objects.requireNonNull(digest, "digest");
            volumes = List.copyOf(volumes);
        }
    }

    /** "volume 2 of 3 of set 1b2c…" for messages. */
    public String describe() {
        return "volume " + index + " of " + count + " of set " + setId;
    }
}
