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
 * @param required       items of the graph that are external (a delta relies on them at the
 *                       target): neither fetched nor descended into, and not in {@code manifests}
 *                       or {@code blobs}; when the top itself is external, it is the only one and
 *                       {@code manifests} and {@code blobs} hold only what its attached artifacts
 *                       bring ({@code top} then holds the bytes read from where the planner was
 *                       told to find them)
 */
public record ImagePlan(SourceImage source, RawManifest top, Optional<Digest> originalDigest,
                        List<RawManifest> manifests, List<Descriptor> blobs, List<Platform> platforms,
                        List<Artifact> artifacts, List<String> warnings, List<Descriptor> required) {
    public ImagePlan {
        manifests = List.copyOf(manifests);
        blobs = List.copyOf(blobs);
        platforms = List.copyOf(platforms);
        artifacts = List.copyOf(artifacts);
        warnings = List.copyOf(warnings);
        required = List.copyOf(required);
    }

    /** A plan with neither artifacts nor anything external. */
    public ImagePlan(SourceImage source, RawManifest top, Optional<Digest> originalDigest,
                     List<RawManifest> manifests, List<Descriptor> blobs, List<Platform> platforms) {
        this(source, top, originalDigest, manifests, blobs, platforms, List.of(), List.of(), List.of());
    }

    /** A plan with artifacts and nothing external. */
    public ImagePlan(SourceImage source, RawManifest top, Optional<Digest> originalDigest,
                     List<RawManifest> manifests, List<Descriptor> blobs, List<Platform> platforms,
                     List<Artifact> artifacts, List<String> warnings) {
        this(source, top, originalDigest, manifests, blobs, platforms, artifacts, warnings, List.of());
    }

    /** A plan with something external and no artifacts. */
    public ImagePlan(SourceImage source, RawManifest top, Optional<Digest> originalDigest,
                     List<RawManifest> manifests, List<Descriptor> blobs, List<Platform> platforms, List<Descriptor> required) {
        this(source, top, originalDigest, manifests, blobs, platforms, List.of(), List.of(), required);
    }

    /** True when the top manifest itself is external (the whole image is at the target). */
    public boolean topExternal() {
        return required.stream().anyMatch(d -> d.digest().equals(top.digest()));
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
