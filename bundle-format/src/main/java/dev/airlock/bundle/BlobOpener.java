package dev.airlock.bundle;

import dev.airlock.model.Descriptor;
import java.io.IOException;
import java.io.InputStream;

/**
 * Opens the content of a blob for {@link BundleWriter}, e.g. a lambda over the export's
 * content-addressed cache: {@code d -> cache.openBlob(repo, d)}. The writer verifies size and
 * sha256 while copying (unless {@link #alreadyVerified}) and closes the stream.
 */
@FunctionalInterface
public interface BlobOpener {
    InputStream open(Descriptor blob) throws IOException;

    /**
     * True when {@code blob}'s content was already checked for size and sha256 by this process
     * moments ago (e.g. fetched, verified and renamed into the export cache in this run): the
     * writer then checks only its size, saving a second sha256 pass over it. Default: false,
     * every blob is verified while copied (once: a {@link dev.airlock.io.VerifyingInputStream}
     * for the same digest and size returned by the opener is not wrapped in a second one).
     */
    default boolean alreadyVerified(Descriptor blob) {
        return false;
    }
}
