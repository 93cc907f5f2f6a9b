package dev.airlock.testkit;

import dev.airlock.model.Descriptor;
import dev.airlock.model.Digest;
import dev.airlock.model.MediaType;
import dev.airlock.model.Platform;
import dev.airlock.model.RawManifest;
import dev.airlock.store.ImageStore;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.zip.GZIPOutputStream;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveOutputStream;

/**
 * Deterministic multi-arch test images: real gzip'd tar layers of pseudo-random bytes, configs
 * with matching diff_ids and platforms, manifests and indexes written as raw bytes (optionally
 * with odd whitespace and key order, which any re-serialisation would change). Everything is
 * derived from seeds, so two images built with the same base seed share their base layers, per
 * platform, and a "common" layer shared by every platform.
 *
 * <pre>{@code
 * TestImage app = TestImages.image("app").docker().platforms("linux/amd64", "linux/arm/v7")
 *         .baseSeed(1).layerSize(64 * 1024).build();
 * app.pushTo(registryStore, "team/app");   // blobs, child manifests, index, then the tag
 * }</pre>
 */
public final class TestImages {
    private TestImages() {
    }

    /** Starts a builder for an image whose own content derives from {@code name}. */
    public static Builder image(String name) {
        return new Builder(name);
    }

    /** A blob with its bytes (test content is small). */
    public record Blob(Descriptor descriptor, byte[] bytes) {
        public Digest digest() {
            return descriptor.digest();
        }
    }

    /** One platform's manifest with its config. */
    public record PlatformImage(Platform platform, RawManifest manifest, Blob config, List<Blob> layers) {
    }

    /**
     * A built image. {@code top} is the index (multi-arch) or the manifest (single platform);
     * {@code children} are the child manifests in push order (empty for single-platform).
     */
    public record TestImage(String name, String tag, RawManifest top, List<RawManifest> children,
                            List<PlatformImage> platforms, List<Blob> blobs) {
        /** Unique blob bytes of this image. */
        public long blobBytes() {
            return blobs.stream().mapToLong(b -> b.bytes().length).sum();
        }

        /** Every manifest digest of the graph: children then top. */
        public List<Digest> manifestDigests() {
            List<Digest> out = new ArrayList<>();
            children.forEach(c -> out.add(c.digest()));
            out.add(top.digest());
            return out;
        }

        /** Pushes into {@code store} in the safe order: blobs, children by digest, top by digest, tag. */
        public void pushTo(ImageStore store, String repository) {
            for (Blob b : blobs) {
                if (store.blobSize(repository, b.digest()).isEmpty()) {
                    store.pushBlob(repository, b.descriptor(), () -> new ByteArrayInputStream(b.bytes()));
                }
            }
            for (RawManifest c : children) {
                store.pushManifest(repository, c.digest().toString(), c);
            }
            store.pushManifest(repository, top.digest().toString(), top);
            store.pushManifest(repository, tag, top);
        }
    }

    /** Builder; every setter returns this. */
    public static final class Builder {
        private final String name;
        private String tag = "1.0";
        private boolean docker;
        private List<Platform> platforms = List.of(Platform.parse("linux/amd64"), Platform.parse("linux/arm64/v8"), Platform.parse("linux/arm/v7"));
        private boolean singleManifest;
        private boolean attestation;
        private boolean oddJson;
        private long baseSeed = 42;
        private int layerSize = 16 * 1024;
        private int ownLayers = 1;
        private final Map<Platform, Platform> configLies = new LinkedHashMap<>();

        private Builder(String name) {
            this.name = name;
        }

        public Builder tag(String t) { this.tag = t; return this; }

        /** Docker schema 2 manifests and a Docker manifest list (default: OCI). */
        public Builder docker() { this.docker = true; return this; }

        public Builder oci() { this.docker = false; return this; }

        public Builder platforms(String... ps) {
            List<Platform> l = new ArrayList<>();
            for (String p : ps) {
                l.add(Platform.parse(p));
            }
            this.platforms = List.copyOf(l);
            return this;
        }

        /** A single-platform image: the top is the manifest itself, no index. */
        public Builder singlePlatform(String p) {
            platforms(p);
            this.singleManifest = true;
            return this;
        }

        /** Adds a BuildKit-style attestation manifest (unknown/unknown) per platform (OCI only). */
        public Builder attestation() { this.attestation = true; return this; }

        /** Writes manifests with odd whitespace and key order (byte-exactness tests). */
        public Builder oddJson() { this.oddJson = true; return this; }

        /** Images with the same base seed share their base layer per platform and one common layer. */
        public Builder baseSeed(long s) { this.baseSeed = s; return this; }

        /** Size of each layer's uncompressed payload (pseudo-random, so gzip does not shrink it). */
        public Builder layerSize(int bytes) { this.layerSize = bytes; return this; }

        /** Number of layers unique to this image per platform (default 1). */
        public Builder ownLayers(int n) { this.ownLayers = n; return this; }

        /** Makes the index entry for {@code claimed} point at a child whose config says {@code actual}. */
        public Builder lieAboutPlatform(String claimed, String actual) {
            configLies.put(Platform.parse(claimed), Platform.parse(actual));
            return this;
        }

        public TestImage build() {
            if (attestation && docker) {
                throw new IllegalArgumentException("attestations exist only in OCI indexes");
            }
            MediaType manifestType = docker ? MediaType.DOCKER_MANIFEST : MediaType.OCI_MANIFEST;
            MediaType configType = docker ? MediaType.DOCKER_CONFIG : MediaType.OCI_CONFIG;
            MediaType layerType = docker ? MediaType.DOCKER_LAYER_GZIP : MediaType.OCI_LAYER_GZIP;
            Map<Digest, Blob> blobs = new LinkedHashMap<>();
            List<PlatformImage> images = new ArrayList<>();
            List<RawManifest> children = new ArrayList<>();
            List<String> entries = new ArrayList<>();
            Blob common = layer(layerType, "common-" + baseSeed, layerSize);
            for (Platform p : platforms) {
                Platform configPlatform = configLies.getOrDefault(p, p);
                List<Blob> layers = new ArrayList<>();
                layers.add(common);
                layers.add(layer(layerType, "base-" + baseSeed + "-" + p, layerSize));
                for (int i = 0; i < ownLayers; i++) {
                    layers.add(layer(layerType, "own-" + name + "-" + tag + "-" + p + "-" + i, layerSize));
                }
                Blob config = config(configType, configPlatform, layers, name);
                blobs.putIfAbsent(config.digest(), config);
                layers.forEach(l -> blobs.putIfAbsent(l.digest(), l));
                RawManifest m = RawManifest.of(manifestType, manifestJson(manifestType, config, layers, Map.of()));
                images.add(new PlatformImage(p, m, config, layers));
                children.add(m);
                entries.add(entryJson(m, p, Map.of()));
                if (attestation) {
                    byte[] st = ("{\"_type\":\"https://in-toto.io/Statement/v0.1\",\"subject\":[{\"digest\":{\"sha256\":\""
                            + m.digest().hex() + "\"}}]}").getBytes(StandardCharsets.UTF_8);
                    Blob statement = new Blob(Descriptor.ofBytes(MediaType.IN_TOTO, st), st);
                    Blob attConfig = config(MediaType.OCI_CONFIG, Platform.UNKNOWN, List.of(), name + "-attestation");
                    blobs.putIfAbsent(attConfig.digest(), attConfig);
                    blobs.putIfAbsent(statement.digest(), statement);
                    RawManifest att = RawManifest.of(MediaType.OCI_MANIFEST, manifestJson(MediaType.OCI_MANIFEST, attConfig,
                            List.of(statement), Map.of()));
                    children.add(att);
                    entries.add(entryJson(att, Platform.UNKNOWN, Map.of("vnd.docker.reference.digest", m.digest().toString(),
                            "vnd.docker.reference.type", "attestation-manifest")));
                }
            }
            RawManifest top;
            if (singleManifest) {
                top = children.get(0);
                children = List.of();
            } else {
                MediaType indexType = docker ? MediaType.DOCKER_MANIFEST_LIST : MediaType.OCI_INDEX;
                top = RawManifest.of(indexType, indexJson(indexType, entries));
            }
            return new TestImage(name, tag, top, List.copyOf(children), List.copyOf(images), List.copyOf(blobs.values()));
        }

        private String nl() {
            return oddJson ? "\n   " : "";
        }

        private byte[] manifestJson(MediaType type, Blob config, List<Blob> layers, Map<String, String> ann) {
            StringBuilder sb = new StringBuilder();
            List<String> ls = new ArrayList<>();
            for (Blob l : layers) {
                ls.add(descJson(l.descriptor()));
            }
            if (oddJson) {
                sb.append("{ \"layers\" : [").append(nl()).append(String.join(" ,\n\t", ls)).append("],\n")
                        .append("  \"config\":").append(descJson(config.descriptor())).append(",\n")
                        .append("  \"mediaType\":\"").append(type).append("\",\n  \"schemaVersion\": 2\n}\n");
            } else {
                sb.append("{\"schemaVersion\":2,\"mediaType\":\"").append(type).append("\",\"config\":")
                        .append(descJson(config.descriptor())).append(",\"layers\":[").append(String.join(",", ls)).append("]}");
            }
            return sb.toString().getBytes(StandardCharsets.UTF_8);
        }

        private byte[] indexJson(MediaType type, List<String> entries) {
            String s = oddJson
                    ? "{\n  \"manifests\": [\n    " + String.join(",\n    ", entries) + "\n  ],\n  \"schemaVersion\": 2,   \"mediaType\": \"" + type + "\"\n}\n"
                    : "{\"schemaVersion\":2,\"mediaType\":\"" + type + "\",\"manifests\":[" + String.join(",", entries) + "]}";
            return s.getBytes(StandardCharsets.UTF_8);
        }

        private static String descJson(Descriptor d) {
            return "{\"mediaType\":\"" + d.mediaType() + "\",\"digest\":\"" + d.digest() + "\",\"size\":" + d.size() + "}";
        }

        private static String entryJson(RawManifest m, Platform p, Map<String, String> ann) {
            StringBuilder sb = new StringBuilder("{\"mediaType\":\"" + m.mediaType() + "\",\"digest\":\"" + m.digest()
                    + "\",\"size\":" + m.size());
            if (!ann.isEmpty()) {
                List<String> kv = new ArrayList<>();
                ann.entrySet().stream().sorted(Map.Entry.comparingByKey())
                        .forEach(e -> kv.add("\"" + e.getKey() + "\":\"" + e.getValue() + "\""));
                sb.append(",\"annotations\":{").append(String.join(",", kv)).append("}");
            }
            sb.append(",\"platform\":{\"architecture\":\"").append(p.architecture()).append("\",\"os\":\"").append(p.os()).append("\"");
            if (!p.variant().isEmpty()) {
                sb.append(",\"variant\":\"").append(p.variant()).append("\"");
            }
            return sb.append("}}").toString();
        }

        private static Blob config(MediaType type, Platform p, List<Blob> layers, String name) {
            List<String> diffIds = new ArrayList<>();
            for (Blob l : layers) {
                diffIds.add("\"" + diffId(l.bytes()) + "\"");
            }
            String json = "{\"architecture\":\"" + p.architecture() + "\",\"os\":\"" + p.os() + "\""
                    + (p.variant().isEmpty() ? "" : ",\"variant\":\"" + p.variant() + "\"")
                    + ",\"config\":{\"Env\":[\"PATH=/usr/bin\"],\"Labels\":{\"name\":\"" + name + "\"}}"
                    + ",\"rootfs\":{\"type\":\"layers\",\"diff_ids\":[" + String.join(",", diffIds) + "]}}";
            byte[] bytes = json.getBytes(StandardCharsets.UTF_8);
            return new Blob(Descriptor.ofBytes(type, bytes), bytes);
        }
    }

    /** A gzip'd tar holding one file of {@code size} pseudo-random bytes derived from {@code seed}. */
    public static Blob layer(MediaType type, String seed, int size) {
        byte[] payload = new byte[size];
        new Random(seed.hashCode() * 31L + seed.length()).nextBytes(payload);
        ByteArrayOutputStream tar = new ByteArrayOutputStream(size + 2048);
        try (TarArchiveOutputStream t = new TarArchiveOutputStream(tar)) {
            t.setLongFileMode(TarArchiveOutputStream.LONGFILE_POSIX);
            TarArchiveEntry e = new TarArchiveEntry("data/" + Integer.toHexString(seed.hashCode()) + ".bin");
            e.setSize(size);
            e.setModTime(0);
            t.putArchiveEntry(e);
            t.write(payload);
            t.closeArchiveEntry();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        ByteArrayOutputStream gz = new ByteArrayOutputStream(size + 4096);
        try (GZIPOutputStream g = new GZIPOutputStream(gz)) {
            g.write(tar.toByteArray());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        byte[] bytes = gz.toByteArray();
        return new Blob(Descriptor.ofBytes(type, bytes), bytes);
    }

    /** sha256 of the gunzipped bytes: the diff_id of a gzip layer. */
    public static String diffId(byte[] gzipped) {
        try (var in = new java.util.zip.GZIPInputStream(new ByteArrayInputStream(gzipped))) {
            return Digest.sha256(in.readAllBytes()).toString();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
