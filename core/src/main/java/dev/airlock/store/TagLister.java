package dev.airlock.store;

import java.util.List;

/**
 * An optional capability of an {@link ImageSource} (checked at runtime): it lists a repository's
 * tags, so that tag-named artifacts (cosign's {@code sha256-<hex>.sig}, the referrers tag schema)
 * are found with one listing instead of one request per guessed tag.
 */
public interface TagLister {

    /** Every tag of {@code repository}; empty for an unknown repository. Errors as in {@link ImageSource}. */
    List<String> listTags(String repository);
}
