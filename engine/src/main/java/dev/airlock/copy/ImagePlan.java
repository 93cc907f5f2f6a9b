package dev.airlock.copy;

import dev.airlock.model.Descriptor;
import dev.airlock.model.Digest;
import dev.airlock.model.Platform;
import dev.airlock.model.RawManifest;
import java.util.List;
import java.util.Optional;

/**
 * Everything one image consists of, resolved before any layer moves.
 *
 * @param source         where it is read from
 * @param top            the top-level manifest or index, exact bytes (rewritten only by a platform filter)
 * @param originalDigest the source's top-level digest when a platform filter rewrote the index
 * @param manifests      every manifest of the graph in push order: children before the indexes
 *                       that list them, {@code top}, then the attached artifacts (each after its
 *                       subject); each once
 * @param blobs          configs and layers of all those manifests, each once, in first-use order
 * @param platforms      the platforms of the image's manifests (attestations excluded)
 * @param artifacts      what is attached to the graph's manifests (signatures, SBOMs, ...): their
 *                       manifests and blobs are in {@code manifests} and {@code blobs}
 * @param warnings       one line per listed artifact that could not be carried
 */
public record ImagePlan(SourceImage source, RawManifest top, Optional<Digest> originalDigest,
                        List<RawManifest> manifests, List<Descriptor> blobs, List<Platform> platforms,
                        List<Artifact> artifacts, List<String> warnings) {
    public ImagePlan {
        manifests = List.copyOf(manifests);
        blobs = List.copyOf(blobs);
        platforms = List.copyOf(platforms);
        artifacts = List.copyOf(artifacts);
        warnings = List.copyOf(warnings);
    }

    /** A plan without artifacts. */
    public ImagePlan(SourceImage source, RawManifest top, Optional<Digest> originalDigest,
                     List<RawManifest> manifests, List<Descriptor> blobs, List<Platform> platforms) {
        this(source, top, originalDigest, manifests, blobs, platforms, List.of(), List.of());
    }

    /** Sum of the sizes of the image's blobs (shared blobs counted once per image). */
    public long blobBytes() {
        return blobs.stream().mapToLong(Descriptor::size).sum();
    }

    /** Every file of the graph: blobs and manifests (what a bundle lists as used by this image). */
    public java.util.Set<Digest> digests() {
        java.util.Set<Digest> out = new java.util.LinkedHashSet<>();
        blobs.forEach(b -> out.add(b.digest()));
        manifests.forEach(m -> out.add(m.digest()));
        return out;
    }

    /** The digest of the top-level manifest as it will be written. */
    public Digest digest() {
        return top.digest();
    }
}
