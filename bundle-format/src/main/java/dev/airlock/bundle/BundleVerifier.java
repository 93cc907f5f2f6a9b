package dev.airlock.bundle;

import dev.airlock.progress.ProgressListener;
import dev.airlock.sign.TrustPolicy;
import java.nio.file.Path;

/**
 * Verifies a bundle offline in one sequential pass, with memory independent of its size (only
 * manifests, indexes and configs, each at most 4 MiB, are held, one at a time).
 *
 * <p>Checks, failing with a one-line {@link dev.airlock.error.VerificationException} (exit code 3)
 * at the first problem: the signature against the trust policy (before anything else is parsed);
 * every entry a regular file with a layout name (no links, devices, directories, absolute or
 * {@code ..} paths), none duplicated; entries in bundle.json's order, none unlisted, none missing;
 * every file's size and sha256; index.json naming exactly the listed images; every descriptor
 * reachable from index.json present before its user with the right size and digest; every index
 * entry's platform equal to its child's config; each image's listed platforms equal to its graph;
 * only zero padding after the end of the archive. Local I/O problems throw
 * {@link dev.airlock.error.LocalIoException}.
 */
public final class BundleVerifier {
    private BundleVerifier() {
    }

    public static VerifyResult verify(Path bundle, TrustPolicy trust, ProgressListener progress) {
        String where = "bundle " + bundle;
        try (SequentialSource src = new SequentialSource(bundle, where)) {
            BundleReading.Head head = BundleReading.readHead(src, trust);
            BundleManifest m = head.manifest();
            progress.begin("verifying", m.totalBytes(), m.files().size());
            BundleReading.streamBlobs(src, head, true, null, null, progress);
            progress.end();
            return new VerifyResult(bundle, m, head.signature(), src.compressed(), m.files().size(), m.totalBytes());
        }
    }
}
