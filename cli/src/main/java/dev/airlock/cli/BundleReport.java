package dev.airlock.cli;

import dev.airlock.bundle.BundleArtifact;
import dev.airlock.sign.CosignSignature;
import dev.airlock.store.ImageSource;
import java.util.ArrayList;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;

import dev.airlock.bundle.BundleArchive;
import dev.airlock.bundle.BundleImage;
import dev.airlock.bundle.BundleManifest;
import dev.airlock.bundle.VerifyResult;
import dev.airlock.copy.GraphPlanner;
import dev.airlock.copy.ImagePlan;
import dev.airlock.copy.SourceImage;
import dev.airlock.error.Printable;
import dev.airlock.model.RawManifest;
import dev.airlock.sign.SignatureInfo;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;

/**
 * What {@code airlock verify} and {@code airlock inspect} print and write as JSON: the bundle's
 * identity, signature and images. Built from the library's results; no checking happens here.
 *
 * @param ok         true (a failed verification is reported by the error handler instead)
 * @param signature  TRUSTED, UNTRUSTED (valid, but by a key not given with --trust) or UNSIGNED
 * @param bytes      total size of the listed files
 * @param delta      for a delta (format 2): what it relies on at the target and the receipts it was built against
 * @param volume     for a volume (format 3): its place in its set
 */
public record BundleReport(boolean ok, Path bundle, String bundleId, String created, String tool, boolean compressed,
                           String signature, Optional<String> signer, Optional<String> certificateSubject,
                           int files, long bytes, List<Image> images, Optional<Delta> delta, Optional<Volume> volume) {

    /**
     * A volume's place in its set.
     *
     * @param index         1-based, of {@code count}
     * @param setImages     images of the whole set, with the volumes holding part of each
     * @param requiredItems configs and layers its images need from other volumes ({@code requiredBytes} in all)
     * @param fromVolumes   the volumes holding them
     */
    public record Volume(String setId, int index, int count, boolean standalone, int requiredItems, long requiredBytes,
                         List<Integer> fromVolumes, List<SetImage> setImages) {
        /** One image of the set and the volumes holding part of it. */
        public record SetImage(String reference, String digest, List<Integer> volumes) {
        }

        static Optional<Volume> of(BundleManifest m) {
            return m.volume().map(v -> new Volume(v.setId().toString(), v.index(), v.count(), v.standalone(), m.requires().size(),
                    m.requiredBytes(), m.requires().stream().map(BundleManifest.Required::volume).distinct().sorted().toList(),
                    v.images().stream().map(i -> new SetImage(i.source().toString(), i.digest().toString(), i.volumes())).toList()));
        }

        /** "volume 2 of 3 of set …". */
        String describe() {
            return "volume " + index + " of " + count + " of set " + setId + (standalone ? " (standalone)" : "");
        }
    }

    /**
     * A delta's reliance on the target.
     *
     * @param requiredItems items listed in bundle.json requires (not in the bundle)
     * @param requiredBytes their total size
     * @param basedOn       "receiptId (sha256 hex)" of each receipt it was built against
     */
    public record Delta(int formatVersion, int requiredItems, long requiredBytes, List<String> basedOn) {
        static Optional<Delta> of(BundleManifest m) {
            if (!m.isDelta()) {
                return Optional.empty();
            }
            return Optional.of(new Delta(m.formatVersion(), m.requires().size(), m.requiredBytes(),
                    m.basedOn().stream().map(b -> b.receiptId() + " (sha256 " + b.sha256().hex() + ")").toList()));
        }
    }

    /**
     * One image of the bundle.
     *
     * @param originalDigest the source's index digest when a --platform filter rewrote it
     * @param size           bytes of its manifests, configs and layers (inspect of an uncompressed bundle only)
     */
    public record Image(String reference, String digest, String mediaType, List<String> platforms,
                        Optional<String> originalDigest, Optional<Long> size, List<Artifacts> artifacts) {
        static Image of(BundleImage i, Optional<Long> size, Optional<ImageSource> content) {
            return new Image(i.source().toString(), i.digest().toString(), i.descriptor().mediaType().toString(),
                    i.platforms().stream().map(Object::toString).toList(), i.originalDigest().map(Object::toString), size,
                    Artifacts.of(i, content));
        }
    }

    /**
     * The image's attached artifacts of one type.
     *
     * @param signers for cosign signatures (when the bundle can be read at random): the certificate identity, or "key"
     * @param withoutSubject how many are carried without their subject (a --platform filter rewrote it)
     */
    public record Artifacts(String type, int count, List<String> signers, int withoutSubject) {
        static List<Artifacts> of(BundleImage img, Optional<ImageSource> content) {
            Map<String, List<BundleArtifact>> byType = new TreeMap<>();
            img.artifacts().forEach(a -> byType.computeIfAbsent(a.artifactType(), k -> new ArrayList<>()).add(a));
            List<Artifacts> out = new ArrayList<>();
            for (var e : byType.entrySet()) {
                Set<String> signers = new TreeSet<>();
                if (content.isPresent()) {
                    for (BundleArtifact a : e.getValue()) {
                        if (content.get() instanceof BundleArchive ba && ba.manifest().blob(a.digest()).isEmpty()) {
                            continue; // a delta relies on it at the target: not in the bundle to read
                        }
                        RawManifest m = content.get().fetchManifest(img.source().repository(), a.digest().toString());
                        CosignSignature.signers(m).ifPresent(signers::addAll);
                    }
                }
                out.add(new Artifacts(e.getKey(), e.getValue().size(), List.copyOf(signers),
                        (int) e.getValue().stream().filter(BundleArtifact::subjectDropped).count()));
            }
            return out;
        }
    }

    /** After a successful {@code BundleVerifier.verify}. */
    public static BundleReport of(VerifyResult r) {
        return of(r.bundle(), r.manifest(), r.signature(), r.compressed(),
                r.manifest().images().stream().map(i -> Image.of(i, Optional.empty(), Optional.empty())).toList());
    }

    /** For inspect: an opened archive; image sizes are computed when it has random access. */
    public static BundleReport of(BundleArchive a) {
        List<Image> images = a.images().stream().map(i -> Image.of(i, a.randomAccess() ? Optional.of(size(a, i)) : Optional.empty(),
                a.randomAccess() ? Optional.of(a) : Optional.empty())).toList();
        return of(a.path(), a.manifest(), a.signature(), !a.randomAccess(), images);
    }

    private static BundleReport of(Path bundle, BundleManifest m, SignatureInfo s, boolean compressed, List<Image> images) {
        return new BundleReport(true, bundle, m.bundleId().toString(), m.created().toString(),
                m.tool().name() + " " + m.tool().version(), compressed, s.status().name(), s.keyFingerprint(),
                s.certificateSubject(), m.files().size(), m.totalBytes(), images, Delta.of(m), Volume.of(m));
    }

    private static long size(BundleArchive a, BundleImage i) {
        if (a.manifest().required(i.digest()).isPresent()) {
            return 0; // a delta carries nothing of it
        }
        java.util.Set<dev.airlock.model.Digest> external = new java.util.HashSet<>();
        a.manifest().requires().forEach(r -> external.add(r.digest()));
        ImagePlan plan = new GraphPlanner(List.of(), external).plan(new SourceImage(i.source(), a, i.source().repository(), i.digest().toString()));
        return plan.blobBytes() + plan.manifests().stream().mapToLong(RawManifest::size).sum();
    }

    /**
     * The human form: a few aligned lines, one block per image. Every field read from the bundle
     * (tool, references, media types, platforms, the certificate subject) goes through
     * {@link Printable#text}: a hostile bundle cannot forge or hide a line with control characters.
     */
    public void print(PrintWriter out, boolean details) {
        out.println("bundle     " + t(String.valueOf(bundle)) + " (" + (compressed ? "zstd-compressed tar" : "tar") + ", "
                + files + " files, " + ProgressRenderer.size(bytes) + ")");
        if (details) {
            out.println("id         " + t(bundleId));
            out.println("created    " + t(created) + " by " + t(tool));
        }
        out.println("signature  " + describeSignature());
        delta.ifPresent(d -> {
            out.println("delta      relies on " + d.requiredItems() + " item(s), " + ProgressRenderer.size(d.requiredBytes())
                    + ", at the target; built against " + d.basedOn().size() + " receipt(s)");
            d.basedOn().forEach(b -> out.println("  receipt  " + b));
        });
        volume.ifPresent(v -> {
            out.println("volume     " + t(v.describe()) + ": " + v.setImages().size() + " image(s) in the set");
            if (v.requiredItems() > 0) {
                out.println("  needs    " + v.requiredItems() + " item(s), " + ProgressRenderer.size(v.requiredBytes()) + ", from volume(s) "
                        + v.fromVolumes().stream().map(String::valueOf).collect(java.util.stream.Collectors.joining(", ")));
            }
            if (details) {
                for (Volume.SetImage i : v.setImages()) {
                    out.println("  set      " + t(i.reference()) + " in volume(s) "
                            + i.volumes().stream().map(String::valueOf).collect(java.util.stream.Collectors.joining(", ")));
                }
            }
        });
        out.println("images     " + images.size());
        for (Image i : images) {
            out.println("  " + t(i.reference()));
            out.println("    digest     " + t(i.digest()) + i.originalDigest().map(d -> " (platform subset of " + t(d) + ")").orElse(""));
            if (details) {
                out.println("    type       " + t(i.mediaType()));
                i.size().ifPresent(s -> out.println("    size       " + ProgressRenderer.size(s)));
            }
            out.println("    platforms  " + (i.platforms().isEmpty() ? "-" : t(String.join(", ", i.platforms()))));
            for (Artifacts a : i.artifacts()) {
                out.println("    artifacts  " + a.count() + " × " + t(a.type())
                        + (a.signers().isEmpty() ? "" : ", signed by " + t(String.join(", ", a.signers())))
                        + (a.withoutSubject() > 0 ? ", " + a.withoutSubject() + " without subject (index rewritten by --platform)" : ""));
            }
        }
    }

    private String describeSignature() {
        if (signature.equals("UNSIGNED")) {
            return "unsigned";
        }
        return "signed by " + t(signer.orElse("?")) + certificateSubject.map(s -> " (" + t(s) + ")").orElse("")
                + (signature.equals("TRUSTED") ? ", trusted" : ", not checked against a trusted key (give --trust)");
    }

    private static String t(String s) {
        return Printable.text(s);
    }
}
