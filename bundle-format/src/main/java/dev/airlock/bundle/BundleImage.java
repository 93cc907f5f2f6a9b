package dev.airlock.bundle;

import dev.airlock.model.Descriptor;
import dev.airlock.model.Digest;
import dev.airlock.model.ImageReference;
import dev.airlock.model.Platform;
import java.util.List;
import java.util.Objects;
import java.util.Optional;

/**
 * One exported image: where it came from and the top-level manifest or index that is in the bundle.
 *
 * @param source         full normalised source reference, e.g. {@code docker.io/rancher/pause:3.1}
 * @param descriptor     the top-level manifest or index (its exact bytes are a blob of the bundle)
 * @param platforms      the platforms the bundle carries for it, e.g. linux/amd64, linux/arm/v7
 *                       (attestation entries with platform unknown/unknown are not listed)
 * @param originalDigest the digest of the source index when a platform filter rewrote it
 * @param artifacts      what is attached to the image's manifests (format 2), in the order found
 */
public record BundleImage(ImageReference source, Descriptor descriptor, List<Platform> platforms, Optional<Digest> originalDigest,
                          List<BundleArtifact> artifacts) {
    public BundleImage {
        Objects.requireNonNull(source, "source");
        Objects.requireNonNull(descriptor, "descriptor");
        platforms = List.copyOf(platforms);
        originalDigest = originalDigest == null ? Optional.empty() : originalDigest;
        artifacts = artifacts == null ? List.of() : List.copyOf(artifacts);
    }

    /** An image without attached artifacts. */
    public BundleImage(ImageReference source, Descriptor descriptor, List<Platform> platforms, Optional<Digest> originalDigest) {
        this(source, descriptor, platforms, originalDigest, List.of());
    }

    public static BundleImage of(ImageReference source, Descriptor descriptor, List<Platform> platforms) {
        return new BundleImage(source, descriptor, platforms, Optional.empty());
    }

    public Digest digest() {
        return descriptor.digest();
    }
}
