package dev.airlock.importer;

import dev.airlock.model.TargetMapping;
import dev.airlock.sign.TrustPolicy;
import java.nio.file.Path;
import java.util.Objects;
import java.util.Optional;
import dev.airlock.sign.Signer;

/**
 * What to import.
 *
 * @param bundle  the bundle file ({@code .tar} or {@code .tar.zst}), read in place
 * @param mapping where each image goes ({@code --to REGISTRY[/PREFIX]})
 * @param trust   accepted signers; checked before anything is pushed
 * @param jobs    parallel blob transfers (an uncompressed bundle; a .tar.zst is read front to back)
 * @param dryRun  plan and ask the target what it has; write nothing
 * @param receipt after a successful import, write a receipt of the bundle's images as the target
 *                now holds them ({@link ReceiptMaker}), signed when a signer is given
 */
public record ImportRequest(Path bundle, TargetMapping mapping, TrustPolicy trust, int jobs, boolean dryRun, Optional<ReceiptOutput> receipt) {
    public ImportRequest {
        Objects.requireNonNull(bundle, "bundle");
        Objects.requireNonNull(mapping, "mapping");
        Objects.requireNonNull(trust, "trust");
        receipt = receipt == null ? Optional.empty() : receipt;
    }

    /** An import without a receipt. */
    public ImportRequest(Path bundle, TargetMapping mapping, TrustPolicy trust, int jobs, boolean dryRun) {
        this(bundle, mapping, trust, jobs, dryRun, Optional.empty());
    }

    /** Where a receipt goes and who signs it. */
    public record ReceiptOutput(Path file, Optional<Signer> signer) {
        public ReceiptOutput {
            Objects.requireNonNull(file, "file");
            signer = signer == null ? Optional.empty() : signer;
        }
    }
}
