package dev.airlock.model;

import com.fasterxml.jackson.databind.JsonNode;
import dev.airlock.error.InvalidContentException;
import dev.airlock.error.Printable;
import java.util.Iterator;
import java.util.Set;

/**
 * Field checks for our own strict JSON documents (bundle.json, receipts): exactly the fields
 * allowed, the required ones present, each of the expected type; one line naming the document and
 * the field otherwise. Untrusted field names go through {@link Printable}.
 */
public final class JsonFields {
    private JsonFields() {
    }

    /** {@code n} is an object with only {@code allowed} fields and every {@code required} one. */
    public static void requireObject(JsonNode n, String what, Set<String> allowed, Set<String> required) {
        if (n == null || !n.isObject()) {
            throw new InvalidContentException(what + " is not a JSON object");
        }
        for (Iterator<String> it = n.fieldNames(); it.hasNext(); ) {
            String k = it.next();
            if (!allowed.contains(k)) {
                throw new InvalidContentException(what + " has unknown field '" + Printable.of(k) + "'");
            }
        }
        for (String k : required) {
            if (!n.has(k)) {
                throw new InvalidContentException(what + " lacks field '" + k + "'");
            }
        }
    }

    /** The string field {@code key}. */
    public static String text(JsonNode n, String key, String what) {
        JsonNode v = n.get(key);
        if (v == null || !v.isTextual()) {
            throw new InvalidContentException(what + " field '" + key + "' is missing or not a string");
        }
        return v.asText();
    }

    /** The array field {@code key}. */
    public static JsonNode array(JsonNode n, String key, String what) {
        JsonNode v = n.get(key);
        if (v == null || !v.isArray()) {
            throw new InvalidContentException(what + " field '" + key + "' is missing or not an array");
        }
        return v;
    }

    /** The text field {@code key}: a UUID in canonical lowercase form. */
    public static java.util.UUID uuid(JsonNode n, String key, String what) {
        String text = text(n, key, what);
        java.util.UUID id;
        try {
            id = java.util.UUID.fromString(text);
        } catch (IllegalArgumentException e) {
            throw new InvalidContentException(what + " has an invalid " + key + " '" + Printable.of(text) + "'");
        }
        if (!id.toString().equals(text)) {
            throw new InvalidContentException(what + " has a non-canonical " + key + " '" + Printable.of(text) + "'");
        }
        return id;
    }
}
