package dev.airlock.model;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.StreamReadConstraints;
import com.fasterxml.jackson.core.StreamReadFeature;
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

    private static final ObjectMapper MAPPER = JsonMapper.builder(FACTORY)
            .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS)
            .enable(DeserializationFeature.FAIL_ON_READING_DUP_TREE_KEY)
            .disable(SerializationFeature.INDENT_OUTPUT)
            .build();

    private Json() {
    }

    /** The shared mapper (strict reads, compact writes). */
    public static ObjectMapper mapper() {
        return MAPPER;
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
        try (JsonParser p = MAPPER.createParser(bytes)) {
            JsonNode node = MAPPER.readTree(p);
            if (node == null || node.isMissingNode()) {
                throw new InvalidContentException(what + " is empty");
            }
            return node;
        } catch (IOException e) {
            throw new InvalidContentException(what + " is not valid JSON: " + oneLine(e), e);
        }
    }

    /** Compact UTF-8 bytes of a value (our own documents only). */
    public static byte[] write(Object value) {
        try {
            return MAPPER.writeValueAsBytes(value);
        } catch (IOException e) {
            throw new IllegalStateException("cannot serialise " + value.getClass().getSimpleName(), e);
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
}
