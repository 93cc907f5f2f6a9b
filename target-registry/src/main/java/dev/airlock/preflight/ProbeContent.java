package dev.airlock.preflight;

import dev.airlock.model.Descriptor;
import dev.airlock.model.Digest;
import dev.airlock.model.MediaType;
import dev.airlock.model.RawManifest;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.zip.GZIPOutputStream;

/**
 * The few bytes preflight pushes: one empty gzip'd tar layer, one config, the OCI empty
 * descriptor, and the manifests of every kind over them. Always the same bytes, so a repeated
 * preflight stores nothing new and a registry that refuses DELETE keeps one small set.
 */
final class ProbeContent {
    static final String ARTIFACT_TYPE = "application/vnd.airlock.preflight.v1+json";

    final byte[] layer = emptyTarGz();
    final byte[] config;
    final byte[] empty = "{}".getBytes(StandardCharsets.UTF_8);
    /** Bytes uploaded in several PATCH chunks by the chunked-upload probe. */
    final byte[] chunked = "airlock preflight: chunked upload probe, three chunks".getBytes(StandardCharsets.UTF_8);
    final RawManifest ociManifest;
    final RawManifest dockerManifest;
    final RawManifest ociIndex;
    final RawManifest dockerList;
    final RawManifest artifact;

    ProbeContent() {
        config = ("{\"architecture\":\"amd64\",\"os\":\"linux\",\"rootfs\":{\"type\":\"layers\",\"diff_ids\":[\""
                + Digest.sha256(new byte[1024]) + "\"]},\"config\":{}}").getBytes(StandardCharsets.UTF_8);
        ociManifest = manifest(MediaType.OCI_MANIFEST, "",
                desc(MediaType.OCI_CONFIG, config), desc(MediaType.OCI_LAYER_GZIP, layer), "");
        dockerManifest = manifest(MediaType.DOCKER_MANIFEST, "",
                desc(MediaType.DOCKER_CONFIG, config), desc(MediaType.DOCKER_LAYER_GZIP, layer), "");
        ociIndex = index(MediaType.OCI_INDEX, ociManifest);
        dockerList = index(MediaType.DOCKER_MANIFEST_LIST, dockerManifest);
        artifact = manifest(MediaType.OCI_MANIFEST, ",\"artifactType\":\"" + ARTIFACT_TYPE + "\"",
                desc(MediaType.OCI_EMPTY, empty), desc(MediaType.OCI_EMPTY, empty),
                ",\"subject\":" + desc(ociManifest.mediaType(), ociManifest.bytes()));
    }

    Descriptor layerDescriptor() {
        return Descriptor.ofBytes(MediaType.OCI_LAYER_GZIP, layer);
    }

    Descriptor configDescriptor() {
        return Descriptor.ofBytes(MediaType.OCI_CONFIG, config);
    }

    Descriptor emptyDescriptor() {
        return Descriptor.ofBytes(MediaType.OCI_EMPTY, empty);
    }

    Descriptor chunkedDescriptor() {
        return Descriptor.ofBytes(MediaType.OCI_LAYER_GZIP, chunked);
    }

    private static String desc(MediaType type, byte[] bytes) {
        return "{\"mediaType\":\"" + type + "\",\"digest\":\"" + Digest.sha256(bytes) + "\",\"size\":" + bytes.length + "}";
    }

    private static RawManifest manifest(MediaType type, String artifactType, String config, String layer, String subject) {
        String json = "{\"schemaVersion\":2,\"mediaType\":\"" + type + "\"" + artifactType + ",\"config\":" + config
                + ",\"layers\":[" + layer + "]" + subject + "}";
        return RawManifest.of(type, json.getBytes(StandardCharsets.UTF_8));
    }

    private static RawManifest index(MediaType type, RawManifest child) {
        String entry = desc(child.mediaType(), child.bytes());
        entry = entry.substring(0, entry.length() - 1) + ",\"platform\":{\"architecture\":\"amd64\",\"os\":\"linux\"}}";
        String json = "{\"schemaVersion\":2,\"mediaType\":\"" + type + "\",\"manifests\":[" + entry + "]}";
        return RawManifest.of(type, json.getBytes(StandardCharsets.UTF_8));
    }

    /** gzip of an empty tar (its 1024-byte end marker); the JDK writes mtime 0, so the bytes never change. */
    private static byte[] emptyTarGz() {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        try (GZIPOutputStream gz = new GZIPOutputStream(out)) {
            gz.write(new byte[1024]);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return out.toByteArray();
    }
}
