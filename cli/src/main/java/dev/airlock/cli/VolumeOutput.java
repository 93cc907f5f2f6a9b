package dev.airlock.cli;

import dev.airlock.error.Printable;
import dev.airlock.export.ExportResult.ExportedImage;
import dev.airlock.export.VolumeSetResult;
import dev.airlock.model.Platform;
import dev.airlock.progress.Sizes;
import java.io.PrintWriter;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.stream.Collectors;

/** What {@code airlock export --volume-size} prints, and its {@code --report} JSON. */
final class VolumeOutput {
    private VolumeOutput() {
    }

    static void print(VolumeSetResult r, PrintWriter out) {
        line(out, "Exported %d image(s) into %d volume(s) of at most %s (set %s%s): %s in all, %s unique, %s",
                r.images().size(), r.volumes().size(), Sizes.bytes(r.volumeSize()), r.setId(), r.standalone() ? ", standalone" : "",
                Sizes.bytes(r.totalBytes()), Sizes.bytes(r.uniqueBytes()), r.signed() ? "signed by " + r.signer().orElse("?") : "NOT SIGNED");
        if (r.standalone()) {
            line(out, "Standalone volumes repeat shared blobs: %s extra (%d bytes)", Sizes.bytes(r.repeatedBytes()), r.repeatedBytes());
        }
        for (VolumeSetResult.Volume v : r.volumes()) {
            line(out, "  %s  %s  %d image(s)%s", v.file(), Sizes.bytes(v.bytes()), v.images().size(),
                    v.requiredItems() == 0 ? "" : ", " + v.requiredItems() + " item(s) in other volumes");
        }
        for (ExportedImage i : r.images()) {
            line(out, "  %s  %s  %s  %s", i.source(), i.digest(), Sizes.bytes(i.bytes()),
                    i.platforms().stream().map(Platform::toString).collect(Collectors.joining(",")));
        }
        line(out, "Fetched %s, %s from cache, in %.1f s", Sizes.bytes(r.fetchedBytes()), Sizes.bytes(r.cachedBytes()),
                r.duration().toMillis() / 1000.0);
        out.flush();
    }

    private static void line(PrintWriter out, String format, Object... args) {
        out.println(Printable.text(String.format(Locale.ROOT, format, args)));
    }

    /** The {@code --report} JSON of an export into volumes. */
    record Report(boolean ok, String setId, boolean standalone, long volumeSize, List<Volume> volumes, List<String> images, long uniqueBytes,
                  long totalBytes, long repeatedBytes, long fetchedBytes, long cachedBytes, boolean signed, Optional<String> signer, double seconds) {
        record Volume(int index, String file, String sha256, long bytes, List<String> images, int requiredItems) {
        }

        static Report of(VolumeSetResult r) {
            return new Report(true, r.setId().toString(), r.standalone(), r.volumeSize(),
                    r.volumes().stream().map(v -> new Volume(v.index(), v.file().toString(), v.sha256().hex(), v.bytes(),
                            v.images().stream().map(Object::toString).toList(), v.requiredItems())).toList(),
                    r.images().stream().map(i -> i.source().toString()).toList(), r.uniqueBytes(), r.totalBytes(), r.repeatedBytes(),
                    r.fetchedBytes(), r.cachedBytes(), r.signed(), r.signer(), r.duration().toMillis() / 1000.0);
        }
    }
}
