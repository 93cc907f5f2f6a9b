package dev.airlock.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import dev.airlock.error.ExitCodes;
import dev.airlock.model.Json;
import dev.airlock.testkit.FaultProxy;
import dev.airlock.testkit.NamedBundles;
import dev.airlock.testkit.RegistryProcess;
import dev.airlock.testkit.TestImages;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Base64;
import java.util.List;
import java.util.Locale;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code airlock preflight} and import's preflight, against real docker-registry processes. */
class PreflightCommandTest {
    @TempDir
    Path tmp;

    static boolean ociIndexPut(String head) {
        return head.startsWith("PUT ") && head.toLowerCase(Locale.ROOT).contains("content-type: application/vnd.oci.image.index.v1+json");
    }

    @Test
    void plainRegistryIsImportableAndSaysTagFallback() {
        try (RegistryProcess reg = RegistryProcess.start()) {
            CliRun r = CliRun.of("preflight", "--to", reg.host() + "/mirror");
            assertEquals(0, r.code(), r.out() + r.err());
            assertTrue(r.out().startsWith("preflight " + reg.host() + "/mirror (scratch repository mirror/airlock-preflight)\n"), r.out());
            assertTrue(r.out().contains("\n  TLS                        yes  plain HTTP (no TLS)\n"), r.out());
            assertTrue(r.out().contains("\n  referrers API              no   tag fallback"), r.out());
            assertTrue(r.out().contains("\n  OCI index                  yes  accepted\n"), r.out());
            assertTrue(r.out().contains("\n  left at the target: nothing\n"), r.out());
            assertTrue(r.out().endsWith("importable\n"), r.out());
        }
    }

    @Test
    void pullOnlyTokenIsRefusedWithExitSeven() throws Exception {
        try (RegistryProcess reg = RegistryProcess.startTokenAuth("robot", "pw", null)) {
            reg.tokenIssuer().orElseThrow().grantPullOnly(true);
            String auth = Base64.getEncoder().encodeToString("robot:pw".getBytes(StandardCharsets.UTF_8));
            Path authFile = Files.writeString(tmp.resolve("auth.json"), "{\"auths\":{\"" + reg.host() + "\":{\"auth\":\"" + auth + "\"}}}");
            CliRun r = CliRun.of("preflight", "--to", reg.host() + "/mirror", "--authfile", authFile.toString(), "--json");
            assertEquals(ExitCodes.TARGET_REFUSES, r.code(), r.out() + r.err());
            JsonNode j = Json.parse(r.out().getBytes(StandardCharsets.UTF_8), "preflight output");
            assertFalse(j.get("importable").asBoolean());
            boolean sawPush = false;
            for (JsonNode c : j.get("checks")) {
                if (c.get("capability").asText().equals("push under mirror")) {
                    sawPush = true;
                    assertFalse(c.get("yes").asBoolean());
                    assertTrue(c.get("answer").asText().contains("401"), c.toString());
                }
                if (c.get("capability").asText().equals("authentication")) {
                    assertEquals("token: credentials accepted", c.get("answer").asText());
                }
            }
            assertTrue(sawPush, r.out());
            assertEquals(1, r.errLines().length, r.err());
            assertTrue(r.errLines()[0].startsWith("airlock: preflight: " + reg.host() + "/mirror: push under mirror: no ("), r.err());
        }
    }

    @Test
    void registryRefusingOciIndexesNamesTheImagesAndImportStopsBeforeAnyUpload() throws Exception {
        Path bundle = NamedBundles.write(tmp.resolve("b.tar"), NamedBundles.mixed());
        try (RegistryProcess reg = RegistryProcess.start(); FaultProxy proxy = FaultProxy.in(reg)) {
            proxy.rejectRequests(PreflightCommandTest::ociIndexPut, 400);
            String to = proxy.host() + "/mirror";
            CliRun p = CliRun.of("preflight", "--to", to, "--for", bundle.toString());
            assertEquals(ExitCodes.TARGET_REFUSES, p.code(), p.out() + p.err());
            assertTrue(p.out().contains("\n  OCI index                  no   400 "), p.out());
            assertTrue(p.out().contains("\n  FAIL  docker.io/rancher/pause:3.1 → " + to + "/rancher/pause:3.1: OCI index refused: 400 "), p.out());
            assertTrue(p.out().contains("\n  ok    quay.io/team/tool:2 → " + to + "/team/tool:2\n"), p.out());
            assertTrue(p.out().endsWith("NOT importable\n"), p.out());
            assertTrue(p.errLines()[0].startsWith("airlock: preflight: " + to + ": 1 of 2 image(s) would fail: docker.io/rancher/pause:3.1 (OCI index refused"), p.err());

            CliRun i = CliRun.of("import", bundle.toString(), "--to", to, "--allow-unsigned", "-q");
            assertEquals(ExitCodes.TARGET_REFUSES, i.code(), i.out() + i.err());
            // the unsigned-bundle warning, then the one error line
            String[] lines = i.errLines();
            assertEquals(2, lines.length, i.err());
            assertTrue(lines[0].startsWith("warning: bundle ") && lines[0].contains("is unsigned"), i.err());
            assertTrue(lines[1].startsWith("airlock: preflight: " + to + ": 1 of 2 image(s) would fail"), i.err());
            assertTrue(lines[1].endsWith("nothing of the bundle was uploaded (--no-preflight skips this check)"), i.err());
            // nothing of the bundle is in the target's storage: no blob or manifest link in its repositories (the push
            // check opened and cancelled an upload session there, which leaves only an empty _uploads directory), no bundle blob
            for (String repo : List.of("mirror/rancher/pause", "mirror/team/tool")) {
                assertEquals(List.of("_uploads"), entries(reg, repo), repo);
            }
            for (NamedBundles.Named n : NamedBundles.mixed()) {
                for (TestImages.Blob b : n.image().blobs()) {
                    assertFalse(Files.exists(blobData(reg, b.digest().hex())), "bundle blob " + b.digest() + " reached the target");
                }
            }

            // without the check, the same import runs into the refusal half-way (exit 4): the check is what stopped it
            CliRun unchecked = CliRun.of("import", bundle.toString(), "--to", to, "--allow-unsigned", "-q", "--no-preflight");
            assertEquals(ExitCodes.REGISTRY, unchecked.code(), unchecked.out() + unchecked.err());
        }
    }

    @Test
    void aCompleteTargetIsNotProbedAgain() throws Exception {
        Path bundle = NamedBundles.write(tmp.resolve("c.tar"), NamedBundles.mixed());
        try (RegistryProcess reg = RegistryProcess.start(); FaultProxy proxy = FaultProxy.in(reg)) {
            String to = proxy.host() + "/mirror";
            CliRun first = CliRun.of("import", bundle.toString(), "--to", to, "--allow-unsigned", "-q", "--no-preflight");
            assertEquals(0, first.code(), first.err());
            assertFalse(Files.exists(reg.storage().resolve("docker/registry/v2/repositories/mirror/airlock-preflight")), "--no-preflight probes nothing");
            // the target now refuses OCI indexes, but a re-run has nothing to write: no preflight, exit 0
            proxy.rejectRequests(PreflightCommandTest::ociIndexPut, 400);
            CliRun again = CliRun.of("import", bundle.toString(), "--to", to, "--allow-unsigned");
            assertEquals(0, again.code(), again.out() + again.err());
            assertTrue(again.out().contains("already complete, nothing written"), again.out());
            assertFalse(Files.exists(reg.storage().resolve("docker/registry/v2/repositories/mirror/airlock-preflight")), "nothing probed");
        }
    }

    static Path blobData(RegistryProcess reg, String hex) {
        return reg.storage().resolve("docker/registry/v2/blobs/sha256").resolve(hex.substring(0, 2)).resolve(hex).resolve("data");
    }

    static List<String> entries(RegistryProcess reg, String repository) throws Exception {
        Path root = reg.storage().resolve("docker/registry/v2/repositories").resolve(repository);
        if (!Files.isDirectory(root)) {
            return List.of();
        }
        try (Stream<Path> s = Files.list(root)) {
            return s.map(p -> p.getFileName().toString()).sorted().toList();
        }
    }
}
