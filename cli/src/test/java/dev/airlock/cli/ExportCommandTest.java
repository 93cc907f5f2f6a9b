package dev.airlock.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.airlock.error.ExitCodes;
import dev.airlock.model.Json;
import dev.airlock.registry.RegistryOptions;
import dev.airlock.registry.RegistryStore;
import dev.airlock.testkit.RegistryProcess;
import dev.airlock.testkit.TestImages;
import dev.airlock.testkit.TestImages.TestImage;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code airlock export} end to end through {@link Airlock#run}, against a real registry. */
class ExportCommandTest {
    static RegistryProcess registry;
    static TestImage app;
    static String ref;

    @TempDir
    Path tmp;

    @BeforeAll
    static void pushImage() {
        registry = RegistryProcess.start();
        try (RegistryStore store = RegistryStore.open(registry.host(), RegistryOptions.anonymous())) {
            app = TestImages.image("app").docker().platforms("linux/amd64", "linux/arm64/v8", "linux/arm/v7").build();
            app.pushTo(store, "team/app");
        }
        ref = registry.host() + "/team/app:1.0";
    }

    @AfterAll
    static void stopRegistry() {
        if (registry != null) {
            registry.close();
        }
    }

    @Test
    void exportsAndPrintsASummaryAndAReport() throws Exception {
        Path out = tmp.resolve("b.tar");
        CliRun r = CliRun.of("export", ref, "-o", out.toString(), "--cache", tmp.resolve("cache").toString(),
                "--report", tmp.resolve("report.json").toString());
        assertEquals(0, r.code(), r.err());
        assertTrue(r.out().contains(ref) && r.out().contains(app.top().digest().toString()), r.out());
        assertTrue(r.out().contains("NOT SIGNED"), r.out());
        assertTrue(r.err().contains("warning: the bundle is not signed"), r.err());
        assertTrue(Files.isRegularFile(out) && Files.isRegularFile(tmp.resolve("b.tar.sha256")));
        var report = Json.parse(Files.readAllBytes(tmp.resolve("report.json")), "report");
        assertTrue(report.path("ok").asBoolean(), report.toString());
        assertEquals(app.top().digest().toString(), report.path("images").path(0).path("digest").asText());
        assertEquals(ref, report.path("images").path(0).path("source").asText());
    }

    @Test
    void saysPlainlyWhenPlatformFilteringChangesTheDigest() {
        CliRun r = CliRun.of("export", ref, "-o", tmp.resolve("two.tar").toString(), "--cache", tmp.resolve("cache").toString(),
                "--platform", "linux/amd64", "--platform", "linux/arm64");
        assertEquals(0, r.code(), r.err());
        assertTrue(r.out().contains("digest changed by --platform: " + app.top().digest() + " → "), r.out());
    }

    @Test
    void aBadReferenceIsOneLineNamingEveryBadReferenceAndNoBundle() {
        Path out = tmp.resolve("bad.tar");
        String nope = registry.host() + "/team/nope:1.0";
        String noTag = registry.host() + "/team/app:missing";
        CliRun r = CliRun.of("export", ref, nope, noTag, "-o", out.toString(), "--cache", tmp.resolve("cache").toString(), "-q");
        assertEquals(ExitCodes.REGISTRY, r.code(), r.err());
        String[] lines = r.errLines();
        assertEquals(1, lines.length, r.err());
        assertTrue(lines[0].startsWith("airlock: ") && lines[0].contains(nope) && lines[0].contains(noTag), lines[0]);
        assertFalse(Files.exists(out));
        assertEquals("", r.out());
    }

    @Test
    void aCertificateWithoutAKeyIsAUsageError() {
        CliRun r = CliRun.of("export", ref, "-o", tmp.resolve("x.tar").toString(), "--sign-cert", "ops.crt");
        assertEquals(ExitCodes.USAGE, r.code());
        assertTrue(r.err().contains("--sign-cert needs --sign-key"), r.err());
    }
}
