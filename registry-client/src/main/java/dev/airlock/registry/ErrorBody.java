package dev.airlock.registry;

import com.fasterxml.jackson.databind.JsonNode;
import dev.airlock.model.Json;
import java.util.ArrayList;
import java.util.List;

/**
 * The OCI distribution error body, {@code {"errors":[{"code":"…","message":"…"}]}}: codes and the
 * first message, for one-line error messages. Anything else yields no codes.
 */
record ErrorBody(List<String> codes, String message) {
    static ErrorBody parse(byte[] body) {
        if (body == null || body.length == 0) {
            return new ErrorBody(List.of(), "");
        }
        try {
            JsonNode root = Json.parse(body, "error body");
            List<String> codes = new ArrayList<>();
            String msg = "";
            for (JsonNode e : root.path("errors")) {
                String code = e.path("code").asText("");
                if (code.matches("[A-Z0-9_]{1,64}")) {
                    codes.add(code);
                }
                if (msg.isEmpty()) {
                    msg = e.path("message").asText("");
                }
            }
            if (codes.isEmpty() && root.path("details").isTextual()) {
                msg = root.path("details").asText();
            }
            return new ErrorBody(List.copyOf(codes), clean(msg));
        } catch (RuntimeException e) {
            return new ErrorBody(List.of(), "");
        }
    }

    /** " MANIFEST_BLOB_UNKNOWN (blob unknown to registry)" or "" */
    String suffix() {
        StringBuilder b = new StringBuilder();
        if (!codes.isEmpty()) {
            b.append(' ').append(String.join(",", codes));
        }
        if (!message.isEmpty()) {
            b.append(" (").append(message).append(')');
        }
        return b.toString();
    }

    private static String clean(String s) {
        String one = s.replaceAll("[\\p{Cntrl}\\s]+", " ").trim();
        return one.length() > 200 ? one.substring(0, 200) + "…" : one;
    }
}
