package dev.airlock.bundle;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import dev.airlock.model.Descriptor;
import dev.airlock.model.ImageReference;
import dev.airlock.model.Json;
import dev.airlock.model.MediaType;
import dev.airlock.model.Platform;
import dev.airlock.progress.ProgressListener;
import java.io.ByteArrayInputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.UUID;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The golden file: docs/bundle-format.md's examples of index.json and bundle.json are exactly what
 * the writer produces for a fixed input (two images sharing a layer; compared as JSON trees, the
 * doc pretty-prints). When the format changes, this fails until the spec shows the new bytes.
 */
class BundleFormatDocTest {
    @TempDir
    Path tmp;

    /** The fixed input of the examples: a two-platform OCI index and a single-platform manifest sharing a base layer. */
    private static TestContent golden() {
        TestContent c = new TestContent(7);
        Descriptor base = c.layer(MediaType.OCI_LAYER_GZIP, 300);
        List<Descriptor> entries = new ArrayList<>();
        for (Platform p : List.of(Platform.parse("linux/amd64"), Platform.parse("linux/arm64"))) {
            Descriptor own = c.layer(MediaType.OCI_LAYER_GZIP, 200);
            entries.add(c.manifest(MediaType.OCI_MANIFEST, c.config(MediaType.OCI_CONFIG, p, List.of(base, own)), List.of(base, own)).withPlatform(p));
        }
        Descriptor index = c.index(MediaType.OCI_INDEX, entries);
        // an SBOM attached to the index (an OCI 1.1 referrer: artifactType, empty config, subject)
        Descriptor empty = c.add(MediaType.OCI_EMPTY, "{}".getBytes(StandardCharsets.UTF_8));
        Descriptor spdx = c.add(MediaType.of("application/spdx+json"), "{\"spdxVersion\":\"SPDX-2.3\",\"name\":\"busybox\"}".getBytes(StandardCharsets.UTF_8));
        String sbom = "{\"schemaVersion\":2,\"mediaType\":\"" + MediaType.OCI_MANIFEST + "\",\"artifactType\":\"application/spdx+json\","
                + "\"config\":" + Json.descriptor(empty) + ",\"layers\":[" + Json.descriptor(spdx) + "],\"subject\":" + Json.descriptor(index) + "}";
        Descriptor sbomManifest = c.add(MediaType.OCI_MANIFEST, sbom.getBytes(StandardCharsets.UTF_8));
        c.images.add(new BundleImage(ImageReference.parse("docker.io/library/busybox:1.36"), index, TestContent.platforms(entries), Optional.empty(),
                List.of(new BundleArtifact(index.digest(), sbomManifest.digest(), MediaType.OCI_MANIFEST, "application/spdx+json", "referrers-api", false))));
        Descriptor tool = c.manifest(MediaType.OCI_MANIFEST, c.config(MediaType.OCI_CONFIG, Platform.parse("linux/amd64"), List.of(base)), List.of(base));
        c.images.add(BundleImage.of(ImageReference.parse("docker.io/rancher/pause:3.1"), tool, List.of(Platform.parse("linux/amd64"))));
        return c;
    }

    @Test
    void theSpecExamplesAreWhatTheWriterWrites() throws Exception {
        TestContent c = golden();
        Path out = tmp.resolve("golden.tar");
        BundleWriter.write(out, c.images, c.order(), d -> new ByteArrayInputStream(c.bytes.get(d.digest())),
                WriteOptions.defaults().withIdentity(UUID.fromString("0b7c6a3e-9a53-4b59-8f2c-6e1f4b0d2a11"), Instant.parse("2026-12-01T12:00:00Z"))
                        .withTool(new BundleManifest.Tool("airlock", "0.1.0")), ProgressListener.NONE);
        List<Forge.Entry> entries = Forge.read(out);
        byte[] bundleJson = Forge.named(entries, BundleLayout.BUNDLE_JSON).data();
        byte[] indexJson = Forge.named(entries, BundleLayout.INDEX_JSON).data();

        String spec = Files.readString(Path.of(System.getProperty("basedir", ".")).resolve("../docs/bundle-format.md"), StandardCharsets.UTF_8);
        String indexExample = jsonBlockAfter(spec, "`index.json` lists each exported image");
        String bundleExample = jsonBlockAfter(spec, "## `airlock/bundle.json`");
        assertEquals(Json.parse(indexJson, "written index.json"), Json.parse(indexExample.getBytes(StandardCharsets.UTF_8), "spec index.json"),
                () -> "docs/bundle-format.md index.json example; the writer gives:\n" + new String(indexJson, StandardCharsets.UTF_8));
        JsonNode written = Json.parse(bundleJson, "written bundle.json");
        assertEquals(written, Json.parse(bundleExample.getBytes(StandardCharsets.UTF_8), "spec bundle.json"),
                () -> "docs/bundle-format.md bundle.json example; the writer gives:\n" + pretty(written));
        // and the example is a bundle.json every reader accepts
        assertEquals(2, BundleManifest.parse(bundleJson, "golden").images().size());
    }

    @Test
    void formatOneStillReadsNewerFormatsAndForeignArtifactListsAreRefused() throws Exception {
        TestContent c = golden();
        Path out = tmp.resolve("versions.tar");
        BundleWriter.write(out, c.images, c.order(), d -> new ByteArrayInputStream(c.bytes.get(d.digest())),
                WriteOptions.defaults(), ProgressListener.NONE);
        String json = new String(Forge.named(Forge.read(out), BundleLayout.BUNDLE_JSON).data(), StandardCharsets.UTF_8);
        assertTrue(json.startsWith("{\"formatVersion\":2,"), json);
        java.util.regex.Matcher artifacts = Pattern.compile(",\"artifacts\":\\[[^\\]]*\\]").matcher(json);
        assertTrue(artifacts.find(), json);
        String withoutArtifacts = json.substring(0, artifacts.start()) + json.substring(artifacts.end());

        // a format-1 bundle.json (no artifacts) still reads
        BundleManifest v1 = BundleManifest.parse(withoutArtifacts.replace("{\"formatVersion\":2,", "{\"formatVersion\":1,")
                .getBytes(StandardCharsets.UTF_8), "v1");
        assertEquals(List.of(), v1.images().get(0).artifacts());
        // format 1 never had artifacts: refused, not ignored
        refused(json.replace("{\"formatVersion\":2,", "{\"formatVersion\":1,"), "format 1 does not have");
        // a newer format is refused with one line naming it
        refused(json.replace("{\"formatVersion\":2,", "{\"formatVersion\":4,"), "has formatVersion 4; this Airlock reads formats 1 to 3: use a newer Airlock");
        // an artifact whose subject is not in the bundle
        String subject = c.images.get(0).artifacts().get(0).subject().toString();
        refused(json.replace("\"subject\":\"" + subject + "\"", "\"subject\":\"sha256:" + "0".repeat(64) + "\""), "which is neither in the bundle nor required by it");
        // an artifact that is not one of the image's files
        String artifact = c.images.get(0).artifacts().get(0).digest().toString();
        refused(json.replace("\"digest\":\"" + artifact + "\"", "\"digest\":\"sha256:" + "1".repeat(64) + "\""), "is not among the bundle's files");
        // an unknown way of finding it, or a cosign tag that does not name the subject
        refused(json.replace("\"foundBy\":\"referrers-api\"", "\"foundBy\":\"guessed\""), "unknown foundBy");
        refused(json.replace("\"foundBy\":\"referrers-api\"", "\"foundBy\":\"cosign-tag:sha256-" + "2".repeat(64) + ".sig\""),
                "does not name its subject");
    }

    /** The input of the delta example: the same two images, without attached artifacts. */
    static TestContent plainGolden() {
        TestContent c = new TestContent(7);
        Descriptor base = c.layer(MediaType.OCI_LAYER_GZIP, 300);
        List<Descriptor> entries = new ArrayList<>();
        for (Platform p : List.of(Platform.parse("linux/amd64"), Platform.parse("linux/arm64"))) {
            Descriptor own = c.layer(MediaType.OCI_LAYER_GZIP, 200);
            entries.add(c.manifest(MediaType.OCI_MANIFEST, c.config(MediaType.OCI_CONFIG, p, List.of(base, own)), List.of(base, own)).withPlatform(p));
        }
        Descriptor index = c.index(MediaType.OCI_INDEX, entries);
        c.images.add(BundleImage.of(ImageReference.parse("docker.io/library/busybox:1.36"), index, TestContent.platforms(entries)));
        Descriptor tool = c.manifest(MediaType.OCI_MANIFEST, c.config(MediaType.OCI_CONFIG, Platform.parse("linux/amd64"), List.of(base)), List.of(base));
        c.images.add(BundleImage.of(ImageReference.parse("docker.io/rancher/pause:3.1"), tool, List.of(Platform.parse("linux/amd64"))));
        return c;
    }

    /**
     * The delta example: the same input written as a delta against one receipt that saw the whole
     * pause image (its manifest, config and the shared base layer) at the target; busybox's graph
     * is carried except the base layer, which it requires.
     */
    @Test
    void theDeltaExampleIsWhatTheWriterWrites() throws Exception {
        TestContent c = plainGolden();
        BundleImage pause = c.images.get(1);
        dev.airlock.model.ImageManifest pm = (dev.airlock.model.ImageManifest) dev.airlock.model.ManifestView.parse(
                dev.airlock.model.RawManifest.of(pause.descriptor().mediaType(), c.bytes.get(pause.digest())));
        Descriptor base = pm.layers().get(0);
        java.util.Set<dev.airlock.model.Digest> omitted = java.util.Set.of(base.digest(), pm.config().digest(), pause.digest());
        List<Descriptor> carried = c.order().stream().filter(d -> !omitted.contains(d.digest())).toList();
        List<java.util.Set<dev.airlock.model.Digest>> graphs = List.of(
                new java.util.LinkedHashSet<>(carried.stream().map(Descriptor::digest).toList()), java.util.Set.of());
        BundleWriter.Delta delta = new BundleWriter.Delta(List.of(
                new BundleManifest.Required(base.digest(), base.size(), base.mediaType(), List.of(0), List.of("mirror/rancher/pause")),
                new BundleManifest.Required(pause.digest(), pause.descriptor().size(), pause.descriptor().mediaType(), List.of(1),
                        List.of("mirror/rancher/pause"))),
                List.of(new BundleManifest.BasedOn(UUID.fromString("5f0e2b1c-3d4a-4e6f-8a9b-0c1d2e3f4a5b"),
                        dev.airlock.model.Digest.sha256("a receipt".getBytes(StandardCharsets.UTF_8)))));
        Path out = tmp.resolve("delta.tar");
        BundleWriter.write(out, c.images, carried, d -> new ByteArrayInputStream(c.bytes.get(d.digest())),
                WriteOptions.defaults().withIdentity(UUID.fromString("0b7c6a3e-9a53-4b59-8f2c-6e1f4b0d2a12"), Instant.parse("2026-12-08T12:00:00Z"))
                        .withTool(new BundleManifest.Tool("airlock", "0.1.0")).withImageGraphs(graphs), ProgressListener.NONE, delta);
        byte[] bundleJson = Forge.named(Forge.read(out), BundleLayout.BUNDLE_JSON).data();
        String spec = Files.readString(Path.of(System.getProperty("basedir", ".")).resolve("../docs/bundle-format.md"), StandardCharsets.UTF_8);
        JsonNode written = Json.parse(bundleJson, "written bundle.json");
        assertEquals(written, Json.parse(jsonBlockAfter(spec, "### A delta's bundle.json").getBytes(StandardCharsets.UTF_8), "spec delta"),
                () -> "docs/bundle-format.md delta example; the writer gives:\n" + pretty(written));
        BundleManifest m = BundleManifest.parse(bundleJson, "golden delta");
        assertEquals(2, m.formatVersion());
        assertEquals(2, m.requires().size());
        // and every reader accepts the archive
        VerifyResult v = BundleVerifier.verify(out, dev.airlock.sign.TrustPolicy.allowUnsignedOnly(), ProgressListener.NONE);
        assertTrue(v.manifest().isDelta());
    }

    private static void refused(String json, String expected) {
        try {
            BundleManifest.parse(json.getBytes(StandardCharsets.UTF_8), "b");
            throw new AssertionError("accepted: " + json);
        } catch (dev.airlock.error.InvalidContentException e) {
            assertTrue(e.getMessage().contains(expected), e.getMessage());
        }
    }

    private static String jsonBlockAfter(String text, String anchor) {
        int at = text.indexOf(anchor);
        assertTrue(at >= 0, "docs/bundle-format.md has no '" + anchor + "'");
        Matcher m = Pattern.compile("```json\\n(.*?)\\n```", Pattern.DOTALL).matcher(text);
        assertTrue(m.find(at), "no json block after '" + anchor + "'");
        return m.group(1);
    }

    private static String pretty(JsonNode n) {
        try {
            return Json.mapper().writerWithDefaultPrettyPrinter().writeValueAsString(n);
        } catch (Exception e) {
            return n.toString();
        }
    }
}
