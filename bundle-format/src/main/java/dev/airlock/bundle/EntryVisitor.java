package dev.airlock.bundle;

import java.io.IOException;
import java.io.InputStream;

/**
 * Receives each blob of a bundle in archive order (dependency order: a blob always comes before
 * the manifests and indexes that reference it). The stream checks size and sha256 while it is
 * read and throws {@link dev.airlock.error.DigestMismatchException} at its end when they differ;
 * whatever the visitor does not read is drained and checked after it returns. Manifests, indexes
 * and configs are checked before the visitor sees them. The visitor must not close the archive.
 */
@FunctionalInterface
public interface EntryVisitor {
    /**
     * @param file    the blob's bundle.json entry ({@link BundleManifest.FileEntry#descriptor()} gives
     *                media type, digest and size)
     * @param content its verified content
     */
    void visit(BundleManifest.FileEntry file, InputStream content) throws IOException;
}
