package dev.airlock.bundle;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.airlock.model.Descriptor;
import dev.airlock.model.Digest;
import dev.airlock.model.ImageReference;
import dev.airlock.model.Json;
import dev.airlock.model.MediaType;
import dev.airlock.model.Platform;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.zip.GZIPOutputStream;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveOutputStream;

/**
 * Small generated multi-arch images for bundle-format tests (bundle-format cannot use testkit):
 * an OCI index (amd64, arm64/v8, arm/v7) with a shared base layer, a Docker manifest list
 * (amd64, arm/v7, arm64 with no variant in the config) and a single-platform OCI manifest.
 * Blobs are kept in memory in dependency order.
 */
final class TestContent {
    final Map<Digest, byte[]> bytes = new LinkedHashMap<>();
    final Map<Digest, Descriptor> descriptors = new LinkedHashMap<>();
    final List<BundleImage> images = new ArrayList<>();
    private final Random random;

    TestContent(long seed) {
        this.random = new Random(seed);
    }

    static TestContent standard() {
        TestContent c = new TestContent(42);
        Descriptor base = c.layer(MediaType.OCI_LAYER_GZIP, 3000);
        List<Descriptor> entries = new ArrayList<>();
        for (Platform p : List.of(Platform.of("linux", "amd64", ""), Platform.of("linux", "arm64", "v8"), Platform.of("linux", "arm", "v7"))) {
            Descriptor own = c.layer(MediaType.OCI_LAYER_GZIP, 2000);
            Platform inConfig = p.architecture().equals("arm64") ? Platform.of("linux", "arm64", "") : p;
            Descriptor cfg = c.config(MediaType.OCI_CONFIG, inConfig, List.of(base, own));
            entries.add(c.manifest(MediaType.OCI_MANIFEST, cfg, List.of(base, own)).withPlatform(p));
        }
        Descriptor index = c.index(MediaType.OCI_INDEX, entries);
        c.images.add(BundleImage.of(ImageReference.parse("example.com/team/multi:1.0"), index, platforms(entries)));

        Descriptor dbase = c.layer(MediaType.DOCKER_LAYER_GZIP, 2500);
        List<Descriptor> dentries = new ArrayList<>();
        for (Platform p : List.of(Platform.of("linux", "amd64", ""), Platform.of("linux", "arm", "v7"), Platform.of("linux", "arm64", "v8"))) {
            Descriptor own = c.layer(MediaType.DOCKER_LAYER_GZIP, 1500);
            Descriptor cfg = c.config(MediaType.DOCKER_CONFIG, p.architecture().equals("arm64") ? Platform.of("linux", "arm64", "") : p, List.of(dbase, own));
            dentries.add(c.manifest(MediaType.DOCKER_MANIFEST, cfg, List.of(dbase, own)).withPlatform(p));
        }
        Descriptor list = c.index(MediaType.DOCKER_MANIFEST_LIST, dentries);
        c.images.add(BundleImage.of(ImageReference.parse("rancher/pause:3.1"), list, platforms(dentries)));

        List<Descriptor> singleLayers = List.of(base, c.layer(MediaType.OCI_LAYER_GZIP, 1000));
        Descriptor single = c.manifest(MediaType.OCI_MANIFEST, c.config(MediaType.OCI_CONFIG, Platform.of("linux", "amd64", ""), singleLayers),
                singleLayers);
        c.images.add(BundleImage.of(ImageReference.parse("busybox"), single, List.of(Platform.of("linux", "amd64", ""))));
        return c;
    }

    static List<Platform> platforms(List<Descriptor> entries) {
        return entries.stream().map(d -> d.platform().orElseThrow()).toList();
    }

    List<Descriptor> order() {
        return new ArrayList<>(descriptors.values());
    }

    BlobOpener opener() {
        return d -> new ByteArrayInputStream(bytes.get(d.digest()));
    }

    Descriptor add(MediaType mt, byte[] b) {
        Descriptor d = Descriptor.ofBytes(mt, b);
        bytes.putIfAbsent(d.digest(), b);
        descriptors.putIfAbsent(d.digest(), d);
        return d;
    }

    /** A real gzip-compressed tar holding one file of random bytes. */
    Descriptor layer(MediaType mt, int size) {
        byte[] content = new byte[size];
        random.nextBytes(content);
        try {
            ByteArrayOutputStream tarBytes = new ByteArrayOutputStream();
            try (TarArchiveOutputStream tar = new TarArchiveOutputStream(tarBytes)) {
                TarArchiveEntry e = new TarArchiveEntry("file-" + random.nextInt(1_000_000));
                e.setSize(size);
                e.setModTime(0L);
                tar.putArchiveEntry(e);
                tar.write(content);
                tar.closeArchiveEntry();
            }
            byte[] tar = tarBytes.toByteArray();
            ByteArrayOutputStream gz = new ByteArrayOutputStream();
            try (GZIPOutputStream z = new GZIPOutputStream(gz)) {
                z.write(tar);
            }
            Descriptor d = add(mt, gz.toByteArray());
            diffIdOf.put(d.digest(), Digest.sha256(tar));
            return d;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private final Map<Digest, Digest> diffIdOf = new LinkedHashMap<>();

    /** An image config with os/architecture/variant and the diff_ids of {@code layers}. */
    Descriptor config(MediaType mt, Platform p, List<Descriptor> layers) {
        ObjectNode o = Json.mapper().createObjectNode();
        o.put("architecture", p.architecture());
        o.put("os", p.os());
        if (!p.variant().isEmpty()) {
            o.put("variant", p.variant());
        }
        o.putObject("config").putArray("Cmd").add("/bin/sh").add(Integer.toHexString(random.nextInt()));
        ObjectNode rootfs = o.putObject("rootfs");
        rootfs.put("type", "layers");
        ArrayNode ids = rootfs.putArray("diff_ids");
        layers.forEach(l -> ids.add(diffIdOf.get(l.digest()).toString()));
        return add(mt, Json.write(o));
    }

    Descriptor manifest(MediaType mt, Descriptor cfg, List<Descriptor> layers) {
        ObjectNode o = Json.mapper().createObjectNode();
        o.put("schemaVersion", 2);
        o.put("mediaType", mt.value());
        o.set("config", desc(cfg));
        ArrayNode ls = o.putArray("layers");
        layers.forEach(l -> ls.add(desc(l)));
        return add(mt, Json.write(o));
    }

    Descriptor index(MediaType mt, List<Descriptor> entries) {
        ObjectNode o = Json.mapper().createObjectNode();
        o.put("schemaVersion", 2);
        o.put("mediaType", mt.value());
        ArrayNode ms = o.putArray("manifests");
        for (Descriptor e : entries) {
            ObjectNode d = desc(e);
            Platform p = e.platform().orElseThrow();
            ObjectNode po = d.putObject("platform");
            po.put("architecture", p.architecture());
            po.put("os", p.os());
            if (!p.variant().isEmpty()) {
                po.put("variant", p.variant());
            }
            ms.add(d);
        }
        return add(mt, Json.write(o));
    }

    static ObjectNode desc(Descriptor d) {
        ObjectNode o = Json.mapper().createObjectNode();
        o.put("mediaType", d.mediaType().value());
        o.put("digest", d.digest().toString());
        o.put("size", d.size());
        return o;
    }
}
