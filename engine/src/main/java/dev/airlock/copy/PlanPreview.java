package dev.airlock.copy;

import dev.airlock.progress.Sizes;
import dev.airlock.copy.CopyJob;
import dev.airlock.model.Descriptor;
import dev.airlock.model.RawManifest;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * What a copy job would write (the dry run of import and sync): asks the target only HEADs.
 *
 * @param missingBlobs     blobs the target repository lacks
 * @param presentBlobs     blobs already there
 * @param missingManifests manifests (children, indexes, top) not yet there by digest
 * @param tagsToMove       tags that do not yet point at the top digest, and the tags of attached
 *                         artifacts still to write (cosign tags, referrers tag-schema indexes)
 */
public record PlanPreview(List<Descriptor> missingBlobs, List<Descriptor> presentBlobs, List<RawManifest> missingManifests,
                          List<String> tagsToMove) {

    /**
     * Asks the target (HEADs only). Manifests first: when every manifest of the plan is there by
     * digest, the registry accepted each one with all it references present, so its blobs are
     * not asked one by one (a re-run of a present set costs one HEAD per manifest and tag).
     */
    public static PlanPreview of(CopyJob job) {
        List<RawManifest> manifests = new ArrayList<>();
        for (RawManifest m : job.plan().manifests()) {
            if (job.target().headManifest(job.targetRepository(), m.digest().toString()).isEmpty()) {
                manifests.add(m);
            }
        }
        List<Descriptor> missing = new ArrayList<>();
        List<Descriptor> present = new ArrayList<>();
        if (manifests.isEmpty()) {
            present.addAll(job.plan().blobs());
        } else {
            for (Descriptor b : job.plan().blobs()) {
                // present means present with the descriptor's size (a HEAD with another size is not believed)
                (job.target().blobSize(job.targetRepository(), b.digest()).filter(size -> size == b.size()).isPresent() ? present : missing).add(b);
            }
        }
        List<String> tags = new ArrayList<>();
        for (String t : job.tags()) {
            Optional<Descriptor> d = job.target().headManifest(job.targetRepository(), t);
            if (d.isEmpty() || !d.get().digest().equals(job.plan().digest())) {
                tags.add(t);
            }
        }
        tags.addAll(attachmentsToWrite(job));
        return new PlanPreview(missing, present, manifests, tags);
    }

    /**
     * The tags the tag phase would write for the job's attached artifacts: cosign tags that do not
     * point at their artifact, and (on a target without the referrers API) tag-schema indexes
     * that are absent or do not list every referrer of their subject.
     */
    public static List<String> attachmentsToWrite(CopyJob job) {
        List<String> out = new ArrayList<>();
        String repo = job.targetRepository();
        java.util.Map<dev.airlock.model.Digest, List<Artifact>> referrers = new java.util.LinkedHashMap<>();
        for (Artifact a : job.plan().artifacts()) {
            if (a.subjectDropped()) {
                continue;
            }
            if (a.tag().isPresent()) {
                Optional<Descriptor> d = job.target().headManifest(repo, a.tag().get());
                if (d.isEmpty() || !d.get().digest().equals(a.digest())) {
                    out.add(a.tag().get());
                }
            } else {
                referrers.computeIfAbsent(a.subject(), k -> new ArrayList<>()).add(a);
            }
        }
        if (!(job.target() instanceof dev.airlock.store.ReferrersSource rs)) {
            return out;
        }
        for (var e : referrers.entrySet()) {
            if (rs.referrersApi(repo, e.getKey()).isPresent()) {
                continue;
            }
            String schema = dev.airlock.store.ReferrersSource.schemaTag(e.getKey());
            try {
                RawManifest index = job.target().fetchManifest(repo, schema);
                java.util.Set<dev.airlock.model.Digest> listed = new java.util.HashSet<>();
                if (index.view() instanceof dev.airlock.model.ImageIndex i) {
                    i.manifests().forEach(d -> listed.add(d.digest()));
                }
                if (e.getValue().stream().anyMatch(a -> !listed.contains(a.digest()))) {
                    out.add(schema);
                }
            } catch (dev.airlock.error.RegistryException x) {
                if (!x.isNotFound()) {
                    throw x;
                }
                out.add(schema);
            }
        }
        return out;
    }

    public long missingBytes() {
        return missingBlobs.stream().mapToLong(Descriptor::size).sum();
    }

    public long presentBytes() {
        return presentBlobs.stream().mapToLong(Descriptor::size).sum();
    }

    /** True when the target already holds everything, tags included. */
    public boolean upToDate() {
        return missingBlobs.isEmpty() && missingManifests.isEmpty() && tagsToMove.isEmpty();
    }

    /** "would push 3 blobs (4.1 MB) and 4 manifests, 2 blobs (1.0 MB) present, tag 1.0" or "up to date". */
    public String describe() {
        if (upToDate()) {
            return "up to date";
        }
        StringBuilder sb = new StringBuilder("would push ").append(missingBlobs.size()).append(" blobs (")
                .append(Sizes.bytes(missingBytes())).append(") and ").append(missingManifests.size()).append(" manifests");
        if (!presentBlobs.isEmpty()) {
            sb.append(", ").append(presentBlobs.size()).append(" blobs (").append(Sizes.bytes(presentBytes())).append(") present");
        }
        if (!tagsToMove.isEmpty()) {
            sb.append(", tag ").append(String.join(", ", tagsToMove));
        }
        return sb.toString();
    }
}
