package dev.airlock.model;

import dev.airlock.error.DigestMismatchException;
import dev.airlock.error.InvalidContentException;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.Objects;

/**
 * A manifest or index as the exact bytes that were fetched, never re-serialised. The digest is
 * always the sha256 of those bytes. Parse it with {@link #view()} to read it.
 */
public final class RawManifest {
    private final MediaType mediaType;
    private final byte[] bytes;
    private final Digest digest;

    private RawManifest(MediaType mediaType, byte[] bytes) {
        this.mediaType = Objects.requireNonNull(mediaType, "mediaType");
        if (!mediaType.isManifest()) {
            throw new InvalidContentException("unsupported manifest media type " + mediaType);
        }
        if (bytes.length > Json.MAX_DOCUMENT_BYTES) {
            throw new InvalidContentException("manifest is " + bytes.length + " bytes, over the " + Json.MAX_DOCUMENT_BYTES + "-byte limit");
        }
        this.bytes = bytes.clone();
        this.digest = Digest.sha256(this.bytes);
    }

    /** Wraps bytes whose media type is known (from a descriptor or Content-Type). */
    public static RawManifest of(MediaType mediaType, byte[] bytes) {
        return new RawManifest(mediaType, bytes);
    }

    /**
     * Wraps bytes that must have the given digest; throws {@link DigestMismatchException} naming
     * {@code what} when they do not.
     */
    public static RawManifest verified(MediaType mediaType, byte[] bytes, Digest expected, String what) {
        RawManifest m = new RawManifest(mediaType, bytes);
        if (!m.digest.equals(expected)) {
            throw new DigestMismatchException(what + ": content has digest " + m.digest + ", expected " + expected);
        }
        return m;
    }

    /**
     * Wraps bytes whose media type is only known from their own {@code mediaType} field (e.g. a
     * registry answered with a generic Content-Type).
     */
    public static RawManifest sniff(byte[] bytes, String what) {
        var node = Json.parse(bytes, what);
        var mt = node.path("mediaType");
        if (mt.isTextual()) {
            return new RawManifest(MediaType.of(mt.asText()), bytes);
        }
        if (node.has("manifests")) {
            return new RawManifest(MediaType.OCI_INDEX, bytes);
        }
        if (node.has("config") && node.has("layers")) {
            return new RawManifest(MediaType.OCI_MANIFEST, bytes);
        }
        throw new InvalidContentException(what + " has no mediaType and is neither an image manifest nor an index");
    }

    public MediaType mediaType() {
        return mediaType;
    }

    public Digest digest() {
        return digest;
    }

    public int size() {
        return bytes.length;
    }

    /** A copy of the exact bytes. */
    public byte[] bytes() {
        return bytes.clone();
    }

    /** The bytes as UTF-8 text (for display and debugging only). */
    public String text() {
        return new String(bytes, StandardCharsets.UTF_8);
    }

    /** The descriptor that names these bytes. */
    public Descriptor descriptor() {
        return Descriptor.of(mediaType, digest, bytes.length);
    }

    /** Parses a read-only view; throws {@link InvalidContentException} for malformed content. */
    public ManifestView view() {
        return ManifestView.parse(this);
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof RawManifest r && r.mediaType.equals(mediaType) && Arrays.equals(r.bytes, bytes);
    }

    @Override
    public int hashCode() {
        return digest.hashCode();
    }

    @Override
    public String toString() {
        return mediaType + " " + digest + " (" + bytes.length + " bytes)";
    }
}
