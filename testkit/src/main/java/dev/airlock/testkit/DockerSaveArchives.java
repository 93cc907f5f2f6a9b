package dev.airlock.testkit;

import dev.airlock.model.Digest;
import dev.airlock.model.Platform;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.function.UnaryOperator;
import java.util.zip.GZIPOutputStream;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveOutputStream;

/**
 * Writes archives the way {@code docker save} does, as real tar files on disk, in both layouts:
 *
 * <ul>
 *   <li>{@link Layout#CLASSIC} (Docker before 25): {@code <v1id>/layer.tar}, {@code <v1id>/json},
 *   {@code <v1id>/VERSION}, {@code <config-hex>.json}, {@code manifest.json}, {@code repositories}.
 *   A layer already written under another v1 id becomes a symlink {@code ../<v1id>/layer.tar},
 *   as docker does.</li>
 *   <li>{@link Layout#OCI} (Docker 25+): an OCI layout inside the tar ({@code oci-layout},
 *   {@code index.json}, {@code blobs/sha256/...} holding uncompressed layers, configs and one OCI
 *   manifest per image) plus the compatible {@code manifest.json} whose paths point into
 *   {@code blobs/}, {@code repositories}, and legacy {@code <v1id>/layer.tar} symlinks into blobs.</li>
 * </ul>
 * Entries are sorted by name (docker tars a directory walk). A name ending in {@code .gz} or
 * {@code .tgz} is gzip-compressed. {@link #entries} plus {@link #writeEntries} let a test tamper
 * with an archive before it is written.
 *
 * <pre>{@code
 * byte[] base = DockerSaveArchives.layer("base", 1, 4096);
 * var img = DockerSaveArchives.image(Platform.parse("linux/arm/v7"), List.of(base, app), "rancher/pause:3.1");
 * DockerSaveArchives.write(dir.resolve("images-arm.tar.gz"), Layout.OCI, List.of(img));
 * }</pre>
 */
public final class DockerSaveArchives {
    private DockerSaveArchives() {
    }

    /** Which {@code docker save} layout to write. */
    public enum Layout { CLASSIC, OCI }

    /** One image as {@code docker save} holds it: uncompressed layers, exact config bytes, its RepoTags. */
    public record SavedImage(List<String> repoTags, byte[] config, List<byte[]> layers) {
        public SavedImage {
            repoTags = List.copyOf(repoTags);
            layers = List.copyOf(layers);
        }

        public Digest configDigest() {
            return Digest.sha256(config);
        }

        public List<Digest> diffIds() {
            return layers.stream().map(Digest::sha256).toList();
        }
    }

    /**
     * One tar entry: a regular file ({@code data} non-null), a directory ({@code name} ends in
     * '/'), a symlink ({@code linkTarget} non-null) or a hard link ({@code hardLink}).
     */
    public record Entry(String name, byte[] data, String linkTarget, boolean hardLink) {
        public static Entry file(String name, byte[] data) {
            return new Entry(name, data, null, false);
        }

        public static Entry file(String name, String text) {
            return file(name, text.getBytes(StandardCharsets.UTF_8));
        }

        public static Entry dir(String name) {
            return new Entry(name.endsWith("/") ? name : name + "/", null, null, false);
        }

        public static Entry symlink(String name, String target) {
            return new Entry(name, null, target, false);
        }

        public static Entry hardLink(String name, String target) {
            return new Entry(name, null, target, true);
        }
    }

    /**
     * A real, deterministic layer tar: a directory {@code name/} with one file {@code name/data}
     * of {@code size} pseudo-random (but compressible) bytes from {@code seed}.
     */
    public static byte[] layer(String name, long seed, int size) {
        Random r = new Random(seed);
        byte[] data = new byte[size];
        // words from a small alphabet: compresses, but not to nothing
        for (int i = 0; i < size; i++) {
            data[i] = (byte) ('a' + r.nextInt(16));
        }
        Map<String, byte[]> files = new LinkedHashMap<>();
        files.put(name + "/data", data);
        files.put(name + "/seed", Long.toString(seed).getBytes(StandardCharsets.UTF_8));
        return layerTar(files);
    }

    /** A layer tar holding exactly these files (path → content) plus their parent directories. */
    public static byte[] layerTar(Map<String, byte[]> files) {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (TarArchiveOutputStream tar = tarStream(bytes)) {
            List<String> dirs = new ArrayList<>();
            for (String path : files.keySet()) {
                int slash = path.indexOf('/');
                while (slash > 0) {
                    String d = path.substring(0, slash + 1);
                    if (!dirs.contains(d)) {
                        dirs.add(d);
                        TarArchiveEntry e = new TarArchiveEntry(d);
                        e.setModTime(0);
                        tar.putArchiveEntry(e);
                        tar.closeArchiveEntry();
                    }
                    slash = path.indexOf('/', slash + 1);
                }
                byte[] content = files.get(path);
                TarArchiveEntry e = new TarArchiveEntry(path);
                e.setSize(content.length);
                e.setModTime(0);
                e.setMode(0100644);
                tar.putArchiveEntry(e);
                tar.write(content);
                tar.closeArchiveEntry();
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return bytes.toByteArray();
    }

    /** An image whose config (written like docker writes it) declares {@code platform} and the layers' diff_ids. */
    public static SavedImage image(Platform platform, List<byte[]> layers, String... repoTags) {
        return new SavedImage(List.of(repoTags), config(platform, layers, String.join(",", repoTags)), layers);
    }

    /** A docker-style image config: architecture, config, created, history, os, rootfs, variant. */
    public static byte[] config(Platform platform, List<byte[]> layers, String label) {
        StringBuilder sb = new StringBuilder();
        sb.append("{\"architecture\":\"").append(platform.architecture()).append('"');
        sb.append(",\"config\":{\"Env\":[\"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin\"],")
                .append("\"Cmd\":[\"/run\"],\"Labels\":{\"test.image\":\"").append(label).append("\"}}");
        sb.append(",\"created\":\"2024-01-02T03:04:05.123456789Z\",\"history\":[");
        for (int i = 0; i < layers.size(); i++) {
            sb.append(i == 0 ? "" : ",").append("{\"created\":\"2024-01-02T03:04:05Z\",\"created_by\":\"ADD layer ").append(i).append("\"}");
        }
        sb.append("],\"os\":\"").append(platform.os()).append('"');
        sb.append(",\"rootfs\":{\"type\":\"layers\",\"diff_ids\":[");
        for (int i = 0; i < layers.size(); i++) {
            sb.append(i == 0 ? "" : ",").append('"').append(Digest.sha256(layers.get(i))).append('"');
        }
        sb.append("]}");
        if (!platform.variant().isEmpty()) {
            sb.append(",\"variant\":\"").append(platform.variant()).append('"');
        }
        sb.append('}');
        return sb.toString().getBytes(StandardCharsets.UTF_8);
    }

    /** Writes {@code images} as one docker-save archive at {@code file}; gzip when the name ends in .gz/.tgz. */
    public static Path write(Path file, Layout layout, List<SavedImage> images) {
        return writeEntries(file, entries(layout, images));
    }

    /** Like {@link #write} but lets the test change the entries first (tamper, drop, add). */
    public static Path write(Path file, Layout layout, List<SavedImage> images, UnaryOperator<List<Entry>> tamper) {
        return writeEntries(file, tamper.apply(new ArrayList<>(entries(layout, images))));
    }

    /** The entries docker save would write, sorted by name. */
    public static List<Entry> entries(Layout layout, List<SavedImage> images) {
        Map<String, Entry> out = new HashMap<>();
        StringBuilder manifest = new StringBuilder("[");
        Map<String, Map<String, String>> repositories = new LinkedHashMap<>();
        Map<Digest, String> layerPathByDiffId = new HashMap<>();
        List<String> indexEntries = new ArrayList<>();
        for (SavedImage img : images) {
            Digest configDigest = img.configDigest();
            String configPath = layout == Layout.CLASSIC ? configDigest.hex() + ".json" : "blobs/sha256/" + configDigest.hex();
            out.put(configPath, Entry.file(configPath, img.config()));
            List<String> layerPaths = new ArrayList<>();
            String parent = "";
            String v1id = "";
            for (int i = 0; i < img.layers().size(); i++) {
                byte[] layer = img.layers().get(i);
                Digest diffId = Digest.sha256(layer);
                boolean top = i == img.layers().size() - 1;
                v1id = Digest.sha256(("v1:" + parent + ":" + diffId + (top ? ":" + configDigest : "")).getBytes(StandardCharsets.UTF_8)).hex();
                parent = v1id;
                out.put(v1id + "/", Entry.dir(v1id + "/"));
                out.put(v1id + "/VERSION", Entry.file(v1id + "/VERSION", "1.0"));
                out.put(v1id + "/json", Entry.file(v1id + "/json", "{\"id\":\"" + v1id + "\",\"created\":\"1970-01-01T00:00:00Z\"}"));
                String legacyPath = v1id + "/layer.tar";
                if (layout == Layout.CLASSIC) {
                    String existing = layerPathByDiffId.get(diffId);
                    if (existing == null) {
                        out.put(legacyPath, Entry.file(legacyPath, layer));
                        layerPathByDiffId.put(diffId, legacyPath);
                    } else if (!existing.equals(legacyPath)) {
                        out.put(legacyPath, Entry.symlink(legacyPath, "../" + existing));
                    }
                    layerPaths.add(legacyPath);
                } else {
                    String blob = "blobs/sha256/" + diffId.hex();
                    out.put(blob, Entry.file(blob, layer));
                    out.put(legacyPath, Entry.symlink(legacyPath, "../" + blob));
                    layerPaths.add(blob);
                }
            }
            for (String tag : img.repoTags()) {
                int colon = tag.lastIndexOf(':');
                repositories.computeIfAbsent(tag.substring(0, colon), k -> new LinkedHashMap<>()).put(tag.substring(colon + 1), v1id);
            }
            if (layout == Layout.OCI) {
                StringBuilder m = new StringBuilder("{\"schemaVersion\":2,\"mediaType\":\"application/vnd.oci.image.manifest.v1+json\",")
                        .append("\"config\":{\"mediaType\":\"application/vnd.oci.image.config.v1+json\",\"digest\":\"")
                        .append(configDigest).append("\",\"size\":").append(img.config().length).append("},\"layers\":[");
                for (int i = 0; i < img.layers().size(); i++) {
                    m.append(i == 0 ? "" : ",").append("{\"mediaType\":\"application/vnd.oci.image.layer.v1.tar\",\"digest\":\"")
                            .append(Digest.sha256(img.layers().get(i))).append("\",\"size\":").append(img.layers().get(i).length).append('}');
                }
                m.append("]}");
                byte[] mb = m.toString().getBytes(StandardCharsets.UTF_8);
                Digest md = Digest.sha256(mb);
                out.put("blobs/sha256/" + md.hex(), Entry.file("blobs/sha256/" + md.hex(), mb));
                for (String tag : img.repoTags()) {
                    indexEntries.add("{\"mediaType\":\"application/vnd.oci.image.manifest.v1+json\",\"digest\":\"" + md
                            + "\",\"size\":" + mb.length + ",\"annotations\":{\"io.containerd.image.name\":\"" + fullName(tag)
                            + "\",\"org.opencontainers.image.ref.name\":\"" + tag.substring(tag.lastIndexOf(':') + 1) + "\"}}");
                }
            }
            manifest.append(manifest.length() == 1 ? "" : ",").append("{\"Config\":\"").append(configPath).append("\",\"RepoTags\":[");
            for (int i = 0; i < img.repoTags().size(); i++) {
                manifest.append(i == 0 ? "" : ",").append('"').append(img.repoTags().get(i)).append('"');
            }
            manifest.append("],\"Layers\":[");
            for (int i = 0; i < layerPaths.size(); i++) {
                manifest.append(i == 0 ? "" : ",").append('"').append(layerPaths.get(i)).append('"');
            }
            manifest.append("]}");
        }
        manifest.append("]\n");
        out.put("manifest.json", Entry.file("manifest.json", manifest.toString()));
        StringBuilder repos = new StringBuilder("{");
        repositories.forEach((repo, tags) -> {
            repos.append(repos.length() == 1 ? "" : ",").append('"').append(repo).append("\":{");
            int[] n = {0};
            tags.forEach((t, id) -> repos.append(n[0]++ == 0 ? "" : ",").append('"').append(t).append("\":\"").append(id).append('"'));
            repos.append('}');
        });
        repos.append("}\n");
        out.put("repositories", Entry.file("repositories", repos.toString()));
        if (layout == Layout.OCI) {
            out.put("oci-layout", Entry.file("oci-layout", "{\"imageLayoutVersion\":\"1.0.0\"}"));
            out.put("index.json", Entry.file("index.json", "{\"schemaVersion\":2,\"mediaType\":\"application/vnd.oci.image.index.v1+json\",\"manifests\":["
                    + String.join(",", indexEntries) + "]}\n"));
            out.put("blobs/", Entry.dir("blobs/"));
            out.put("blobs/sha256/", Entry.dir("blobs/sha256/"));
        }
        List<Entry> sorted = new ArrayList<>(out.values());
        sorted.sort(Comparator.comparing(Entry::name));
        return sorted;
    }

    /** Writes these entries, in order, as a tar (gzip'd when the name ends in .gz/.tgz). */
    public static Path writeEntries(Path file, List<Entry> entries) {
        String n = file.getFileName().toString();
        boolean gzip = n.endsWith(".gz") || n.endsWith(".tgz");
        try {
            Files.createDirectories(file.toAbsolutePath().getParent());
            try (OutputStream raw = Files.newOutputStream(file);
                 OutputStream os = gzip ? new GZIPOutputStream(raw, 65536) : raw;
                 TarArchiveOutputStream tar = tarStream(os)) {
                for (Entry e : entries) {
                    TarArchiveEntry te;
                    if (e.linkTarget() != null) {
                        te = new TarArchiveEntry(e.name(), e.hardLink() ? TarArchiveEntry.LF_LINK : TarArchiveEntry.LF_SYMLINK, true);
                        te.setLinkName(e.linkTarget());
                    } else {
                        te = new TarArchiveEntry(e.name(), true); // keep names as given, even hostile ones
                        if (e.data() != null) {
                            te.setSize(e.data().length);
                            te.setMode(0100644);
                        }
                    }
                    te.setModTime(0);
                    tar.putArchiveEntry(te);
                    if (e.data() != null) {
                        tar.write(e.data());
                    }
                    tar.closeArchiveEntry();
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return file;
    }

    /**
     * The k3s air-gap case: three archives {@code <prefix>-amd64}, {@code -arm64}, {@code -arm}
     * (linux/amd64, linux/arm64/v8, linux/arm/v7) each holding {@code rancher/mirrored-pause:3.6}
     * and {@code rancher/mirrored-coredns-coredns:1.10.1}; every image of every arch starts with
     * the same base layer; pause's layers are shared per arch with nothing else.
     *
     * @return arch → file
     */
    public static Map<String, Path> k3s(Path dir, String prefix, Layout layout, boolean gzip) {
        Map<String, Path> out = new LinkedHashMap<>();
        byte[] base = layer("base", 42, 48 * 1024);
        String[][] arches = {{"amd64", "linux/amd64"}, {"arm64", "linux/arm64/v8"}, {"arm", "linux/arm/v7"}};
        for (String[] a : arches) {
            Platform p = Platform.parse(a[1]);
            long s = a[0].hashCode();
            SavedImage pause = image(p, List.of(base, layer("pause-" + a[0], s, 8 * 1024)), "rancher/mirrored-pause:3.6");
            SavedImage coredns = image(p, List.of(base, layer("coredns-" + a[0], s + 1, 96 * 1024),
                    layer("coredns-conf", 7, 1024)), "rancher/mirrored-coredns-coredns:1.10.1");
            out.put(a[0], write(dir.resolve(prefix + "-" + a[0] + (gzip ? ".tar.gz" : ".tar")), layout, List.of(pause, coredns)));
        }
        return out;
    }

    private static String fullName(String tag) {
        String name = tag;
        int slash = name.indexOf('/');
        String first = slash < 0 ? "" : name.substring(0, slash);
        if (slash < 0) {
            return "docker.io/library/" + name;
        }
        if (first.contains(".") || first.contains(":") || first.equals("localhost")) {
            return name;
        }
        return "docker.io/" + name;
    }

    private static TarArchiveOutputStream tarStream(OutputStream os) {
        TarArchiveOutputStream tar = new TarArchiveOutputStream(os, StandardCharsets.UTF_8.name());
        tar.setLongFileMode(TarArchiveOutputStream.LONGFILE_POSIX);
        tar.setBigNumberMode(TarArchiveOutputStream.BIGNUMBER_POSIX);
        return tar;
    }
}
