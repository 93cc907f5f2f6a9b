package dev.airlock.bundle;

import dev.airlock.model.Digest;
import java.nio.file.Path;

/**
 * A written bundle.
 *
 * @param bundle       the archive
 * @param checksumFile {@code BUNDLE.sha256} in sha256sum format
 * @param sha256       sha256 of the archive file as written (after compression)
 * @param bytes        size of the archive file
 * @param manifest     its bundle.json
 */
public record WriteResult(Path bundle, Path checksumFile, Digest sha256, long bytes, BundleManifest manifest) {
}
