package dev.airlock.bundle;

import com.fasterxml.jackson.databind.JsonNode;
import dev.airlock.error.InvalidContentException;
import dev.airlock.error.LocalIoException;
import dev.airlock.error.Printable;
import dev.airlock.error.VerificationException;
import dev.airlock.io.VerifyingInputStream;
import dev.airlock.model.Descriptor;
import dev.airlock.model.Json;
import dev.airlock.model.ManifestView;
import dev.airlock.model.MediaType;
import dev.airlock.progress.ProgressListener;
import dev.airlock.sign.SignatureCheck;
import dev.airlock.sign.SignatureInfo;
import dev.airlock.sign.TrustPolicy;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;

/** The reading rules shared by {@link BundleArchive} and {@link BundleVerifier}. */
final class BundleReading {
    private static final List<String> SIGNATURE_ORDER = List.of(BundleLayout.SIGNATURE, BundleLayout.CMS_SIGNATURE, BundleLayout.SIGNER_KEY);

    /** The verified first entries of a bundle. */
    record Head(BundleManifest manifest, SignatureInfo signature, byte[] indexJson) {
    }

    /** Called for every blob entry with its position; used by the indexed reader. */
    interface Placement {
        void place(BundleManifest.FileEntry file);
    }

    private BundleReading() {
    }

    /**
     * Reads oci-layout, bundle.json and the signature files, checks the signature against the
     * policy BEFORE parsing bundle.json, then parses it and checks oci-layout and index.json
     * against it. Leaves the source positioned after index.json.
     */
    static Head readHead(EntrySource src, TrustPolicy policy) {
        String where = src.where;
        TarArchiveEntry e = src.next();
        if (e == null || !e.getName().equals(BundleLayout.OCI_LAYOUT)) {
            throw new VerificationException(where + ": first entry is " + (e == null ? "missing (empty archive)" : "'" + Printable.of(e.getName()) + "'")
                    + ", expected oci-layout (not an Airlock bundle?)");
        }
        byte[] layout = small(src, e, 4096);
        e = src.next();
        if (e == null || !e.getName().equals(BundleLayout.BUNDLE_JSON)) {
            throw new VerificationException(where + ": second entry is " + (e == null ? "missing" : "'" + Printable.of(e.getName()) + "'")
                    + ", expected airlock/bundle.json (not an Airlock bundle?)");
        }
        byte[] bundleJson = small(src, e, BundleLayout.MAX_BUNDLE_JSON);
        byte[][] sigs = new byte[3][];
        int nextSig = 0;
        while (true) {
            e = src.next();
            int k = e == null ? -1 : SIGNATURE_ORDER.indexOf(e.getName());
            if (k < 0) {
                break;
            }
            if (k < nextSig) {
                throw new VerificationException(where + ": signature file '" + e.getName() + "' is out of order (expected .sig, .p7s, signer.pub.pem)");
            }
            sigs[k] = small(src, e, BundleLayout.MAX_SIGNATURE_FILE);
            nextSig = k + 1;
        }
        SignatureInfo sig = SignatureCheck.check(where, bundleJson, Optional.ofNullable(sigs[0]), Optional.ofNullable(sigs[1]),
                Optional.ofNullable(sigs[2]), policy);
        BundleManifest manifest = BundleManifest.parse(bundleJson, where);
        checkListed(where, manifest.files().get(0), layout);
        if (!Arrays.equals(layout, BundleLayout.OCI_LAYOUT_BYTES)) {
            JsonNode n = Json.parse(layout, where + ": oci-layout");
            if (!n.path("imageLayoutVersion").isTextual()) {
                throw new InvalidContentException(where + ": oci-layout has no imageLayoutVersion");
            }
        }
        if (e == null || !e.getName().equals(BundleLayout.INDEX_JSON)) {
            throw new VerificationException(where + ": entry " + (e == null ? "index.json is missing" : "'" + Printable.of(e.getName()) + "' comes where index.json belongs"));
        }
        BundleManifest.FileEntry indexEntry = manifest.files().get(1);
        if (e.getSize() != indexEntry.size()) {
            throw new VerificationException(where + ": index.json is " + e.getSize() + " bytes in the archive but bundle.json lists " + indexEntry.size());
        }
        byte[] index = small(src, e, Json.MAX_DOCUMENT_BYTES);
        checkListed(where, indexEntry, index);
        checkIndex(where, manifest, index);
        return new Head(manifest, sig, index);
    }

    /**
     * Goes through the blob entries after the head: each must be the next listed file with the
     * listed size; manifests/indexes/configs are read, verified and graph-checked; other blobs are
     * read and verified when {@code readAll} (then given to {@code visitor} if any), else only placed.
     */
    static void streamBlobs(EntrySource src, Head head, boolean readAll, EntryVisitor visitor, Placement placement, ProgressListener progress) {
        String where = src.where;
        List<BundleManifest.FileEntry> files = head.manifest().files();
        GraphChecker graph = new GraphChecker(where, d -> head.manifest().blob(d).isPresent(), head.manifest());
        byte[] buf = new byte[1 << 20];
        int i = 2;
        TarArchiveEntry e;
        while ((e = src.next()) != null) {
            String name = e.getName();
            if (i >= files.size() || !files.get(i).path().equals(name)) {
                Optional<BundleManifest.FileEntry> listed = head.manifest().file(name);
                if (listed.isEmpty()) {
                    throw new VerificationException(where + ": entry '" + Printable.of(name) + "' is not listed in bundle.json");
                }
                int at = files.indexOf(listed.get());
                if (at > i) {
                    throw new VerificationException(where + ": listed file '" + files.get(i).path() + "' is missing from the archive (found '"
                            + name + "' in its place)");
                }
                throw new VerificationException(where + ": entry '" + name + "' is out of order"
                        + (i < files.size() ? " (expected '" + files.get(i).path() + "' here)" : "") + "; entries must follow bundle.json's file order");
            }
            BundleManifest.FileEntry f = files.get(i++);
            if (e.getSize() != f.size()) {
                throw new VerificationException(where + ": entry '" + name + "' is " + e.getSize() + " bytes in the tar header but bundle.json lists " + f.size());
            }
            Descriptor d = f.descriptor();
            String what = where + ": " + name + (GraphChecker.needsContent(f.descriptor().mediaType()) ? " (" + kind(f.descriptor().mediaType()) + ")" : "");
            if (placement != null) {
                placement.place(f);
            }
            MediaType mt = d.mediaType();
            if (GraphChecker.needsContent(mt)) {
                if (d.size() > Json.MAX_DOCUMENT_BYTES) {
                    throw new InvalidContentException(what + " is a " + mt + " of " + d.size() + " bytes, over the " + Json.MAX_DOCUMENT_BYTES + "-byte limit");
                }
                byte[] bytes = readVerified(src.content(), d, what);
                graph.json(d, bytes);
                progress.bytes(bytes.length);
                if (visitor != null) {
                    visit(visitor, f, new ByteArrayInputStream(bytes), where);
                }
            } else {
                graph.blob(d);
                if (readAll) {
                    VerifyingInputStream in = new VerifyingInputStream(src.content(), d.digest(), d.size(), what);
                    InputStream counted = new dev.airlock.io.ProgressInputStream(in, progress);
                    if (visitor != null) {
                        visit(visitor, f, counted, where);
                    }
                    drain(counted, buf);
                }
            }
            progress.itemDone(name);
        }
        if (i < files.size()) {
            throw new VerificationException(where + ": listed file '" + files.get(i).path() + "' is missing from the archive"
                    + (files.size() - i > 1 ? " (and " + (files.size() - i - 1) + " more)" : ""));
        }
        src.end();
        graph.finish(head.manifest().images());
    }

    private static String kind(MediaType mt) {
        return mt.isIndex() ? "index" : mt.isImageManifest() ? "manifest" : "config";
    }

    /** Reads a whole entry (at most {@code max} bytes claimed) into memory. */
    static byte[] small(EntrySource src, TarArchiveEntry e, int max) {
        if (e.getSize() > max) {
            throw new VerificationException(src.where + ": entry '" + e.getName() + "' claims " + e.getSize() + " bytes, over the limit of " + max);
        }
        byte[] b;
        try {
            b = src.content().readNBytes((int) e.getSize());
        } catch (IOException x) {
            throw src.damaged(x, "entry '" + e.getName() + "'");
        }
        if (b.length != e.getSize()) {
            throw new VerificationException(src.where + ": entry '" + e.getName() + "' is truncated (" + b.length + " of " + e.getSize() + " bytes)");
        }
        return b;
    }

    static byte[] readVerified(InputStream raw, Descriptor d, String what) {
        try (VerifyingInputStream in = new VerifyingInputStream(raw, d.digest(), d.size(), what)) {
            byte[] b = in.readNBytes((int) d.size());
            if (in.read() >= 0) {
                throw new VerificationException(what + ": more than the expected " + d.size() + " bytes");
            }
            return b;
        } catch (IOException x) {
            throw new LocalIoException(what + ": " + x.getMessage(), x);
        }
    }

    private static void checkListed(String where, BundleManifest.FileEntry f, byte[] bytes) {
        if (bytes.length != f.size() || !dev.airlock.model.Digest.sha256(bytes).equals(f.sha256())) {
            throw new VerificationException(where + ": " + f.path() + " does not match bundle.json (size " + bytes.length + ", sha256 "
                    + dev.airlock.model.Digest.sha256(bytes).hex() + "; listed size " + f.size() + ", sha256 " + f.sha256().hex() + ")");
        }
    }

    /** index.json must be an OCI index naming exactly the bundle's images, in order, with their references. */
    private static void checkIndex(String where, BundleManifest m, byte[] index) {
        String what = where + ": index.json";
        JsonNode root = Json.parse(index, what);
        if (!root.isObject() || !root.path("manifests").isArray() || root.path("schemaVersion").asInt() != 2) {
            throw new InvalidContentException(what + " is not an OCI image index");
        }
        JsonNode ms = root.get("manifests");
        if (ms.size() != m.images().size()) {
            throw new VerificationException(what + " has " + ms.size() + " entries but bundle.json lists " + m.images().size() + " images");
        }
        for (int i = 0; i < ms.size(); i++) {
            Descriptor d = descriptor(ms.get(i), what + " manifests[" + i + "]");
            BundleImage img = m.images().get(i);
            if (!d.digest().equals(img.digest()) || d.size() != img.descriptor().size() || !d.mediaType().equals(img.descriptor().mediaType())
                    || !img.source().toString().equals(d.annotations().get(BundleLayout.REF_NAME))) {
                throw new VerificationException(what + " entry " + i + " (" + d.digest() + " " + d.annotations().getOrDefault(BundleLayout.REF_NAME, "no ref.name")
                        + ") does not match bundle.json image " + img.source() + " " + img.digest());
            }
        }
    }

    private static Descriptor descriptor(JsonNode n, String what) {
        Descriptor d = ManifestView.descriptor(n, what);
        if (!d.mediaType().isManifest()) {
            throw new InvalidContentException(what + " has media type " + d.mediaType() + ", not a manifest type");
        }
        return d;
    }

    private static void visit(EntryVisitor visitor, BundleManifest.FileEntry f, InputStream in, String where) {
        try {
            visitor.visit(f, in);
        } catch (IOException e) {
            throw new LocalIoException(where + ": processing " + f.path() + ": " + e.getMessage(), e);
        }
    }

    private static void drain(InputStream in, byte[] buf) {
        try {
            while (in.read(buf) >= 0) {
                // verification happens at the end of the stream
            }
        } catch (IOException e) {
            throw new LocalIoException(e.getMessage(), e);
        }
    }
}
