package dev.airlock.bundle;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.airlock.error.InvalidContentException;
import dev.airlock.model.Digest;
import dev.airlock.model.ImageReference;
import dev.airlock.model.JsonFields;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;

/** bundle.json's {@code volume} object (format 3): written, parsed and checked as strictly as the rest. */
final class BundleVolumes {
    private static final Set<String> KEYS = Set.of("setId", "index", "count", "standalone", "images");
    private static final Set<String> IMAGE_KEYS = Set.of("source", "digest", "volumes");

    private BundleVolumes() {
    }

    static void write(ObjectNode root, BundleVolume v) {
        ObjectNode o = root.putObject("volume");
        o.put("setId", v.setId().toString());
        o.put("index", v.index());
        o.put("count", v.count());
        o.put("standalone", v.standalone());
        ArrayNode ia = o.putArray("images");
        for (BundleVolume.SetImage i : v.images()) {
            ObjectNode io = ia.addObject();
            io.put("source", i.source().toString());
            io.put("digest", i.digest().toString());
            ArrayNode vs = io.putArray("volumes");
            i.volumes().forEach(vs::add);
        }
    }

    static BundleVolume parse(JsonNode n, String what) {
        String w = what + " volume";
        JsonFields.requireObject(n, w, KEYS, KEYS);
        UUID id = JsonFields.uuid(n, "setId", w);
        int index = integer(n, "index", w);
        int count = integer(n, "count", w);
        JsonNode sa = n.get("standalone");
        if (!sa.isBoolean()) {
            throw new InvalidContentException(w + " field 'standalone' must be true or false");
        }
        JsonNode ia = JsonFields.array(n, "images", w);
        List<BundleVolume.SetImage> images = new ArrayList<>(ia.size());
        for (int i = 0; i < ia.size(); i++) {
            String iw = w + " images[" + i + "]";
            JsonNode o = ia.get(i);
            JsonFields.requireObject(o, iw, IMAGE_KEYS, IMAGE_KEYS);
            ImageReference ref = BundleManifest.source(o, iw);
            List<Integer> vols = new ArrayList<>();
            for (JsonNode v : JsonFields.array(o, "volumes", iw)) {
                if (!v.isInt()) {
                    throw new InvalidContentException(iw + " volumes holds a non-integer");
                }
                vols.add(v.intValue());
            }
            images.add(new BundleVolume.SetImage(ref, Digest.parse(JsonFields.text(o, "digest", iw)), vols));
        }
        return new BundleVolume(id, index, count, sa.booleanValue(), images);
    }

    private static int integer(JsonNode n, String field, String w) {
        JsonNode v = n.get(field);
        if (v == null || !v.isInt()) {
            throw new InvalidContentException(w + " field '" + field + "' is missing or not an integer");
        }
        return v.intValue();
    }

    /**
     * k in 1..n; every set image once with ascending volume numbers in 1..n; the bundle's images
     * are exactly the set images this volume holds part of (same digests, same order); each
     * required item names another volume of the set, one that holds part of every image needing
     * it; a standalone volume requires nothing; a volume is not also a delta. A bundle that is
     * no volume has no required item naming one.
     */
    static void validate(BundleManifest m, String what) {
        if (m.volume().isEmpty()) {
            for (BundleManifest.Required r : m.requires()) {
                if (r.volume() != 0) {
                    throw new InvalidContentException(what + " required " + r.digest() + " names volume " + r.volume() + " but the bundle is not a volume");
                }
            }
            return;
        }
        BundleVolume v = m.volume().get();
        String w = what + " volume";
        if (v.count() < 1 || v.count() > BundleVolume.MAX_VOLUMES) {
            throw new InvalidContentException(w + " count " + v.count() + " is not between 1 and " + BundleVolume.MAX_VOLUMES);
        }
        if (v.index() < 1 || v.index() > v.count()) {
            throw new InvalidContentException(w + " index " + v.index() + " is not between 1 and its count " + v.count());
        }
        if (!m.basedOn().isEmpty()) {
            throw new InvalidContentException(w + ": a volume is not built against receipts (basedOn must be absent)");
        }
        Map<String, BundleVolume.SetImage> bySource = new HashMap<>();
        List<BundleVolume.SetImage> here = new ArrayList<>();
        for (BundleVolume.SetImage i : v.images()) {
            String iw = w + " image " + i.source();
            if (bySource.put(i.source().toString(), i) != null) {
                throw new InvalidContentException(iw + " is listed twice");
            }
            if (i.volumes().isEmpty()) {
                throw new InvalidContentException(iw + " has an empty volumes list");
            }
            for (int k = 0; k < i.volumes().size(); k++) {
                int x = i.volumes().get(k);
                if (x < 1 || x > v.count()) {
                    throw new InvalidContentException(iw + " lists volume " + x + " of a set of " + v.count());
                }
                if (k > 0 && x <= i.volumes().get(k - 1)) {
                    throw new InvalidContentException(iw + " volumes list is not strictly ascending (duplicate or unsorted " + x + ")");
                }
            }
            if (i.volumes().contains(v.index())) {
                here.add(i);
            }
        }
        List<BundleImage> images = m.images();
        if (here.size() != images.size()) {
            throw new InvalidContentException(w + " lists " + here.size() + " image(s) as held by volume " + v.index() + " but the bundle has "
                    + images.size());
        }
        for (int i = 0; i < images.size(); i++) {
            BundleImage img = images.get(i);
            BundleVolume.SetImage s = here.get(i);
            if (!s.source().equals(img.source()) || !s.digest().equals(img.digest())) {
                throw new InvalidContentException(w + " image " + (i + 1) + " of this volume is " + s.source() + "@" + s.digest()
                        + " but the bundle's images[" + i + "] is " + img.source() + "@" + img.digest());
            }
        }
        Set<Digest> seen = new HashSet<>();
        for (BundleManifest.Required r : m.requires()) {
            String rw = what + " required " + r.digest();
            seen.add(r.digest());
            if (v.standalone()) {
                throw new InvalidContentException(rw + ": a standalone volume requires nothing");
            }
            if (r.volume() < 1 || r.volume() > v.count() || r.volume() == v.index()) {
                throw new InvalidContentException(rw + " names volume " + r.volume() + ", not another volume of this set of " + v.count());
            }
            if (!r.repositories().isEmpty()) {
                throw new InvalidContentException(rw + ": a volume's required items list no repositories");
            }
            for (int i : r.images()) {
                if (!here.get(i).volumes().contains(r.volume())) {
                    throw new InvalidContentException(rw + " is in volume " + r.volume() + ", which does not hold part of "
                            + here.get(i).source() + " (volumes " + here.get(i).volumes() + ")");
                }
            }
        }
        for (BundleImage img : images) {
            if (seen.contains(img.digest())) {
                throw new InvalidContentException(what + " image " + img.source() + ": a volume carries the top of every image it lists");
            }
        }
    }
}
