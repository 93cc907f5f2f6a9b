package dev.airlock.store;

import dev.airlock.model.Descriptor;
import dev.airlock.model.Digest;
import dev.airlock.model.RawManifest;
import java.io.InputStream;
import java.util.Optional;

/**
 * Where images are written: a registry, an OCI layout directory (the export cache).
 *
 * <p>Call order, which every destination may rely on (the engine keeps it): (1) the blobs of a
 * manifest, (2) the manifest by its digest, child manifests before their index, (3) tags last,
 * only on an image whose whole graph is present. Everything is keyed by digest, so a writer skips
 * what it already has and a re-run continues where a failure stopped.
 *
 * <p>Errors as in {@link ImageSource}. Implementations are safe for concurrent use.
 */
public interface ImageDestination extends AutoCloseable {

    /** Where this destination is, for messages. */
    String describe();

    /** The descriptor of a manifest by tag or digest if present (HEAD); empty when absent. */
    Optional<Descriptor> headManifest(String repository, String reference);

    /**
     * Stores a manifest under {@code reference} (its digest string, or a tag) with its exact bytes
     * and media type; the destination checks that the digest it computed equals {@code manifest.digest()}.
     */
    void pushManifest(String repository, String reference, RawManifest manifest);

    /** The size of a blob if present (HEAD); empty when absent. The caller compares it with the descriptor's. */
    Optional<Long> blobSize(String repository, Digest digest);

    /**
     * Stores a blob. {@code content} may be opened more than once (a retry after a broken
     * connection). The destination verifies size and digest before making the blob visible.
     */
    void pushBlob(String repository, Descriptor blob, BlobContent content);

    /**
     * Tries to make a blob that exists in {@code fromRepository} of this same destination visible
     * in {@code repository} without uploading it. Returns false when not supported or refused, in
     * which case the caller uploads.
     */
    default boolean mountBlob(String repository, Descriptor blob, String fromRepository) {
        return false;
    }

    /** Releases connections, files, threads. */
    @Override
    default void close() {
    }

    /** Re-openable blob content for {@link #pushBlob}. */
    @FunctionalInterface
    interface BlobContent {
        /** A fresh stream from the first byte. */
        InputStream open() throws java.io.IOException;

        /**
         * True when every stream {@link #open} returns checks the blob's size and sha256 itself and
         * fails at its end (or as soon as too many bytes arrive) when they differ, as
         * {@link ImageSource#openBlob} streams do. A destination that reads such a stream to its
         * end before making the blob visible need not hash it a second time.
         */
        default boolean verifiesItself() {
            return false;
        }

        /**
         * Writes the whole content into {@code file} (a file of its own, or the blob's slice of a
         * bundle; readable and writable) from position 0 itself, when it has a better way
         * than one stream from {@link #open} (a registry: several ranged requests at once, each
         * written at its offset), reporting the bytes that arrive to {@code progress}. It returns
         * only when the file holds exactly the blob, size and sha256 checked; a failure throws and
         * leaves the region to the caller (to delete, or to write again). False, with nothing written, when it has no such
         * way: the destination then reads {@link #open}.
         */
        default boolean writeInto(dev.airlock.io.BlobRegion file, java.util.function.LongConsumer progress) throws java.io.IOException {
            return false;
        }

        /** {@code content} marked as {@link #verifiesItself() verifying itself} (e.g. over {@link ImageSource#openBlob}). */
        static BlobContent selfVerifying(BlobContent content) {
            return new BlobContent() {
                @Override
                public InputStream open() throws java.io.IOException {
                    return content.open();
                }

                @Override
                public boolean verifiesItself() {
                    return true;
                }

                @Override
                public boolean writeInto(dev.airlock.io.BlobRegion file, java.util.function.LongConsumer progress) throws java.io.IOException {
                    return content.writeInto(file, progress);
                }
            };
        }
    }
}
