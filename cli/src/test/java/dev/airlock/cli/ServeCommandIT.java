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

/**
 * {@code bin/airlock serve} as a process: start line, a pull-like request, the log, and a clean
 * stop on SIGTERM and SIGINT (exit 0, "stopped after N requests"), also with a download in flight
 * and an idle keep-alive connection open.
 */
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
                assertEquals(0, p.exitValue(), "a stop by SIG" + signal + " is a success");
                assertEquals("stopped after 1 request", out.readLine());
                assertEquals(null, out.readLine());
                assertEquals("", Files.readString(err));
                assertTrue(Files.readString(log).matches("\\S+ 127\\.0\\.0\\.1 GET /v2/library/app/tags/list 200 \\d+ \\d+ms\n"), Files.readString(log));
            } finally {
                p.destroyForcibly();
            }
        }
    }

    /**
     * SIGTERM while a client is in the middle of a 12 MiB layer and reads no more (more than the
     * loopback socket buffers hold, so the server is blocked writing) and another connection sits
     * idle after a request: the download gets its second and is then cut (the client sees fewer
     * bytes than Content-Length and the end of the stream), the idle connection is closed, the log
     * has every request, and the process exits 0 with "stopped after 4 requests" (two to find the
     * layer, the idle one's, the download).
     */
    @Test
    void aStopCutsADownloadInFlightAfterItsGraceAndStillExitsZero() throws Exception {
        assertEquals(0, CliRun.of("keygen", "--out", dir.resolve("ops").toString()).code());
        Path bundle = TestBundles.write(dir, "big.tar", dir.resolve("ops.key"), dir.resolve("ops.crt"), 12 << 20);
        int port;
        try (ServerSocket s = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
            port = s.getLocalPort();
        }
        Path log = dir.resolve("big.log");
        Path err = dir.resolve("big-err.txt");
        Process p = new ProcessBuilder(LauncherIT.LAUNCHER.toString(), "serve", bundle.toString(), "--trust", dir.resolve("ops.pub.pem").toString(),
                "--listen", "127.0.0.1:" + port, "--log", log.toString()).redirectError(err.toFile()).start();
        try (java.net.Socket idle = new java.net.Socket(); java.net.Socket slow = new java.net.Socket()) {
            BufferedReader out = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8));
            String line;
            while ((line = out.readLine()) != null && !line.startsWith("serving ")) {
                // the image lines
            }
            assertTrue(line != null, "no start line: " + Files.readString(err));
            String layer = largestLayer(port);
            idle.connect(new java.net.InetSocketAddress("127.0.0.1", port));
            idle.getOutputStream().write("GET /v2/ HTTP/1.1\r\nHost: x\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
            java.io.InputStream idleIn = idle.getInputStream();
            assertTrue(new String(idleIn.readNBytes(12), StandardCharsets.US_ASCII).startsWith("HTTP/1.1 200"));
            slow.setReceiveBufferSize(16 * 1024);
            slow.connect(new java.net.InetSocketAddress("127.0.0.1", port));
            slow.getOutputStream().write(("GET /v2/" + TestBundles.REPO + "/blobs/" + layer + " HTTP/1.1\r\nHost: x\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
            java.io.InputStream slowIn = slow.getInputStream();
            byte[] first = slowIn.readNBytes(64 * 1024);
            assertEquals(64 * 1024, first.length);
            long sent = System.nanoTime();
            assertEquals(0, new ProcessBuilder("kill", "-TERM", String.valueOf(p.pid())).start().waitFor());
            assertTrue(p.waitFor(30, TimeUnit.SECONDS), "serve did not stop on SIGTERM with a download in flight");
            long ms = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - sent);
            assertEquals(0, p.exitValue(), Files.readString(err));
            assertEquals("stopped after 4 requests", out.readLine());
            assertTrue(ms >= 900, "the download in flight gets its second before it is cut: " + ms + " ms");
            idle.setSoTimeout(10_000);
            slow.setSoTimeout(10_000);
            idleIn.transferTo(java.io.OutputStream.nullOutputStream()); // the rest of that response, then end of stream
            long rest = slowIn.transferTo(java.io.OutputStream.nullOutputStream());
            assertTrue(first.length + rest < (12 << 20), "the download was cut: " + (first.length + rest) + " bytes arrived");
            String requests = Files.readString(log);
            assertEquals(4, requests.lines().count(), requests);
            assertTrue(requests.lines().anyMatch(l -> l.matches("\\S+ 127\\.0\\.0\\.1 GET /v2/ 200 2 \\d+ms")), requests);
            assertTrue(requests.lines().anyMatch(l -> l.matches("\\S+ 127\\.0\\.0\\.1 GET /v2/" + TestBundles.REPO + "/blobs/" + layer + " 200 \\d+ \\d+ms")), requests);
            assertEquals("", Files.readString(err));
        } finally {
            p.destroyForcibly();
        }
    }

    /** The digest of the largest layer of the first platform of TestBundles' image, from the running server. */
    static String largestLayer(int port) throws Exception {
        HttpClient http = HttpClient.newHttpClient();
        String base = "http://127.0.0.1:" + port + "/v2/" + TestBundles.REPO + "/manifests/";
        com.fasterxml.jackson.databind.JsonNode index = dev.airlock.model.Json.parse(http.send(HttpRequest.newBuilder(URI.create(base + "1.0")).build(),
                HttpResponse.BodyHandlers.ofByteArray()).body(), "index");
        com.fasterxml.jackson.databind.JsonNode manifest = dev.airlock.model.Json.parse(http.send(HttpRequest.newBuilder(
                URI.create(base + index.get("manifests").get(0).get("digest").asText())).build(), HttpResponse.BodyHandlers.ofByteArray()).body(), "manifest");
        com.fasterxml.jackson.databind.JsonNode largest = null;
        for (com.fasterxml.jackson.databind.JsonNode l : manifest.get("layers")) {
            if (largest == null || l.get("size").asLong() > largest.get("size").asLong()) {
                largest = l;
            }
        }
        assertTrue(largest.get("size").asLong() > (8 << 20), largest.toString());
        return largest.get("digest").asText();
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
