package dev.airlock.model;

import com.fasterxml.jackson.databind.JsonNode;
import dev.airlock.error.InvalidContentException;

/** The platform fields of an image config blob (everything else is left in the bytes). */
public record ImageConfig(Platform platform) {

    /** Parses the os/architecture/variant/os.version of a config; {@code what} names it in errors. */
    public static ImageConfig parse(byte[] bytes, String what) {
        JsonNode root = Json.parse(bytes, what);
        if (!root.isObject() || !root.path("os").isTextual() || !root.path("architecture").isTextual()) {
            throw new InvalidContentException(what + " has no os/architecture");
        }
        return new ImageConfig(new Platform(root.get("os").asText(), root.get("architecture").asText(),
                root.path("variant").asText(""), root.path("os.version").asText("")));
    }
}
