package dev.airlock.testkit;

import dev.airlock.model.Descriptor;
import dev.airlock.model.Digest;
import dev.airlock.model.MediaType;
import dev.airlock.model.RawManifest;
import dev.airlock.store.ImageStore;
import dev.airlock.testkit.TestImages.Blob;
import java.io.ByteArrayInputStream;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.Signature;
import java.security.spec.ECGenParameterSpec;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Comparator;
import java.util.List;

/**
 * Artifacts to attach to test images, built as raw bytes the way the tools that make them do:
 * cosign signatures (simple-signing payload naming the digest, ECDSA P-256 signature in the
 * layer annotation), OCI 1.1 referrers with a {@code subject} (SBOM, in-toto attestation), a Helm
 * chart, an artifactType manifest with the empty config, and the referrers tag-schema index.
 */
public final class TestArtifacts {
    public static final String SIMPLE_SIGNING = "application/vnd.dev.cosign.simplesigning.v1+json";
    public static final String SPDX = "application/spdx+json";
    public static final String HELM_CONFIG = "application/vnd.cncf.helm.config.v1+json";
    public static final String HELM_CHART = "application/vnd.cncf.helm.chart.content.v1.tar+gzip";

    private TestArtifacts() {
    }

    /** An artifact manifest and its blobs. */
    public record Artifact(RawManifest manifest, List<Blob> blobs) {
        public Digest digest() {
            return manifest.digest();
        }

        public Descriptor descriptor() {
            return manifest.descriptor();
        }

        /** Pushes the blobs, then the manifest by digest, then under {@code tag} when not null. */
        public void pushTo(ImageStore store, String repository, String tag) {
            for (Blob b : blobs) {
                if (store.blobSize(repository, b.digest()).isEmpty()) {
                    store.pushBlob(repository, b.descriptor(), () -> new ByteArrayInputStream(b.bytes()));
                }
            }
            store.pushManifest(repository, manifest.digest().toString(), manifest);
            if (tag != null) {
                store.pushManifest(repository, tag, manifest);
            }
        }
    }

    /** A fresh ECDSA P-256 key pair. */
    public static KeyPair ecKey() {
        try {
            KeyPairGenerator g = KeyPairGenerator.getInstance("EC");
            g.initialize(new ECGenParameterSpec("secp256r1"));
            return g.generateKeyPair();
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException(e);
        }
    }

    /** The public key as PEM ({@code openssl dgst -verify} reads it). */
    public static String publicKeyPem(KeyPair key) {
        return "-----BEGIN PUBLIC KEY-----\n" + Base64.getMimeEncoder(64, "\n".getBytes(StandardCharsets.US_ASCII))
                .encodeToString(key.getPublic().getEncoded()) + "\n-----END PUBLIC KEY-----\n";
    }

    /** cosign's simple-signing payload for {@code digest} of {@code dockerReference}. */
    public static byte[] payload(Digest digest, String dockerReference) {
        return ("{\"critical\":{\"identity\":{\"docker-reference\":\"" + dockerReference + "\"},\"image\":{\"docker-manifest-digest\":\""
                + digest + "\"},\"type\":\"cosign container image signature\"},\"optional\":null}").getBytes(StandardCharsets.UTF_8);
    }

    /**
     * A cosign signature of {@code subject} (to be tagged {@code sha256-<hex>.sig}): the payload is
     * the layer, its SHA256withECDSA signature (DER, base64) the layer annotation.
     */
    public static Artifact cosignSignature(Digest subject, String dockerReference, KeyPair key) {
        byte[] payload = payload(subject, dockerReference);
        String sig;
        try {
            Signature s = Signature.getInstance("SHA256withECDSA");
            s.initSign(key.getPrivate());
            s.update(payload);
            sig = Base64.getEncoder().encodeToString(s.sign());
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException(e);
        }
        Blob layer = blob(SIMPLE_SIGNING, payload);
        byte[] cfg = ("{\"architecture\":\"\",\"config\":{},\"created\":\"0001-01-01T00:00:00Z\",\"history\":[{\"created\":\"0001-01-01T00:00:00Z\"}],"
                + "\"os\":\"\",\"rootfs\":{\"type\":\"layers\",\"diff_ids\":[\"" + layer.digest() + "\"]}}").getBytes(StandardCharsets.UTF_8);
        Blob config = blob(MediaType.OCI_CONFIG.value(), cfg);
        String m = "{\"schemaVersion\":2,\"mediaType\":\"" + MediaType.OCI_MANIFEST + "\",\"config\":" + desc(config.descriptor(), "")
                + ",\"layers\":[" + desc(layer.descriptor(), "\"annotations\":{\"dev.cosignproject.cosign/signature\":\"" + sig + "\"}") + "]}";
        return new Artifact(RawManifest.of(MediaType.OCI_MANIFEST, m.getBytes(StandardCharsets.UTF_8)), List.of(config, layer));
    }

    /** An OCI 1.1 referrer of {@code subject}: artifactType {@code type}, empty config, one layer of {@code content}. */
    public static Artifact referrer(Descriptor subject, String type, String layerType, byte[] content) {
        Blob empty = blob(MediaType.OCI_EMPTY.value(), "{}".getBytes(StandardCharsets.UTF_8));
        Blob layer = blob(layerType, content);
        String m = "{\"schemaVersion\":2,\"mediaType\":\"" + MediaType.OCI_MANIFEST + "\",\"artifactType\":\"" + type + "\",\"config\":"
                + desc(empty.descriptor(), "") + ",\"layers\":[" + desc(layer.descriptor(), "") + "]"
                + (subject == null ? "" : ",\"subject\":" + desc(subject, ""))
                + ",\"annotations\":{\"org.opencontainers.image.created\":\"2026-01-01T00:00:00Z\"}}";
        return new Artifact(RawManifest.of(MediaType.OCI_MANIFEST, m.getBytes(StandardCharsets.UTF_8)), List.of(empty, layer));
    }

    /** An SPDX SBOM referrer of {@code subject}. */
    public static Artifact sbom(Descriptor subject, String name) {
        return referrer(subject, SPDX, SPDX, ("{\"spdxVersion\":\"SPDX-2.3\",\"name\":\"" + name + "\"}").getBytes(StandardCharsets.UTF_8));
    }

    /** An in-toto attestation referrer of {@code subject}. */
    public static Artifact attestation(Descriptor subject) {
        return referrer(subject, MediaType.IN_TOTO.value(), MediaType.IN_TOTO.value(),
                ("{\"_type\":\"https://in-toto.io/Statement/v1\",\"subject\":[{\"digest\":{\"sha256\":\"" + subject.digest().hex() + "\"}}]}")
                        .getBytes(StandardCharsets.UTF_8));
    }

    /** A Helm chart as `helm push` stores it: helm config, one chart layer. */
    public static Artifact helmChart(String name, String version) {
        Blob config = blob(HELM_CONFIG, ("{\"name\":\"" + name + "\",\"version\":\"" + version + "\",\"apiVersion\":\"v2\"}").getBytes(StandardCharsets.UTF_8));
        Blob chart = blob(HELM_CHART, TestImages.image("chart-" + name).singlePlatform("linux/amd64").build().blobs().get(1).bytes());
        String m = "{\"schemaVersion\":2,\"config\":" + desc(config.descriptor(), "") + ",\"layers\":[" + desc(chart.descriptor(), "") + "],"
                + "\"annotations\":{\"org.opencontainers.image.title\":\"" + name + "\"}}";
        return new Artifact(RawManifest.of(MediaType.OCI_MANIFEST, m.getBytes(StandardCharsets.UTF_8)), List.of(config, chart));
    }

    /** The referrers tag-schema index listing {@code entries} (sorted by digest, as a merging writer keeps it). */
    public static RawManifest referrersIndex(List<Artifact> entries) {
        List<Artifact> sorted = new ArrayList<>(entries);
        sorted.sort(Comparator.comparing(a -> a.digest().toString()));
        StringBuilder b = new StringBuilder("{\"schemaVersion\":2,\"mediaType\":\"" + MediaType.OCI_INDEX + "\",\"manifests\":[");
        for (int i = 0; i < sorted.size(); i++) {
            b.append(i == 0 ? "" : ",").append(desc(sorted.get(i).descriptor(), ""));
        }
        return RawManifest.of(MediaType.OCI_INDEX, b.append("]}").toString().getBytes(StandardCharsets.UTF_8));
    }

    /** The tag of the referrers tag schema for {@code subject}. */
    public static String schemaTag(Digest subject) {
        return "sha256-" + subject.hex();
    }

    private static Blob blob(String mediaType, byte[] bytes) {
        return new Blob(Descriptor.ofBytes(MediaType.of(mediaType), bytes), bytes);
    }

    private static String desc(Descriptor d, String extra) {
        return "{\"mediaType\":\"" + d.mediaType() + "\",\"digest\":\"" + d.digest() + "\",\"size\":" + d.size() + (extra.isEmpty() ? "" : "," + extra) + "}";
    }
}
