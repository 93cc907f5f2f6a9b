package dev.airlock.model;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.core.StreamReadConstraints;
import com.fasterxml.jackson.core.StreamReadFeature;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.json.JsonMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.airlock.error.InvalidContentException;
import dev.airlock.error.Printable;
import java.io.IOException;
import java.util.HashMap;
import java.util.Map;
import java.util.Set;

/**
 * The one strict JSON reader: duplicate keys (also keys equal ignoring case, see
 * {@link #parse(byte[], String, int)}), a leading byte order mark, trailing tokens, deep nesting
 * and huge strings are errors. Parsed trees are read-only views; the bytes stay the truth. Writing (our own JSON only)
 * is compact and UTF-8.
 *
 * <p>Reading builds the tree straight from Jackson's streaming parser: creating an ObjectMapper
 * costs ~150 ms in a fresh JVM (its serializer and deserializer machinery), paid by every command
 * that only reads JSON. The mapper is created on first use, by writers.
 */
public final class Json {
    /** Largest JSON document accepted anywhere: 4 MiB, the manifest limit of Distribution. */
    public static final int MAX_DOCUMENT_BYTES = 4 * 1024 * 1024;

    private static final JsonFactory FACTORY = JsonFactory.builder()
            .enable(StreamReadFeature.STRICT_DUPLICATE_DETECTION)
            .streamReadConstraints(StreamReadConstraints.builder()
                    .maxNestingDepth(64)
                    .maxStringLength(MAX_DOCUMENT_BYTES)
                    .maxNumberLength(64)
                    .build())
            .build();

    private static final JsonNodeFactory NODES = JsonNodeFactory.instance;

    /** Created on first use: reading does not need it. */
    private static final class Mapper {
        static final ObjectMapper INSTANCE = JsonMapper.builder(FACTORY)
                .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS)
                .enable(DeserializationFeature.FAIL_ON_READING_DUP_TREE_KEY)
                .disable(SerializationFeature.INDENT_OUTPUT)
                .build();
    }

    private Json() {
    }

    /** The shared mapper (strict reads, compact writes). */
    public static ObjectMapper mapper() {
        return Mapper.INSTANCE;
    }

    /**
     * Parses {@code bytes} strictly. {@code what} names the document in the error, e.g.
     * "manifest sha256:ab… in bundle.tar".
     */
    public static JsonNode parse(byte[] bytes, String what) {
        return parse(bytes, what, MAX_DOCUMENT_BYTES);
    }

    /**
     * As {@link #parse(byte[], String)} with a larger size limit (for bundle.json, which lists every file).
     *
     * <p>Two keys of one object that are equal ignoring case ({@code architecture} and
     * {@code Architecture}, {@code Config} beside {@code config}) are refused: Go's encoding/json,
     * which containerd, skopeo, docker and Distribution use, matches struct fields ignoring case
     * and keeps the last match, so such a document means one thing to us and another to them.
     * Objects that Go reads as maps keep case-distinct keys ({@link #MAP_FIELDS}: annotations,
     * labels, ...). A UTF-8 byte order mark before the document is refused too (Go and
     * Distribution reject it).
     */
    public static JsonNode parse(byte[] bytes, String what, int maxBytes) {
        if (bytes.length > maxBytes) {
            throw new InvalidContentException(what + " is " + bytes.length + " bytes, over the " + maxBytes + "-byte limit for JSON");
        }
        if (bytes.length >= 3 && (bytes[0] & 0xff) == 0xef && (bytes[1] & 0xff) == 0xbb && (bytes[2] & 0xff) == 0xbf) {
            throw new InvalidContentException(what + " starts with a UTF-8 byte order mark (not valid JSON for registries and Go clients)");
        }
        try (JsonParser p = FACTORY.createParser(bytes)) {
            JsonToken first = p.nextToken();
            if (first == null) {
                throw new InvalidContentException(what + " is empty");
            }
            JsonNode node = tree(p, first, "", what);
            if (p.nextToken() != null) {
                throw new InvalidContentException(what + " is not valid JSON: trailing data after the document");
            }
            return node;
        } catch (IOException e) {
            throw new InvalidContentException(what + " is not valid JSON: " + oneLine(e), e);
        }
    }

    /** Compact UTF-8 bytes of a value (our own documents only). */
    public static byte[] write(Object value) {
        try {
            return Mapper.INSTANCE.writeValueAsBytes(value);
        } catch (IOException e) {
            throw new IllegalStateException("cannot serialise " + value.getClass().getSimpleName(), e);
        }
    }

    /**
     * Keys (folded) whose object values Go reads as maps, where keys differing in case are
     * distinct: OCI annotations, config labels, exposed ports and volumes, docker-archive
     * layer sources, credential files' auths and credHelpers.
     */
    static final Set<String> MAP_FIELDS = Set.of("annotations", "labels", "exposedports", "volumes", "layersources", "auths", "credhelpers");

    /** The node starting at {@code t}; nesting is bounded by the factory's constraints. {@code key} is the key it is the value of. */
    private static JsonNode tree(JsonParser p, JsonToken t, String key, String what) throws IOException {
        switch (t) {
            case START_OBJECT: {
                ObjectNode o = NODES.objectNode();
                Map<String, String> folded = MAP_FIELDS.contains(fold(key)) ? null : new HashMap<>();
                for (JsonToken k = p.nextToken(); k != JsonToken.END_OBJECT; k = p.nextToken()) {
                    String name = p.currentName();
                    if (folded != null) {
                        String other = folded.putIfAbsent(fold(name), name);
                        if (other != null && !other.equals(name)) {
                            throw new InvalidContentException(what + " has keys \"" + Printable.of(other) + "\" and \"" + Printable.of(name) + "\""
                                    + (key.isEmpty() ? "" : " in \"" + Printable.of(key) + "\"")
                                    + " that are equal ignoring case (Go clients would read the last one)");
                        }
                    }
                    o.set(name, tree(p, p.nextToken(), name, what));
                }
                return o;
            }
            case START_ARRAY: {
                ArrayNode a = NODES.arrayNode();
                for (JsonToken k = p.nextToken(); k != JsonToken.END_ARRAY; k = p.nextToken()) {
                    a.add(tree(p, k, key, what));
                }
                return a;
            }
            case VALUE_STRING:
                return NODES.textNode(p.getText());
            case VALUE_NUMBER_INT:
                return switch (p.getNumberType()) {
                    case INT -> NODES.numberNode(p.getIntValue());
                    case LONG -> NODES.numberNode(p.getLongValue());
                    default -> NODES.numberNode(p.getBigIntegerValue());
                };
            case VALUE_NUMBER_FLOAT:
                return NODES.numberNode(p.getDoubleValue());
            case VALUE_TRUE:
                return NODES.booleanNode(true);
            case VALUE_FALSE:
                return NODES.booleanNode(false);
            case VALUE_NULL:
                return NODES.nullNode();
            default:
                throw new com.fasterxml.jackson.core.JsonParseException(p, "unexpected token " + t);
        }
    }

    /**
     * Case folding as Go's encoding/json matches field names: per code point, so that the Kelvin
     * sign folds to 'k' and the long s to 's' as they do there.
     */
    static String fold(String s) {
        StringBuilder b = new StringBuilder(s.length());
        s.codePoints().forEach(c -> b.appendCodePoint(Character.toLowerCase(Character.toUpperCase(c))));
        return b.toString();
    }

    private static String oneLine(String s) {
        if (s == null) {
            return "unreadable";
        }
        String line = s.replaceAll("\\s+", " ").trim();
        return line.length() > 200 ? line.substring(0, 200) + "…" : line;
    }

    private static String originalMessage(IOException e) {
        return e instanceof com.fasterxml.jackson.core.JsonProcessingException j ? j.getOriginalMessage() : e.getMessage();
    }

    private static String oneLine(IOException e) {
        return oneLine(originalMessage(e));
    }

    /**
     * A descriptor as OCI JSON: {@code {"mediaType":…,"digest":…,"size":…}} in that order (the one
     * place descriptors are written; add platform or annotations to the returned node).
     */
    public static com.fasterxml.jackson.databind.node.ObjectNode descriptor(Descriptor d) {
        com.fasterxml.jackson.databind.node.ObjectNode n = mapper().createObjectNode();
        n.put("mediaType", d.mediaType().value());
        n.put("digest", d.digest().toString());
        n.put("size", d.size());
        return n;
    }
}
