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
 * @param delta         for a delta ({@code since} receipts): what it relies on at the target
 */
public record ExportResult(List<ExportedImage> images, Path bundle, Path checksumFile, Digest bundleSha256, long bundleBytes,
                           int blobs, long uniqueBytes, long fetchedBytes, long cachedBytes, boolean signed,
                           Optional<String> signer, Duration duration, Optional<Delta> delta) {
    public ExportResult {
        images = List.copyOf(images);
        delta = delta == null ? Optional.empty() : delta;
    }

    /**
     * A delta's reliance on the target.
     *
     * @param basedOn       the receipts it was built against
     * @param requiredItems items it relies on at the target (bundle.json requires)
     * @param requiredBytes their total size
     */
    public record Delta(List<dev.airlock.bundle.BundleManifest.BasedOn> basedOn, int requiredItems, long requiredBytes) {
        public Delta {
            basedOn = List.copyOf(basedOn);
        }
    }

    /**
     * One exported image.
     *
     * @param source         the normalised source reference
     * @param digest         the top-level digest in the bundle (equal to the source's unless filtered)
     * @param mediaType      the top-level media type
     * @param originalDigest the source's top-level digest when {@code --platform} rewrote the index
     * @param platforms      the platforms carried (attestations not listed)
     * @param bytes          size of the image's blobs and manifests (shared blobs counted in each image);
     *                       for a delta only what it carries
     * @param artifacts      attached artifacts carried
 * @param artifactNotes  one line per artifact worth telling (e.g. its subject dropped by a platform filter)
 * @param alreadyPresent a delta carries nothing of it: the target holds the whole image
     */
    public record ExportedImage(ImageReference source, Digest digest, MediaType mediaType, Optional<Digest> originalDigest,
                                List<Platform> platforms, long bytes, int artifacts, List<String> artifactNotes, boolean alreadyPresent) {
        public ExportedImage {
            platforms = List.copyOf(platforms);
            artifactNotes = List.copyOf(artifactNotes);
        }

        public ExportedImage(ImageReference source, Digest digest, MediaType mediaType, Optional<Digest> originalDigest,
                             List<Platform> platforms, long bytes) {
            this(source, digest, mediaType, originalDigest, platforms, bytes, 0, List.of(), false);
        }

        /** True when a platform filter changed the top-level digest. */
        public boolean digestChanged() {
            return originalDigest.isPresent();
        }
    }
}
