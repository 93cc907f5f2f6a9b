package dev.airlock.store;

import dev.airlock.model.Descriptor;
import dev.airlock.model.RawManifest;
import java.io.InputStream;

/**
 * Where images are read from: a registry, an OCI layout directory, a bundle archive, a
 * {@code docker save} tarball. The copy engine plans a graph by {@link #fetchManifest} and then
 * streams its blobs with {@link #openBlob}.
 *
 * <p>{@code repository} names the repository inside the source. A source that holds a single
 * content-addressed pool (a bundle, a docker archive) ignores it: every digest is found whatever
 * repository is asked for.
 *
 * <p>All methods throw subclasses of {@link dev.airlock.error.AirlockException} only:
 * {@link dev.airlock.error.RegistryException} (with {@code isNotFound()} for absent content),
 * {@link dev.airlock.error.VerificationException} for wrong content,
 * {@link dev.airlock.error.LocalIoException} for local files. Implementations are safe for
 * concurrent use by several worker threads.
 */
public interface ImageSource extends AutoCloseable {

    /** Where this source is, for messages: "registry 127.0.0.1:5000", "bundle /mnt/usb/k3s.tar". */
    String describe();

    /**
     * Fetches a manifest or index by tag or digest, as its exact bytes. When {@code reference} is a
     * digest the bytes are verified against it. Absent: RegistryException with isNotFound().
     */
    RawManifest fetchManifest(String repository, String reference);

    /**
     * Opens a blob for reading. The returned stream checks size and sha256 against {@code blob}
     * while it is read and throws {@link dev.airlock.error.DigestMismatchException} at the end
     * (or as soon as too many bytes arrive) when they differ. The caller closes it.
     */
    InputStream openBlob(String repository, Descriptor blob);

    /**
     * A blob as re-openable content for {@link ImageDestination#pushBlob}: {@link #openBlob}, marked
     * as verifying itself. A source with a better way into a file overrides it (a registry fetches a
     * large blob as up to {@code parallel} ranged requests at once, see
     * {@link ImageDestination.BlobContent#writeInto}).
     */
    default ImageDestination.BlobContent blobContent(String repository, Descriptor blob, int parallel) {
        return ImageDestination.BlobContent.selfVerifying(() -> openBlob(repository, blob));
    }

    /** Releases connections, files, threads. */
    @Override
    default void close() {
    }
}
