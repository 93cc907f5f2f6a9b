package dev.airlock.export;

import dev.airlock.model.Digest;
import dev.airlock.model.ImageReference;
import dev.airlock.model.MediaType;
import dev.airlock.model.Platform;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Optional;

/**
 * A finished export.
 *
 * @param images        one per exported image, in request order
 * @param bundle        the bundle file
 * @param checksumFile  {@code BUNDLE.sha256} beside it
 * @param bundleSha256  sha256 of the bundle file
 * @param bundleBytes   size of the bundle file
 * @param blobs         unique blobs in the bundle (layers, configs, manifests, indexes)
 * @param uniqueBytes   their total size: what the bundle carries
 * @param fetchedBytes  blob bytes downloaded from registries by this run
 * @param cachedBytes   blob bytes found in the cache (an earlier or interrupted run)
 * @param signed        true when bundle.json is signed
 * @param signer        the signing key's fingerprint when signed
 * @param duration      wall time of the whole export
 */
public record ExportResult(List<ExportedImage> images, Path bundle, Path checksumFile, Digest bundleSha256, long bundleBytes,
                           int blobs, long uniqueBytes, long fetchedBytes, long cachedBytes, boolean signed,
                           Optional<String> signer, Duration duration) {
    public ExportResult {
        images = List.copyOf(images);
    }

    /**
     * One exported image.
     *
     * @param source         the normalised source reference
     * @param digest         the top-level digest in the bundle (equal to the source's unless filtered)
     * @param mediaType      the top-level media type
     * @param originalDigest the source's top-level digest when {@code --platform} rewrote the index
     * @param platforms      the platforms carried (attestations not listed)
     * @param bytes          size of the image's blobs and manifests (shared blobs counted in each image)
     */
    public record ExportedImage(ImageReference source, Digest digest, MediaType mediaType, Optional<Digest> originalDigest,
                                List<Platform> platforms, long bytes, int artifacts, List<String> artifactNotes) {
        public ExportedImage {
            platforms = List.copyOf(platforms);
            artifactNotes = List.copyOf(artifactNotes);
        }

        public ExportedImage(ImageReference source, Digest digest, MediaType mediaType, Optional<Digest> originalDigest,
                             List<Platform> platforms, long bytes) {
            this(source, digest, mediaType, originalDigest, platforms, bytes, 0, List.of());
        }

        /** True when a platform filter changed the top-level digest. */
        public boolean digestChanged() {
            return originalDigest.isPresent();
        }
    }
}
