package dev.airlock.importer;

import dev.airlock.bundle.BundleArchive;
import dev.airlock.bundle.BundleVolume;
import dev.airlock.copy.ImageReport;
import dev.airlock.error.UsageException;
import dev.airlock.error.VerificationException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;

/**
 * {@code airlock import VOL...}: several volumes of one set in one command, with the same result
 * as importing them one after the other. Before anything is pushed, each volume is opened (its
 * signature checked) and all must be volumes of one set, each once, by one signer; then each is
 * imported in the order given, and each image's line is the one of the last volume listing it.
 */
public final class VolumeSetImport {
    private VolumeSetImport() {
    }

    /** Imports every bundle of {@code requests} (all alike but for the bundle), each with the importer {@code importers} gives for it. */
    public static ImportResult run(java.util.function.Function<ImportRequest, Importer> importers, List<ImportRequest> requests) {
        if (requests.size() == 1) {
            return importers.apply(requests.get(0)).run(requests.get(0));
        }
        check(requests);
        Map<String, ImageReport> last = new LinkedHashMap<>();
        boolean upToDate = true;
        boolean tagged = false;
        double seconds = 0;
        String signature = null;
        for (ImportRequest r : requests) {
            ImportResult one = importers.apply(r).run(r);
            one.images().forEach(i -> last.put(i.source().toString(), i));
            upToDate &= one.upToDate();
            tagged |= one.tagged();
            seconds += one.seconds();
            signature = one.signature();
        }
        ImportRequest first = requests.get(0);
        return new ImportResult(first.bundle(), signature, first.mapping().toString(), first.dryRun(), upToDate, tagged,
                new ArrayList<>(last.values()), seconds);
    }

    /** One set, each volume once, one signer; a bundle that is not a volume cannot join others. */
    private static void check(List<ImportRequest> requests) {
        if (requests.stream().anyMatch(r -> r.receipt().isPresent())) {
            throw new UsageException("--receipt is written for one bundle at a time: import the volumes first, then make the receipt "
                    + "with 'airlock receipt'");
        }
        BundleVolume set = null;
        Path setFile = null;
        Optional<String> signer = null;
        Map<Integer, Path> seen = new TreeMap<>();
        for (ImportRequest r : requests) {
            try (BundleArchive a = BundleArchive.open(r.bundle(), r.trust())) {
                Optional<BundleVolume> v = a.manifest().volume();
                if (v.isEmpty()) {
                    throw new UsageException("importing several bundles at once: " + r.bundle() + " is not a volume; import it on its own");
                }
                if (set == null) {
                    set = v.get();
                    setFile = r.bundle();
                    signer = a.signature().keyFingerprint();
                } else if (!set.setId().equals(v.get().setId())) {
                    throw new VerificationException("importing " + r.bundle() + ": it is " + v.get().describe() + ", not of set " + set.setId()
                            + " (" + setFile + "); nothing was imported");
                } else if (!signer.equals(a.signature().keyFingerprint())) {
                    throw new VerificationException("importing " + r.bundle() + ": it is signed by " + a.signature().keyFingerprint().orElse("nobody")
                            + ", but " + setFile + " of the same set by " + signer.orElse("nobody") + "; nothing was imported");
                }
                Path before = seen.put(v.get().index(), r.bundle());
                if (before != null) {
                    throw new UsageException("importing " + r.bundle() + ": volume " + v.get().index() + " is also given as " + before);
                }
            }
        }
    }
}
