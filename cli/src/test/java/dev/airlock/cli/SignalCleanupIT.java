package dev.airlock.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.airlock.registry.RegistryOptions;
import dev.airlock.registry.RegistryStore;
import dev.airlock.testkit.FaultProxy;
import dev.airlock.testkit.RegistryProcess;
import dev.airlock.testkit.TestImages;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A real {@code bin/airlock export} process, stalled in the middle of a layer (a fault proxy in
 * front of a real registry holds the body back), is sent SIGTERM or SIGINT (Ctrl-C): it leaves no
 * temporary file beside the output or in the export cache and nothing under the bundle's name;
 * a {@code .tar} bundle, written in place, leaves its partial file and journal, and the same
 * command run again resumes it and completes a bundle that verifies.
 */
class SignalCleanupIT {
    @TempDir
    Path tmp;

    static List<String> temps(Path dir) throws Exception {
        try (Stream<Path> s = Files.walk(dir)) {
            return s.map(p -> p.getFileName().toString()).filter(n -> n.contains(".tmp")).toList();
        }
    }

    /** SigIgn of /proc/PID/status has bit 1 (SIGINT = 2) set. */
    static boolean ignoresSigint(long pid) throws Exception {
        for (String line : Files.readAllLines(Path.of("/proc/" + pid + "/status"))) {
            if (line.startsWith("SigIgn:")) {
                return (Long.parseUnsignedLong(line.substring(7).trim(), 16) & 2) != 0;
            }
        }
        return false;
    }

    @org.junit.jupiter.params.ParameterizedTest
    @org.junit.jupiter.params.provider.ValueSource(strings = {"TERM", "INT"})
    void aSignalWhileStalledLeavesNoTemporaryFiles(String signal) throws Exception {
        Path out = Files.createDirectories(tmp.resolve(signal).resolve("out"));
        Path cache = tmp.resolve(signal).resolve("cache");
        try (RegistryProcess registry = RegistryProcess.start(); FaultProxy proxy = FaultProxy.in(registry)) {
            var image = TestImages.image("big").oci().singlePlatform("linux/amd64").layerSize(6 << 20).tag("1.0").build();
            try (RegistryStore s = RegistryStore.open(registry.host(), RegistryOptions.anonymous())) {
                image.pushTo(s, "team/big");
            }
            proxy.stallDownstreamAfter(1 << 20, Duration.ofSeconds(120));
            ProcessBuilder pb = new ProcessBuilder(LauncherIT.LAUNCHER.toString(), "export", proxy.host() + "/team/big:1.0",
                    "-o", out.resolve("images.tar").toString(), "--cache", cache.toString())
                    .redirectErrorStream(true).redirectOutput(tmp.resolve("log.txt").toFile())
                    .redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null")));
            Process p = pb.start();
            try {
                long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
                while (!(Files.exists(out.resolve(".images.tar.partial")) && Files.isDirectory(cache) && temps(cache).isEmpty()
                        && proxy.faultsFired() > 0)) {
                    assertTrue(p.isAlive(), "export ended before it stalled: " + Files.readString(tmp.resolve("log.txt"), StandardCharsets.UTF_8));
                    assertTrue(System.nanoTime() < until, "export did not reach the stall: " + temps(out) + " " + temps(tmp));
                    Thread.sleep(50);
                }
                if (signal.equals("INT")) {
                    // a background job inherits SIGINT ignored, and then no JVM handles it: nothing to test there
                    org.junit.jupiter.api.Assumptions.assumeFalse(ignoresSigint(p.pid()), "SIGINT is ignored in this environment");
                }
                assertEquals(0, new ProcessBuilder("kill", "-s", signal, Long.toString(p.pid())).start().waitFor());
                assertTrue(p.waitFor(30, TimeUnit.SECONDS), "export did not end on SIG" + signal);
            } finally {
                p.destroyForcibly();
            }
            assertEquals(signal.equals("TERM") ? 143 : 130, p.exitValue(), Files.readString(tmp.resolve("log.txt"), StandardCharsets.UTF_8));
            assertEquals(List.of(), temps(out));
            assertEquals(List.of(), temps(cache));
            assertFalse(Files.exists(out.resolve("images.tar")));
            assertTrue(Files.exists(out.resolve(".images.tar.partial")) && Files.exists(out.resolve(".images.tar.partial.journal")),
                    "the partial bundle and its journal stay for the re-run");

            proxy.clear();
            Process again = new ProcessBuilder(LauncherIT.LAUNCHER.toString(), "export", proxy.host() + "/team/big:1.0",
                    "-o", out.resolve("images.tar").toString(), "--cache", cache.toString())
                    .redirectErrorStream(true).redirectOutput(tmp.resolve("again.txt").toFile()).start();
            assertTrue(again.waitFor(60, TimeUnit.SECONDS), "the re-run did not end");
            String log = Files.readString(tmp.resolve("again.txt"), StandardCharsets.UTF_8);
            assertEquals(0, again.exitValue(), log);
            assertFalse(Files.exists(out.resolve(".images.tar.partial")));
            assertEquals(0, new ProcessBuilder(LauncherIT.LAUNCHER.toString(), "verify", "--allow-unsigned", out.resolve("images.tar").toString())
                    .redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.DISCARD).start().waitFor());
        }
    }
}
