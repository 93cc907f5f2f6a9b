package dev.airlock.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import dev.airlock.error.ExitCodes;
import dev.airlock.export.ExportRequest;
import dev.airlock.export.Exporter;
import dev.airlock.export.SourceStores;
import dev.airlock.model.Json;
import dev.airlock.registry.RegistryOptions;
import dev.airlock.registry.RegistryStore;
import dev.airlock.sign.KeyGen;
import dev.airlock.sign.Signer;
import dev.airlock.testkit.RegistryProcess;
import dev.airlock.testkit.TestImages;
import dev.airlock.testkit.TestImages.TestImage;
import java.io.RandomAccessFile;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code airlock import} and {@code airlock sync} on the command line, against real registries. */
class ImportSyncCommandTest {
    @TempDir
    static Path tmp;
    static RegistryProcess regA;
    static RegistryProcess regB;
    static RegistryStore a;
    static RegistryStore b;
    static TestImage app;
    static TestImage pause;
    static KeyGen.Result key;
    static Path bundle;

    @BeforeAll
    static void start() {
        regA = RegistryProcess.start();
        regB = RegistryProcess.start();
        a = RegistryStore.open(regA.host(), RegistryOptions.anonymous());
        b = RegistryStore.open(regB.host(), RegistryOptions.anonymous());
        app = TestImages.image("app").oci().attestation().baseSeed(5).build();
        pause = TestImages.image("pause").docker().platforms("linux/amd64", "linux/arm64", "linux/arm/v7").baseSeed(5).tag("3.1").build();
        app.pushTo(a, "team/app");
        pause.pushTo(a, "rancher/pause");
        key = KeyGen.generate(tmp.resolve("ops"), Optional.empty());
        bundle = tmp.resolve("images.tar");
        new Exporter(SourceStores.registries(RegistryOptions.anonymous())).export(ExportRequest.to(bundle)
                .references(List.of(regA.host() + "/team/app:1.0", regA.host() + "/rancher/pause:3.1"))
                .cacheDir(tmp.resolve("cache")).signer(Optional.of(Signer.load(key.privateKey(), Optional.empty()))));
    }

    @AfterAll
    static void stop() {
        for (AutoCloseable c : new AutoCloseable[] {a, b, regA, regB}) {
            try {
                if (c != null) {
                    c.close();
                }
            } catch (Exception ignored) {
                // best effort
            }
        }
    }

    @Test
    void importPrintsOneLinePerImageWritesTheReportAndAReRunIsUpToDate() throws Exception {
        Path report = tmp.resolve("import.json");
        CliRun r = CliRun.of("import", bundle.toString(), "--to", regB.host() + "/mirror", "--trust", key.publicKey().toString(),
                "--report", report.toString());
        assertEquals(0, r.code(), r.err());
        String[] lines = r.out().split("\n");
        assertTrue(lines[0].startsWith("1/2 " + regA.host() + "/team/app:1.0 → " + regB.host() + "/mirror/team/app:1.0@"
                + app.top().digest() + " ok ("), r.out());
        assertTrue(lines[1].startsWith("2/2 " + regA.host() + "/rancher/pause:3.1 → " + regB.host() + "/mirror/rancher/pause:3.1@"
                + pause.top().digest() + " ok ("), r.out());
        assertTrue(lines[2].contains(": tagged,"), r.out());
        assertArrayEquals(pause.top().bytes(), b.fetchManifest("mirror/rancher/pause", "3.1").bytes());
        JsonNode json = Json.parse(Files.readAllBytes(report), "report");
        assertEquals(app.top().digest().toString(), json.get("images").get(0).get("digest").asText());
        assertEquals(regB.host() + "/mirror/team/app:1.0", json.get("images").get(0).get("target").asText());
        assertTrue(json.get("images").get(0).get("bytesUploaded").asLong() > 0);

        CliRun again = CliRun.of("import", bundle.toString(), "--to", regB.host() + "/mirror", "--trust", key.publicKey().toString());
        assertEquals(0, again.code(), again.err());
        assertTrue(again.out().contains("already complete, nothing written"), again.out());
    }

    @Test
    void importRefusesWithoutTrustAndGivesExit3ForATamperedBundle() throws Exception {
        CliRun noTrust = CliRun.of("import", bundle.toString(), "--to", regB.host() + "/x");
        assertEquals(ExitCodes.USAGE, noTrust.code(), noTrust.err());
        assertTrue(noTrust.err().contains("--trust"), noTrust.err());

        Path bad = tmp.resolve("bad.tar");
        Files.copy(bundle, bad);
        byte[] all = Files.readAllBytes(bad);
        TestImages.Blob layer = pause.blobs().get(pause.blobs().size() - 1);
        int at = -1;
        for (int i = 0; i + 64 <= all.length && at < 0; i++) {
            if (java.util.Arrays.equals(all, i, i + 64, layer.bytes(), 0, 64)) {
                at = i;
            }
        }
        assertTrue(at > 0);
        try (RandomAccessFile f = new RandomAccessFile(bad.toFile(), "rw")) {
            f.seek(at + 100);
            int v = f.read();
            f.seek(at + 100);
            f.write(v ^ 0x40);
        }
        Path report = tmp.resolve("tampered.json");
        CliRun r = CliRun.of("import", bad.toString(), "--to", regB.host() + "/tampered", "--trust", key.publicKey().toString(), "-q",
                "--report", report.toString());
        assertEquals(ExitCodes.VERIFICATION, r.code(), r.err());
        JsonNode json = Json.parse(Files.readAllBytes(report), "report");
        assertEquals(false, json.get("ok").asBoolean(true));
        assertEquals(ExitCodes.VERIFICATION, json.get("exitCode").asInt());
        assertEquals(false, json.get("result").get("tagged").asBoolean(true));
        assertEquals("FAILED", json.get("result").get("images").get(1).get("status").asText(), json.toString());
        assertTrue(r.err().contains("airlock: import of "), r.err());
        assertTrue(r.err().contains("no tag was written"), r.err());
        assertTrue(b.headManifest("tampered/team/app", "1.0").isEmpty());
        assertTrue(b.headManifest("tampered/rancher/pause", "3.1").isEmpty());
    }

    @Test
    void syncReportsEachImageAndListsFailuresAtTheEnd() {
        CliRun r = CliRun.of("sync", regA.host() + "/team/app:1.0", regA.host() + "/team/missing:1", regA.host() + "/rancher/pause:3.1",
                "--to", regB.host() + "/sync");
        assertEquals(ExitCodes.PARTIAL, r.code(), r.out() + r.err());
        String[] lines = r.out().split("\n");
        assertTrue(lines[0].startsWith("1/3 " + regA.host() + "/team/app:1.0 → " + regB.host() + "/sync/team/app:1.0 ok ("), r.out());
        assertTrue(lines[1].startsWith("2/3 " + regA.host() + "/team/missing:1 → " + regB.host() + "/sync/team/missing:1 failed: "), r.out());
        assertTrue(lines[2].startsWith("3/3 ") && lines[2].contains(" ok ("), r.out());
        assertTrue(r.err().contains("failed: " + regA.host() + "/team/missing:1"), r.err());
        assertTrue(r.err().contains("airlock: sync to " + regB.host() + "/sync: 1 of 3 images failed"), r.err());
        assertArrayEquals(app.top().bytes(), b.fetchManifest("sync/team/app", "1.0").bytes());

        CliRun again = CliRun.of("sync", regA.host() + "/team/app:1.0", "--to", regB.host() + "/sync");
        assertEquals(0, again.code(), again.err());
        assertTrue(again.out().contains(" ok (up to date, "), again.out());
    }
}
