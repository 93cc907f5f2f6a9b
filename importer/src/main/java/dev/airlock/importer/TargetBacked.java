package dev.airlock.importer;

import dev.airlock.model.Descriptor;
import dev.airlock.model.Digest;
import dev.airlock.model.RawManifest;
import dev.airlock.store.ImageSource;
import java.io.InputStream;
import java.util.Objects;
import java.util.Set;

/**
 * A delta bundle as the source of one image, where the manifests it relies on at the target (an
 * image top, an attached artifact the target holds) are read back from the image's target
 * repository by digest (verified by the target store), so that their tags can be written there:
 * the image's tag, an artifact's cosign tag, its entry in the merged referrers tag-schema index.
 * Everything else (every blob, every carried manifest) comes from the bundle.
 */
final class TargetBacked implements ImageSource {
    private final ImageSource bundle;
    private final ImageSource target;
    private final String targetRepository;
    private final Set<Digest> external;

    TargetBacked(ImageSource bundle, ImageSource target, String targetRepository, Set<Digest> external) {
        this.bundle = Objects.requireNonNull(bundle, "bundle");
        this.target = Objects.requireNonNull(target, "target");
        this.targetRepository = Objects.requireNonNull(targetRepository, "targetRepository");
        this.external = Set.copyOf(external);
    }

    @Override
    public String describe() {
        return bundle.describe();
    }

    @Override
    public RawManifest fetchManifest(String repository, String reference) {
        if (reference.startsWith("sha256:") && external.contains(Digest.parse(reference))) {
            return target.fetchManifest(targetRepository, reference);
        }
        return bundle.fetchManifest(repository, reference);
    }

    @Override
    public InputStream openBlob(String repository, Descriptor blob) {
        return bundle.openBlob(repository, blob);
    }
}
