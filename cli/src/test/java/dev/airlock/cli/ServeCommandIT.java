package dev.airlock.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code bin/airlock serve} as a process: start line, a pull-like request, the log, and a clean stop on SIGTERM and SIGINT. */
class ServeCommandIT {
    @TempDir
    Path dir;

    @Test
    void servesUntilSigtermOrSigintAndStopsCleanly() throws Exception {
        assertEquals(0, CliRun.of("keygen", "--out", dir.resolve("ops").toString()).code());
        Path bundle = TestBundles.write(dir, "signed.tar", dir.resolve("ops.key"), dir.resolve("ops.crt"));
        // A process started in the background by a non-interactive shell inherits SIGINT ignored, and so
        // does every child (the JVM keeps an inherited "ignore"): then only SIGTERM can be tried.
        List<String> signals = sigintIgnoredHere() ? List.of("TERM") : List.of("TERM", "INT");
        for (String signal : signals) {
            int port;
            try (ServerSocket s = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
                port = s.getLocalPort();
            }
            Path log = dir.resolve("requests-" + signal + ".log");
            Path err = dir.resolve("err-" + signal + ".txt");
            Process p = new ProcessBuilder(LauncherIT.LAUNCHER.toString(), "serve", bundle.toString(), "--trust", dir.resolve("ops.pub.pem").toString(),
                    "--listen", "127.0.0.1:" + port, "--log", log.toString()).redirectError(err.toFile()).start();
            try {
                BufferedReader out = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8));
                StringBuilder seen = new StringBuilder();
                String line;
                while ((line = out.readLine()) != null && !line.startsWith("serving ")) {
                    seen.append(line).append('\n');
                }
                assertTrue(line != null, "no start line; stdout:\n" + seen + "stderr:\n" + Files.readString(err));
                assertEquals("  " + TestBundles.REPO + ":1.0 ", seen.toString().lines().findFirst().orElse("").replaceAll("sha256:\\S+.*", ""));
                assertTrue(line.endsWith(" from 1 bundle on http://127.0.0.1:" + port + ", read-only; Ctrl-C stops"), line);
                HttpResponse<String> r = HttpClient.newHttpClient().send(HttpRequest.newBuilder(
                        URI.create("http://127.0.0.1:" + port + "/v2/" + TestBundles.REPO + "/tags/list")).build(), HttpResponse.BodyHandlers.ofString());
                assertEquals("{\"name\":\"" + TestBundles.REPO + "\",\"tags\":[\"1.0\"]}", r.body());
                assertEquals(0, new ProcessBuilder("kill", "-" + signal, String.valueOf(p.pid())).start().waitFor());
                assertTrue(p.waitFor(30, TimeUnit.SECONDS), "serve did not stop on SIG" + signal);
                assertEquals(signal.equals("TERM") ? 143 : 130, p.exitValue());
                assertEquals("stopped", out.readLine());
                assertEquals("", Files.readString(err));
                assertTrue(Files.readString(log).matches("\\S+ 127\\.0\\.0\\.1 GET /v2/library/app/tags/list 200 \\d+ \\d+ms\n"), Files.readString(log));
            } finally {
                p.destroyForcibly();
            }
        }
    }

    /** Bit 2 (SIGINT) of SigIgn in /proc/self/status. */
    static boolean sigintIgnoredHere() throws java.io.IOException {
        for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
            if (line.startsWith("SigIgn:")) {
                return (Long.parseUnsignedLong(line.substring(7).strip(), 16) & 0x2) != 0;
            }
        }
        return false;
    }
}
