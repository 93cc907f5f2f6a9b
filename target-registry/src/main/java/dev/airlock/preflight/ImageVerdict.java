package dev.airlock.preflight;

import java.util.List;

/**
 * Whether one image of a bundle can be imported into the probed target.
 *
 * @param source   the image's source reference
 * @param target   where the import would put it ("" when the name is refused)
 * @param problems why it would fail, one line each; empty when it can be imported
 */
public record ImageVerdict(String source, String target, List<String> problems) {
    public ImageVerdict {
        problems = List.copyOf(problems);
    }

    public boolean ok() {
        return problems.isEmpty();
    }
}
