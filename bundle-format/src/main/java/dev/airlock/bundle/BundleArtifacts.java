package dev.airlock.bundle;

import dev.airlock.model.Descriptor;
import dev.airlock.model.Digest;
import dev.airlock.model.RawManifest;
import dev.airlock.store.ImageSource;
import dev.airlock.store.ReferrersSource;
import dev.airlock.store.TagLister;
import java.io.InputStream;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * A bundle (or the manifests kept from one) as a source that answers the referrers question from
 * bundle.json's artifact lists: referrers by subject, and cosign tags by name. The copy engine's
 * planner finds the same artifacts in a bundle as it found in the registry it was exported from.
 */
public final class BundleArtifacts implements ImageSource, ReferrersSource, TagLister {
    private final ImageSource inner;
    private final Map<Digest, List<Descriptor>> bySubject = new LinkedHashMap<>();
    private final Map<String, Digest> cosignTags = new LinkedHashMap<>();

    private BundleArtifacts(ImageSource inner, BundleManifest manifest) {
        this.inner = inner;
        for (BundleImage img : manifest.images()) {
            for (BundleArtifact a : img.artifacts()) {
                Optional<String> tag = a.cosignTag();
                if (tag.isPresent()) {
                    cosignTags.put(tag.get(), a.digest());
                    continue;
                }
                // carried, or (a delta) required at the target
                long size = manifest.blob(a.digest()).map(BundleManifest.FileEntry::size)
                        .or(() -> manifest.required(a.digest()).map(BundleManifest.Required::size)).orElseThrow();
                List<Descriptor> l = bySubject.computeIfAbsent(a.subject(), k -> new ArrayList<>());
                if (l.stream().noneMatch(d -> d.digest().equals(a.digest()))) {
                    l.add(Descriptor.of(a.mediaType(), a.digest(), size));
                }
            }
        }
    }

    /** {@code inner} (the archive, or what was kept while it streamed) answering from {@code manifest}'s artifact lists. */
    public static BundleArtifacts of(ImageSource inner, BundleManifest manifest) {
        return new BundleArtifacts(inner, manifest);
    }

    @Override
    public Optional<List<Descriptor>> referrersApi(String repository, Digest subject) {
        return Optional.of(bySubject.getOrDefault(subject, List.of()));
    }

    @Override
    public List<String> listTags(String repository) {
        return List.copyOf(cosignTags.keySet());
    }

    @Override
    public String describe() {
        return inner.describe();
    }

    @Override
    public RawManifest fetchManifest(String repository, String reference) {
        Digest d = cosignTags.get(reference);
        return inner.fetchManifest(repository, d == null ? reference : d.toString());
    }

    @Override
    public InputStream openBlob(String repository, Descriptor blob) {
        return inner.openBlob(repository, blob);
    }
}
