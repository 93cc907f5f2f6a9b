package dev.airlock.importer;

import dev.airlock.copy.ImageReport;
import java.nio.file.Path;
import java.util.List;

/**
 * The outcome of an import, for the summary and {@code --report}.
 *
 * @param bundle    the bundle read
 * @param signature "signed by sha256:… (CN=…), trusted", "unsigned", …
 * @param target    the {@code --to} value
 * @param dryRun    nothing was written
 * @param upToDate  the target already held every blob, manifest and tag: only HEADs were asked
 * @param tagged    tags were moved (every image arrived); false when any image failed
 * @param images    one report per image of the bundle, in bundle order
 * @param seconds   wall time
 */
public record ImportResult(Path bundle, String signature, String target, boolean dryRun, boolean upToDate, boolean tagged,
                           List<ImageReport> images, double seconds) {
    public ImportResult {
        images = List.copyOf(images);
    }

    public boolean ok() {
        return images.stream().allMatch(ImageReport::ok);
    }

    public long bytesUploaded() {
        return images.stream().mapToLong(ImageReport::bytesUploaded).sum();
    }

    public long bytesSkipped() {
        return images.stream().mapToLong(ImageReport::bytesSkipped).sum();
    }

    public long bytesMounted() {
        return images.stream().mapToLong(ImageReport::bytesMounted).sum();
    }

    /** Images of a volume waiting for other volumes of its set: their part is at the target, not tagged yet. */
    public List<ImageReport> waitingImages() {
        return images.stream().filter(i -> i.status() == ImageReport.Status.WAITING).toList();
    }
}
