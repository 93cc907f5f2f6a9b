package dev.airlock.copy;

import dev.airlock.store.ImageStore;
import java.util.List;
import java.util.Objects;

/**
 * One image to copy: its plan, and where it goes. {@code tags} are applied last, by
 * {@link GraphCopier#tag}, only for images whose whole graph arrived.
 */
public record CopyJob(ImagePlan plan, ImageStore target, String targetRepository, List<String> tags) {
    public CopyJob {
        Objects.requireNonNull(plan, "plan");
        Objects.requireNonNull(target, "target");
        Objects.requireNonNull(targetRepository, "targetRepository");
        tags = List.copyOf(tags);
    }

    /** "docker.io/library/busybox:1.36 → registry 10.0.0.5:5000 mirror/library/busybox" for messages. */
    public String describe() {
        return plan.source().name() + " → " + target.describe() + " " + targetRepository;
    }
}
