package dev.airlock.reliability;

import com.github.luben.zstd.ZstdOutputStream;
import dev.airlock.bundle.BundleImage;
import dev.airlock.bundle.BundleLayout;
import dev.airlock.bundle.BundleManifest;
import dev.airlock.model.Descriptor;
import dev.airlock.model.Digest;
import dev.airlock.model.Json;
import dev.airlock.model.MediaType;
import dev.airlock.model.RawManifest;
import dev.airlock.sign.Signer;
import dev.airlock.testkit.TestImages;
import dev.airlock.testkit.TestImages.TestImage;
import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import java.util.function.UnaryOperator;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveOutputStream;

/**
 * Builds correctly listed and signed bundles WITHOUT the writer's checks, so that hostile graphs
 * can carry a trusted signature (an insider, a stolen key): only the reader's structural checks
 * and the importer can object.
 */
final class BundleForge {
    /** A blob as listed in bundle.json (the listed media type may differ from how it is referenced). */
    record Blob(MediaType listedAs, byte[] bytes) {
        Digest digest() {
            return Digest.sha256(bytes);
        }

        Descriptor descriptor() {
            return Descriptor.of(listedAs, digest(), bytes.length);
        }
    }

    final Map<Digest, Blob> blobs = new LinkedHashMap<>();
    final List<BundleImage> images = new ArrayList<>();
    /** Per image (from {@link #image(String, TestImage)}): the digests of its graph. */
    final List<java.util.Set<Digest>> graphs = new ArrayList<>();
    /** When set: bundle.json's {@code files[].images} for each blob (true or forged); else found by {@link dev.airlock.testkit.Routes}. */
    Map<Digest, List<Integer>> routes;

    /** Adds blob (once) in dependency order. */
    Descriptor add(MediaType mt, byte[] bytes) {
        Blob b = new Blob(mt, bytes);
        blobs.putIfAbsent(b.digest(), b);
        return b.descriptor();
    }

    /** Every blob of a test image, children and top, in dependency order; the image listed. */
    BundleForge image(String source, TestImage img) {
        img.blobs().forEach(b -> add(b.descriptor().mediaType(), b.bytes()));
        img.children().forEach(c -> add(c.mediaType(), c.bytes()));
        add(img.top().mediaType(), img.top().bytes());
        java.util.Set<Digest> g = new java.util.HashSet<>();
        img.blobs().forEach(b -> g.add(b.digest()));
        img.children().forEach(c -> g.add(c.digest()));
        g.add(img.top().digest());
        graphs.add(g);
        images.add(BundleImage.of(Fixture.ref(source), img.top().descriptor(), img.platforms().stream().map(TestImages.PlatformImage::platform).toList()));
        return this;
    }

    BundleForge image(String source, RawManifest top, List<dev.airlock.model.Platform> platforms) {
        images.add(BundleImage.of(Fixture.ref(source), top.descriptor(), platforms));
        return this;
    }

    /** Lists for each blob the images using it (the truth, from the images' graphs), then lets {@code edit} lie. */
    BundleForge routed(java.util.function.Consumer<Map<Digest, List<Integer>>> edit) {
        routes = new LinkedHashMap<>();
        for (Digest d : blobs.keySet()) {
            List<Integer> users = new ArrayList<>();
            for (int i = 0; i < graphs.size(); i++) {
                if (graphs.get(i).contains(d)) {
                    users.add(i);
                }
            }
            routes.put(d, users);
        }
        edit.accept(routes);
        return this;
    }

    /** Lists blob {@code d} under another media type. */
    BundleForge relabel(Digest d, MediaType as) {
        blobs.put(d, new Blob(as, blobs.get(d).bytes()));
        return this;
    }

    static String desc(Descriptor d) {
        return "{\"mediaType\":\"" + d.mediaType() + "\",\"digest\":\"" + d.digest() + "\",\"size\":" + d.size() + "}";
    }

    /**
     * Writes the bundle: {@code listedOnly} are put in bundle.json but not in the archive;
     * {@code trailingZeros} zero bytes follow the end of the tar (inside the zstd stream when zstd).
     */
    Path write(Path out, Signer signer, boolean zstd, UnaryOperator<byte[]> bundleJsonEdit, List<Blob> listedOnly, long trailingZeros) {
        byte[] index = indexJson();
        List<BundleManifest.FileEntry> files = new ArrayList<>();
        files.add(new BundleManifest.FileEntry(BundleLayout.OCI_LAYOUT, BundleLayout.OCI_LAYOUT_BYTES.length,
                Digest.sha256(BundleLayout.OCI_LAYOUT_BYTES), Optional.empty()));
        files.add(new BundleManifest.FileEntry(BundleLayout.INDEX_JSON, index.length, Digest.sha256(index), Optional.of(MediaType.OCI_INDEX)));
        List<Blob> listed = new ArrayList<>(listedOnly);
        listed.addAll(blobs.values());
        Map<Digest, Blob> all = new LinkedHashMap<>();
        listed.forEach(b -> all.put(b.digest(), b));
        Map<Digest, List<Integer>> lists = routes != null ? routes
                : dev.airlock.testkit.Routes.of(images.stream().map(i -> i.digest()).toList(), all.keySet(), d -> all.get(d).bytes());
        for (Blob b : listed) {
            files.add(BundleManifest.FileEntry.ofBlob(b.descriptor()).withImages(lists.getOrDefault(b.digest(), List.of(0))));
        }
        byte[] json = bundleJsonEdit.apply(BundleManifest.create(UUID.randomUUID(), Instant.now(), new BundleManifest.Tool("forge", "1"),
                images, files).bytes());
        try (OutputStream f = Files.newOutputStream(out); OutputStream body = zstd ? new ZstdOutputStream(f, 1) : f) {
            TarArchiveOutputStream tar = new TarArchiveOutputStream(body, "UTF-8");
            tar.setBigNumberMode(TarArchiveOutputStream.BIGNUMBER_POSIX);
            put(tar, BundleLayout.OCI_LAYOUT, BundleLayout.OCI_LAYOUT_BYTES);
            put(tar, BundleLayout.BUNDLE_JSON, json);
            if (signer != null) { // null: an unsigned bundle
                put(tar, BundleLayout.SIGNATURE, signer.sign(json));
                java.util.Optional<byte[]> p7s = signer.cms(json);
                if (p7s.isPresent()) {
                    put(tar, BundleLayout.CMS_SIGNATURE, p7s.get());
                }
                put(tar, BundleLayout.SIGNER_KEY, signer.publicKeyPem().getBytes(StandardCharsets.US_ASCII));
            }
            put(tar, BundleLayout.INDEX_JSON, index);
            for (Blob b : blobs.values()) {
                put(tar, BundleLayout.blobPath(b.digest()), b.bytes());
            }
            tar.finish();
            byte[] zeros = new byte[1 << 20];
            for (long left = trailingZeros; left > 0; left -= zeros.length) {
                body.write(zeros, 0, (int) Math.min(zeros.length, left));
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return out;
    }

    Path write(Path out, Signer signer) {
        return write(out, signer, false, UnaryOperator.identity(), List.of(), 0);
    }

    private byte[] indexJson() {
        var root = Json.mapper().createObjectNode();
        root.put("schemaVersion", 2);
        root.put("mediaType", MediaType.OCI_INDEX.value());
        var ms = root.putArray("manifests");
        for (BundleImage i : images) {
            var d = ms.addObject();
            d.put("mediaType", i.descriptor().mediaType().value());
            d.put("digest", i.digest().toString());
            d.put("size", i.descriptor().size());
            d.putObject("annotations").put(BundleLayout.REF_NAME, i.source().toString());
        }
        return Json.write(root);
    }

    private static void put(TarArchiveOutputStream tar, String name, byte[] data) throws IOException {
        TarArchiveEntry e = new TarArchiveEntry(name);
        e.setSize(data.length);
        e.setModTime(0L);
        tar.putArchiveEntry(e);
        tar.write(data);
        tar.closeArchiveEntry();
    }

    /** Rewrites the size field of the tar header of {@code name} (base-256 when it does not fit in octal), fixing its checksum. */
    static void patchSize(Path tar, String name, long size) throws IOException {
        byte[] all = Files.readAllBytes(tar);
        for (int off = 0; off + 512 <= all.length; off += 512) {
            String n = new String(all, off, 100, StandardCharsets.UTF_8).replace("\0", "");
            if (n.equals(name) && all[off + 156] == '0') {
                all[off + 124] = (byte) 0x80;
                for (int i = 0; i < 11; i++) {
                    all[off + 135 - i] = (byte) (size >>> (8 * i));
                }
                for (int i = 0; i < 8; i++) {
                    all[off + 148 + i] = ' ';
                }
                long sum = 0;
                for (int i = 0; i < 512; i++) {
                    sum += all[off + i] & 0xff;
                }
                System.arraycopy(String.format("%06o", sum).getBytes(StandardCharsets.US_ASCII), 0, all, off + 148, 6);
                all[off + 154] = 0;
                all[off + 155] = ' ';
                Files.write(tar, all);
                return;
            }
        }
        throw new IllegalArgumentException("no header for " + name);
    }
}
