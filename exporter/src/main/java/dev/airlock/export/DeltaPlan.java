package dev.airlock.export;

import dev.airlock.bundle.BundleManifest;
import dev.airlock.copy.Artifact;
import dev.airlock.copy.ImagePlan;
import dev.airlock.model.Descriptor;
import dev.airlock.model.Digest;
import dev.airlock.model.ImageIndex;
import dev.airlock.model.ImageManifest;
import dev.airlock.model.ManifestView;
import dev.airlock.model.RawManifest;
import dev.airlock.receipt.Receipt;
import dev.airlock.receipt.ReceiptFiles;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

/**
 * What a delta carries, given full plans and the receipts of the target (H = the union of what
 * they say the target holds). Per image, bottom-up: a blob is omitted when a receipt saw its
 * digest with that size in any repository of the target (the importer can mount it); a manifest
 * is omitted only when a receipt saw it in that image's own target repository and everything it
 * references is omitted. A manifest carried for one image is carried for every image that
 * reaches it through carried manifests. {@link #requires()} is the frontier: each omitted item
 * referenced by a carried manifest, or an image top that is omitted; nothing below an omitted
 * manifest is listed (its digest fixes its whole graph).
 *
 * <p>Attached artifacts (signatures, attestations, SBOMs) are manifests of the image like the
 * others: one the receipts saw in the image's own target repository, with everything it
 * references, is omitted (a required item, checked at the target before any upload), a new one is
 * carried with whatever of its blobs the target lacks. Every artifact stays listed with its image,
 * carried or not, so the importer still writes its cosign tag or its entry in the merged
 * referrers tag-schema index where the target lacks them (tags are mutable: a receipt never lets a
 * delta skip them). The subject of an artifact that is neither carried nor on the frontier (a
 * child manifest below an omitted index) is required too, so the importer checks it is there.
 */
final class DeltaPlan {
    /** At most this many target repositories are listed per required item (mount sources). */
    static final int MAX_REPOSITORIES = 5;

    private final List<ImagePlan> carried = new ArrayList<>();
    private final List<Set<Digest>> graphs = new ArrayList<>();
    private final List<Boolean> alreadyPresent = new ArrayList<>();
    private final List<BundleManifest.Required> requires = new ArrayList<>();
    private final List<BundleManifest.BasedOn> basedOn = new ArrayList<>();

    private DeltaPlan() {
    }

    static DeltaPlan of(List<ImagePlan> plans, List<ReceiptFiles.Loaded> receipts) {
        DeltaPlan d = new DeltaPlan();
        Map<Digest, Long> blobSizes = new HashMap<>();
        Map<Digest, Set<String>> blobRepos = new HashMap<>();
        Map<String, Set<Digest>> manifestsByRepo = new HashMap<>();
        Map<Digest, Set<String>> manifestRepos = new HashMap<>();
        // source repository (registry/name) -> target repository, as the receipts map it
        Map<String, String> targetRepo = new HashMap<>();
        for (ReceiptFiles.Loaded l : receipts) {
            d.basedOn.add(new BundleManifest.BasedOn(l.receipt().id(), l.sha256()));
            for (Receipt.Image img : l.receipt().images()) {
                String repo = img.target().repository();
                targetRepo.putIfAbsent(img.source().name(), repo);
                for (Receipt.Blob b : img.blobs()) {
                    Long prev = blobSizes.putIfAbsent(b.digest(), b.size());
                    if (prev == null || prev == b.size()) {
                        blobRepos.computeIfAbsent(b.digest(), k -> new LinkedHashSet<>()).add(repo);
                    }
                }
                for (Digest m : img.manifests()) {
                    manifestsByRepo.computeIfAbsent(repo, k -> new HashSet<>()).add(m);
                    manifestRepos.computeIfAbsent(m, k -> new LinkedHashSet<>()).add(repo);
                }
            }
        }
        // 1. per image, bottom-up: which manifests are omitted there
        Set<Digest> carriedManifests = new HashSet<>();
        for (ImagePlan p : plans) {
            String repo = targetRepo.get(p.source().name().name());
            Set<Digest> atRepo = repo == null ? Set.of() : manifestsByRepo.getOrDefault(repo, Set.of());
            Set<Digest> omitted = new HashSet<>();
            for (RawManifest m : p.manifests()) { // children before their indexes
                boolean all = atRepo.contains(m.digest());
                for (Descriptor r : refs(m)) {
                    all &= r.mediaType().isManifest() ? omitted.contains(r.digest()) : present(blobSizes, r);
                }
                if (all) {
                    omitted.add(m.digest());
                } else {
                    carriedManifests.add(m.digest());
                }
            }
        }
        // 2. per image, top-down: the reader-visible graph and its frontier
        Map<Digest, Descriptor> required = new LinkedHashMap<>();
        Map<Digest, TreeSet<Integer>> requiredBy = new HashMap<>();
        for (int i = 0; i < plans.size(); i++) {
            ImagePlan p = plans.get(i);
            Map<Digest, RawManifest> byDigest = new HashMap<>();
            p.manifests().forEach(m -> byDigest.put(m.digest(), m));
            Set<Digest> graph = new LinkedHashSet<>();
            List<RawManifest> keptManifests = new ArrayList<>();
            Map<Digest, Descriptor> keptBlobs = new LinkedHashMap<>();
            java.util.ArrayDeque<Descriptor> todo = new java.util.ArrayDeque<>();
            todo.add(p.top().descriptor());
            // the artifacts are roots too: each is carried or required on its own
            for (Artifact a : p.artifacts()) {
                todo.add(a.manifest().descriptor());
            }
            Set<Digest> visited = new HashSet<>();
            while (!todo.isEmpty()) {
                Descriptor x = todo.pop();
                if (!visited.add(x.digest())) {
                    continue;
                }
                boolean isManifest = x.mediaType().isManifest() && byDigest.containsKey(x.digest());
                boolean carry = isManifest ? carriedManifests.contains(x.digest()) : !present(blobSizes, x);
                if (!carry) {
                    required.putIfAbsent(x.digest(), Descriptor.of(x.mediaType(), x.digest(), x.size()));
                    requiredBy.computeIfAbsent(x.digest(), k -> new TreeSet<>()).add(i);
                    continue;
                }
                graph.add(x.digest());
                if (isManifest) {
                    refs(byDigest.get(x.digest())).forEach(todo::push);
                } else {
                    keptBlobs.putIfAbsent(x.digest(), x);
                }
            }
            for (RawManifest m : p.manifests()) {
                if (graph.contains(m.digest())) {
                    keptManifests.add(m);
                }
            }
            requireSubjects(p, byDigest, i, graph, required, requiredBy);
            List<Descriptor> blobs = p.blobs().stream().filter(b -> keptBlobs.containsKey(b.digest())).toList();
            int image = i;
            List<Descriptor> req = required.values().stream().filter(r -> requiredBy.get(r.digest()).contains(image)).toList();
            d.carried.add(new ImagePlan(p.source(), p.top(), p.originalDigest(), keptManifests, blobs, p.platforms(), p.artifacts(),
                    p.warnings(), req));
            d.graphs.add(graph);
            d.alreadyPresent.add(graph.isEmpty());
        }
        for (Descriptor r : required.values()) {
            Set<String> repos = r.mediaType().isManifest() ? manifestRepos.getOrDefault(r.digest(), Set.of())
                    : blobRepos.getOrDefault(r.digest(), Set.of());
            d.requires.add(new BundleManifest.Required(r.digest(), r.size(), r.mediaType(), new ArrayList<>(requiredBy.get(r.digest())),
                    repos.stream().limit(MAX_REPOSITORIES).toList()));
        }
        return d;
    }

    /**
     * The subject of each of the image's artifacts is carried or required: one that is neither (a
     * child manifest below a required index) becomes a required item of the image.
     */
    private static void requireSubjects(ImagePlan p, Map<Digest, RawManifest> byDigest, int image, Set<Digest> graph,
                                        Map<Digest, Descriptor> required, Map<Digest, TreeSet<Integer>> requiredBy) {
        for (Artifact a : p.artifacts()) {
            RawManifest subject = byDigest.get(a.subject());
            if (a.subjectDropped() || subject == null || graph.contains(a.subject())) {
                continue;
            }
            required.putIfAbsent(a.subject(), subject.descriptor());
            requiredBy.computeIfAbsent(a.subject(), k -> new TreeSet<>()).add(image);
        }
    }

    private static boolean present(Map<Digest, Long> blobSizes, Descriptor d) {
        Long size = blobSizes.get(d.digest());
        return size != null && size == d.size();
    }

    /** What a manifest references that must exist before it: an index's children, a manifest's config and layers. */
    private static List<Descriptor> refs(RawManifest m) {
        ManifestView v = m.view();
        if (v instanceof ImageIndex idx) {
            return idx.manifests();
        }
        return ((ImageManifest) v).blobs();
    }

    /** Each image's plan with only what the delta carries (and its required frontier). */
    List<ImagePlan> carried() {
        return carried;
    }

    /** Each image's carried digests (blobs and manifests: its files[].images routing). */
    List<Set<Digest>> graphs() {
        return graphs;
    }

    /** Per image: true when it carries nothing (everything is at the target). */
    List<Boolean> alreadyPresent() {
        return alreadyPresent;
    }

    List<BundleManifest.Required> requires() {
        return requires;
    }

    List<BundleManifest.BasedOn> basedOn() {
        return basedOn;
    }
}
