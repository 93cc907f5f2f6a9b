package dev.airlock.sync;

import dev.airlock.copy.ImageReport;
import java.util.List;

/**
 * Every image of a sync, in request order.
 *
 * @param images  one report per requested image
 * @param seconds wall time of the whole sync
 */
public record SyncResult(String target, boolean dryRun, List<ImageReport> images, double seconds) {
    public SyncResult {
        images = List.copyOf(images);
    }

    public List<ImageReport> failures() {
        return images.stream().filter(i -> !i.ok()).toList();
    }

    public boolean ok() {
        return failures().isEmpty();
    }

    public long bytesUploaded() {
        return images.stream().mapToLong(ImageReport::bytesUploaded).sum();
    }
}
