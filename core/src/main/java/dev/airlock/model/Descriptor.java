package dev.airlock.model;

import dev.airlock.error.InvalidContentException;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;

/**
 * An OCI content descriptor: what a manifest says about a blob or a child manifest.
 *
 * @param platform    present on index entries that carry one
 * @param annotations never null, possibly empty
 */
public record Descriptor(MediaType mediaType, Digest digest, long size, Optional<Platform> platform,
                         Map<String, String> annotations) {
    /** Largest blob Airlock accepts a claim for: 1 TiB. Anything larger is treated as hostile. */
    public static final long MAX_BLOB_SIZE = 1L << 40;

    public Descriptor {
        Objects.requireNonNull(mediaType, "mediaType");
        Objects.requireNonNull(digest, "digest");
        if (size < 0 || size > MAX_BLOB_SIZE) {
            throw new InvalidContentException("descriptor " + digest + " has an impossible size " + size);
        }
        platform = platform == null ? Optional.empty() : platform;
        annotations = annotations == null ? Map.of() : Map.copyOf(annotations);
    }

    public static Descriptor of(MediaType mediaType, Digest digest, long size) {
        return new Descriptor(mediaType, digest, size, Optional.empty(), Map.of());
    }

    /** The descriptor of these exact bytes. */
    public static Descriptor ofBytes(MediaType mediaType, byte[] bytes) {
        return of(mediaType, Digest.sha256(bytes), bytes.length);
    }

    public Descriptor withPlatform(Platform p) {
        return new Descriptor(mediaType, digest, size, Optional.ofNullable(p), annotations);
    }

    public Descriptor withAnnotations(Map<String, String> a) {
        return new Descriptor(mediaType, digest, size, platform, a);
    }
}
