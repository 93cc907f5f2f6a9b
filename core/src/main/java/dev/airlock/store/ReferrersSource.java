package dev.airlock.store;

import dev.airlock.model.Descriptor;
import dev.airlock.model.Digest;
import java.util.List;
import java.util.Optional;

/**
 * An optional capability of an {@link ImageSource} (checked at runtime): it answers the OCI 1.1
 * referrers question, "which manifests name this digest as their {@code subject}?". A registry
 * answers it with {@code GET /v2/<name>/referrers/<digest>}; a bundle from its own artifact list.
 *
 * <p>A source without a referrers API (CNCF Distribution 2.8) returns empty: the caller then reads
 * the referrers tag schema (tag {@code sha256-<hex>} holding an index of referrer descriptors).
 */
public interface ReferrersSource {

    /**
     * The descriptors the source lists for {@code subject} (possibly none), or empty when the
     * source has no referrers API at all. Errors as in {@link ImageSource}.
     */
    Optional<List<Descriptor>> referrersApi(String repository, Digest subject);

    /** The tag the referrers tag schema uses for {@code subject}: {@code sha256-<hex>}. */
    static String schemaTag(Digest subject) {
        return subject.algorithm() + "-" + subject.hex();
    }
}
