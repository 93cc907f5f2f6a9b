package dev.airlock.bundle;

import dev.airlock.error.Printable;
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
    /** The newest bundle format this Airlock reads and writes: 3 (volumes); 2 has attached artifacts or a delta; a bundle using none of them is written as 1. */
    public static final int FORMAT_VERSION = 3;
    /** The oldest format this code reads: 1 (no attached artifacts, no delta). */
    public static final int OLDEST_FORMAT_VERSION = 1;
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
        String shown = Printable.of(name);
        if (e.isSymbolicLink()) {
            throw new VerificationException(where + ": entry '" + shown + "' is a symbolic link (to '" + Printable.of(e.getLinkName()) + "'); bundles hold regular files only");
        }
        if (e.isLink()) {
            throw new VerificationException(where + ": entry '" + shown + "' is a hard link (to '" + Printable.of(e.getLinkName()) + "'); bundles hold regular files only");
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
        if (!e.isCheckSumOK()) {
            throw new VerificationException(where + ": entry '" + shown + "' has a tar header with a bad checksum");
        }
        if ((e.getMode() & 07777 & ~ENTRY_MODE) != 0) {
            throw new VerificationException(where + ": entry '" + shown + "' has mode " + String.format("%04o", e.getMode() & 07777)
                    + "; bundle entries have mode 0644 (no execute, set-id or group/other write bits)");
        }
        if (e.getLongUserId() != 0 || e.getLongGroupId() != 0) {
            throw new VerificationException(where + ": entry '" + shown + "' has uid " + e.getLongUserId() + " and gid " + e.getLongGroupId()
                    + "; bundle entries have uid 0 and gid 0");
        }
    }

    /** The permission bits of every entry (readers refuse any bit beyond these). */
    static final int ENTRY_MODE = 0644;
    /** Size of a tar record, and of each of the two zero records that end an archive. */
    static final int RECORD = 512;

    /**
     * Refuses a header record that is not POSIX ustar: magic {@code "ustar\0"} and version
     * {@code "00"} at offsets 257 and 263 (GNU "ustar  " and pre-POSIX headers are refused).
     */
    static void checkUstar(byte[] header, int off, String where, String entry) {
        byte[] magic = {'u', 's', 't', 'a', 'r', 0, '0', '0'};
        for (int i = 0; i < magic.length; i++) {
            if (header[off + 257 + i] != magic[i]) {
                throw new VerificationException(where + ": entry '" + Printable.of(entry) + "' has no POSIX ustar magic in its tar header");
            }
        }
    }

    /** Refuses an archive whose last entry is not followed by the two zero records of the end of a tar. */
    static void checkEndRecords(long zeroBytesAfterLastEntry, String where) {
        if (zeroBytesAfterLastEntry < 2L * RECORD) {
            throw new VerificationException(where + ": the archive ends without the two zero records of a tar end-of-archive marker"
                    + " (truncated?)");
        }
    }

}
