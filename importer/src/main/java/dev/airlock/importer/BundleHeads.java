package dev.airlock.importer;

import dev.airlock.error.InvalidContentException;
import dev.airlock.error.RegistryException;
import dev.airlock.error.UsageException;
import dev.airlock.io.VerifyingInputStream;
import dev.airlock.model.Descriptor;
import dev.airlock.model.Digest;
import dev.airlock.model.Json;
import dev.airlock.model.RawManifest;
import dev.airlock.store.ImageSource;
import java.io.ByteArrayInputStream;
import java.io.InputStream;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The manifests, indexes and image configs of a bundle that can only be read front to back
 * (.tar.zst), kept in memory after a first, verifying pass so that the graph can be planned;
 * layers are never held. Read-only {@link ImageSource} keyed by digest (repository ignored).
 */
final class BundleHeads implements ImageSource {
    /** Total bytes of manifests and configs kept; a bundle needing more is refused. */
    static final long MAX_TOTAL = 256L << 20;

    private final String where;
    private final Map<Digest, byte[]> docs = new ConcurrentHashMap<>();
    private final Map<Digest, RawManifest> manifests = new ConcurrentHashMap<>();
    private long total;

    BundleHeads(String where) {
        this.where = where;
    }

    /** True for the entries kept: manifests, indexes and image configs (all small JSON). */
    static boolean keeps(Descriptor d) {
        return (d.mediaType().isManifest() || d.mediaType().isImageConfig()) && d.size() <= Json.MAX_DOCUMENT_BYTES;
    }

    synchronized void add(Descriptor d, byte[] bytes) {
        total += bytes.length;
        if (total > MAX_TOTAL) {
            throw new InvalidContentException(where + ": manifests and configs exceed " + (MAX_TOTAL >> 20)
                    + " MiB; decompress the bundle to a .tar and import that");
        }
        docs.put(d.digest(), bytes);
        if (d.mediaType().isManifest()) {
            manifests.put(d.digest(), RawManifest.verified(d.mediaType(), bytes, d.digest(), where + ": manifest " + d.digest()));
        }
    }

    @Override
    public String describe() {
        return where;
    }

    @Override
    public RawManifest fetchManifest(String repository, String reference) {
        RawManifest m = reference.contains(":") ? manifests.get(Digest.parse(reference)) : null;
        if (m == null) {
            throw new RegistryException(where + ": no manifest " + reference, 404, List.of("MANIFEST_UNKNOWN"));
        }
        return m;
    }

    public Optional<Descriptor> headManifest(String repository, String reference) {
        RawManifest m = reference.contains(":") ? manifests.get(Digest.parse(reference)) : null;
        return Optional.ofNullable(m).map(RawManifest::descriptor);
    }


    public Optional<Long> blobSize(String repository, Digest digest) {
        return Optional.ofNullable(docs.get(digest)).map(b -> (long) b.length);
    }

    @Override
    public InputStream openBlob(String repository, Descriptor blob) {
        byte[] b = docs.get(blob.digest());
        if (b == null) {
            throw new UsageException(where + " is zstd-compressed: blob " + blob.digest() + " can only be read in the sequential pass");
        }
        return new VerifyingInputStream(new ByteArrayInputStream(b), blob.digest(), blob.size(), where + ": " + blob.digest());
    }

}
