package dev.airlock.export;

import dev.airlock.copy.ImagePlan;
import dev.airlock.error.UsageException;
import dev.airlock.model.Descriptor;
import dev.airlock.model.Digest;
import dev.airlock.model.RawManifest;
import dev.airlock.progress.Sizes;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.stream.Collectors;

/**
 * Which image goes into which volume, from the plans' sizes alone (before any layer is fetched).
 *
 * <p>Images that share configs or layers form groups (connected through shared blobs); groups are
 * packed one after the other, an image's blobs one after the other, so an image's blobs stay
 * together where they fit and images sharing layers land in the same volumes. Each config and
 * layer goes into exactly one volume (with {@code standalone}: into every volume holding one of
 * its images); a volume lists every image one of its blobs belongs to, and carries all the
 * manifests of every image it lists (small), so whichever of its volumes arrives last completes it.
 *
 * <p>Sizes are those of the tar entries (header, content, padding); bundle.json, index.json and the
 * signatures are estimated here with a margin ({@code reserve}) and computed exactly by the caller,
 * who packs again with a larger reserve when the estimate was short.
 */
final class VolumePacker {
    /** Per file or required item, bytes of bundle.json at most (path, size, sha256, media type, a few image numbers). */
    static final int JSON_PER_ITEM = 340;

    /** One volume: the set images it lists (ascending) and the configs and layers it holds, in placement order. */
    record Volume(TreeSet<Integer> images, LinkedHashMap<Digest, Descriptor> blobs) {
    }

    private final List<ImagePlan> plans;
    private final long limit;
    private final long base;
    private final Map<Digest, TreeSet<Integer>> users = new HashMap<>();

    /**
     * @param plans the set's images
     * @param limit most bytes of one uncompressed volume
     * @param base  the fixed part of every volume: oci-layout, bundle.json's fixed fields and the
     *              set's image list, index.json's frame, signatures, end records, the reserve
     */
    VolumePacker(List<ImagePlan> plans, long limit, long base) {
        this.plans = plans;
        this.limit = limit;
        this.base = base;
        for (int i = 0; i < plans.size(); i++) {
            for (Descriptor d : plans.get(i).blobs()) {
                users.computeIfAbsent(d.digest(), k -> new TreeSet<>()).add(i);
            }
        }
    }

    /** The images in packing order: groups connected through shared blobs, each group in request order. */
    List<Integer> packingOrder() {
        int n = plans.size();
        int[] parent = new int[n];
        for (int i = 0; i < n; i++) {
            parent[i] = i;
        }
        for (TreeSet<Integer> u : users.values()) {
            int first = u.first();
            for (int j : u) {
                union(parent, first, j);
            }
        }
        Map<Integer, List<Integer>> groups = new LinkedHashMap<>();
        for (int i = 0; i < n; i++) {
            groups.computeIfAbsent(find(parent, i), k -> new ArrayList<>()).add(i);
        }
        return groups.values().stream().flatMap(List::stream).toList();
    }

    private static int find(int[] p, int i) {
        while (p[i] != i) {
            p[i] = p[p[i]];
            i = p[i];
        }
        return i;
    }

    private static void union(int[] p, int a, int b) {
        int x = find(p, a);
        int y = find(p, b);
        if (x != y) {
            p[Math.max(x, y)] = Math.min(x, y);
        }
    }

    /** What listing the image in a volume costs: its manifests as tar entries, and bundle.json and index.json entries. */
    long imageCost(int i) {
        ImagePlan p = plans.get(i);
        long c = 0;
        for (RawManifest m : p.manifests()) {
            c += dev.airlock.bundle.BundleWriter.entrySize(m.size()) + JSON_PER_ITEM;
        }
        c += (long) JSON_PER_ITEM * p.blobs().size(); // each blob: a file or a required entry
        String src = p.source().name().toString();
        c += 2L * src.length() + 600 + 40L * p.platforms().size() + 500L * p.artifacts().size();
        return c;
    }

    /** Each config and layer once across the set. */
    List<Volume> pack() {
        List<Volume> out = new ArrayList<>();
        Map<Digest, Integer> home = new HashMap<>();
        Volume cur = null;
        long used = 0;
        for (int i : packingOrder()) {
            for (Descriptor b : plans.get(i).blobs()) {
                if (home.containsKey(b.digest())) {
                    continue;
                }
                long cost = cost(cur, b);
                if (cur == null || used + cost > limit) {
                    cur = open(out);
                    used = base;
                    cost = cost(cur, b);
                    if (used + cost > limit) {
                        throw tooLarge(b, cost);
                    }
                }
                used += cost;
                cur.blobs().put(b.digest(), b);
                cur.images().addAll(users.get(b.digest()));
                home.put(b.digest(), out.size() - 1);
            }
        }
        // an image with no config or layer of its own to place (all were placed for others): listed where it fits
        for (int i = 0; i < plans.size(); i++) {
            int image = i;
            if (out.stream().noneMatch(v -> v.images().contains(image))) {
                long cost = imageCost(i);
                if (cur == null || used + cost > limit) {
                    cur = open(out);
                    used = base;
                }
                used += cost;
                cur.images().add(i);
            }
        }
        return out;
    }

    /** Every volume's images complete in it alone: shared blobs repeated where needed. */
    List<Volume> packStandalone() {
        List<Volume> out = new ArrayList<>();
        Volume cur = null;
        long used = 0;
        for (int i : packingOrder()) {
            long cost = standaloneCost(cur, i);
            if (cur == null || used + cost > limit) {
                cur = open(out);
                used = base;
                cost = standaloneCost(cur, i);
                if (used + cost > limit) {
                    ImagePlan p = plans.get(i);
                    throw new UsageException("exporting into volumes of " + Sizes.bytes(limit) + " with --standalone-volumes: "
                            + p.source().name() + " (" + Sizes.bytes(cost) + " with its manifests) does not fit in one volume "
                            + "(at most " + Sizes.bytes(limit - base) + " per volume); give a larger --volume-size, or leave out "
                            + "--standalone-volumes to split images across volumes");
                }
            }
            used += cost;
            cur.images().add(i);
            for (Descriptor b : plans.get(i).blobs()) {
                cur.blobs().putIfAbsent(b.digest(), b);
            }
        }
        return out;
    }

    /** A new, empty volume at the end of {@code out}. */
    private static Volume open(List<Volume> out) {
        Volume v = new Volume(new TreeSet<>(), new LinkedHashMap<>());
        out.add(v);
        return v;
    }

    private long standaloneCost(Volume v, int i) {
        long c = imageCost(i);
        Set<Digest> counted = new LinkedHashSet<>();
        for (Descriptor b : plans.get(i).blobs()) {
            if ((v == null || !v.blobs().containsKey(b.digest())) && counted.add(b.digest())) {
                c += dev.airlock.bundle.BundleWriter.entrySize(b.size());
            }
        }
        return c;
    }

    /** Placing {@code b} in {@code v}: its tar entry, and listing each of its images not yet listed there. */
    private long cost(Volume v, Descriptor b) {
        long c = dev.airlock.bundle.BundleWriter.entrySize(b.size());
        for (int u : users.get(b.digest())) {
            if (v == null || !v.images().contains(u)) {
                c += imageCost(u);
            }
        }
        return c;
    }

    private UsageException tooLarge(Descriptor b, long cost) {
        String images = users.get(b.digest()).stream().map(i -> plans.get(i).source().name().toString()).collect(Collectors.joining(", "));
        return new UsageException("exporting into volumes of " + Sizes.bytes(limit) + ": blob " + b.digest() + " (" + b.mediaType()
                + ", " + b.size() + " bytes) of " + images + " does not fit in one volume (" + Sizes.bytes(cost)
                + " with its images' manifests; at most " + Sizes.bytes(limit - base) + " per volume); nothing was downloaded; "
                + "give a larger --volume-size");
    }
}
