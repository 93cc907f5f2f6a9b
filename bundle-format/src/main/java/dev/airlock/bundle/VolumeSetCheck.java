package dev.airlock.bundle;

import dev.airlock.error.VerificationException;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.stream.Collectors;
import java.util.stream.IntStream;

/**
 * {@code airlock verify VOL...}: after each volume verified alone, that together they are one
 * complete set: all volumes of one set id, each once, none missing, one signer, the same list of
 * the set's images in each, and every item a volume requires present in the volume it names (same
 * digest, same size). Any failure is one line (exit 3) naming the volume and what is wrong.
 */
public final class VolumeSetCheck {
    private VolumeSetCheck() {
    }

    /** The set, when {@code verified} (each already verified alone) is a complete set. */
    public static BundleVolume check(List<VerifyResult> verified) {
        Map<Integer, VerifyResult> byIndex = new TreeMap<>();
        BundleVolume set = null;
        VerifyResult first = null;
        for (VerifyResult r : verified) {
            Optional<BundleVolume> v = r.manifest().volume();
            if (v.isEmpty()) {
                throw new VerificationException("checking a volume set: " + r.bundle() + " is not a volume (it is a bundle of format "
                        + r.manifest().formatVersion() + ")");
            }
            if (set == null) {
                set = v.get();
                first = r;
            } else {
                if (!set.setId().equals(v.get().setId())) {
                    throw new VerificationException("checking volume set " + set.setId() + ": " + r.bundle() + " is " + v.get().describe()
                            + ", of another set");
                }
                if (!first.signature().keyFingerprint().equals(r.signature().keyFingerprint())) {
                    throw new VerificationException("checking volume set " + set.setId() + ": " + r.bundle() + " is signed by "
                            + r.signature().keyFingerprint().orElse("nobody") + ", " + first.bundle() + " by "
                            + first.signature().keyFingerprint().orElse("nobody") + ": a set has one signer");
                }
                if (!set.images().equals(v.get().images()) || set.count() != v.get().count() || set.standalone() != v.get().standalone()) {
                    throw new VerificationException("checking volume set " + set.setId() + ": " + r.bundle() + " describes the set differently from "
                            + first.bundle());
                }
            }
            VerifyResult before = byIndex.put(v.get().index(), r);
            if (before != null) {
                throw new VerificationException("checking volume set " + set.setId() + ": volume " + v.get().index() + " is given twice ("
                        + before.bundle() + ", " + r.bundle() + ")");
            }
        }
        if (set == null) {
            throw new VerificationException("checking a volume set: no volume given");
        }
        BundleVolume s = set;
        List<Integer> missing = IntStream.rangeClosed(1, s.count()).filter(k -> !byIndex.containsKey(k)).boxed().toList();
        if (!missing.isEmpty()) {
            throw new VerificationException("checking volume set " + s.setId() + ": the set has " + s.count() + " volumes, "
                    + (missing.size() == 1 ? "volume " : "volumes ") + missing.stream().map(String::valueOf).collect(Collectors.joining(", "))
                    + " missing (given: " + byIndex.keySet().stream().map(String::valueOf).collect(Collectors.joining(", ")) + ")");
        }
        for (VerifyResult r : byIndex.values()) {
            for (BundleManifest.Required q : r.manifest().requires()) {
                VerifyResult holder = byIndex.get(q.volume());
                Optional<BundleManifest.FileEntry> f = holder.manifest().blob(q.digest());
                if (f.isEmpty() || f.get().size() != q.size()) {
                    throw new VerificationException("checking volume set " + s.setId() + ": " + r.bundle() + " requires " + q.digest() + " ("
                            + q.size() + " bytes) from volume " + q.volume() + ", but " + holder.bundle()
                            + (f.isEmpty() ? " does not hold it" : " holds it with " + f.get().size() + " bytes"));
                }
            }
        }
        return s;
    }
}
