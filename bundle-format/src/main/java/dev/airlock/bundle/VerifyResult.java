package dev.airlock.bundle;

import dev.airlock.sign.SignatureInfo;
import java.nio.file.Path;

/**
 * A bundle that passed {@link BundleVerifier#verify}.
 *
 * @param files number of listed files checked (oci-layout, index.json and blobs)
 * @param bytes their total size
 */
public record VerifyResult(Path bundle, BundleManifest manifest, SignatureInfo signature, boolean compressed, int files, long bytes) {
    /** One line for an operator. */
    public String summary() {
        return "OK " + bundle.getFileName() + ": " + manifest.images().size() + " image(s), " + files + " files, " + bytes + " bytes, "
                + signature.describe();
    }
}
