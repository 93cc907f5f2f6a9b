package dev.airlock.serve;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.airlock.model.Descriptor;
import dev.airlock.model.Digest;
import dev.airlock.model.MediaType;
import dev.airlock.model.RawManifest;
import dev.airlock.progress.ProgressListener;
import dev.airlock.sign.Signer;
import dev.airlock.sign.TrustPolicy;
import dev.airlock.testkit.TestImages;
import dev.airlock.testkit.TestImages.TestImage;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.spec.ECGenParameterSpec;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The HTTP behaviour of {@link BundleServer} against a real signed bundle, through
 * java.net.http (and a raw socket where an HTTP client would normalise the request line).
 */
class ServeHttpTest {
    @TempDir
    static Path dir;

    static TestImage web;
    static TestImage api;
    static RawManifest sbom;
    static TestImages.Blob sbomLayer;
    static BundleServer server;
    static HttpClient http;
    static String base;
    static Path log;
    static final List<String> errors = new CopyOnWriteArrayList<>();
    static final ObjectMapper JSON = new ObjectMapper();

    @BeforeAll
    static void start() throws Exception {
        web = ServeBundles.multiArch();
        api = ServeBundles.ociWithAttestations();
        KeyPair kp = keyPair();
        // a referrer of web's index: an SBOM-like artifact manifest whose subject is the index
        byte[] empty = "{}".getBytes(StandardCharsets.US_ASCII);
        byte[] doc = "{\"spdxVersion\":\"SPDX-2.3\"}".getBytes(StandardCharsets.US_ASCII);
        sbomLayer = new TestImages.Blob(Descriptor.ofBytes(MediaType.of("application/spdx+json"), doc), doc);
        Descriptor cfg = Descriptor.ofBytes(MediaType.OCI_EMPTY, empty);
        String json = "{\"schemaVersion\":2,\"mediaType\":\"application/vnd.oci.image.manifest.v1+json\",\"artifactType\":\"application/spdx+json\","
                + "\"config\":{\"mediaType\":\"" + MediaType.OCI_EMPTY + "\",\"digest\":\"" + cfg.digest() + "\",\"size\":2},"
                + "\"layers\":[{\"mediaType\":\"application/spdx+json\",\"digest\":\"" + sbomLayer.digest() + "\",\"size\":" + doc.length + "}],"
                + "\"subject\":{\"mediaType\":\"" + web.top().mediaType() + "\",\"digest\":\"" + web.top().digest() + "\",\"size\":" + web.top().size() + "},"
                + "\"annotations\":{\"org.example.kind\":\"sbom\"}}";
        sbom = RawManifest.of(MediaType.OCI_MANIFEST, json.getBytes(StandardCharsets.UTF_8));
        Path bundle = ServeBundles.write(dir.resolve("b.tar"), List.of(
                new ServeBundles.Entry("docker.io/library/web:1.0", web),
                new ServeBundles.Entry("registry.example:5000/team/api:2.1", api)), Optional.of(Signer.of(kp.getPrivate(), Optional.empty(), "test key")),
                List.of(new TestImages.Blob(cfg, empty), sbomLayer), List.of(sbom));
        log = dir.resolve("requests.log");
        server = BundleServer.start(new ServeRequest(List.of(bundle), TrustPolicy.trusting(kp.getPublic()), false, false,
                new ServeRequest.Listen("127.0.0.1", 0), Optional.empty(), Optional.of(log), errors::add), ProgressListener.NONE);
        http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
        base = server.url();
    }

    @AfterAll
    static void stop() {
        if (server != null) {
            server.close();
        }
    }

    static KeyPair keyPair() throws Exception {
        KeyPairGenerator g = KeyPairGenerator.getInstance("EC");
        g.initialize(new ECGenParameterSpec("secp256r1"));
        return g.generateKeyPair();
    }

    static HttpResponse<byte[]> send(String method, String path, String... headers) throws Exception {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(base + path)).method(method,
                method.equals("GET") || method.equals("HEAD") || method.equals("DELETE") ? HttpRequest.BodyPublishers.noBody()
                        : HttpRequest.BodyPublishers.ofString("x"));
        for (int i = 0; i < headers.length; i += 2) {
            b.header(headers[i], headers[i + 1]);
        }
        return http.send(b.build(), HttpResponse.BodyHandlers.ofByteArray());
    }

    static String errorCode(HttpResponse<byte[]> r) throws IOException {
        assertEquals("application/json", r.headers().firstValue("Content-Type").orElse(""));
        return JSON.readTree(r.body()).get("errors").get(0).get("code").asText();
    }

    /** Sends a request line as written (no client-side normalisation) and returns status line + body. */
    static String raw(String requestLine) throws IOException {
        URI u = URI.create(base);
        try (Socket s = new Socket(u.getHost(), u.getPort())) {
            OutputStream out = s.getOutputStream();
            out.write((requestLine + "\r\nHost: " + u.getHost() + "\r\nConnection: close\r\n\r\n").getBytes(StandardCharsets.ISO_8859_1));
            out.flush();
            return new String(s.getInputStream().readAllBytes(), StandardCharsets.ISO_8859_1);
        }
    }

    @Test
    void pingAnswersWithTheApiVersionHeader() throws Exception {
        HttpResponse<byte[]> r = send("GET", "/v2/");
        assertEquals(200, r.statusCode());
        assertEquals("registry/2.0", r.headers().firstValue("Docker-Distribution-API-Version").orElse(""));
        assertEquals("{}", new String(r.body(), StandardCharsets.UTF_8));
    }

    @Test
    void manifestByTagAndByDigestIsTheExactBytesWithItsOwnContentType() throws Exception {
        for (String ref : List.of("1.0", web.top().digest().toString())) {
            HttpResponse<byte[]> r = send("GET", "/v2/library/web/manifests/" + ref);
            assertEquals(200, r.statusCode());
            assertArrayEquals(web.top().bytes(), r.body());
            assertEquals(MediaType.DOCKER_MANIFEST_LIST.value(), r.headers().firstValue("Content-Type").orElse(""));
            assertEquals(web.top().digest().toString(), r.headers().firstValue("Docker-Content-Digest").orElse(""));
            assertEquals(String.valueOf(web.top().size()), r.headers().firstValue("Content-Length").orElse(""));
        }
        // the odd-JSON OCI index and a child of it, byte for byte
        HttpResponse<byte[]> r = send("GET", "/v2/team/api/manifests/2.1");
        assertArrayEquals(api.top().bytes(), r.body());
        assertEquals(MediaType.OCI_INDEX.value(), r.headers().firstValue("Content-Type").orElse(""));
        RawManifest child = api.children().get(1);
        r = send("GET", "/v2/team/api/manifests/" + child.digest());
        assertArrayEquals(child.bytes(), r.body());
        assertEquals(child.mediaType().value(), r.headers().firstValue("Content-Type").orElse(""));
    }

    @Test
    void headGivesTheSameHeadersAsGetAndNoBody() throws Exception {
        for (String path : List.of("/v2/library/web/manifests/1.0", "/v2/library/web/manifests/" + web.children().get(0).digest(),
                "/v2/library/web/blobs/" + web.blobs().get(0).digest())) {
            HttpResponse<byte[]> get = send("GET", path);
            HttpResponse<byte[]> head = send("HEAD", path);
            assertEquals(200, head.statusCode());
            assertEquals(0, head.body().length);
            for (String h : List.of("Content-Type", "Content-Length", "Docker-Content-Digest", "ETag")) {
                assertEquals(get.headers().firstValue(h), head.headers().firstValue(h), path + " " + h);
                assertTrue(head.headers().firstValue(h).isPresent(), path + " " + h);
            }
            assertEquals(String.valueOf(get.body().length), head.headers().firstValue("Content-Length").get());
        }
    }

    @Test
    void blobsAreServedWholeWithDigestAndLength() throws Exception {
        for (TestImages.Blob b : web.blobs()) {
            HttpResponse<byte[]> r = send("GET", "/v2/library/web/blobs/" + b.digest());
            assertEquals(200, r.statusCode());
            assertArrayEquals(b.bytes(), r.body());
            assertEquals(b.digest().toString(), r.headers().firstValue("Docker-Content-Digest").orElse(""));
            assertEquals("bytes", r.headers().firstValue("Accept-Ranges").orElse(""));
            assertEquals("application/octet-stream", r.headers().firstValue("Content-Type").orElse(""));
            // IMF-fixdate, two-digit day (RFC 9110 5.6.7)
            String date = r.headers().firstValue("Date").orElse("");
            assertTrue(date.matches("(Mon|Tue|Wed|Thu|Fri|Sat|Sun), \\d{2} [A-Z][a-z]{2} \\d{4} \\d{2}:\\d{2}:\\d{2} GMT"), date);
        }
        assertEquals("Wed, 02 Dec 2026 05:07:04 GMT", Http1Server.DATE.format(java.time.ZonedDateTime.of(2026, 12, 2, 5, 7, 4, 0, java.time.ZoneOffset.UTC)));
    }

    @Test
    void rangeRequestsGetPartialContent() throws Exception {
        TestImages.Blob b = web.blobs().stream().max(java.util.Comparator.comparingInt(x -> x.bytes().length)).orElseThrow();
        byte[] all = b.bytes();
        int n = all.length;
        String path = "/v2/library/web/blobs/" + b.digest();
        assertPart(send("GET", path, "Range", "bytes=0-0"), all, 0, 0);
        assertPart(send("GET", path, "Range", "bytes=100-4195"), all, 100, 4195);
        assertPart(send("GET", path, "Range", "bytes=-50"), all, n - 50, n - 1);
        assertPart(send("GET", path, "Range", "bytes=" + (n - 10) + "-"), all, n - 10, n - 1);
        assertPart(send("GET", path, "Range", "bytes=" + (n - 10) + "-" + (n + 1000)), all, n - 10, n - 1);
        for (String beyond : List.of("bytes=" + n + "-", "bytes=" + (n + 5) + "-" + (n + 9), "bytes=-0")) {
            HttpResponse<byte[]> r = send("GET", path, "Range", beyond);
            assertEquals(416, r.statusCode(), beyond);
            assertEquals("bytes */" + n, r.headers().firstValue("Content-Range").orElse(""), beyond);
            assertEquals("SIZE_INVALID", errorCode(r));
        }
        // not a single satisfiable-or-not range: ignored, the whole blob
        for (String ignored : List.of("bytes=10-5", "bytes=0-1,5-6", "items=0-1")) {
            HttpResponse<byte[]> r = send("GET", path, "Range", ignored);
            assertEquals(200, r.statusCode(), ignored);
            assertArrayEquals(all, r.body(), ignored);
        }
        HttpResponse<byte[]> head = send("HEAD", path, "Range", "bytes=0-9");
        assertEquals(206, head.statusCode());
        assertEquals("10", head.headers().firstValue("Content-Length").orElse(""));
    }

    /**
     * The first whole read of a blob streams through the verifier; later ones and Range parts of
     * more than 32 KiB go from the tar through the thread's reused direct buffer, several
     * buffer-fulls for a 640 KiB layer: every byte must arrive, on every read, from every thread.
     */
    @Test
    void largeBlobsArriveExactOnEveryReadAndInLargeParts() throws Exception {
        TestImages.Blob b = web.blobs().stream().max(java.util.Comparator.comparingInt(x -> x.bytes().length)).orElseThrow();
        byte[] all = b.bytes();
        int n = all.length;
        assertTrue(n > 2 * 256 * 1024, "the test layer should span several transfer buffers: " + n);
        String path = "/v2/library/web/blobs/" + b.digest();
        for (int i = 0; i < 3; i++) {
            HttpResponse<byte[]> r = send("GET", path);
            assertEquals(200, r.statusCode());
            assertArrayEquals(all, r.body(), "read " + i);
        }
        assertPart(send("GET", path, "Range", "bytes=1000-" + (n - 1001)), all, 1000, n - 1001);
        assertPart(send("GET", path, "Range", "bytes=-" + (300 * 1024)), all, n - 300 * 1024, n - 1);
        List<java.util.concurrent.CompletableFuture<HttpResponse<byte[]>>> parallel = new ArrayList<>();
        for (int i = 0; i < 8; i++) {
            parallel.add(HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build()
                    .sendAsync(HttpRequest.newBuilder(URI.create(base + path)).build(), HttpResponse.BodyHandlers.ofByteArray()));
        }
        for (var f : parallel) {
            assertArrayEquals(all, f.get().body());
        }
    }

    static void assertPart(HttpResponse<byte[]> r, byte[] all, int first, int last) {
        assertEquals(206, r.statusCode());
        assertArrayEquals(Arrays.copyOfRange(all, first, last + 1), r.body());
        assertEquals("bytes " + first + "-" + last + "/" + all.length, r.headers().firstValue("Content-Range").orElse(""));
        assertEquals(String.valueOf(last - first + 1), r.headers().firstValue("Content-Length").orElse(""));
    }

    @Test
    void unknownNamesManifestsAndBlobsAre404WithTheirOciCodes() throws Exception {
        HttpResponse<byte[]> r = send("GET", "/v2/library/nothing/manifests/1.0");
        assertEquals(404, r.statusCode());
        assertEquals("NAME_UNKNOWN", errorCode(r));
        r = send("GET", "/v2/library/web/manifests/9.9");
        assertEquals(404, r.statusCode());
        assertEquals("MANIFEST_UNKNOWN", errorCode(r));
        r = send("GET", "/v2/library/web/manifests/" + Digest.sha256(new byte[1]));
        assertEquals(404, r.statusCode());
        assertEquals("MANIFEST_UNKNOWN", errorCode(r));
        // a layer is a blob, not a manifest
        r = send("GET", "/v2/library/web/manifests/" + web.blobs().get(0).digest());
        assertEquals("MANIFEST_UNKNOWN", errorCode(r));
        r = send("GET", "/v2/library/web/blobs/" + Digest.sha256(new byte[1]));
        assertEquals(404, r.statusCode());
        assertEquals("BLOB_UNKNOWN", errorCode(r));
        // each repository serves its own graph only: api's own layer is not a blob of library/web
        TestImages.Blob apiOnly = api.blobs().stream().filter(b -> web.blobs().stream().noneMatch(w -> w.digest().equals(b.digest())))
                .findFirst().orElseThrow();
        assertEquals(200, send("GET", "/v2/team/api/blobs/" + apiOnly.digest()).statusCode());
        r = send("GET", "/v2/library/web/blobs/" + apiOnly.digest());
        assertEquals(404, r.statusCode());
        assertEquals("BLOB_UNKNOWN", errorCode(r));
        r = send("HEAD", "/v2/library/web/blobs/" + apiOnly.digest());
        assertEquals(404, r.statusCode());
        assertEquals(0, r.body().length);
    }

    @ParameterizedTest
    @ValueSource(strings = {"POST", "PUT", "PATCH", "DELETE"})
    void everyWriteMethodIs405Unsupported(String method) throws Exception {
        for (String path : List.of("/v2/library/web/blobs/uploads/", "/v2/library/web/manifests/1.0", "/v2/library/web/manifests/2.0",
                "/v2/library/web/blobs/" + web.blobs().get(0).digest(), "/v2/", "/v2/library/new/blobs/uploads/")) {
            HttpResponse<byte[]> r = send(method, path);
            assertEquals(405, r.statusCode(), method + " " + path);
            assertEquals("UNSUPPORTED", errorCode(r));
            assertEquals("GET, HEAD", r.headers().firstValue("Allow").orElse(""));
        }
        // nothing changed
        assertArrayEquals(web.top().bytes(), send("GET", "/v2/library/web/manifests/1.0").body());
    }

    @ParameterizedTest
    @ValueSource(strings = {
            "GET /v2/library/../library/web/manifests/1.0 HTTP/1.1",
            "GET /v2/../../etc/passwd HTTP/1.1",
            "GET /v2/library/web/../web/blobs/uploads HTTP/1.1",
            "GET /v2/library%2Fweb/manifests/1.0 HTTP/1.1",
            "GET /v2/library%2fweb/manifests/1.0 HTTP/1.1",
            "GET /v2/library/%2e%2e/library/web/manifests/1.0 HTTP/1.1",
            "GET /v2/library/web/manifests/..%2F..%2Fetc HTTP/1.1",
            "GET /v2/library//web/manifests/1.0 HTTP/1.1",
            "GET /v2/./library/web/manifests/1.0 HTTP/1.1",
            "GET /v2/Library/Web/manifests/1.0 HTTP/1.1"})
    void traversalAndEncodedSlashesAreRefused(String requestLine) throws Exception {
        String answer = raw(requestLine);
        String status = answer.substring(0, answer.indexOf("\r\n"));
        assertTrue(status.matches("HTTP/1.1 40[04] .*"), requestLine + " -> " + status);
        assertTrue(answer.contains("\"code\":\"NAME_INVALID\"") || answer.contains("\"code\":\"NAME_UNKNOWN\""), answer);
        assertFalse(answer.contains(new String(web.top().bytes(), StandardCharsets.ISO_8859_1)));
    }

    @ParameterizedTest
    @ValueSource(strings = {"sha256:xyz", "sha256:", "sha256:ABCDEF0123456789ABCDEF0123456789ABCDEF0123456789ABCDEF0123456789",
            "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcde", "md5:d41d8cd98f00b204e9800998ecf8427e",
            "sha512:0123", ":abc", "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef0"})
    void malformedDigestsAre400DigestInvalid(String digest) throws Exception {
        for (String kind : List.of("blobs", "manifests", "referrers")) {
            HttpResponse<byte[]> r = send("GET", "/v2/library/web/" + kind + "/" + digest);
            assertEquals(400, r.statusCode(), kind + " " + digest);
            assertEquals("DIGEST_INVALID", errorCode(r));
        }
    }

    @Test
    void invalidTagsAndNamesAre400() throws Exception {
        HttpResponse<byte[]> r = send("GET", "/v2/library/web/manifests/.hidden");
        assertEquals(400, r.statusCode());
        assertEquals("TAG_INVALID", errorCode(r));
        r = send("GET", "/v2/UPPER/manifests/1.0");
        assertEquals(400, r.statusCode());
        assertEquals("NAME_INVALID", errorCode(r));
    }

    @Test
    void tagsListAndCatalogWithPagination() throws Exception {
        JsonNode tags = JSON.readTree(send("GET", "/v2/library/web/tags/list").body());
        assertEquals("library/web", tags.get("name").asText());
        assertEquals(List.of("1.0"), texts(tags.get("tags")));
        JsonNode cat = JSON.readTree(send("GET", "/v2/_catalog").body());
        assertEquals(List.of("library/web", "team/api"), texts(cat.get("repositories")));
        HttpResponse<byte[]> page = send("GET", "/v2/_catalog?n=1");
        assertEquals(List.of("library/web"), texts(JSON.readTree(page.body()).get("repositories")));
        assertEquals("</v2/_catalog?n=1&last=library/web>; rel=\"next\"", page.headers().firstValue("Link").orElse(""));
        page = send("GET", "/v2/_catalog?n=1&last=library/web");
        assertEquals(List.of("team/api"), texts(JSON.readTree(page.body()).get("repositories")));
        assertTrue(page.headers().firstValue("Link").isEmpty());
        assertEquals(404, send("GET", "/v2/library/none/tags/list").statusCode());
    }

    static List<String> texts(JsonNode array) {
        List<String> out = new ArrayList<>();
        array.forEach(n -> out.add(n.asText()));
        return out;
    }

    @Test
    void referrersListTheManifestsWhoseSubjectIsTheDigest() throws Exception {
        HttpResponse<byte[]> r = send("GET", "/v2/library/web/referrers/" + web.top().digest());
        assertEquals(200, r.statusCode());
        assertEquals(MediaType.OCI_INDEX.value(), r.headers().firstValue("Content-Type").orElse(""));
        JsonNode index = JSON.readTree(r.body());
        assertEquals(2, index.get("schemaVersion").asInt());
        assertEquals(1, index.get("manifests").size());
        JsonNode d = index.get("manifests").get(0);
        assertEquals(sbom.digest().toString(), d.get("digest").asText());
        assertEquals(sbom.size(), d.get("size").asLong());
        assertEquals("application/spdx+json", d.get("artifactType").asText());
        assertEquals("sbom", d.get("annotations").get("org.example.kind").asText());
        // the referrer itself is served, and so is its layer
        assertArrayEquals(sbom.bytes(), send("GET", "/v2/library/web/manifests/" + sbom.digest()).body());
        assertArrayEquals(sbomLayer.bytes(), send("GET", "/v2/library/web/blobs/" + sbomLayer.digest()).body());
        // filtered
        r = send("GET", "/v2/library/web/referrers/" + web.top().digest() + "?artifactType=application%2Fvnd.example.other");
        assertEquals(0, JSON.readTree(r.body()).get("manifests").size());
        assertEquals("artifactType", r.headers().firstValue("OCI-Filters-Applied").orElse(""));
        r = send("GET", "/v2/library/web/referrers/" + web.top().digest() + "?artifactType=application%2Fspdx%2Bjson");
        assertEquals(1, JSON.readTree(r.body()).get("manifests").size());
        // no referrers (or an unknown subject): an empty index, never 404
        for (Digest none : List.of(api.top().digest(), Digest.sha256(new byte[3]))) {
            r = send("GET", "/v2/team/api/referrers/" + none);
            assertEquals(200, r.statusCode());
            assertEquals(0, JSON.readTree(r.body()).get("manifests").size());
        }
        // the referrer belongs to library/web's graph, not to team/api's
        assertEquals(0, JSON.readTree(send("GET", "/v2/team/api/referrers/" + web.top().digest()).body()).get("manifests").size());
    }

    @Test
    void sixtyFourConcurrentClientsGetCorrectContent() throws Exception {
        ExecutorService pool = Executors.newFixedThreadPool(64);
        try {
            List<Future<String>> results = new ArrayList<>();
            for (int i = 0; i < 64; i++) {
                int n = i;
                results.add(pool.submit(() -> {
                    HttpClient own = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
                    TestImages.Blob b = web.blobs().get(n % web.blobs().size());
                    for (int k = 0; k < 4; k++) {
                        HttpResponse<InputStream> r = own.send(HttpRequest.newBuilder(URI.create(base + "/v2/library/web/blobs/" + b.digest())).build(),
                                HttpResponse.BodyHandlers.ofInputStream());
                        byte[] got;
                        try (InputStream in = r.body()) {
                            got = in.readAllBytes();
                        }
                        if (r.statusCode() != 200 || !Digest.sha256(got).equals(b.digest())) {
                            return "client " + n + ": " + r.statusCode();
                        }
                        HttpResponse<byte[]> m = own.send(HttpRequest.newBuilder(URI.create(base + "/v2/library/web/manifests/1.0")).build(),
                                HttpResponse.BodyHandlers.ofByteArray());
                        if (!Arrays.equals(m.body(), web.top().bytes())) {
                            return "client " + n + ": manifest differs";
                        }
                    }
                    return "ok";
                }));
            }
            for (Future<String> f : results) {
                assertEquals("ok", f.get());
            }
        } finally {
            pool.shutdownNow();
        }
    }

    @Test
    void everyRequestIsOneLogLine() throws Exception {
        String marker = "/v2/library/web/manifests/log-" + System.nanoTime();
        send("GET", marker);
        send("HEAD", "/v2/library/web/manifests/1.0");
        send("PUT", "/v2/library/web/manifests/1.0");
        String text = Files.readString(log, StandardCharsets.UTF_8);
        String line = text.lines().filter(l -> l.contains(marker)).findFirst().orElseThrow(() -> new AssertionError(text));
        String[] f = line.split(" ");
        assertEquals(7, f.length, line);
        assertEquals("127.0.0.1", f[1]);
        assertEquals("GET", f[2]);
        assertEquals(marker, f[3]);
        assertEquals("404", f[4]);
        assertNotEquals("0", f[5]);
        assertTrue(f[6].matches("\\d+ms"), line);
        assertTrue(text.lines().anyMatch(l -> l.matches(".* HEAD /v2/library/web/manifests/1\\.0 200 0 \\d+ms")), text);
        assertTrue(text.lines().anyMatch(l -> l.matches(".* PUT /v2/library/web/manifests/1\\.0 405 \\d+ \\d+ms")), text);
    }

    /** What docker/podman/skopeo do first against an "insecure" registry: a TLS ClientHello. It is answered, not left hanging. */
    @Test
    void aTlsHandshakeOnThePlainPortGetsAnHttp400AtOnce() throws Exception {
        URI u = URI.create(base);
        try (Socket s = new Socket(u.getHost(), u.getPort())) {
            s.setSoTimeout(30_000);
            // the start of a TLS 1.2 ClientHello record: no line end for an HTTP parser to wait for
            s.getOutputStream().write(new byte[] {0x16, 0x03, 0x01, 0x00, (byte) 0xa5, 0x01, 0x00, 0x00, (byte) 0xa1, 0x03, 0x03});
            s.getOutputStream().flush();
            String answer = new String(s.getInputStream().readAllBytes(), StandardCharsets.ISO_8859_1);
            assertTrue(answer.startsWith("HTTP/1.1 400 ") && answer.endsWith("Client sent an HTTP request to an HTTPS server.\n"), answer);
        }
        // and a real TLS client fails fast instead of waiting for a handshake timeout
        javax.net.ssl.SSLContext trustAll = javax.net.ssl.SSLContext.getInstance("TLS");
        trustAll.init(null, null, null);
        HttpClient tls = HttpClient.newBuilder().sslContext(trustAll).build();
        org.junit.jupiter.api.Assertions.assertThrows(IOException.class,
                () -> tls.send(HttpRequest.newBuilder(URI.create(base.replace("http://", "https://") + "/v2/")).build(), HttpResponse.BodyHandlers.discarding()));
    }

    @Test
    void http10AndKeepAliveRequestsAreAnswered() throws Exception {
        String a = raw("GET /v2/library/web/manifests/1.0 HTTP/1.0");
        assertTrue(a.startsWith("HTTP/1.1 200 OK\r\n") && a.endsWith(new String(web.top().bytes(), StandardCharsets.ISO_8859_1)), a);
        URI u = URI.create(base);
        try (Socket s = new Socket(u.getHost(), u.getPort())) {
            String two = "HEAD /v2/ HTTP/1.1\r\nHost: x\r\n\r\nGET /v2/team/api/tags/list HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n";
            s.getOutputStream().write(two.getBytes(StandardCharsets.ISO_8859_1));
            String both = new String(s.getInputStream().readAllBytes(), StandardCharsets.ISO_8859_1);
            assertEquals(2, both.split("HTTP/1.1 200 OK", -1).length - 1, both);
            assertTrue(both.endsWith("{\"name\":\"team/api\",\"tags\":[\"2.1\"]}"), both);
        }
        String bad = raw("GARBAGE");
        assertTrue(bad.startsWith("HTTP/1.1 400 "), bad);
    }

    @Test
    void unknownPathsAre404() throws Exception {
        assertEquals(404, send("GET", "/").statusCode());
        assertEquals(404, send("GET", "/v2/library/web/whatever").statusCode());
        assertEquals(404, send("GET", "/v2/library/web/blobs/uploads/abc").statusCode());
        assertTrue(errors.isEmpty(), errors.toString());
    }
}
