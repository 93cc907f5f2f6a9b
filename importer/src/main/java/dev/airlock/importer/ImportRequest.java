package dev.airlock.importer;

import dev.airlock.model.TargetMapping;
import dev.airlock.sign.TrustPolicy;
import java.nio.file.Path;
import java.util.Objects;

/**
 * What to import.
 *
 * @param bundle  the bundle file ({@code .tar} or {@code .tar.zst}), read in place
 * @param mapping where each image goes ({@code --to REGISTRY[/PREFIX]})
 * @param trust   accepted signers; checked before anything is pushed
 * @param jobs    parallel blob transfers (an uncompressed bundle; a .tar.zst is read front to back)
 * @param dryRun  plan and ask the target what it has; write nothing
 */
public record ImportRequest(Path bundle, TargetMapping mapping, TrustPolicy trust, int jobs, boolean dryRun) {
    public ImportRequest {
        Objects.requireNonNull(bundle, "bundle");
        Objects.requireNonNull(mapping, "mapping");
        Objects.requireNonNull(trust, "trust");
    }
}
