package dev.airlock.export;

import dev.airlock.error.UsageException;

/**
 * How {@link Exporter#exportVolumes} splits a set of images into volumes.
 *
 * @param size       the most bytes one volume file may have (tar headers, bundle.json, signatures
 *                   and, for {@code .tar.zst}, the zstd framing included); see {@link VolumeSize}
 * @param standalone repeat shared blobs so that every volume's images are complete in it alone
 */
public record VolumeOptions(long size, boolean standalone) {
    public VolumeOptions {
        if (size < VolumeSize.MIN) {
            throw new UsageException("a volume must hold at least " + VolumeSize.MIN + " bytes, got " + size);
        }
    }
}
