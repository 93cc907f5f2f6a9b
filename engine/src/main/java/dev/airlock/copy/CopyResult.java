package dev.airlock.copy;

import dev.airlock.error.AirlockException;
import dev.airlock.error.FailurePolicy;
import java.util.List;
import java.util.Optional;

/**
 * The end of one engine run: an outcome per image (in job order) and how many manifests were
 * actually written (0 on a re-run that found everything).
 */
public record CopyResult(List<ImageOutcome> outcomes, long manifestsWritten) {
    public CopyResult {
        outcomes = List.copyOf(outcomes);
    }

    /** The failure that decides the job's exit code ({@link FailurePolicy}); empty when every attempted image copied. */
    public Optional<AirlockException> failure() {
        return FailurePolicy.decisive(outcomes.stream().flatMap(o -> o.failure().stream()).toList());
    }

    /** True when every image copied. */
    public boolean ok() {
        return outcomes.stream().allMatch(ImageOutcome::ok);
    }

    /** Images that were not attempted because the run stopped after a failure. */
    public long notAttempted() {
        return outcomes.stream().filter(o -> o.status() == ImageOutcome.Status.NOT_ATTEMPTED).count();
    }
}
