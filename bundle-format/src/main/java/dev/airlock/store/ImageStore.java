package dev.airlock.store;

import dev.airlock.model.Descriptor;
import dev.airlock.model.Digest;
import dev.airlock.model.RawManifest;
import java.io.InputStream;
import java.util.Optional;

/**
 * One read/write view of where images live: a registry, an OCI layout directory (the export
 * cache), a bundle archive. Export, import and sync are the same graph copy between two stores.
 *
 * <p>Call order for writers, which every store may rely on: the blobs of a manifest before the
 * manifest, child manifests (by digest) before their index, tags last. Everything is keyed by
 * digest, so a writer skips what it already has and a re-run continues where a failure stopped.
 *
 * <p>All methods throw subclasses of {@link dev.airlock.error.AirlockException} only:
 * {@link dev.airlock.error.RegistryException} (with {@code isNotFound()} for absent content),
 * {@link dev.airlock.error.VerificationException} for wrong content,
 * {@link dev.airlock.error.LocalIoException} for local files.
 *
 * <p>Implementations are safe for concurrent use by several worker threads.
 */
public interface ImageStore extends AutoCloseable {

    /** Where this store is, for messages: "registry 127.0.0.1:5000", "bundle /mnt/usb/k3s.tar". */
    String describe();

    /**
     * Fetches a manifest or index by tag or digest, as its exact bytes. When {@code reference} is a
     * digest the bytes are verified against it. Absent: RegistryException with isNotFound().
     */
    RawManifest fetchManifest(String repository, String reference);

    /** The descriptor of a manifest by tag or digest if present (HEAD); empty when absent. */
    Optional<Descriptor> headManifest(String repository, String reference);

    /**
     * Stores a manifest under {@code reference} (its digest string, or a tag) with its exact bytes
     * and media type; the store checks that the digest it computed equals {@code manifest.digest()}.
     */
    void pushManifest(String repository, String reference, RawManifest manifest);

    /** The size of a blob if present (HEAD); empty when absent. */
    Optional<Long> blobSize(String repository, Digest digest);

    /**
     * Opens a blob for reading. The returned stream checks size and sha256 against {@code blob}
     * while it is read and throws {@link dev.airlock.error.DigestMismatchException} at the end
     * (or as soon as too many bytes arrive) when they differ. The caller closes it.
     */
    InputStream openBlob(String repository, Descriptor blob);

    /**
     * Stores a blob. {@code content} may be opened more than once (a retry after a broken
     * connection). The store verifies size and digest before making the blob visible.
     */
    void pushBlob(String repository, Descriptor blob, BlobContent content);

    /**
     * Tries to make a blob that exists in {@code fromRepository} of this same store visible in
     * {@code repository} without uploading it. Returns false when not supported or refused, in
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
         * {@link ImageStore#openBlob} streams do. A store that reads such a stream to its end
         * before making the blob visible need not hash it a second time.
         */
        default boolean verifiesItself() {
            return false;
        }

        /** {@code content} marked as {@link #verifiesItself() verifying itself} (e.g. over {@link ImageStore#openBlob}). */
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
            };
        }
    }
}
