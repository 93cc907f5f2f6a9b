package dev.airlock.preflight;

import dev.airlock.bundle.BundleArchive;
import dev.airlock.bundle.BundleImage;
import dev.airlock.bundle.BundleManifest;
import dev.airlock.error.UsageException;
import dev.airlock.model.Descriptor;
import dev.airlock.model.ImageIndex;
import dev.airlock.model.ImageManifest;
import dev.airlock.model.ImageReference;
import dev.airlock.model.ManifestView;
import dev.airlock.model.MediaType;
import dev.airlock.model.RawManifest;
import dev.airlock.model.TargetMapping;
import dev.airlock.sign.TrustPolicy;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;

/**
 * What a bundle asks of its target: per image the target name (by the import mapping), the
 * manifest media types of its graph, whether it holds artifact manifests (an {@code artifactType}
 * or an empty config), and its largest blob.
 *
 * @param images one entry per bundle image, in bundle order
 */
public record BundleNeeds(List<Image> images) {
    public BundleNeeds {
        images = List.copyOf(images);
    }

    /**
     * @param source        the source reference, as in bundle.json
     * @param target        the target reference, or empty when the mapping refuses the name
     * @param nameProblem   why the mapping refuses the name ("" when it does not)
     * @param manifestTypes the media types of every manifest and index in the image's graph
     * @param artifacts     the graph holds an artifact manifest (artifactType, or an empty config)
     * @param largestBlob   bytes of its largest blob
     */
    public record Image(ImageReference source, Optional<ImageReference> target, String nameProblem, Set<MediaType> manifestTypes,
                        boolean artifacts, long largestBlob) {
        public Image {
            manifestTypes = Set.copyOf(manifestTypes);
        }

        /** Path components of the target repository (0 when the name is refused). */
        public int depth() {
            return target.map(t -> t.repository().split("/").length).orElse(0);
        }
    }

    /** Every manifest type of every image. */
    public Set<MediaType> manifestTypes() {
        TreeSet<String> all = new TreeSet<>();
        images.forEach(i -> i.manifestTypes().forEach(t -> all.add(t.value())));
        Set<MediaType> out = new java.util.LinkedHashSet<>();
        all.forEach(s -> out.add(MediaType.of(s)));
        return out;
    }

    /**
     * Reads what {@code bundle} needs; the signature is checked against {@code trust} (preflight
     * only reads names and media types, so callers may pass {@link TrustPolicy#allowUnsignedOnly()}).
     * An uncompressed bundle's graphs are walked manifest by manifest; for a {@code .tar.zst},
     * bundle.json's file list (media types and, when recorded, the images using each file) is used.
     */
    public static BundleNeeds read(Path bundle, TrustPolicy trust, TargetMapping mapping) {
        try (BundleArchive archive = BundleArchive.open(bundle, trust)) {
            return of(archive, mapping);
        }
    }

    /** What an open bundle needs at {@code mapping}'s target. */
    public static BundleNeeds of(BundleArchive archive, TargetMapping mapping) {
        List<BundleImage> images = archive.images();
        List<Image> out = new ArrayList<>();
        for (int i = 0; i < images.size(); i++) {
            BundleImage img = images.get(i);
            Optional<ImageReference> target;
            String problem = "";
            try {
                target = Optional.of(mapping.map(img.source()));
            } catch (UsageException e) {
                target = Optional.empty();
                problem = e.getMessage();
            }
            Set<MediaType> types = new java.util.HashSet<>();
            boolean[] artifacts = {false};
            long[] largest = {0};
            if (archive.randomAccess()) {
                walk(archive, img.source().repository(), img.descriptor(), types, artifacts, largest, 0);
            } else {
                fromFileList(archive.manifest(), i, types, artifacts, largest);
            }
            out.add(new Image(img.source(), target, problem, types, artifacts[0], largest[0]));
        }
        return new BundleNeeds(out);
    }

    private static void walk(BundleArchive archive, String repository, Descriptor d, Set<MediaType> types, boolean[] artifacts,
                             long[] largest, int level) {
        if (level > 8) {
            return; // the bundle reader refuses deeper nesting; nothing to learn there
        }
        if (archive.manifest().blob(d.digest()).isEmpty()) {
            // a delta relies on it at the target (bundle.json's requires): nothing of it is uploaded
            return;
        }
        RawManifest m = archive.fetchManifest(repository, d.digest().toString());
        types.add(m.mediaType());
        ManifestView v = m.view();
        if (v instanceof ImageIndex index) {
            for (Descriptor child : index.manifests()) {
                walk(archive, repository, child, types, artifacts, largest, level + 1);
            }
        } else if (v instanceof ImageManifest im) {
            if (!im.artifactType().isEmpty() || im.config().mediaType().equals(MediaType.OCI_EMPTY)) {
                artifacts[0] = true;
            }
            for (Descriptor b : im.blobs()) {
                largest[0] = Math.max(largest[0], b.size());
            }
        }
    }

    private static void fromFileList(BundleManifest manifest, int image, Set<MediaType> types, boolean[] artifacts, long[] largest) {
        for (BundleManifest.FileEntry f : manifest.files()) {
            if (!f.isBlob() || f.images().isPresent() && !f.images().get().contains(image)) {
                continue;
            }
            largest[0] = Math.max(largest[0], f.size());
            f.mediaType().ifPresent(t -> {
                if (t.isManifest()) {
                    types.add(t);
                } else if (t.equals(MediaType.OCI_EMPTY)) {
                    artifacts[0] = true;
                }
            });
        }
    }
}
