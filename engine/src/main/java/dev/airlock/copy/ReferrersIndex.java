package dev.airlock.copy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.airlock.error.InvalidContentException;
import dev.airlock.model.Json;
import dev.airlock.model.MediaType;
import dev.airlock.model.RawManifest;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * The referrers tag schema's index ({@code sha256-<hex>} on a registry without the referrers
 * API), merged: every entry already there is kept as it is (another tool's too), ours are added
 * once, and the entries are sorted by digest so the same set always has the same bytes.
 */
final class ReferrersIndex {
    private ReferrersIndex() {
    }

    /**
     * The index to write, or empty when {@code existing} already lists every one of {@code add}
     * (nothing to change: a re-import writes nothing).
     */
    static Optional<RawManifest> merge(Optional<RawManifest> existing, List<ObjectNode> add) {
        ObjectNode root;
        Map<String, JsonNode> entries = new LinkedHashMap<>();
        if (existing.isPresent()) {
            JsonNode old = Json.parse(existing.get().bytes(), "referrers index " + existing.get().digest());
            if (!old.isObject() || !old.path("manifests").isArray()) {
                throw new InvalidContentException("referrers index " + existing.get().digest() + " has no manifests list");
            }
            root = ((ObjectNode) old).deepCopy();
            for (JsonNode e : old.get("manifests")) {
                entries.putIfAbsent(e.path("digest").asText(), e);
            }
        } else {
            root = JsonNodeFactory.instance.objectNode();
            root.put("schemaVersion", 2);
            root.put("mediaType", MediaType.OCI_INDEX.value());
        }
        boolean changed = false;
        for (ObjectNode d : add) {
            if (entries.putIfAbsent(d.get("digest").asText(), d) == null) {
                changed = true;
            }
        }
        if (!changed) {
            return Optional.empty();
        }
        List<String> digests = new ArrayList<>(entries.keySet());
        digests.sort(Comparator.naturalOrder());
        root.remove("manifests");
        ArrayNode list = root.putArray("manifests");
        digests.forEach(d -> list.add(entries.get(d)));
        return Optional.of(RawManifest.of(MediaType.OCI_INDEX, Json.write(root)));
    }
}
