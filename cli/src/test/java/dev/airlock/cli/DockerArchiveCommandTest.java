package dev.airlock.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import dev.airlock.error.ExitCodes;
import dev.airlock.model.ImageConfig;
import dev.airlock.model.Json;
import dev.airlock.model.Platform;
import dev.airlock.testkit.DockerSaveArchives;
import dev.airlock.testkit.DockerSaveArchives.Layout;
import dev.airlock.testkit.RegistryProcess;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The k3s air-gap case on the command line: per-arch {@code docker save} archives → one signed
 * bundle → verify → import into a real registry → skopeo pulls the right image per architecture.
 */
class DockerArchiveCommandTest {
    @TempDir
    static Path tmp;
    static RegistryProcess registry;

    @BeforeAll
    static void start() {
        registry = RegistryProcess.start();
    }

    @AfterAll
    static void stop() {
        registry.close();
    }

    @Test
    void perArchArchivesBecomeMultiArchImagesThatSkopeoPullsPerArchitecture() throws Exception {
        Path dir = Files.createDirectories(tmp.resolve("k3s"));
        // amd64 classic .tar.gz, arm64 Docker 25+ OCI-layout .tar, arm classic .tar: all layouts in one run
        Path amd64 = DockerSaveArchives.k3s(dir.resolve("a"), "k3s-airgap-images", Layout.CLASSIC, true).get("amd64");
        Path arm64 = DockerSaveArchives.k3s(dir.resolve("b"), "k3s-airgap-images", Layout.OCI, false).get("arm64");
        Path arm = DockerSaveArchives.k3s(dir.resolve("c"), "k3s-airgap-images", Layout.CLASSIC, false).get("arm");
        CliRun keygen = CliRun.of("keygen", "--out", tmp.resolve("ops").toString());
        assertEquals(0, keygen.code(), keygen.err());
        Path bundle = tmp.resolve("k3s.tar");
        Path report = tmp.resolve("export.json");
        CliRun export = CliRun.of("export", "--docker-archive", amd64.toString(), "--docker-archive", arm64.toString(),
                "--docker-archive", arm.toString(), "-o", bundle.toString(), "--sign-key", tmp.resolve("ops.key").toString(),
                "--cache", tmp.resolve("cache").toString(), "--report", report.toString(), "-q");
        assertEquals(0, export.code(), export.err());
        JsonNode images = Json.parse(Files.readAllBytes(report), "report").get("images");
        assertEquals(2, images.size(), export.out());
        for (JsonNode i : images) {
            List<String> platforms = new ArrayList<>();
            i.get("platforms").forEach(p -> platforms.add(p.asText()));
            assertEquals(3, platforms.size(), i.toString());
            assertTrue(platforms.containsAll(List.of("linux/amd64", "linux/arm64/v8", "linux/arm/v7")), i.toString());
        }

        CliRun verify = CliRun.of("verify", bundle.toString(), "--trust", tmp.resolve("ops.pub.pem").toString(), "-q");
        assertEquals(0, verify.code(), verify.err());
        CliRun imp = CliRun.of("import", bundle.toString(), "--to", registry.host() + "/mirror", "--trust",
                tmp.resolve("ops.pub.pem").toString(), "-q");
        assertEquals(0, imp.code(), imp.err());

        String ref = "docker://" + registry.host() + "/mirror/rancher/mirrored-coredns-coredns:1.10.1";
        JsonNode index = Json.parse(skopeo("inspect", "--raw", "--tls-verify=false", ref).getBytes(StandardCharsets.UTF_8), "index");
        assertEquals(3, index.get("manifests").size(), index.toString());
        for (String[] arch : new String[][] {{"amd64", ""}, {"arm64", ""}, {"arm", "v7"}}) {
            Path out = tmp.resolve("pulled-" + arch[0]);
            List<String> args = new ArrayList<>(List.of("copy", "--src-tls-verify=false", "--override-os", "linux", "--override-arch", arch[0]));
            if (!arch[1].isEmpty()) {
                args.addAll(List.of("--override-variant", arch[1]));
            }
            args.addAll(List.of(ref, "oci:" + out + ":x"));
            skopeo(args.toArray(String[]::new));
            JsonNode pulledIndex = Json.parse(Files.readAllBytes(out.resolve("index.json")), "pulled index");
            String manifestDigest = pulledIndex.get("manifests").get(0).get("digest").asText();
            JsonNode manifest = Json.parse(Files.readAllBytes(blob(out, manifestDigest)), "pulled manifest");
            byte[] config = Files.readAllBytes(blob(out, manifest.get("config").get("digest").asText()));
            Platform p = ImageConfig.parse(config, "pulled config").platform();
            assertEquals(arch[0], p.architecture(), "skopeo pulled " + p + " for " + arch[0]);
        }
    }

    @Test
    void aMislabelledArchiveIsCaughtNamingImageFileAndBothArchitectures() throws Exception {
        Path dir = Files.createDirectories(tmp.resolve("liar"));
        Map<String, Path> k3s = DockerSaveArchives.k3s(dir, "k3s-airgap-images", Layout.CLASSIC, false);
        Path lying = dir.resolve("lying").resolve("k3s-airgap-images-arm.tar");
        Files.createDirectories(lying.getParent());
        Files.copy(k3s.get("arm64"), lying); // arm64 content in a file named -arm
        Path bundle = tmp.resolve("liar.tar");
        CliRun export = CliRun.of("export", "--docker-archive", k3s.get("amd64").toString(), "--docker-archive", lying.toString(),
                "-o", bundle.toString(), "--cache", tmp.resolve("cache").toString(), "-q");
        assertEquals(ExitCodes.VERIFICATION, export.code(), export.out() + export.err());
        String[] lines = export.errLines();
        assertEquals(1, lines.length, export.err());
        assertTrue(lines[0].contains("k3s-airgap-images-arm.tar") && lines[0].contains("rancher/mirrored-")
                && lines[0].contains("arm64") && lines[0].contains("file name says arm"), lines[0]);
        assertFalse(Files.exists(bundle), "no bundle written");
    }

    private static Path blob(Path layout, String digest) {
        return layout.resolve("blobs").resolve("sha256").resolve(digest.substring("sha256:".length()));
    }

    private static String skopeo(String... args) throws IOException, InterruptedException {
        List<String> cmd = new ArrayList<>(List.of("skopeo"));
        cmd.addAll(List.of(args));
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(120, TimeUnit.SECONDS), "skopeo timed out");
        assertEquals(0, p.exitValue(), String.join(" ", cmd) + ": " + out);
        return out;
    }
}
