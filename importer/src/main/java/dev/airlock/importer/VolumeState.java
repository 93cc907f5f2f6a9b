package dev.airlock.importer;

import dev.airlock.bundle.BundleArchive;
import dev.airlock.bundle.BundleImage;
import dev.airlock.bundle.BundleManifest;
import dev.airlock.bundle.BundleVolume;
import dev.airlock.copy.ImagePlan;
import dev.airlock.model.Descriptor;
import dev.airlock.model.Digest;
import dev.airlock.model.ImageIndex;
import dev.airlock.model.ImageManifest;
import dev.airlock.model.ManifestView;
import dev.airlock.model.RawManifest;
import dev.airlock.model.TargetMapping;
import dev.airlock.progress.ProgressListener;
import dev.airlock.store.ImageStore;
import java.util.Collections;
import java.util.HashSet;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.ConcurrentHashMap;

/**
 * What a volume (format 3) finds at the target before anything is uploaded: each item its images
 * require from other volumes, HEADed in the target repository of every image needing it. An image
 * with an item missing is <b>waiting</b> for the volumes holding those items: this volume's blobs
 * are pushed for it, and the manifests whose whole content is then at the target, but it is not
 * tagged (not a failure: {@link dev.airlock.copy.ImageReport.Status#WAITING}). An image with
 * nothing missing is imported and tagged as from any bundle. Unlike a delta, nothing missing stops
 * the import: complete is decided at the target, per image.
 */
final class VolumeState {
    /** A bundle that is not a volume: nothing waits. */
    static final VolumeState NONE = new VolumeState(Set.of(), Set.of(), Map.of());

    private final Set<Digest> required;
    private final Set<Digest> missing;
    private final Map<Integer, TreeSet<Integer>> waiting;
    /** Manifests seen (children first) whose graph reaches a missing item. */
    private final Set<Digest> incomplete = ConcurrentHashMap.newKeySet();

    private VolumeState(Set<Digest> required, Set<Digest> missing, Map<Integer, TreeSet<Integer>> waiting) {
        this.required = required;
        this.missing = missing;
        this.waiting = waiting;
    }

    /** HEADs what the volume's images require; none of it is uploaded. */
    static VolumeState check(BundleArchive archive, ImageStore target, TargetMapping mapping, int jobs, ProgressListener progress) {
        BundleManifest m = archive.manifest();
        BundleVolume v = m.volume().orElseThrow();
        List<BundleImage> images = m.images();
        Set<Digest> required = new LinkedHashSet<>();
        m.requires().forEach(r -> required.add(r.digest()));
        Set<Digest> missing = new HashSet<>();
        Map<Integer, TreeSet<Integer>> waiting = new TreeMap<>();
        List<TargetRequirements.Need> needs = TargetRequirements.needs(m, mapping);
        Map<String, TargetRequirements.Found> found = TargetRequirements.lookUp(target, needs, jobs);
        for (TargetRequirements.Need n : needs) {
            if (!found.get(n.key()).present()) {
                missing.add(n.item().digest());
                waiting.computeIfAbsent(n.image(), x -> new TreeSet<>()).add(n.item().volume());
            }
        }
        progress.note(archive.describe() + " is " + v.describe() + ": " + (images.size() - waiting.size()) + " of its " + images.size()
                + " image(s) complete at " + target.describe() + " with it" + (waiting.isEmpty() ? "" : ", " + waiting.size()
                + " waiting for other volumes"));
        return new VolumeState(Collections.unmodifiableSet(required), missing, waiting);
    }

    /** The required digests: external to the plans (not read from this volume). */
    Set<Digest> external() {
        return required;
    }

    /** For a waiting image, the volumes it waits for. */
    Optional<TreeSet<Integer>> waitingFor(int image) {
        return Optional.ofNullable(waiting.get(image));
    }

    boolean anyWaiting() {
        return !waiting.isEmpty();
    }

    /**
     * Whether {@code m}'s content is at the target once this volume is in: nothing it references
     * is missing, directly or through child manifests (which come before it, as in a plan's or the
     * archive's order).
     */
    boolean complete(RawManifest m) {
        ManifestView view = m.view();
        List<Descriptor> refs = view instanceof ImageIndex idx ? idx.manifests() : ((ImageManifest) view).blobs();
        for (Descriptor r : refs) {
            if (missing.contains(r.digest()) || incomplete.contains(r.digest())) {
                incomplete.add(m.digest());
                return false;
            }
        }
        return true;
    }

    /** The plan of image {@code i} as this volume imports it: a waiting image keeps only its complete manifests. */
    ImagePlan plan(int i, ImagePlan p) {
        if (!waiting.containsKey(i)) {
            return p;
        }
        List<RawManifest> kept = p.manifests().stream().filter(this::complete).toList();
        return new ImagePlan(p.source(), p.top(), p.originalDigest(), kept, p.blobs(), p.platforms(), p.artifacts(), p.warnings(), p.required());
    }
}
