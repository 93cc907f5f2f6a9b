package dev.airlock.sync;

import dev.airlock.model.TargetMapping;
import dev.airlock.model.ImageReference;
import dev.airlock.model.Platform;
import java.util.List;
import java.util.Objects;

/**
 * What to mirror.
 *
 * @param images    source references, in order
 * @param mapping   where each goes ({@code --to REGISTRY[/PREFIX]})
 * @param platforms platforms to keep; empty keeps all (an index is then copied byte-exact)
 * @param jobs      parallel blob transfers
 * @param failFast  stop at the first failing image
 * @param dryRun    only plan and ask the target what it has; write nothing
 * @param referrers which attached artifacts (signatures, attestations, SBOMs) travel with each image
 */
public record SyncRequest(List<ImageReference> images, TargetMapping mapping, List<Platform> platforms, int jobs,
                          boolean failFast, boolean dryRun, dev.airlock.copy.ReferrerOptions referrers) {
    public SyncRequest {
        images = List.copyOf(images);
        Objects.requireNonNull(mapping, "mapping");
        platforms = List.copyOf(platforms);
        referrers = referrers == null ? dev.airlock.copy.ReferrerOptions.ALL : referrers;
    }

    /** Every attached artifact travels. */
    public SyncRequest(List<ImageReference> images, TargetMapping mapping, List<Platform> platforms, int jobs,
                       boolean failFast, boolean dryRun) {
        this(images, mapping, platforms, jobs, failFast, dryRun, dev.airlock.copy.ReferrerOptions.ALL);
    }
}
