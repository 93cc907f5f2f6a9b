package dev.airlock.importer;

import dev.airlock.bundle.BundleArchive;
import dev.airlock.bundle.BundleImage;
import dev.airlock.bundle.BundleManifest;
import dev.airlock.concurrent.Workers;
import dev.airlock.error.TargetLacksException;
import dev.airlock.model.Digest;
import dev.airlock.model.TargetMapping;
import dev.airlock.progress.ProgressListener;
import dev.airlock.progress.Sizes;
import dev.airlock.store.ImageStore;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.stream.Collectors;

/**
 * A delta's {@code requires}, checked at the target BEFORE anything is uploaded: every required
 * item in the target repository of every image needing it (manifests by digest, blobs by HEAD with
 * the listed size). A blob that is not in that repository but in one of the repositories a receipt
 * saw it in counts as available; after every item was found, such blobs are mounted (not in a dry
 * run). Anything missing: {@link TargetLacksException} (exit 8) naming how many, the first few
 * digests, the images needing them and the receipts the delta was built against; nothing pushed.
 */
final class TargetRequirements {
    /** How many missing digests a message names. */
    static final int SHOWN = 3;

    private final BundleArchive archive;
    private final ImageStore target;
    private final TargetMapping mapping;
    private final int jobs;
    private final ProgressListener progress;

    TargetRequirements(BundleArchive archive, ImageStore target, TargetMapping mapping, int jobs, ProgressListener progress) {
        this.archive = archive;
        this.target = target;
        this.mapping = mapping;
        this.jobs = Math.max(1, jobs);
        this.progress = progress;
    }

    /** One required item in one target repository, for one image needing it. */
    record Need(BundleManifest.Required item, int image, String repository) {
        /** The lookup at the target this needs: the item in that repository. */
        String key() {
            return repository + "@" + item.digest();
        }
    }

    /** What one lookup found: present, to mount from {@code from}, or missing. */
    record Found(Need need, boolean present, Optional<String> from) {
    }

    /** Every required item of {@code m} with each image needing it, in that image's target repository. */
    static List<Need> needs(BundleManifest m, TargetMapping mapping) {
        List<BundleImage> images = m.images();
        List<Need> needs = new ArrayList<>();
        for (BundleManifest.Required r : m.requires()) {
            for (int i : r.images()) {
                needs.add(new Need(r, i, mapping.map(images.get(i).source()).repository()));
            }
        }
        return needs;
    }

    /**
     * Each distinct item-in-repository of {@code needs} looked up once at the target, {@code jobs}
     * at a time (manifests by digest, blobs by HEAD with the listed size, else in a repository a
     * receipt saw them in); by {@link Need#key()}, in the order of {@code needs}, each with the
     * first need asking it.
     */
    static Map<String, Found> lookUp(ImageStore target, List<Need> needs, int jobs) {
        Map<String, Need> distinct = new LinkedHashMap<>();
        needs.forEach(n -> distinct.putIfAbsent(n.key(), n));
        Map<String, Found> found = new LinkedHashMap<>();
        if (distinct.isEmpty()) {
            return found;
        }
        ExecutorService pool = Executors.newFixedThreadPool(Math.max(1, Math.min(jobs, distinct.size())), Workers.named("requires"));
        try {
            Map<String, Future<Found>> futures = new LinkedHashMap<>();
            distinct.forEach((k, n) -> futures.put(k, pool.submit(() -> find(target, n))));
            for (Map.Entry<String, Future<Found>> f : futures.entrySet()) {
                found.put(f.getKey(), Workers.join(f.getValue()));
            }
        } finally {
            pool.shutdownNow();
        }
        return found;
    }

    /** Checks (and unless {@code dryRun} mounts); returns the required digests (external to the plan). */
    Set<Digest> check(boolean dryRun) {
        BundleManifest m = archive.manifest();
        if (m.requires().isEmpty()) {
            return Set.of();
        }
        List<Found> found = new ArrayList<>(lookUp(target, needs(m, mapping), jobs).values());
        List<Found> missing = found.stream().filter(f -> !f.present() && f.from().isEmpty()).toList();
        if (!missing.isEmpty()) {
            throw lacks(missing);
        }
        List<Found> mounts = found.stream().filter(f -> f.from().isPresent()).toList();
        if (!dryRun) {
            List<Found> failed = new ArrayList<>();
            for (Found f : mounts) {
                if (!target.mountBlob(f.need().repository(), f.need().item().descriptor(), f.from().get())
                        && !target.blobSize(f.need().repository(), f.need().item().digest()).filter(s -> s == f.need().item().size()).isPresent()) {
                    failed.add(f);
                }
            }
            if (!failed.isEmpty()) {
                throw lacks(failed);
            }
        }
        progress.note(archive.describe() + " is a delta: the " + m.requires().size() + " items (" + Sizes.bytes(m.requiredBytes())
                + ") it relies on are at " + target.describe() + (mounts.isEmpty() ? "" : " (" + mounts.size() + " blob(s) "
                + (dryRun ? "to mount" : "mounted") + " from other repositories)"));
        Set<Digest> out = new LinkedHashSet<>();
        m.requires().forEach(r -> out.add(r.digest()));
        return out;
    }

    private static Found find(ImageStore target, Need n) {
        BundleManifest.Required r = n.item();
        if (r.mediaType().isManifest()) {
            boolean present = target.headManifest(n.repository(), r.digest().toString()).filter(d -> d.size() == r.size()).isPresent();
            return new Found(n, present, Optional.empty());
        }
        if (target.blobSize(n.repository(), r.digest()).filter(s -> s == r.size()).isPresent()) {
            return new Found(n, true, Optional.empty());
        }
        for (String from : r.repositories()) {
            if (!from.equals(n.repository()) && target.blobSize(from, r.digest()).filter(s -> s == r.size()).isPresent()) {
                return new Found(n, false, Optional.of(from));
            }
        }
        return new Found(n, false, Optional.empty());
    }

    private TargetLacksException lacks(List<Found> missing) {
        BundleManifest m = archive.manifest();
        Set<Digest> digests = new LinkedHashSet<>();
        Set<String> users = new LinkedHashSet<>();
        long bytes = 0;
        for (Found f : missing) {
            if (digests.add(f.need().item().digest())) {
                bytes += f.need().item().size();
            }
            users.add(m.images().get(f.need().image()).source().toString());
        }
        String shown = digests.stream().limit(SHOWN).map(Digest::toString).collect(Collectors.joining(", "))
                + (digests.size() > SHOWN ? " and " + (digests.size() - SHOWN) + " more" : "");
        String against = m.basedOn().isEmpty() ? "no receipt" : m.basedOn().stream()
                .map(b -> "receipt " + b.receiptId()).collect(Collectors.joining(", "));
        return new TargetLacksException("importing " + archive.describe() + ": it is a delta and " + target.describe() + " lacks "
                + digests.size() + " item(s) (" + Sizes.bytes(bytes) + ") it relies on: " + shown + "; needed by "
                + users.stream().limit(SHOWN).collect(Collectors.joining(", ")) + (users.size() > SHOWN ? " and " + (users.size() - SHOWN)
                + " more image(s)" : "") + "; the delta was built against " + against
                + "; nothing was pushed (import what that receipt records first, or export a full bundle)");
    }
}
