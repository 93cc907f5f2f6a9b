package dev.airlock.export;

import dev.airlock.bundle.BundleImage;
import dev.airlock.bundle.BundleManifest;
import dev.airlock.bundle.BundleVolume;
import dev.airlock.bundle.BundleWriter;
import dev.airlock.bundle.PlacedBundle;
import dev.airlock.bundle.WriteOptions;
import dev.airlock.bundle.WriteResult;
import dev.airlock.copy.ImageOutcome;
import dev.airlock.copy.ImagePlan;
import dev.airlock.error.InternalException;
import dev.airlock.error.LocalIoException;
import dev.airlock.layout.DirectoryStore;
import dev.airlock.model.Descriptor;
import dev.airlock.model.Digest;
import dev.airlock.model.RawManifest;
import dev.airlock.sign.Signer;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;
import java.util.UUID;

/**
 * The volumes of one export: packed ({@link VolumePacker}) and sized exactly before any layer is
 * fetched, then written by one fetch in packing order: uncompressed volumes in place, all at once,
 * each blob straight into its volume ({@link #writeInPlace}); {@code .tar.zst} volumes one after
 * the other from the staging cache while the fetch runs.
 *
 * <p>Every volume is a complete bundle of format 3: its images are the set's images it holds part
 * of, with all their manifests; configs and layers in other volumes are {@code requires} items
 * naming their volume.
 */
final class VolumeExport {
    /** How many times the packing is redone with a larger reserve when the exact size of a volume exceeded the estimate. */
    static final int ATTEMPTS = 8;

    private VolumeExport() {
    }

    /** One volume as it will be written. */
    record Spec(int index, List<Integer> setImages, List<ImagePlan> plans, List<BundleImage> images, List<Descriptor> order,
                List<BundleManifest.Required> requires, BundleVolume volume, WriteOptions options, Path file) {
    }

    static VolumeSetResult write(List<ImagePlan> plans, ExportRequest request, VolumeOptions vo, long started) {
        boolean zstd = request.compress() || request.output().getFileName().toString().endsWith(".zst");
        // zstd stores incompressible data in raw blocks (3 bytes per 128 KiB) inside one frame (header, checksum)
        long limit = zstd ? vo.size() - ((vo.size() >> 17) + 1) * 3 - 64 : vo.size();
        UUID setId = UUID.randomUUID();
        Instant created = Instant.now();
        long reserve = 4096;
        List<Spec> specs = null;
        VolumePacker packer = null;
        for (int attempt = 0; attempt < ATTEMPTS && specs == null; attempt++) {
            packer = new VolumePacker(plans, limit, base(plans, request.signer()) + reserve);
            List<VolumePacker.Volume> packed = vo.standalone() ? packer.packStandalone() : packer.pack();
            List<Spec> s = specs(plans, packed, setId, created, vo.standalone(), request);
            long over = 0;
            for (Spec x : s) {
                long size = BundleWriter.tarSize(x.images(), x.order(), x.options(), new BundleWriter.Delta(x.requires(), List.of()),
                        Optional.of(x.volume()));
                over = Math.max(over, size - limit);
            }
            if (over <= 0) {
                specs = s;
            } else {
                reserve += over + 4096;
            }
        }
        if (specs == null) {
            throw new InternalException("packing volumes of " + vo.size() + " bytes: the estimate of bundle.json stayed too small", null);
        }
        if (specs.size() > BundleVolume.MAX_VOLUMES) {
            throw new dev.airlock.error.UsageException("--volume-size " + vo.size() + " makes " + specs.size() + " volumes, more than "
                    + BundleVolume.MAX_VOLUMES + "; give a larger --volume-size");
        }
        if (request.signer().isEmpty()) {
            request.progress().note("warning: the volumes are not signed (no signer given): importing them will require allowing unsigned bundles");
        }
        List<ImagePlan> fetchOrder = packer.packingOrder().stream().map(plans::get).toList();
        List<Descriptor> all = Exporter.bundleOrder(fetchOrder);
        if (Exporter.inPlace(request)) {
            return writeInPlace(plans, specs, fetchOrder, request, vo, setId, started);
        }
        DirectoryStore cache = Exporter.stagingCache(request);
        List<Spec> todo = specs;
        List<WriteResult> written = new ArrayList<>();
        Exporter.Fetched<List<WriteResult>> f;
        try {
            f = Exporter.fetchWhileWriting(fetchOrder, all, cache, request, gate -> {
                for (Spec x : todo) {
                    written.add(BundleWriter.write(x.file(), x.images(), x.order(), gate.opener(), x.options(), Exporter.exporting(request.progress()),
                            new BundleWriter.Delta(x.requires(), List.of()), Optional.of(x.volume())));
                    checkSize(written.get(written.size() - 1), vo.size());
                }
                return written;
            });
        } catch (RuntimeException e) {
            for (WriteResult w : written) { // nothing half-written: a set this run could not finish is removed
                delete(w.bundle());
                delete(w.checksumFile());
            }
            throw e;
        }
        return result(plans, specs, f, vo, setId, request, Duration.ofNanos(System.nanoTime() - started));
    }

    /**
     * Uncompressed volumes are written in place, all at once ({@link PlacedBundle} each): one fetch
     * puts every blob straight into the volume that carries it (a standalone set copies a repeated
     * blob into the others). A failure leaves each volume's partial file and journal; the same
     * export run again resumes them. Volumes are renamed to their names only when all are complete.
     */
    private static VolumeSetResult writeInPlace(List<ImagePlan> plans, List<Spec> specs, List<ImagePlan> fetchOrder, ExportRequest request,
                                                VolumeOptions vo, UUID setId, long started) {
        Map<Digest, byte[]> known = Exporter.knownManifests(plans);
        List<PlacedBundle> opened = new ArrayList<>();
        try {
            for (Spec x : specs) {
                opened.add(PlacedBundle.open(x.file(), x.images(), x.order(), known, x.options(), new BundleWriter.Delta(x.requires(), List.of()),
                        Optional.of(x.volume())));
            }
            int resumed = opened.stream().mapToInt(b -> b.resumed().size()).sum();
            if (resumed > 0) {
                request.progress().note("resuming the volumes' partial files: " + resumed + " blobs of an earlier run are in place and checked");
            }
            List<ImageOutcome> outcomes;
            try {
                outcomes = Exporter.fetch(fetchOrder, new PlacingStore(opened, request.cacheDir().map(Exporter::openCache)), request,
                        Exporter.exporting(request.progress()));
            } catch (dev.airlock.error.AirlockException e) {
                request.progress().note("the volumes' partial files (" + opened.get(0).partialFile().getFileName() + ", ...) are kept: "
                        + "run the same export again to resume them");
                throw e;
            }
            List<WriteResult> written = new ArrayList<>();
            try {
                for (PlacedBundle b : opened) {
                    written.add(b.finish());
                    checkSize(written.get(written.size() - 1), vo.size());
                }
            } catch (RuntimeException e) {
                for (WriteResult w : written) { // nothing half-written: a set this run could not finish is removed
                    delete(w.bundle());
                    delete(w.checksumFile());
                }
                throw e;
            }
            return result(plans, specs, new Exporter.Fetched<>(outcomes, written), vo, setId, request, Duration.ofNanos(System.nanoTime() - started));
        } finally {
            opened.forEach(PlacedBundle::close);
        }
    }

    private static void checkSize(WriteResult w, long size) {
        if (w.bytes() > size) {
            throw new InternalException("volume " + w.bundle() + " has " + w.bytes() + " bytes, over the volume size " + size, null);
        }
    }

    private static void delete(Path p) {
        try {
            Files.deleteIfExists(p);
        } catch (IOException e) {
            // the failure being reported matters more
        }
    }

    /** The fixed part of every volume, estimated: oci-layout, signatures, the set's image list, bundle.json and index.json frames, end records. */
    private static long base(List<ImagePlan> plans, Optional<Signer> signer) {
        long b = BundleWriter.entrySize(30) + 2 * 1024 + 1024 + 1024;
        for (ImagePlan p : plans) {
            b += p.source().name().toString().length() + 140;
        }
        if (signer.isPresent()) {
            Signer s = signer.get();
            b += BundleWriter.entrySize(72);
            b += s.cms(new byte[0]).map(c -> BundleWriter.entrySize(c.length + 16)).orElse(0L);
            b += BundleWriter.entrySize(s.publicKeyPem().getBytes(StandardCharsets.US_ASCII).length);
        }
        return b;
    }

    private static List<Spec> specs(List<ImagePlan> plans, List<VolumePacker.Volume> packed, UUID setId, Instant created, boolean standalone,
                                    ExportRequest request) {
        int n = packed.size();
        Map<Digest, Integer> home = new HashMap<>();
        List<TreeSet<Integer>> volumesOf = new ArrayList<>();
        plans.forEach(p -> volumesOf.add(new TreeSet<>()));
        for (int k = 0; k < n; k++) {
            for (Digest d : packed.get(k).blobs().keySet()) {
                home.putIfAbsent(d, k + 1);
            }
            for (int i : packed.get(k).images()) {
                volumesOf.get(i).add(k + 1);
            }
        }
        List<BundleVolume.SetImage> setImages = new ArrayList<>();
        for (int i = 0; i < plans.size(); i++) {
            setImages.add(new BundleVolume.SetImage(plans.get(i).source().name(), plans.get(i).digest(), new ArrayList<>(volumesOf.get(i))));
        }
        List<Spec> out = new ArrayList<>();
        for (int k = 0; k < n; k++) {
            VolumePacker.Volume v = packed.get(k);
            List<Integer> here = new ArrayList<>(v.images());
            List<ImagePlan> sub = new ArrayList<>();
            List<BundleImage> images = new ArrayList<>();
            Map<Digest, Descriptor> required = new LinkedHashMap<>();
            Map<Digest, TreeSet<Integer>> requiredBy = new HashMap<>();
            for (int li = 0; li < here.size(); li++) {
                ImagePlan p = plans.get(here.get(li));
                List<Descriptor> blobs = new ArrayList<>();
                List<Descriptor> req = new ArrayList<>();
                for (Descriptor b : p.blobs()) {
                    if (v.blobs().containsKey(b.digest())) {
                        blobs.add(b);
                    } else {
                        req.add(b);
                        required.putIfAbsent(b.digest(), Descriptor.of(b.mediaType(), b.digest(), b.size()));
                        requiredBy.computeIfAbsent(b.digest(), x -> new TreeSet<>()).add(li);
                    }
                }
                sub.add(new ImagePlan(p.source(), p.top(), p.originalDigest(), p.manifests(), blobs, p.platforms(), p.artifacts(), p.warnings(), req));
                images.add(Exporter.bundleImage(p));
            }
            List<BundleManifest.Required> requires = new ArrayList<>();
            for (Descriptor r : required.values()) {
                requires.add(new BundleManifest.Required(r.digest(), r.size(), r.mediaType(), new ArrayList<>(requiredBy.get(r.digest())), List.of(),
                        home.get(r.digest())));
            }
            WriteOptions options = Exporter.writeOptions(request, sub.stream().map(ImagePlan::digests).toList())
                    .withIdentity(UUID.randomUUID(), created);
            out.add(new Spec(k + 1, here, sub, images, Exporter.bundleOrder(sub), requires,
                    new BundleVolume(setId, k + 1, n, standalone, setImages), options, volumeFile(request.output(), k + 1)));
        }
        return out;
    }

    /** {@code k3s.tar} → {@code k3s.vol001.tar}; {@code k3s.tar.zst} → {@code k3s.vol001.tar.zst}; other names get {@code .vol001} appended. */
    static Path volumeFile(Path output, int index) {
        String name = output.getFileName().toString();
        String vol = String.format(Locale.ROOT, ".vol%03d", index);
        String lower = name.toLowerCase(Locale.ROOT);
        String renamed;
        if (lower.endsWith(".tar.zst")) {
            renamed = name.substring(0, name.length() - 8) + vol + name.substring(name.length() - 8);
        } else if (lower.endsWith(".tar") || lower.endsWith(".zst")) {
            renamed = name.substring(0, name.length() - 4) + vol + name.substring(name.length() - 4);
        } else {
            renamed = name + vol;
        }
        return output.resolveSibling(renamed);
    }

    private static VolumeSetResult result(List<ImagePlan> plans, List<Spec> specs, Exporter.Fetched<List<WriteResult>> f, VolumeOptions vo,
                                          UUID setId, ExportRequest request, Duration took) {
        List<VolumeSetResult.Volume> volumes = new ArrayList<>();
        long total = 0;
        long carriedBlobBytes = 0;
        for (int k = 0; k < specs.size(); k++) {
            Spec s = specs.get(k);
            WriteResult w = f.written().get(k);
            total += w.bytes();
            carriedBlobBytes += s.plans().stream().flatMap(p -> p.blobs().stream()).distinct().mapToLong(Descriptor::size).sum();
            volumes.add(new VolumeSetResult.Volume(s.index(), w.bundle(), w.checksumFile(), w.sha256(), w.bytes(),
                    s.images().stream().map(BundleImage::source).toList(), s.order().size(), s.requires().size()));
        }
        Set<Digest> uniqueBlobs = new LinkedHashSet<>();
        long uniqueBlobBytes = 0;
        List<ExportResult.ExportedImage> images = new ArrayList<>();
        for (ImagePlan p : plans) {
            for (Descriptor d : p.blobs()) {
                if (uniqueBlobs.add(d.digest())) {
                    uniqueBlobBytes += d.size();
                }
            }
            long manifestBytes = p.manifests().stream().mapToLong(RawManifest::size).sum();
            images.add(new ExportResult.ExportedImage(p.source().name(), p.digest(), p.top().mediaType(), p.originalDigest(), p.platforms(),
                    p.blobBytes() + manifestBytes, p.artifacts().size(), Exporter.artifactNotes(p), false));
        }
        long unique = Exporter.bundleOrder(plans).stream().mapToLong(Descriptor::size).sum();
        long fetched = f.outcomes().stream().mapToLong(ImageOutcome::bytesPushed).sum();
        long cached = f.outcomes().stream().mapToLong(ImageOutcome::bytesSkipped).sum();
        return new VolumeSetResult(setId, vo.standalone(), vo.size(), volumes, images, unique, total, carriedBlobBytes - uniqueBlobBytes,
                fetched, cached, request.signer().isPresent(), request.signer().map(Signer::fingerprint), took);
    }
}
