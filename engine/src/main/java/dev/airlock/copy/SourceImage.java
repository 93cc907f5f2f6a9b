package dev.airlock.copy;

import dev.airlock.model.ImageReference;
import dev.airlock.store.ImageSource;
import java.util.Objects;

/**
 * Where one image is read from: a store, the repository inside it, and the tag or digest to
 * resolve. {@code name} is the image's full reference for reports and bundle.json.
 * {@code rewrittenFrom} is, for an image a platform filter rewrote earlier (a bundle's), the
 * original index digest: artifacts the source attaches to it are carried without a subject.
 */
public record SourceImage(ImageReference name, ImageSource store, String repository, String reference,
                          java.util.Optional<dev.airlock.model.Digest> rewrittenFrom) {
    public SourceImage {
        Objects.requireNonNull(name, "name");
        Objects.requireNonNull(store, "store");
        Objects.requireNonNull(repository, "repository");
        Objects.requireNonNull(reference, "reference");
        rewrittenFrom = rewrittenFrom == null ? java.util.Optional.empty() : rewrittenFrom;
    }

    public SourceImage(ImageReference name, ImageSource store, String repository, String reference) {
        this(name, store, repository, reference, java.util.Optional.empty());
    }

    /** The image named by {@code ref}, read from {@code store} (a store for {@code ref.registry()}). */
    public static SourceImage of(ImageReference ref, ImageSource store) {
        return new SourceImage(ref, store, ref.repository(), ref.reference());
    }
}
