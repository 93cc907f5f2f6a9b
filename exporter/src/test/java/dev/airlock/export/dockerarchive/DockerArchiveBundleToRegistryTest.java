package dev.airlock.export.dockerarchive;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import dev.airlock.copy.CopyJob;
import dev.airlock.copy.CopyOptions;
import dev.airlock.copy.GraphCopier;
import dev.airlock.copy.GraphPlanner;
import dev.airlock.copy.ImageOutcome;
import dev.airlock.copy.ImagePlan;
import dev.airlock.copy.SourceImage;
import dev.airlock.bundle.BundleArchive;
import dev.airlock.bundle.BundleImage;
import dev.airlock.bundle.BundleVerifier;
import dev.airlock.export.ExportRequest;
import dev.airlock.export.ExportResult;
import dev.airlock.export.Exporter;
import dev.airlock.sign.TrustPolicy;
import dev.airlock.model.Descriptor;
import dev.airlock.model.Digest;
import dev.airlock.model.ImageIndex;
import dev.airlock.model.ImageManifest;
import dev.airlock.model.Json;
import dev.airlock.model.RawManifest;
import dev.airlock.progress.ProgressListener;
import dev.airlock.registry.RegistryOptions;
import dev.airlock.registry.RegistryStore;
import dev.airlock.testkit.DockerSaveArchives;
import dev.airlock.testkit.DockerSaveArchives.Layout;
import dev.airlock.testkit.RegistryProcess;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * The whole path: per-arch docker-save archives → {@link Exporter} (as {@code airlock export
 * --docker-archive} calls it) → bundle → {@link BundleVerifier} → the bundle read as a store and
 * copied by the copy engine into a real docker-registry (Distribution 2.8; the import command is
 * the same engine) → skopeo: {@code inspect --raw} gives the generated index byte-exact with
 * exactly the platforms present, and {@code copy --override-arch/--override-variant} pulls the
 * config of the right archive.
 */
class DockerArchiveBundleToRegistryTest {
    static RegistryProcess registry;
    static RegistryStore store;

    @TempDir
    Path dir;

    @BeforeAll
    static void start() {
        registry = RegistryProcess.start();
        store = RegistryStore.open(registry.host(), RegistryOptions.anonymous());
    }

    @AfterAll
    static void stop() {
        if (store != null) {
            store.close();
        }
        if (registry != null) {
            registry.close();
        }
    }

    @ParameterizedTest
    @EnumSource(IndexFormat.class)
    void skopeoPullsTheRightArchitectureFromTheRegistry(IndexFormat format) throws Exception {
        // mixed on purpose: classic .tar, Docker 25+ .tar.gz, Docker 25+ .tar
        Map<String, Path> classic = DockerSaveArchives.k3s(dir.resolve("c"), "k3s-airgap-images", Layout.CLASSIC, false);
        Map<String, Path> oci = DockerSaveArchives.k3s(dir.resolve("o"), "k3s-airgap-images", Layout.OCI, true);
        Map<String, Path> ociTar = DockerSaveArchives.k3s(dir.resolve("t"), "k3s-airgap-images", Layout.OCI, false);
        List<Path> files = List.of(classic.get("amd64"), oci.get("arm64"), ociTar.get("arm"));
        String prefix = "e2e-" + format.name().toLowerCase(java.util.Locale.ROOT);
        Path bundle = dir.resolve("k3s-bundle.tar");
        ExportResult exported = export(files, format, bundle);
        assertEquals(2, exported.images().size());
        try (var leftovers = Files.list(dir.resolve("export-scratch"))) {
            assertEquals(List.of(), leftovers.toList(), "scratch directory left behind");
        }
        BundleVerifier.verify(bundle, TrustPolicy.allowUnsignedOnly(), ProgressListener.NONE);
        // the same archives read again give the same images (bundle content is deterministic)
        try (DockerArchiveSource src = DockerArchiveSource.open(files, DockerArchiveOptions.defaults()
                .withIndexFormat(format).withScratchDir(dir.resolve("scratch")).withThreads(2));
             BundleArchive archive = BundleArchive.open(bundle, TrustPolicy.allowUnsignedOnly())) {
            assertEquals(src.images().stream().map(DockerArchiveImage::descriptor).toList(),
                    archive.images().stream().map(BundleImage::descriptor).toList());
            List<SourceImage> sources = archive.images().stream().map(i -> SourceImage.of(i.source(), archive)).toList();
            List<ImagePlan> plans = new GraphPlanner(List.of()).planAll(sources, 2);
            List<CopyJob> jobs = new ArrayList<>();
            for (ImagePlan p : plans) {
                jobs.add(new CopyJob(p, store, prefix + "/" + p.source().name().repository(), List.of(p.source().name().tag())));
            }
            GraphCopier copier = new GraphCopier(new CopyOptions(2, true, true, ProgressListener.NONE));
            List<ImageOutcome> outcomes = copier.copy(jobs).outcomes();
            assertTrue(outcomes.stream().allMatch(ImageOutcome::ok), outcomes::toString);
            outcomes.forEach(copier::tag);

            for (DockerArchiveImage img : src.images()) {
                String ref = registry.host() + "/" + prefix + "/" + img.reference().repository() + ":" + img.reference().tag();
                byte[] raw = run(List.of("skopeo", "inspect", "--raw", "--tls-verify=false", "docker://" + ref));
                RawManifest expected = src.fetchManifest(img.reference().name(), img.reference().tag());
                assertArrayEquals(expected.bytes(), raw, "registry serves other bytes than generated");
                ImageIndex index = (ImageIndex) RawManifest.of(format.indexType(), raw).view();
                assertEquals(List.of("linux/amd64", "linux/arm/v7", "linux/arm64/v8"),
                        index.manifests().stream().map(d -> d.platform().orElseThrow().toString()).sorted().toList());
                Map<String, Digest> configByArch = new HashMap<>();
                for (Descriptor d : index.manifests()) {
                    ImageManifest m = (ImageManifest) src.fetchManifest(img.reference().name(), d.digest().toString()).view();
                    configByArch.put(d.platform().orElseThrow().architecture(), m.config().digest());
                }
                for (String[] want : new String[][] {{"amd64", ""}, {"arm64", ""}, {"arm", "v7"}}) {
                    Path out = dir.resolve(prefix + "-" + img.reference().tag() + "-" + want[0]);
                    List<String> cmd = new ArrayList<>(List.of("skopeo", "copy", "--quiet", "--src-tls-verify=false", "--override-os", "linux", "--override-arch", want[0]));
                    if (!want[1].isEmpty()) {
                        cmd.addAll(List.of("--override-variant", want[1]));
                    }
                    // oci: converts a Docker schema 2 image (and re-serialises its config); dir: keeps it as is
                    boolean ociDest = format == IndexFormat.OCI;
                    cmd.addAll(List.of("docker://" + ref, (ociDest ? "oci:" : "dir:") + out));
                    run(cmd);
                    Digest pulled = ociDest ? pulledConfig(out) : pulledConfigDir(out);
                    assertEquals(configByArch.get(want[0]), pulled, "skopeo pulled the wrong image for " + want[0] + want[1] + " of " + ref);
                    JsonNode config = Json.parse(Files.readAllBytes(ociDest ? blob(out, pulled) : out.resolve(pulled.hex())), "pulled config");
                    assertEquals(want[0], config.get("architecture").asText());
                }
            }
        }
    }

    @org.junit.jupiter.api.Test
    void mislabelledArchiveStopsTheExportBeforeAnyBundleIsWritten() {
        Map<String, Path> arm64 = DockerSaveArchives.k3s(dir.resolve("m"), "k3s-airgap-images", Layout.OCI, true);
        Path wrong = dir.resolve("k3s-airgap-images-arm.tar.gz");
        try {
            Files.move(arm64.get("arm64"), wrong);
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
        Path bundle = dir.resolve("never.tar");
        dev.airlock.error.VerificationException e = org.junit.jupiter.api.Assertions.assertThrows(dev.airlock.error.VerificationException.class,
                () -> export(List.of(arm64.get("amd64"), wrong), IndexFormat.OCI, bundle));
        assertTrue(e.getMessage().contains("rancher/mirrored-") && e.getMessage().contains("k3s-airgap-images-arm.tar.gz")
                && e.getMessage().contains("linux/arm64") && e.getMessage().contains("says arm;"), e.getMessage());
        assertTrue(Files.notExists(bundle));
    }

    /** What {@code airlock export --docker-archive FILE... --index-format F -o BUNDLE} does: the source stays open while the bundle is written. */
    private ExportResult export(List<Path> files, IndexFormat format, Path bundle) {
        try (DockerArchiveSource src = DockerArchiveSource.open(files, DockerArchiveOptions.defaults()
                .withIndexFormat(format).withScratchDir(dir.resolve("export-scratch")).withThreads(2))) {
            return new Exporter(host -> {
                throw new AssertionError("no registry should be contacted, asked for " + host);
            }).export(ExportRequest.to(bundle).sources(src.sourceImages()).cacheDir(dir.resolve("cache")).jobs(2));
        }
    }

    /** The config digest of the single image skopeo wrote into an OCI layout. */
    private static Digest pulledConfig(Path layout) throws IOException {
        JsonNode index = Json.parse(Files.readAllBytes(layout.resolve("index.json")), "index.json");
        Digest manifest = Digest.parse(index.get("manifests").get(0).get("digest").asText());
        JsonNode m = Json.parse(Files.readAllBytes(blob(layout, manifest)), "manifest");
        return Digest.parse(m.get("config").get("digest").asText());
    }

    /** The config digest of the image skopeo wrote into a dir: destination (manifest.json + blobs by hex). */
    private static Digest pulledConfigDir(Path dir) throws IOException {
        JsonNode m = Json.parse(Files.readAllBytes(dir.resolve("manifest.json")), "manifest");
        return Digest.parse(m.get("config").get("digest").asText());
    }

    private static Path blob(Path layout, Digest d) {
        return layout.resolve("blobs").resolve(d.algorithm()).resolve(d.hex());
    }

    private static byte[] run(List<String> cmd) throws IOException, InterruptedException {
        Process p = new ProcessBuilder(cmd).redirectErrorStream(false).start();
        byte[] out = p.getInputStream().readAllBytes();
        String err = new String(p.getErrorStream().readAllBytes(), StandardCharsets.UTF_8);
        if (!p.waitFor(120, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            throw new AssertionError("timed out: " + cmd);
        }
        assertEquals(0, p.exitValue(), () -> String.join(" ", cmd) + " failed: " + err);
        return out;
    }
}
