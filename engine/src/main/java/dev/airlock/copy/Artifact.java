package dev.airlock.copy;

import dev.airlock.model.Descriptor;
import dev.airlock.model.Digest;
import dev.airlock.model.ImageManifest;
import dev.airlock.model.Json;
import dev.airlock.model.MediaType;
import dev.airlock.model.RawManifest;
import java.util.Objects;
import java.util.Optional;

/**
 * A manifest attached to a manifest of an image's graph (or to another artifact): a signature, an
 * attestation, an SBOM, any OCI artifact. It travels byte-exact with the image.
 *
 * @param subject        the digest it is attached to
 * @param manifest       its exact bytes
 * @param foundBy        how the source listed it: {@code referrers-api}, {@code referrers-tag}
 *                       or {@code cosign-tag:<tag>}
 * @param subjectDropped its subject was the source's index, which a platform filter rewrote: on the
 *                       target it has no subject (said per artifact in output and report)
 */
public record Artifact(Digest subject, RawManifest manifest, String foundBy, boolean subjectDropped) {
    public static final String REFERRERS_API = "referrers-api";
    public static final String REFERRERS_TAG = "referrers-tag";
    public static final String COSIGN_TAG = "cosign-tag:";

    public Artifact {
        Objects.requireNonNull(subject, "subject");
        Objects.requireNonNull(manifest, "manifest");
        Objects.requireNonNull(foundBy, "foundBy");
    }

    public Digest digest() {
        return manifest.digest();
    }

    /** The cosign tag it is known by at the source (and keeps at the target), when found that way. */
    public Optional<String> tag() {
        return foundBy.startsWith(COSIGN_TAG) ? Optional.of(foundBy.substring(COSIGN_TAG.length())) : Optional.empty();
    }

    /** The artifact's type: its {@code artifactType}, else its config's media type unless that is an image config or empty, else its first layer's. */
    public String artifactType() {
        return typeOf(manifest);
    }

    /** The descriptor a referrers list holds for it: media type, digest, size, artifactType, annotations. */
    public com.fasterxml.jackson.databind.node.ObjectNode referrerDescriptor() {
        var node = Json.descriptor(Descriptor.of(manifest.mediaType(), manifest.digest(), manifest.size()));
        String type = typeOf(manifest);
        if (!type.isEmpty()) {
            node.put("artifactType", type);
        }
        var annotations = Json.parse(manifest.bytes(), "artifact " + manifest.digest()).get("annotations");
        if (annotations != null && annotations.isObject() && annotations.size() > 0) {
            node.set("annotations", annotations.deepCopy());
        }
        return node;
    }

    /** The type of any manifest used as an artifact (see {@link #artifactType()}). */
    public static String typeOf(RawManifest m) {
        if (m.view() instanceof ImageManifest im) {
            if (!im.artifactType().isEmpty()) {
                return im.artifactType();
            }
            MediaType config = im.config().mediaType();
            if (!config.isImageConfig() && !config.equals(MediaType.OCI_EMPTY)) {
                return config.value();
            }
            return im.layers().isEmpty() ? config.value() : im.layers().get(0).mediaType().value();
        }
        var at = Json.parse(m.bytes(), "artifact " + m.digest()).get("artifactType");
        return at != null && at.isTextual() ? at.asText() : m.mediaType().value();
    }
}
