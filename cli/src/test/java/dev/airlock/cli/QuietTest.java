package dev.airlock.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import dev.airlock.error.ExitCodes;
import dev.airlock.model.Json;
import dev.airlock.registry.RegistryOptions;
import dev.airlock.registry.RegistryStore;
import dev.airlock.testkit.RegistryProcess;
import dev.airlock.testkit.TestImages;
import dev.airlock.testkit.TestImages.TestImage;
import java.io.RandomAccessFile;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code -q/--quiet} means the same on every command: nothing on stdout but what the command exists
 * to print, nothing on stderr but errors and warnings, {@code --report} and {@code --json} as
 * without it. Each case also runs the command without {@code -q} where that prints something, so a
 * quiet that prints nothing because the command prints nothing anyway cannot pass.
 */
class QuietTest {
    @TempDir
    static Path tmp;
    static RegistryProcess regA;
    static RegistryProcess regB;
    static RegistryStore b;
    static TestImage app;
    static String ref;
    static Path key;
    static Path pub;
    static Path bundle;

    @BeforeAll
    static void start() {
        regA = RegistryProcess.start();
        regB = RegistryProcess.start();
        b = RegistryStore.open(regB.host(), RegistryOptions.anonymous());
        app = TestImages.image("app").oci().platforms("linux/amd64", "linux/arm64", "linux/arm/v7").baseSeed(9).build();
        try (RegistryStore a = RegistryStore.open(regA.host(), RegistryOptions.anonymous())) {
            app.pushTo(a, "team/app");
        }
        ref = regA.host() + "/team/app:1.0";
        CliRun k = CliRun.of("keygen", "--out", tmp.resolve("ops").toString(), "-q");
        assertEquals(0, k.code(), k.err());
        key = tmp.resolve("ops.key");
        pub = tmp.resolve("ops.pub.pem");
        bundle = tmp.resolve("quiet.tar");
        CliRun e = CliRun.of("export", ref, "-o", bundle.toString(), "--cache", tmp.resolve("cache").toString(),
                "--sign-key", key.toString(), "-q");
        assertEquals(0, e.code(), e.err());
    }

    @AfterAll
    static void stop() {
        for (AutoCloseable c : new AutoCloseable[] {b, regA, regB}) {
            try {
                if (c != null) {
                    c.close();
                }
            } catch (Exception ignored) {
                // best effort
            }
        }
    }

    static void silent(CliRun r) {
        assertEquals(0, r.code(), r.err());
        assertEquals("", r.out(), "stdout");
        assertEquals("", r.err(), "stderr");
    }

    @Test
    void keygen() {
        silent(CliRun.of("keygen", "--out", tmp.resolve("k1").toString(), "-q"));
        assertTrue(Files.isRegularFile(tmp.resolve("k1.key")) && Files.isRegularFile(tmp.resolve("k1.crt")));
        CliRun loud = CliRun.of("keygen", "--out", tmp.resolve("k2").toString());
        assertTrue(loud.out().contains("fingerprint"), loud.out());
        CliRun refused = CliRun.of("keygen", "--out", tmp.resolve("k1").toString(), "--quiet");
        assertEquals(ExitCodes.USAGE, refused.code());
        assertEquals(1, refused.errLines().length, "the error is still printed: " + refused.err());
        assertEquals("", refused.out());
    }

    @Test
    void exportSignedPrintsNothingUnsignedOnlyItsWarning() throws Exception {
        Path out = tmp.resolve("e.tar");
        Path report = tmp.resolve("export.json");
        silent(CliRun.of("export", ref, "-o", out.toString(), "--cache", tmp.resolve("cache").toString(), "--sign-key", key.toString(),
                "-q", "--report", report.toString()));
        assertTrue(Files.isRegularFile(out) && Files.isRegularFile(tmp.resolve("e.tar.sha256")));
        JsonNode json = Json.parse(Files.readAllBytes(report), "report");
        assertEquals(app.top().digest().toString(), json.path("images").path(0).path("digest").asText());

        CliRun unsigned = CliRun.of("export", ref, "-o", tmp.resolve("u.tar").toString(), "--cache", tmp.resolve("cache").toString(), "-q");
        assertEquals(0, unsigned.code(), unsigned.err());
        assertEquals("", unsigned.out());
        assertEquals(1, unsigned.errLines().length, unsigned.err());
        assertTrue(unsigned.err().startsWith("warning: the bundle is not signed"), unsigned.err());

        CliRun loud = CliRun.of("export", ref, "-o", tmp.resolve("l.tar").toString(), "--cache", tmp.resolve("cache").toString(),
                "--sign-key", key.toString());
        assertTrue(loud.out().startsWith("Exported 1 image(s)"), loud.out());
        assertTrue(loud.err().contains(" done: "), "progress without -q: " + loud.err());
    }

    @Test
    void verifyPrintsNothingOnSuccessButJsonAndReportStay() throws Exception {
        silent(CliRun.of("verify", bundle.toString(), "--trust", pub.toString(), "-q"));
        Path report = tmp.resolve("verify.json");
        CliRun json = CliRun.of("verify", bundle.toString(), "--trust", pub.toString(), "--quiet", "--json", "--report", report.toString());
        assertEquals(0, json.code(), json.err());
        assertEquals("", json.err());
        JsonNode printed = Json.parse(json.out().getBytes(java.nio.charset.StandardCharsets.UTF_8), "stdout");
        assertEquals("TRUSTED", printed.path("signature").asText());
        assertEquals(printed, Json.parse(Files.readAllBytes(report), "report"));

        CliRun loud = CliRun.of("verify", bundle.toString(), "--trust", pub.toString());
        assertTrue(loud.out().startsWith("OK\n") && loud.out().contains(ref), loud.out());

        Path tampered = tmp.resolve("tampered.tar");
        Files.copy(bundle, tampered);
        try (RandomAccessFile f = new RandomAccessFile(tampered.toFile(), "rw")) {
            f.seek(f.length() / 2);
            int x = f.read();
            f.seek(f.length() / 2);
            f.write(x ^ 0xff);
        }
        CliRun bad = CliRun.of("verify", tampered.toString(), "--trust", pub.toString(), "-q");
        assertEquals(ExitCodes.VERIFICATION, bad.code(), bad.err());
        assertEquals("", bad.out());
        assertEquals(1, bad.errLines().length, bad.err());
        assertTrue(bad.err().startsWith("airlock: "), bad.err());
    }

    @Test
    void inspectPrintsOnlyPinnedReferences() {
        CliRun r = CliRun.of("inspect", bundle.toString(), "-q");
        assertEquals(0, r.code(), r.err());
        assertEquals(ref + "@" + app.top().digest() + "\n", r.out());
        assertEquals("", r.err());
        CliRun loud = CliRun.of("inspect", bundle.toString());
        assertTrue(loud.out().contains("platforms  linux/amd64, linux/arm64, linux/arm/v7"), loud.out());
    }

    @Test
    void importPrintsNothingButADryRunStillPrintsItsPlan() throws Exception {
        String to = regB.host() + "/imp";
        CliRun plan = CliRun.of("import", bundle.toString(), "--to", to, "--trust", pub.toString(), "--dry-run", "-q");
        assertEquals(0, plan.code(), plan.err());
        assertTrue(plan.out().contains("dry run, nothing written"), plan.out());
        assertEquals("", plan.err());

        Path report = tmp.resolve("import.json");
        silent(CliRun.of("import", bundle.toString(), "--to", to, "--trust", pub.toString(), "-q", "--report", report.toString()));
        assertArrayEquals(app.top().bytes(), b.fetchManifest("imp/team/app", "1.0").bytes());
        assertEquals(to + "/team/app:1.0", Json.parse(Files.readAllBytes(report), "report").path("images").path(0).path("target").asText());

        CliRun loud = CliRun.of("import", bundle.toString(), "--to", to, "--trust", pub.toString());
        assertTrue(loud.out().contains("already complete, nothing written"), loud.out());
    }

    @Test
    void syncPrintsNothingButFailuresAndTheErrorOnStderr() {
        String to = regB.host() + "/sync";
        silent(CliRun.of("sync", ref, "--to", to, "-q"));
        assertArrayEquals(app.top().bytes(), b.fetchManifest("sync/team/app", "1.0").bytes());

        CliRun partial = CliRun.of("sync", ref, regA.host() + "/team/missing:1.0", "--to", to, "-q");
        assertEquals(ExitCodes.PARTIAL, partial.code(), partial.err());
        assertEquals("", partial.out());
        String[] err = partial.errLines();
        assertEquals(2, err.length, partial.err());
        assertTrue(err[0].startsWith("failed: " + regA.host() + "/team/missing:1.0"), partial.err());
        assertTrue(err[1].startsWith("airlock: "), partial.err());

        CliRun loud = CliRun.of("sync", ref, "--to", to);
        assertTrue(loud.out().contains("1/1 images synced"), loud.out());
    }
}
