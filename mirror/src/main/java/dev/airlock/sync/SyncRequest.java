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
 */
public record SyncRequest(List<ImageReference> images, TargetMapping mapping, List<Platform> platforms, int jobs,
                          boolean failFast, boolean dryRun) {
    public SyncRequest {
        images = List.copyOf(images);
        Objects.requireNonNull(mapping, "mapping");
        platforms = List.copyOf(platforms);
    }
}
