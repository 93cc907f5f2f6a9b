package dev.airlock.bundle;

import dev.airlock.model.Descriptor;
import java.io.IOException;
import java.io.InputStream;

/**
 * Opens the content of a blob for {@link BundleWriter}, e.g. a lambda over the export's
 * content-addressed cache: {@code d -> cache.openBlob(repo, d)}. The writer verifies size and
 * sha256 itself while copying and closes the stream.
 */
@FunctionalInterface
public interface BlobOpener {
    InputStream open(Descriptor blob) throws IOException;
}
