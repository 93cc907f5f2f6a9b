package dev.airlock.preflight;

import java.util.List;
import java.util.Optional;

/**
 * What preflight found.
 *
 * @param target     the target as given ({@code REGISTRY[/PREFIX]})
 * @param scratch    the scratch repository the probes used
 * @param checks     one per capability, in probing order
 * @param images     with a bundle: one verdict per image, else empty
 * @param left       what the probes left at the target because the registry refused to delete it
 *                   (one line each); empty when everything was removed
 * @param importable the bundle (or, without one, a usual image set) can be imported
 */
public record PreflightResult(String target, String scratch, List<Check> checks, List<ImageVerdict> images, List<String> left,
                              boolean importable) {
    public PreflightResult {
        checks = List.copyOf(checks);
        images = List.copyOf(images);
        left = List.copyOf(left);
    }

    /** The one line that says why the target cannot import, when it cannot. */
    public Optional<String> refusal() {
        if (importable) {
            return Optional.empty();
        }
        for (Check c : checks) {
            if (c.blocks() && (c.capability().equals("reachable") || c.capability().equals("authentication")
                    || c.capability().startsWith("push"))) {
                return Optional.of(target + ": " + c.capability() + ": no (" + c.answer() + ")");
            }
        }
        List<ImageVerdict> failing = images.stream().filter(v -> !v.ok()).toList();
        if (!failing.isEmpty()) {
            StringBuilder b = new StringBuilder(target + ": " + failing.size() + " of " + images.size() + " image(s) would fail: ");
            for (int i = 0; i < failing.size() && i < 3; i++) {
                b.append(i == 0 ? "" : "; ").append(failing.get(i).source()).append(" (").append(String.join(", ", failing.get(i).problems())).append(')');
            }
            if (failing.size() > 3) {
                b.append("; and ").append(failing.size() - 3).append(" more");
            }
            return Optional.of(b.toString());
        }
        for (Check c : checks) {
            if (c.blocks()) {
                return Optional.of(target + ": " + c.capability() + ": no (" + c.answer() + ")");
            }
        }
        return Optional.of(target + ": cannot import");
    }
}
