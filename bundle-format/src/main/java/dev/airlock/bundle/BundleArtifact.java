package dev.airlock.bundle;

import dev.airlock.model.Digest;
import dev.airlock.model.MediaType;
import java.util.Objects;

/**
 * One artifact attached to an image of the bundle (a signature, an attestation, an SBOM, any OCI
 * artifact), as bundle.json records it under the image's {@code artifacts}. Its manifest and blobs
 * are files of the bundle like the image's own.
 *
 * @param subject        the digest it is attached to: a manifest of the image's graph, another
 *                       artifact, or (with {@code subjectDropped}) the source index a platform filter rewrote
 * @param digest         the artifact manifest's digest (a blob of the bundle)
 * @param mediaType      the artifact manifest's media type
 * @param artifactType   its type (artifactType, else config or first layer media type)
 * @param foundBy        {@code referrers-api}, {@code referrers-tag} or {@code cosign-tag:<tag>}
 * @param subjectDropped its subject is not in the bundle because a platform filter rewrote that index
 */
public record BundleArtifact(Digest subject, Digest digest, MediaType mediaType, String artifactType, String foundBy,
                             boolean subjectDropped) {
    public BundleArtifact {
        Objects.requireNonNull(subject, "subject");
        Objects.requireNonNull(digest, "digest");
        Objects.requireNonNull(mediaType, "mediaType");
        Objects.requireNonNull(artifactType, "artifactType");
        Objects.requireNonNull(foundBy, "foundBy");
        if (!foundBy.equals("referrers-api") && !foundBy.equals("referrers-tag")
                && !foundBy.matches("cosign-tag:sha256-[0-9a-f]{64}\\.(sig|att|sbom)")) {
            throw new dev.airlock.error.InvalidContentException("artifact " + digest + " has an unknown foundBy '" + dev.airlock.error.Printable.of(foundBy) + "'");
        }
        if (foundBy.startsWith("cosign-tag:") && !foundBy.startsWith("cosign-tag:sha256-" + subject.hex() + ".")) {
            throw new dev.airlock.error.InvalidContentException("artifact " + digest + " has cosign tag " + dev.airlock.error.Printable.of(foundBy)
                    + " which does not name its subject " + subject);
        }
    }

    /** The cosign tag it keeps at the target, or empty. */
    public java.util.Optional<String> cosignTag() {
        return foundBy.startsWith("cosign-tag:") ? java.util.Optional.of(foundBy.substring("cosign-tag:".length())) : java.util.Optional.empty();
    }
}
