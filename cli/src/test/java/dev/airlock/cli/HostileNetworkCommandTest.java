package dev.airlock.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.airlock.error.ExitCodes;
import dev.airlock.export.ExportRequest;
import dev.airlock.export.Exporter;
import dev.airlock.export.SourceStores;
import dev.airlock.registry.RegistryOptions;
import dev.airlock.registry.RegistryStore;
import dev.airlock.testkit.RegistryProcess;
import dev.airlock.testkit.StallServer;
import dev.airlock.testkit.TestImages;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Base64;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/** Hostile networks and registries through the commands: one line, the documented exit code, nothing left behind. */
@Timeout(180)
class HostileNetworkCommandTest {
    @TempDir
    Path tmp;

    static List<Path> leftovers(Path dir) throws Exception {
        try (Stream<Path> s = Files.walk(dir)) {
            return s.filter(p -> p.getFileName().toString().contains(".tmp")).toList();
        }
    }

    @Test
    void exportFromARegistryThatNeverAnswersEndsWithOneLineNamingTheTimeout() throws Exception {
        try (StallServer server = new StallServer(StallServer.Mode.SILENT)) {
            CliRun r = CliRun.of("export", server.host() + "/team/app:1.0", "-o", tmp.resolve("out.tar").toString(),
                    "--cache", tmp.resolve("cache").toString(), "--timeout-response", "200ms");
            assertEquals(ExitCodes.REGISTRY, r.code(), r.err());
            assertEquals(1, r.errLines().length, r.err());
            String line = r.errLines()[0];
            assertTrue(line.startsWith("airlock: ") && line.contains(server.host() + "/team/app"), line);
            assertTrue(line.contains("no response within 200 ms (--timeout-response) (after 5 attempts)"), line);
            assertEquals(5, server.connections(), "one connection per attempt");
            assertEquals(List.of(), leftovers(tmp));
        }
    }

    @Test
    void aPortOutOfRangeIsAUsageError() throws Exception {
        Path bundle = Files.writeString(tmp.resolve("b.tar"), "not read");
        String[][] cases = {
                {"import", bundle.toString(), "--to", "127.0.0.1:99999", "--allow-unsigned"},
                {"import", bundle.toString(), "--to", "127.0.0.1:0/mirror", "--allow-unsigned"},
                {"export", "127.0.0.1:99999/team/app:1.0", "-o", tmp.resolve("o.tar").toString()},
                {"sync", "127.0.0.1:5000/team/app:1.0", "--to", "127.0.0.1:70000"},
        };
        for (String[] args : cases) {
            CliRun r = CliRun.of(args);
            assertEquals(ExitCodes.USAGE, r.code(), String.join(" ", args) + ": " + r.err());
            assertEquals(1, r.errLines().length, r.err());
            assertTrue(r.err().contains("is not between 1 and 65535"), r.err());
        }
    }

    /** Issue 18: import into a loopback registry that speaks TLS, without --ca-cert. */
    @Test
    void importIntoALoopbackTlsRegistryWithoutCaCertSaysWhatToPass() throws Exception {
        try (RegistryProcess source = RegistryProcess.start();
             RegistryProcess target = RegistryProcess.startTlsBasic("alice", "pw-1234")) {
            var image = TestImages.image("coredns").oci().singlePlatform("linux/amd64").tag("1.0").build();
            try (RegistryStore s = RegistryStore.open(source.host(), RegistryOptions.anonymous())) {
                image.pushTo(s, "rancher/coredns");
            }
            Path bundle = tmp.resolve("b.tar");
            new Exporter(SourceStores.registries(RegistryOptions.anonymous())).export(ExportRequest.to(bundle)
                    .references(List.of(source.host() + "/rancher/coredns:1.0")).cacheDir(tmp.resolve("cache")));
            String auth = Base64.getEncoder().encodeToString("alice:pw-1234".getBytes(StandardCharsets.UTF_8));
            Path authfile = Files.writeString(tmp.resolve("auth.json"), "{\"auths\":{\"" + target.host() + "\":{\"auth\":\"" + auth + "\"}}}");

            CliRun r = CliRun.of("import", bundle.toString(), "--to", target.host() + "/m4", "--allow-unsigned", "--authfile", authfile.toString());
            assertEquals(ExitCodes.REGISTRY, r.code(), r.err());
            String[] errors = Stream.of(r.errLines()).filter(l -> !l.startsWith("warning: bundle")).toArray(String[]::new);
            assertEquals(1, errors.length, r.err());
            assertTrue(errors[0].startsWith("airlock: ") && errors[0].contains(target.host() + " speaks TLS (HTTPS) but was reached over plain HTTP (the default for"
                    + " loopback registries): pass --ca-cert FILE"), r.err());
            assertTrue(errors[0].contains("or --insecure"), r.err());

            CliRun ok = CliRun.of("import", bundle.toString(), "--to", target.host() + "/m4", "--allow-unsigned", "--authfile", authfile.toString(),
                    "--ca-cert", target.caCertificate().orElseThrow().toString());
            assertEquals(0, ok.code(), ok.err());
        }
    }
}
