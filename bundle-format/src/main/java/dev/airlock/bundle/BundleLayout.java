package dev.airlock.bundle;

import dev.airlock.error.VerificationException;
import dev.airlock.model.Digest;
import java.nio.charset.StandardCharsets;
import java.util.Optional;
import java.util.regex.Pattern;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;

/**
 * Entry names of bundle format v1 and the rules a tar entry must pass before anything reads it.
 * Only these names exist in a bundle: {@code oci-layout}, {@code airlock/bundle.json},
 * {@code airlock/bundle.json.sig}, {@code airlock/bundle.json.p7s}, {@code airlock/signer.pub.pem},
 * {@code index.json}, {@code blobs/sha256/<64 hex>}; all regular files.
 */
public final class BundleLayout {
    /** The newest bundle format this Airlock reads and writes (2: deltas); a full bundle is written as 1. */
    public static final int FORMAT_VERSION = 2;
    public static final String OCI_LAYOUT = "oci-layout";
    public static final String BUNDLE_JSON = "airlock/bundle.json";
    public static final String SIGNATURE = "airlock/bundle.json.sig";
    public static final String CMS_SIGNATURE = "airlock/bundle.json.p7s";
    public static final String SIGNER_KEY = "airlock/signer.pub.pem";
    public static final String INDEX_JSON = "index.json";
    public static final String BLOBS_PREFIX = "blobs/sha256/";
    /** The exact content of {@code oci-layout}. */
    public static final byte[] OCI_LAYOUT_BYTES = "{\"imageLayoutVersion\":\"1.0.0\"}".getBytes(StandardCharsets.UTF_8);
    /** The OCI annotation carrying each image's full source reference in {@code index.json}. */
    public static final String REF_NAME = "org.opencontainers.image.ref.name";

    /** Largest bundle.json accepted: 32 MiB (about 100 000 files). */
    public static final int MAX_BUNDLE_JSON = 32 * 1024 * 1024;
    /** Largest signature file accepted. */
    public static final int MAX_SIGNATURE_FILE = 64 * 1024;

    private static final Pattern BLOB = Pattern.compile("blobs/sha256/[a-f0-9]{64}");

    private BundleLayout() {
    }

    /** {@code blobs/sha256/<hex>}. */
    public static String blobPath(Digest d) {
        if (!d.algorithm().equals("sha256")) {
            throw new VerificationException("blob " + d + " is not sha256; bundles hold sha256 blobs only");
        }
        return BLOBS_PREFIX + d.hex();
    }

    /** The digest named by a blob path, or empty for the other entries. */
    public static Optional<Digest> blobDigest(String path) {
        return BLOB.matcher(path).matches() ? Optional.of(new Digest("sha256", path.substring(BLOBS_PREFIX.length()))) : Optional.empty();
    }

    /** True for a name that may be listed in bundle.json's files. */
    public static boolean isListable(String path) {
        return path.equals(OCI_LAYOUT) || path.equals(INDEX_JSON) || BLOB.matcher(path).matches();
    }

    static boolean isSignatureFile(String path) {
        return path.equals(SIGNATURE) || path.equals(CMS_SIGNATURE) || path.equals(SIGNER_KEY);
    }

    /**
     * Refuses a tar entry that is not a plain regular file with one of the layout's names.
     * The message names the entry and what is wrong with it.
     */
    static void checkEntry(TarArchiveEntry e, String where) {
        String name = e.getName();
        String shown = printable(name);
        if (e.isSymbolicLink()) {
            throw new VerificationException(where + ": entry '" + shown + "' is a symbolic link (to '" + printable(e.getLinkName()) + "'); bundles hold regular files only");
        }
        if (e.isLink()) {
            throw new VerificationException(where + ": entry '" + shown + "' is a hard link (to '" + printable(e.getLinkName()) + "'); bundles hold regular files only");
        }
        if (e.isCharacterDevice() || e.isBlockDevice()) {
            throw new VerificationException(where + ": entry '" + shown + "' is a device node; bundles hold regular files only");
        }
        if (e.isFIFO()) {
            throw new VerificationException(where + ": entry '" + shown + "' is a FIFO; bundles hold regular files only");
        }
        if (e.isSparse()) {
            throw new VerificationException(where + ": entry '" + shown + "' is a sparse file; bundles hold regular files only");
        }
        if (name.startsWith("/") || name.matches("^[A-Za-z]:.*")) {
            throw new VerificationException(where + ": entry '" + shown + "' has an absolute path");
        }
        for (String seg : name.split("[/\\\\]")) {
            if (seg.equals("..")) {
                throw new VerificationException(where + ": entry '" + shown + "' has a '..' path segment (path traversal)");
            }
        }
        if (e.isDirectory()) {
            throw new VerificationException(where + ": entry '" + shown + "' is a directory; bundles hold no directory entries");
        }
        if (!e.isFile() || e.isGlobalPaxHeader() || e.isGNULongNameEntry() || e.isGNULongLinkEntry()) {
            throw new VerificationException(where + ": entry '" + shown + "' has unsupported tar type '" + (char) e.getLinkFlag() + "'");
        }
        if (!(isListable(name) || name.equals(BUNDLE_JSON) || isSignatureFile(name))) {
            throw new VerificationException(where + ": unexpected entry '" + shown + "' (not part of the bundle layout)");
        }
        if (e.getSize() < 0 || e.getSize() > dev.airlock.model.Descriptor.MAX_BLOB_SIZE) {
            throw new VerificationException(where + ": entry '" + shown + "' claims an impossible size " + e.getSize());
        }
    }

    /** Control characters and over-long names made safe for a one-line message. */
    static String printable(String s) {
        if (s == null) {
            return "";
        }
        StringBuilder b = new StringBuilder();
        for (int i = 0; i < s.length() && b.length() < 200; i++) {
            char c = s.charAt(i);
            b.append(c < 0x20 || c == 0x7f ? '?' : c);
        }
        return s.length() > 200 ? b + "…" : b.toString();
    }
}
