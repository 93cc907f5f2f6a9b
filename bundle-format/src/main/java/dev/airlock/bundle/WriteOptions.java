package dev.airlock.bundle;

import dev.airlock.sign.Signer;
import dev.airlock.model.Digest;
import java.time.Instant;
import java.util.List;
import java.util.Set;
import java.util.Optional;
import java.util.UUID;

/**
 * How {@link BundleWriter} writes a bundle.
 *
 * @param signer    signs bundle.json (.sig, signer.pub.pem, and .p7s when the signer has a certificate)
 * @param compress  zstd-compress the tar; also implied by an output name ending in {@code .zst}
 * @param zstdLevel zstd level, 1..19 (3 is zstd's default)
 * @param workers   zstd worker threads (0 = compress on the calling thread)
 * @param bundleId  fixed bundle id (default: random), for reproducible output
 * @param created   fixed creation time (default: now), for reproducible output
 * @param tool      the writing program recorded in bundle.json
 * @param imageGraphs per image (same order as the images written): the digests of every file of
 *                  its graph (blobs and manifests, e.g. {@code ImagePlan.digests()}); when given,
 *                  bundle.json lists for each blob the images that use it ({@code files[].images}),
 *                  which lets an importer stream a {@code .tar.zst} once
 */
public record WriteOptions(Optional<Signer> signer, boolean compress, int zstdLevel, int workers,
                           Optional<UUID> bundleId, Optional<Instant> created, BundleManifest.Tool tool,
                           Optional<List<Set<Digest>>> imageGraphs) {
    public WriteOptions {
        signer = signer == null ? Optional.empty() : signer;
        imageGraphs = imageGraphs == null ? Optional.empty() : imageGraphs.map(l -> l.stream().map(Set::copyOf).toList());
        bundleId = bundleId == null ? Optional.empty() : bundleId;
        created = created == null ? Optional.empty() : created;
        if (zstdLevel < 1 || zstdLevel > 19) {
            throw new dev.airlock.error.UsageException("zstd level " + zstdLevel + " is outside 1..19");
        }
        if (workers < 0 || workers > 256) {
            throw new dev.airlock.error.UsageException("zstd workers " + workers + " is outside 0..256");
        }
    }

    public WriteOptions(Optional<Signer> signer, boolean compress, int zstdLevel, int workers,
                        Optional<UUID> bundleId, Optional<Instant> created, BundleManifest.Tool tool) {
        this(signer, compress, zstdLevel, workers, bundleId, created, tool, Optional.empty());
    }

    /** Unsigned, uncompressed (unless the name ends in .zst), level 3, one worker per core, random id, now. */
    public static WriteOptions defaults() {
        return new WriteOptions(Optional.empty(), false, 3, Runtime.getRuntime().availableProcessors(),
                Optional.empty(), Optional.empty(), new BundleManifest.Tool("airlock", toolVersion()));
    }

    public WriteOptions withSigner(Signer s) {
        return new WriteOptions(Optional.of(s), compress, zstdLevel, workers, bundleId, created, tool, imageGraphs);
    }

    public WriteOptions withCompression(boolean on, int level, int threads) {
        return new WriteOptions(signer, on, level, threads, bundleId, created, tool, imageGraphs);
    }

    /** Fixes bundle id and creation time so the same input gives the same bytes. */
    public WriteOptions withIdentity(UUID id, Instant time) {
        return new WriteOptions(signer, compress, zstdLevel, workers, Optional.of(id), Optional.of(time), tool, imageGraphs);
    }

    public WriteOptions withTool(BundleManifest.Tool t) {
        return new WriteOptions(signer, compress, zstdLevel, workers, bundleId, created, t, imageGraphs);
    }

    /** Lists in bundle.json which images use each blob; see {@code imageGraphs}. */
    public WriteOptions withImageGraphs(List<? extends java.util.Collection<Digest>> perImage) {
        return new WriteOptions(signer, compress, zstdLevel, workers, bundleId, created, tool,
                Optional.of(perImage.stream().map(c -> (Set<Digest>) Set.copyOf(c)).toList()));
    }

    private static String toolVersion() {
        String v = WriteOptions.class.getPackage().getImplementationVersion();
        return v == null ? "dev" : v;
    }
}
