package dev.airlock.model;

import com.fasterxml.jackson.databind.JsonNode;
import dev.airlock.error.InvalidContentException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/** A read-only parsed view of a {@link RawManifest}: either an image manifest or an index. */
public sealed interface ManifestView permits ImageManifest, ImageIndex {

    /** Largest number of entries accepted in one index or layers list. */
    int MAX_ENTRIES = 10_000;

    /**
     * Most indexes above a manifest in one image: a top index whose children are indexes, and so
     * on, at most this many levels (the bundle verifier and the copy planner refuse deeper).
     */
    int MAX_INDEX_DEPTH = 4;

    MediaType mediaType();

    /** Every descriptor this document references directly (config + layers, or child manifests; plus subject). */
    List<Descriptor> references();

    /** Parses raw bytes strictly; the JSON's own mediaType, when present, must agree with the raw's. */
    static ManifestView parse(RawManifest raw) {
        String what = "manifest " + raw.digest();
        JsonNode root = Json.parse(raw.bytes(), what);
        if (!root.isObject()) {
            throw new InvalidContentException(what + " is not a JSON object");
        }
        JsonNode sv = root.get("schemaVersion");
        if (sv == null || !sv.isInt() || sv.intValue() != 2) {
            throw new InvalidContentException(what + " has schemaVersion " + (sv == null ? "missing" : sv.toString()) + ", expected 2");
        }
        JsonNode mt = root.get("mediaType");
        if (mt != null && !(mt.isTextual() && mt.asText().equals(raw.mediaType().value()))) {
            throw new InvalidContentException(what + " declares mediaType " + mt + " but was delivered as " + raw.mediaType());
        }
        if (raw.mediaType().isDocker() && mt == null) {
            throw new InvalidContentException(what + " is a Docker manifest without its mediaType field");
        }
        Optional<Descriptor> subject = root.has("subject") ? Optional.of(descriptor(root.get("subject"), what + " subject")) : Optional.empty();
        Map<String, String> annotations = annotations(root.get("annotations"), what);
        if (raw.mediaType().isIndex()) {
            if (root.has("config") || root.has("layers")) {
                throw new InvalidContentException(what + " is an index but has config/layers");
            }
            List<Descriptor> entries = list(root.get("manifests"), what + " manifests", true);
            return new ImageIndex(raw.mediaType(), entries, subject, annotations);
        }
        if (root.has("manifests")) {
            throw new InvalidContentException(what + " is an image manifest but has a manifests list");
        }
        JsonNode config = root.get("config");
        if (config == null) {
            throw new InvalidContentException(what + " has no config");
        }
        String artifactType = root.path("artifactType").isTextual() ? root.get("artifactType").asText() : "";
        return new ImageManifest(raw.mediaType(), descriptor(config, what + " config"),
                list(root.get("layers"), what + " layers", false), subject, annotations, artifactType);
    }

    private static List<Descriptor> list(JsonNode node, String what, boolean manifestsOnly) {
        if (node == null || !node.isArray()) {
            throw new InvalidContentException(what + " is missing or not an array");
        }
        if (node.size() > MAX_ENTRIES) {
            throw new InvalidContentException(what + " has " + node.size() + " entries, over the limit of " + MAX_ENTRIES);
        }
        List<Descriptor> out = new ArrayList<>(node.size());
        for (int i = 0; i < node.size(); i++) {
            Descriptor d = descriptor(node.get(i), what + "[" + i + "]");
            if (manifestsOnly && !d.mediaType().isManifest()) {
                throw new InvalidContentException(what + "[" + i + "] has media type " + d.mediaType() + ", not a manifest type");
            }
            out.add(d);
        }
        return List.copyOf(out);
    }

    /** Parses one descriptor object. */
    static Descriptor descriptor(JsonNode node, String what) {
        if (node == null || !node.isObject()) {
            throw new InvalidContentException(what + " is not a descriptor object");
        }
        JsonNode mt = node.get("mediaType");
        JsonNode dg = node.get("digest");
        JsonNode sz = node.get("size");
        if (mt == null || !mt.isTextual() || dg == null || !dg.isTextual() || sz == null || !sz.canConvertToLong() || !sz.isIntegralNumber()) {
            throw new InvalidContentException(what + " lacks a valid mediaType, digest or size");
        }
        Optional<Platform> platform = Optional.empty();
        JsonNode p = node.get("platform");
        if (p != null) {
            if (!p.isObject() || !p.path("os").isTextual() || !p.path("architecture").isTextual()) {
                throw new InvalidContentException(what + " has a platform without os/architecture");
            }
            platform = Optional.of(new Platform(p.get("os").asText(), p.get("architecture").asText(),
                    p.path("variant").asText(""), p.path("os.version").asText("")));
        }
        try {
            return new Descriptor(MediaType.of(mt.asText()), Digest.parse(dg.asText()), sz.longValue(), platform,
                    annotations(node.get("annotations"), what));
        } catch (InvalidContentException e) {
            throw new InvalidContentException(what + ": " + e.getMessage());
        }
    }

    private static Map<String, String> annotations(JsonNode node, String what) {
        if (node == null) {
            return Map.of();
        }
        if (!node.isObject()) {
            throw new InvalidContentException(what + " annotations are not an object");
        }
        Map<String, String> out = new LinkedHashMap<>();
        var it = node.fields();
        while (it.hasNext()) {
            var e = it.next();
            if (!e.getValue().isTextual()) {
                throw new InvalidContentException(what + " annotation " + e.getKey() + " is not a string");
            }
            out.put(e.getKey(), e.getValue().asText());
        }
        return out;
    }
}
