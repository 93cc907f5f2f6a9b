package dev.airlock.bundle;

import dev.airlock.error.InvalidContentException;
import dev.airlock.error.VerificationException;
import dev.airlock.model.Descriptor;
import dev.airlock.model.Digest;
import dev.airlock.model.ImageConfig;
import dev.airlock.model.ImageIndex;
import dev.airlock.model.ImageManifest;
import dev.airlock.model.ManifestView;
import dev.airlock.model.MediaType;
import dev.airlock.model.Platform;
import dev.airlock.model.RawManifest;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.Predicate;

/**
 * Checks the blob graph as blobs go by in archive order: every descriptor a manifest or index
 * references must already have passed with the same size (dependency order), and every index
 * entry's platform must equal its child's config. Keeps only digests, sizes and platforms, never
 * content. Used by the writer (so a bad graph is never written) and by every reader.
 *
 * <p>Subjects (referrers) are not required to be present. An index entry with platform
 * unknown/unknown (BuildKit attestations) is not compared. A config without a variant matches an
 * index entry with one (old arm images); os and architecture must always agree.
 */
final class GraphChecker {
    private final String where;
    private final Predicate<Digest> listedLater;
    private final Map<Digest, Long> seen = new HashMap<>();
    private final Map<Digest, MediaType> listedType = new HashMap<>();
    private final Map<Digest, Platform> configPlatform = new HashMap<>();
    private final Map<Digest, Digest> manifestConfig = new HashMap<>();
    private final Map<Digest, List<Platform>> platformsOf = new HashMap<>();
    /** Levels of indexes at and below each index that passed (a manifest is 0, not stored). */
    private final Map<Digest, Integer> indexDepth = new HashMap<>();
    /** When bundle.json routes blobs to images: the manifest whose lists are checked, else null. */
    private final BundleManifest routing;
    /** With routing: each manifest's and index's references (digests only). */
    private final Map<Digest, List<Digest>> edges = new HashMap<>();
    /** Each manifest's {@code subject}, when it has one. */
    private final Map<Digest, Digest> subjectOf = new HashMap<>();

    /**
     * @param listedLater tells whether a digest not seen yet is still to come (for the error message)
     */
    GraphChecker(String where, Predicate<Digest> listedLater) {
        this(where, listedLater, null);
    }

    /**
     * @param manifest when given (a bundle being read), every file's images list is
     *                 checked to be exactly the images whose graph references the file
     */
    GraphChecker(String where, Predicate<Digest> listedLater, BundleManifest manifest) {
        this.where = where;
        this.listedLater = listedLater;
        this.routing = manifest;
        if (manifest != null) {
            // a delta: what it relies on at the target counts as passed, with its listed size and type
            for (BundleManifest.Required r : manifest.requires()) {
                seen.put(r.digest(), r.size());
                listedType.put(r.digest(), r.mediaType());
            }
        }
    }

    private boolean required(Digest d) {
        return routing != null && routing.required(d).isPresent();
    }

    /** True when this media type's content must be given to {@link #json} (it is small and parsed). */
    static boolean needsContent(MediaType mt) {
        return mt.isManifest() || mt.isImageConfig();
    }

    /** A blob whose content is not inspected passed. */
    void blob(Descriptor d) {
        seen.put(d.digest(), d.size());
        listedType.put(d.digest(), d.mediaType());
    }

    /** A manifest, index or config passed with these verified bytes. */
    void json(Descriptor d, byte[] bytes) {
        MediaType mt = d.mediaType();
        if (mt.isManifest()) {
            ManifestView view;
            try {
                view = RawManifest.verified(mt, bytes, d.digest(), where + ": manifest " + d.digest()).view();
            } catch (InvalidContentException e) {
                throw e.getMessage().startsWith(where) ? e : new InvalidContentException(where + ": " + e.getMessage());
            }
            if (view instanceof ImageManifest m && m.subject().isPresent()) {
                subjectOf.put(d.digest(), m.subject().get().digest());
            } else if (view instanceof ImageIndex i && i.subject().isPresent()) {
                subjectOf.put(d.digest(), i.subject().get().digest());
            }
            if (view instanceof ImageManifest m) {
                for (Descriptor r : m.blobs()) {
                    requireBefore(r, "manifest " + d.digest());
                }
                route(d, m.blobs(), "manifest");
                if (m.config().mediaType().isImageConfig() && !configPlatform.containsKey(m.config().digest()) && !required(m.config().digest())) {
                    // listed under another type, it was not parsed: its platform would go unchecked
                    throw new VerificationException(where + ": manifest " + d.digest() + " references " + m.config().digest() + " as "
                            + m.config().mediaType() + " but bundle.json lists it as " + listedType.get(m.config().digest()));
                }
                manifestConfig.put(d.digest(), m.config().digest());
                Platform cp = configPlatform.get(m.config().digest());
                platformsOf.put(d.digest(), cp == null ? List.of() : List.of(cp));
            } else if (view instanceof ImageIndex idx) {
                List<Platform> ps = new ArrayList<>();
                for (Descriptor r : idx.manifests()) {
                    requireBefore(r, "index " + d.digest());
                    if (!r.mediaType().equals(listedType.get(r.digest()))) {
                        throw new VerificationException(where + ": index " + d.digest() + " references " + r.digest() + " as " + r.mediaType()
                                + " but bundle.json lists it as " + listedType.get(r.digest()));
                    }
                    if (r.platform().isPresent()) {
                        Platform p = r.platform().get();
                        checkPlatform(d.digest(), r, p);
                        if (!p.isUnknown()) {
                            ps.add(p);
                        }
                    }
                }
                platformsOf.put(d.digest(), ps);
                int depth = 1 + idx.manifests().stream().mapToInt(r -> indexDepth.getOrDefault(r.digest(), 0)).max().orElse(0);
                if (depth > ManifestView.MAX_INDEX_DEPTH) {
                    throw new InvalidContentException(where + ": index " + d.digest() + " has indexes nested deeper than "
                            + ManifestView.MAX_INDEX_DEPTH + " levels (" + depth + ")");
                }
                indexDepth.put(d.digest(), depth);
                route(d, idx.manifests(), "index");
            }
        } else if (mt.isImageConfig()) {
            try {
                configPlatform.put(d.digest(), ImageConfig.parse(bytes, where + ": config " + d.digest()).platform());
            } catch (InvalidContentException e) {
                throw new InvalidContentException(e.getMessage().startsWith(where) ? e.getMessage() : where + ": config " + d.digest() + ": " + e.getMessage());
            }
        }
        seen.put(d.digest(), d.size());
        listedType.put(d.digest(), d.mediaType());
    }

    /** At the end: every image's root passed, and bundle.json's platform claims match the graph. */
    void finish(List<BundleImage> images) {
        for (BundleImage img : images) {
            requireBefore(img.descriptor(), "image " + img.source());
            if (!img.descriptor().mediaType().equals(listedType.get(img.digest()))) {
                throw new VerificationException(where + ": image " + img.source() + " is a " + img.descriptor().mediaType()
                        + " but bundle.json lists " + img.digest() + " as " + listedType.get(img.digest()));
            }
            for (BundleArtifact a : img.artifacts()) {
                if (!seen.containsKey(a.digest()) || !a.mediaType().equals(listedType.get(a.digest()))) {
                    throw new VerificationException(where + ": image " + img.source() + " lists artifact " + a.digest() + " ("
                            + a.mediaType() + ") which is not in the bundle (nor required) as that");
                }
                Digest named = subjectOf.get(a.digest());
                if (named != null && !named.equals(a.subject())) {
                    throw new VerificationException(where + ": image " + img.source() + " lists artifact " + a.digest() + " as attached to "
                            + a.subject() + " but its manifest names the subject " + named);
                }
            }
            if (required(img.digest())) {
                requiredTop(img);
                continue; // at the target: its platforms are the target's (checked when it was pushed there)
            }
            List<Platform> actual = platformsOf.getOrDefault(img.digest(), List.of());
            boolean same = actual.size() == img.platforms().size()
                    && actual.stream().allMatch(a -> img.platforms().stream().anyMatch(a::matches))
                    && img.platforms().stream().allMatch(c -> actual.stream().anyMatch(c::matches));
            if (!same) {
                throw new VerificationException(where + ": image " + img.source() + " lists platforms " + dev.airlock.error.Printable.list(img.platforms(), 5)
                        + " but its " + (img.descriptor().mediaType().isIndex() ? "index" : "config") + " has " + dev.airlock.error.Printable.list(actual, 5));
            }
        }
        for (int i = 0; i < images.size(); i++) {
            tops(i, images.get(i));
        }
    }

    /**
     * Routing, downwards: every image listed for a manifest must be listed for each file it
     * references (so every file of an image's graph lists the image).
     */
    private void route(Descriptor d, List<Descriptor> refs, String kind) {
        if (routing == null) {
            return;
        }
        List<Integer> mine = users(d.digest());
        List<Digest> out = new ArrayList<>(refs.size());
        for (Descriptor r : refs) {
            List<Integer> theirs = users(r.digest());
            for (int i : mine) {
                if (!theirs.contains(i)) {
                    throw new VerificationException(where + ": bundle.json does not list image " + routing.images().get(i).source() + " for "
                            + r.digest() + ", which its " + kind + " " + d.digest() + " references");
                }
            }
            out.add(r.digest());
        }
        edges.put(d.digest(), out);
    }

    /**
     * Routing, exactness (at the end, when every file has passed): the files that list an image
     * must be exactly its graph and its artifacts' graphs (none listed that they do not reference).
     */
    private void tops(int i, BundleImage image) {
        if (routing == null) {
            return;
        }
        List<BundleImage> images = routing.images();
        {
            java.util.Set<Digest> graph = new java.util.HashSet<>();
            java.util.ArrayDeque<Digest> todo = new java.util.ArrayDeque<>(List.of(image.digest()));
            for (BundleArtifact a : image.artifacts()) {
                todo.add(a.digest());
                if (!a.subjectDropped()) {
                    todo.add(a.subject()); // in the graph already, or (a delta) required at the target for this image
                }
            }
            while (!todo.isEmpty()) {
                Digest x = todo.pop();
                if (graph.add(x)) {
                    todo.addAll(edges.getOrDefault(x, List.of()));
                }
            }
            for (BundleManifest.FileEntry f : routing.files()) {
                if (f.images().isPresent() && f.images().get().contains(i) && !graph.contains(f.sha256())) {
                    throw new VerificationException(where + ": bundle.json lists image " + images.get(i).source() + " for " + f.sha256()
                            + ", which its graph does not reference");
                }
            }
            for (BundleManifest.Required r : routing.requires()) {
                if (r.images().contains(i) && !graph.contains(r.digest())) {
                    throw new VerificationException(where + ": bundle.json requires " + r.digest() + " for image " + images.get(i).source()
                            + ", which its graph does not reference");
                }
            }
        }
    }

    private List<Integer> users(Digest d) {
        Optional<BundleManifest.Required> r = routing.required(d);
        if (r.isPresent()) {
            return r.get().images();
        }
        return routing.blob(d).flatMap(BundleManifest.FileEntry::images).orElse(List.of());
    }

    /**
     * An image whose top is required: nothing else in the bundle may be routed to it, unless it
     * has artifacts (a new signature on an image the target holds): then what is routed to it
     * must be exactly their graphs, which {@link #tops} checks.
     */
    private void requiredTop(BundleImage img) {
        if (routing == null || !img.artifacts().isEmpty()) {
            return;
        }
        int i = routing.images().indexOf(img);
        for (BundleManifest.FileEntry f : routing.files()) {
            if (f.images().isPresent() && f.images().get().contains(i)) {
                throw new VerificationException(where + ": bundle.json lists image " + img.source() + " for " + f.sha256()
                        + ", but its top " + img.digest() + " is required at the target (its graph is not in the bundle)");
            }
        }
        for (BundleManifest.Required r : routing.requires()) {
            if (r.images().contains(i) && !r.digest().equals(img.digest())) {
                throw new VerificationException(where + ": bundle.json requires " + r.digest() + " for image " + img.source()
                        + ", but its top " + img.digest() + " is required at the target already");
            }
        }
    }

    private void checkPlatform(Digest index, Descriptor entry, Platform claimed) {
        if (claimed.isUnknown()) {
            return;
        }
        Digest cfg = manifestConfig.get(entry.digest());
        if (cfg == null) {
            return; // a nested index: nothing to compare with
        }
        Platform actual = configPlatform.get(cfg);
        if (actual == null) {
            return; // config of a non-image media type (artifact)
        }
        Platform a = actual.normalized();
        Platform c = claimed.normalized();
        boolean ok = a.os().equals(c.os()) && a.architecture().equals(c.architecture())
                && (a.variant().isEmpty() || a.variant().equals(c.variant()));
        if (!ok) {
            throw new VerificationException(where + ": index " + index + " says " + entry.digest() + " is " + claimed
                    + " but its config " + cfg + " says " + actual);
        }
    }

    private void requireBefore(Descriptor r, String user) {
        Long size = seen.get(r.digest());
        if (size == null) {
            if (listedLater.test(r.digest())) {
                throw new VerificationException(where + ": " + user + " references " + r.digest()
                        + " which comes after it (blobs must precede what references them)");
            }
            throw new VerificationException(where + ": " + user + " references " + r.digest() + " which is missing from the bundle");
        }
        if (size != r.size()) {
            throw new VerificationException(where + ": " + user + " references " + r.digest() + " with size " + r.size()
                    + " but the bundle's " + (required(r.digest()) ? "required item" : "blob") + " has " + size + " bytes");
        }
        // a required manifest must be referenced under its own type; a layer's bytes may be referenced as a Docker and an
        // OCI layer by different images (as a carried blob may), so only its size is compared
        if (required(r.digest()) && (r.mediaType().isManifest() || listedType.get(r.digest()).isManifest())
                && !r.mediaType().equals(listedType.get(r.digest()))) {
            throw new VerificationException(where + ": " + user + " references " + r.digest() + " as " + r.mediaType()
                    + " but bundle.json requires it as " + listedType.get(r.digest()));
        }
    }
}
