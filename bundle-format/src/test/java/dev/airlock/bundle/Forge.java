package dev.airlock.bundle;

import com.github.luben.zstd.ZstdOutputStream;
import dev.airlock.model.Digest;
import dev.airlock.model.MediaType;
import dev.airlock.sign.Signer;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveInputStream;
import org.apache.commons.compress.archivers.tar.TarArchiveOutputStream;
import org.apache.commons.compress.archivers.tar.TarConstants;

/** Writes arbitrary (hostile) tar archives with commons-compress directly, for the hostile corpus. */
final class Forge {
    /** One raw tar entry. */
    record Entry(String name, byte type, String link, byte[] data, long claimedSize) {
        static Entry file(String name, byte[] data) {
            return new Entry(name, TarConstants.LF_NORMAL, "", data, -1);
        }

        static Entry special(String name, byte type, String link) {
            return new Entry(name, type, link, new byte[0], -1);
        }

        Entry withData(byte[] d) {
            return new Entry(name, type, link, d, claimedSize);
        }
    }

    private Forge() {
    }

    /** The entries of an uncompressed or zstd bundle, in order. */
    static List<Entry> read(Path bundle) throws IOException {
        List<Entry> out = new ArrayList<>();
        try (InputStream f = new java.io.BufferedInputStream(Files.newInputStream(bundle));
             InputStream in = SequentialSource.isZstd(f) ? new com.github.luben.zstd.ZstdInputStream(f) : f;
             TarArchiveInputStream tar = new TarArchiveInputStream(in)) {
            TarArchiveEntry e;
            while ((e = tar.getNextEntry()) != null) {
                out.add(Entry.file(e.getName(), tar.readAllBytes()));
            }
        }
        return out;
    }

    static Entry named(List<Entry> entries, String name) {
        return entries.stream().filter(e -> e.name().equals(name)).findFirst().orElseThrow();
    }

    static int indexOf(List<Entry> entries, String name) {
        for (int i = 0; i < entries.size(); i++) {
            if (entries.get(i).name().equals(name)) {
                return i;
            }
        }
        throw new IllegalArgumentException(name);
    }

    static byte[] flip(byte[] b, int at) {
        byte[] c = b.clone();
        c[at] ^= 0x01;
        return c;
    }

    /** Writes entries as they are: no checks, absolute names preserved, any type. */
    static void write(Path out, List<Entry> entries, boolean zstd) throws IOException {
        try (OutputStream f = Files.newOutputStream(out); OutputStream body = zstd ? new ZstdOutputStream(f, 3) : f;
             TarArchiveOutputStream tar = new TarArchiveOutputStream(body, "UTF-8")) {
            tar.setLongFileMode(TarArchiveOutputStream.LONGFILE_POSIX);
            tar.setBigNumberMode(TarArchiveOutputStream.BIGNUMBER_POSIX);
            for (Entry e : entries) {
                TarArchiveEntry te = new TarArchiveEntry(e.name(), e.type(), true);
                if (!e.link().isEmpty()) {
                    te.setLinkName(e.link());
                }
                te.setModTime(0L);
                if (e.type() == TarConstants.LF_NORMAL) {
                    te.setSize(e.data().length);
                }
                tar.putArchiveEntry(te);
                if (e.type() == TarConstants.LF_NORMAL) {
                    tar.write(e.data());
                }
                tar.closeArchiveEntry();
            }
        }
    }

    /**
     * A complete, correctly listed and signed bundle of {@code blobs} (in the given order) for
     * {@code images}, built WITHOUT the writer's graph checks, so that a graph the writer would
     * refuse can still be signed. {@code bundleJsonEdit} may rewrite bundle.json before signing.
     */
    static List<Entry> signedBundle(List<BundleImage> images, Map<Digest, byte[]> blobs, Map<Digest, MediaType> types, Signer signer,
                                    java.util.function.UnaryOperator<byte[]> bundleJsonEdit) {
        byte[] index = BundleWriter.indexJson(images);
        List<BundleManifest.FileEntry> files = new ArrayList<>();
        files.add(new BundleManifest.FileEntry(BundleLayout.OCI_LAYOUT, BundleLayout.OCI_LAYOUT_BYTES.length, Digest.sha256(BundleLayout.OCI_LAYOUT_BYTES), Optional.empty()));
        files.add(new BundleManifest.FileEntry(BundleLayout.INDEX_JSON, index.length, Digest.sha256(index), Optional.of(MediaType.OCI_INDEX)));
        Map<Digest, List<Integer>> lists = routes(images, blobs.keySet(), blobs::get);
        blobs.forEach((d, b) -> files.add(new BundleManifest.FileEntry(BundleLayout.blobPath(d), b.length, d, Optional.of(types.get(d)))
                .withImages(lists.get(d))));
        byte[] json = bundleJsonEdit.apply(BundleManifest.create(UUID.randomUUID(), Instant.EPOCH, new BundleManifest.Tool("forge", "1"), images, files).bytes());
        List<Entry> out = new ArrayList<>();
        out.add(Entry.file(BundleLayout.OCI_LAYOUT, BundleLayout.OCI_LAYOUT_BYTES));
        out.add(Entry.file(BundleLayout.BUNDLE_JSON, json));
        out.add(Entry.file(BundleLayout.SIGNATURE, signer.sign(json)));
        out.add(Entry.file(BundleLayout.SIGNER_KEY, signer.publicKeyPem().getBytes(java.nio.charset.StandardCharsets.US_ASCII)));
        out.add(Entry.file(BundleLayout.INDEX_JSON, index));
        blobs.forEach((d, b) -> out.add(Entry.file(BundleLayout.blobPath(d), b)));
        return out;
    }

    static Map<Digest, MediaType> types(TestContent c) {
        Map<Digest, MediaType> m = new LinkedHashMap<>();
        c.descriptors.forEach((d, desc) -> m.put(d, desc.mediaType()));
        return m;
    }

    static byte[] concat(byte[] a, byte[] b) {
        ByteArrayOutputStream o = new ByteArrayOutputStream();
        o.writeBytes(a);
        o.writeBytes(b);
        return o.toByteArray();
    }

    private static final java.util.regex.Pattern DIGEST = java.util.regex.Pattern.compile("sha256:[0-9a-f]{64}");

    /**
     * bundle.json's mandatory {@code files[].images} for a forged (possibly hostile) bundle: which
     * images reach each blob, by scanning reachable blobs' bytes for {@code sha256:<hex>} (no
     * parsing, so content the reader must refuse still gets lists); a blob no image reaches is
     * listed under image 0. testkit's Routes is the same for the other modules' tests.
     */
    static Map<Digest, List<Integer>> routes(List<BundleImage> images, java.util.Set<Digest> blobs, java.util.function.Function<Digest, byte[]> content) {
        Map<Digest, List<Integer>> routes = new LinkedHashMap<>();
        blobs.forEach(d -> routes.put(d, new ArrayList<>()));
        for (int i = 0; i < images.size(); i++) {
            java.util.Set<Digest> seen = new java.util.HashSet<>();
            java.util.ArrayDeque<Digest> todo = new java.util.ArrayDeque<>(List.of(images.get(i).digest()));
            while (!todo.isEmpty()) {
                Digest d = todo.pop();
                if (!blobs.contains(d) || !seen.add(d)) {
                    continue;
                }
                routes.get(d).add(i);
                byte[] b = content.apply(d);
                if (b != null && b.length < (4 << 20)) {
                    java.util.regex.Matcher m = DIGEST.matcher(new String(b, java.nio.charset.StandardCharsets.ISO_8859_1));
                    while (m.find()) {
                        todo.push(Digest.parse(m.group()));
                    }
                }
            }
        }
        routes.replaceAll((d, l) -> l.isEmpty() ? List.of(0) : List.copyOf(l));
        return routes;
    }

    /**
     * Only the blobs some image reaches (by the same scan as {@link #routes}), in their order: a
     * bundle cannot carry a blob that no image uses (every blob lists its images).
     */
    static Map<Digest, byte[]> reachable(List<BundleImage> images, Map<Digest, byte[]> blobs) {
        Map<Digest, byte[]> out = new LinkedHashMap<>();
        java.util.Set<Digest> seen = new java.util.HashSet<>();
        java.util.ArrayDeque<Digest> todo = new java.util.ArrayDeque<>();
        images.forEach(i -> todo.push(i.digest()));
        while (!todo.isEmpty()) {
            Digest d = todo.pop();
            byte[] b = blobs.get(d);
            if (b == null || !seen.add(d)) {
                continue;
            }
            java.util.regex.Matcher m = DIGEST.matcher(new String(b, java.nio.charset.StandardCharsets.ISO_8859_1));
            while (b.length < (4 << 20) && m.find()) {
                todo.push(Digest.parse(m.group()));
            }
        }
        blobs.forEach((d, b) -> {
            if (seen.contains(d)) {
                out.put(d, b);
            }
        });
        return out;
    }
}
