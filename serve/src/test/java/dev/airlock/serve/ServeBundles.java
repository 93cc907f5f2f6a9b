package dev.airlock.serve;

import dev.airlock.bundle.BundleImage;
import dev.airlock.bundle.BundleWriter;
import dev.airlock.bundle.WriteOptions;
import dev.airlock.model.Descriptor;
import dev.airlock.model.Digest;
import dev.airlock.model.ImageReference;
import dev.airlock.model.Platform;
import dev.airlock.model.RawManifest;
import dev.airlock.progress.ProgressListener;
import dev.airlock.sign.Signer;
import dev.airlock.testkit.TestImages;
import dev.airlock.testkit.TestImages.TestImage;
import java.io.ByteArrayInputStream;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * Real bundles for the serve tests, written by the project's BundleWriter from testkit's
 * deterministic images (real gzip'd tar layers, configs with matching diff_ids): every blob once,
 * layers and configs before child manifests before indexes.
 */
final class ServeBundles {
    private ServeBundles() {
    }

    /** An image and the source reference it is exported as. */
    record Entry(String source, TestImage image) {
    }

    /**
     * The multi-arch image the client tests pull: amd64, arm64 and arm/v7, Docker-style manifest
     * list; layers of 640 KiB, more than two of the server's 256 KiB transfer buffers.
     */
    static TestImage multiArch() {
        return TestImages.image("web").docker().tag("1.0").platforms("linux/amd64", "linux/arm64/v8", "linux/arm/v7")
                .baseSeed(7).layerSize(640 * 1024).build();
    }

    /** An OCI index with an attestation per platform and odd JSON (byte-exactness). */
    static TestImage ociWithAttestations() {
        return TestImages.image("api").oci().tag("2.1").platforms("linux/amd64", "linux/arm64/v8").attestation().oddJson()
                .baseSeed(7).layerSize(64 * 1024).build();
    }

    static Path write(Path out, List<Entry> entries, Optional<Signer> signer) {
        return write(out, entries, signer, List.of(), List.of());
    }

    /** With extra blobs and manifests after the images (e.g. a referrer, whose subject comes first). */
    static Path write(Path out, List<Entry> entries, Optional<Signer> signer, List<TestImages.Blob> extraBlobs, List<RawManifest> extraManifests) {
        Map<Digest, Descriptor> order = new LinkedHashMap<>();
        Map<Digest, byte[]> bytes = new HashMap<>();
        List<BundleImage> images = new ArrayList<>();
        for (Entry e : entries) {
            TestImage img = e.image();
            for (TestImages.Blob b : img.blobs()) {
                order.putIfAbsent(b.digest(), b.descriptor());
                bytes.put(b.digest(), b.bytes());
            }
            for (RawManifest m : img.children()) {
                order.putIfAbsent(m.digest(), m.descriptor());
                bytes.put(m.digest(), m.bytes());
            }
            order.putIfAbsent(img.top().digest(), img.top().descriptor());
            bytes.put(img.top().digest(), img.top().bytes());
            List<Platform> platforms = img.platforms().stream().map(TestImages.PlatformImage::platform).toList();
            images.add(BundleImage.of(ImageReference.parse(e.source()), img.top().descriptor(), platforms));
        }
        for (TestImages.Blob b : extraBlobs) {
            order.putIfAbsent(b.digest(), b.descriptor());
            bytes.put(b.digest(), b.bytes());
        }
        for (RawManifest m : extraManifests) {
            order.putIfAbsent(m.digest(), m.descriptor());
            bytes.put(m.digest(), m.bytes());
        }
        // an extra manifest whose subject is an image's top is that image's attached artifact (every
        // blob of a bundle belongs to an image's graph)
        for (RawManifest m : extraManifests) {
            com.fasterxml.jackson.databind.JsonNode j = dev.airlock.model.Json.parse(m.bytes(), "extra manifest");
            if (!j.has("subject")) {
                continue;
            }
            Digest subject = Digest.parse(j.get("subject").get("digest").asText());
            for (int i = 0; i < images.size(); i++) {
                BundleImage img = images.get(i);
                if (img.digest().equals(subject)) {
                    List<dev.airlock.bundle.BundleArtifact> as = new ArrayList<>(img.artifacts());
                    as.add(new dev.airlock.bundle.BundleArtifact(subject, m.digest(), m.mediaType(), j.path("artifactType").asText(""),
                            "referrers-tag", false));
                    images.set(i, new BundleImage(img.source(), img.descriptor(), img.platforms(), img.originalDigest(), as));
                }
            }
        }
        WriteOptions options = signer.map(s -> WriteOptions.defaults().withSigner(s)).orElse(WriteOptions.defaults());
        BundleWriter.write(out, images, new ArrayList<>(order.values()), d -> new ByteArrayInputStream(bytes.get(d.digest())),
                options, ProgressListener.NONE);
        return out;
    }
}
