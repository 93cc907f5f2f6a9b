package dev.airlock.model;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.StreamReadConstraints;
import com.fasterxml.jackson.core.StreamReadFeature;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.json.JsonMapper;
import dev.airlock.error.InvalidContentException;
import java.io.IOException;

/**
 * The one strict JSON reader: duplicate keys, trailing tokens, deep nesting and huge strings are
 * errors. Parsed trees are read-only views; the bytes stay the truth. Writing (our own JSON only)
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

    /** As {@link #parse(byte[], String)} with a larger size limit (for bundle.json, which lists every file). */
    public static JsonNode parse(byte[] bytes, String what, int maxBytes) {
        if (bytes.length > maxBytes) {
            throw new InvalidContentException(what + " is " + bytes.length + " bytes, over the " + maxBytes + "-byte limit for JSON");
        }
        try (JsonParser p = FACTORY.createParser(bytes)) {
            JsonToken first = p.nextToken();
            if (first == null) {
                throw new InvalidContentException(what + " is empty");
            }
            JsonNode node = tree(p, first);
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

    /** The node starting at {@code t}; nesting is bounded by the factory's constraints. */
    private static JsonNode tree(JsonParser p, JsonToken t) throws IOException {
        switch (t) {
            case START_OBJECT: {
                ObjectNode o = NODES.objectNode();
                for (JsonToken k = p.nextToken(); k != JsonToken.END_OBJECT; k = p.nextToken()) {
                    String name = p.currentName();
                    o.set(name, tree(p, p.nextToken()));
                }
                return o;
            }
            case START_ARRAY: {
                ArrayNode a = NODES.arrayNode();
                for (JsonToken k = p.nextToken(); k != JsonToken.END_ARRAY; k = p.nextToken()) {
                    a.add(tree(p, k));
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
