package dev.airlock.copy;

import java.util.Objects;
import java.util.Set;

/**
 * Which artifacts attached to an image (signatures, attestations, SBOMs) the planner carries with it.
 *
 * @param mode          {@link Mode}
 * @param artifactTypes when not empty, only artifacts of these types (their {@code artifactType},
 *                      else their config's or first layer's media type) are carried
 */
public record ReferrerOptions(Mode mode, Set<String> artifactTypes) {
    /** How artifacts are looked for and what a listed one that cannot be carried means. */
    public enum Mode {
        /** Look for every attached artifact; one that cannot be read is a warning, recorded in the plan. */
        ALL,
        /** Look for none. */
        NONE,
        /** As ALL, but one that cannot be read fails the image before any layer moves. */
        REQUIRED
    }

    /** Carries none. */
    public static final ReferrerOptions NONE = new ReferrerOptions(Mode.NONE, Set.of());
    /** Carries every artifact found; unreadable ones are warnings. */
    public static final ReferrerOptions ALL = new ReferrerOptions(Mode.ALL, Set.of());

    /** Carries every artifact found; one that cannot be read fails the image (a bundle's listed artifacts). */
    public static final ReferrerOptions REQUIRED = new ReferrerOptions(Mode.REQUIRED, Set.of());

    public ReferrerOptions {
        Objects.requireNonNull(mode, "mode");
        artifactTypes = Set.copyOf(artifactTypes);
    }

    public boolean enabled() {
        return mode != Mode.NONE;
    }

    /** True when an artifact of {@code type} is carried. */
    public boolean accepts(String type) {
        return artifactTypes.isEmpty() || artifactTypes.contains(type);
    }
}
