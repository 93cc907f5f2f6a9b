package dev.airlock.registry;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import dev.airlock.error.DigestMismatchException;
import dev.airlock.testkit.RegistryProcess;
import dev.airlock.testkit.TestImages;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/**
 * Blob GETs that the real registry answers with {@code 307} to another host:port. Distribution's
 * own {@code redirect} storage middleware (config {@code middleware: storage: - name: redirect,
 * options: baseurl: …}) works with 2.8's filesystem driver: every blob GET/HEAD is redirected to
 * {@code baseurl} + the blob's path in storage. The base URL points at a {@link BlobCdn}, a JDK
 * HttpServer on another port of 127.0.0.1 that serves the registry's storage directory read-only and
 * records the headers it receives. The client must follow the redirect itself, send no
 * {@code Authorization} to the other host, and still verify what the other host sends.
 */
class BlobRedirectTest {
    static final String USER = "alice";
    static final String PASSWORD = "s3cret-pa55word";

    /** A read-only "blob CDN" over a registry's storage directory, recording every request. */
    static final class BlobCdn implements AutoCloseable {
        record Seen(String method, String path, Map<String, List<String>> headers) {
            boolean hasAuthorization() {
                return headers.containsKey("Authorization");
            }
        }

        final HttpServer server;
        final ExecutorService executor = Executors.newCachedThreadPool();
        final List<Seen> seen = new CopyOnWriteArrayList<>();
        volatile Path root;
        volatile boolean corrupt;

        BlobCdn() throws IOException {
            server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 16);
            server.createContext("/", this::handle);
            server.setExecutor(executor);
            server.start();
        }

        /** The YAML section that makes the registry redirect blob reads here. */
        String registryConfig() {
            return String.join("\n",
                    "middleware:",
                    "  storage:",
                    "    - name: redirect",
                    "      options:",
                    "        baseurl: http://127.0.0.1:" + server.getAddress().getPort() + "/",
                    "");
        }

        long blobGets() {
            return seen.stream().filter(s -> s.method().equals("GET") && s.path().endsWith("/data")).count();
        }

        private void handle(HttpExchange ex) throws IOException {
            try (ex) {
                Map<String, List<String>> headers = new TreeMap<>(String.CASE_INSENSITIVE_ORDER);
                ex.getRequestHeaders().forEach((k, v) -> headers.put(k, List.copyOf(v)));
                String path = ex.getRequestURI().getPath();
                seen.add(new Seen(ex.getRequestMethod(), path, headers));
                Path base = root;
                Path file = base == null ? null : base.resolve(path.replaceFirst("^/+", "")).normalize();
                if (file == null || !file.startsWith(base) || !Files.isRegularFile(file)) {
                    ex.sendResponseHeaders(404, -1);
                    return;
                }
                long size = Files.size(file);
                ex.getResponseHeaders().set("Content-Type", "application/octet-stream");
                if (ex.getRequestMethod().equals("HEAD")) {
                    ex.getResponseHeaders().set("Content-Length", Long.toString(size));
                    ex.sendResponseHeaders(200, -1);
                    return;
                }
                if (!ex.getRequestMethod().equals("GET")) {
                    ex.sendResponseHeaders(405, -1);
                    return;
                }
                ex.sendResponseHeaders(200, size == 0 ? -1 : size);
                try (InputStream in = Files.newInputStream(file); OutputStream out = ex.getResponseBody()) {
                    byte[] buf = new byte[64 * 1024];
                    boolean first = true;
                    int n;
                    while ((n = in.read(buf)) > 0) {
                        if (first && corrupt) {
                            buf[0] ^= 0x01;
                        }
                        first = false;
                        out.write(buf, 0, n);
                    }
                }
            }
        }

        @Override
        public void close() {
            server.stop(0);
            executor.shutdownNow();
        }
    }

    /** Pushes an image, then reads every blob back through the redirect and checks the CDN's view. */
    static void blobsArriveVerifiedWithoutAuthorization(RegistryStore store, BlobCdn cdn, String repo) throws IOException {
        var img = TestImages.image("redirect-" + repo.replace('/', '-')).oci().singlePlatform("linux/amd64").build();
        img.pushTo(store, repo);
        long before = cdn.blobGets();
        for (TestImages.Blob b : img.blobs()) {
            assertEquals(b.descriptor().digest(), FaultRegistryTest.readAll(store.openBlob(repo, b.descriptor())));
            assertEquals(b.descriptor().size(), store.blobSize(repo, b.descriptor().digest()).orElseThrow());
        }
        assertEquals(img.blobs().size(), cdn.blobGets() - before, "every blob GET should have been redirected to the CDN: " + cdn.seen);
        assertFalse(cdn.seen.isEmpty());
        for (BlobCdn.Seen s : cdn.seen) {
            assertFalse(s.hasAuthorization(), "the CDN must never see the registry's Authorization header: " + s.method() + " " + s.path());
        }
    }

    /** With the CDN sending wrong bytes, the blob is refused (never a wrong blob accepted). */
    static void wrongBytesFromTheCdnAreRefused(RegistryStore store, BlobCdn cdn, String repo) {
        var img = TestImages.image("redirect-bad-" + repo.replace('/', '-')).oci().singlePlatform("linux/amd64").build();
        img.pushTo(store, repo);
        TestImages.Blob b = img.blobs().get(0);
        cdn.corrupt = true;
        try {
            assertThrows(DigestMismatchException.class, () -> FaultRegistryTest.readAll(store.openBlob(repo, b.descriptor())));
        } finally {
            cdn.corrupt = false;
        }
    }

    @Nested
    @TestInstance(TestInstance.Lifecycle.PER_CLASS)
    class TokenAuth {
        BlobCdn cdn;
        RegistryProcess registry;
        RegistryStore store;

        @BeforeAll
        void start() throws IOException {
            cdn = new BlobCdn();
            registry = RegistryProcess.startTokenAuth(USER, PASSWORD, null, cdn.registryConfig());
            cdn.root = registry.storage();
            store = RegistryStore.open(registry.host(), RegistryOptions.anonymous()
                    .withCredentials(CredentialSource.of(Credentials.basic(USER, PASSWORD))));
        }

        @BeforeEach
        void forget() {
            cdn.seen.clear();
        }

        @AfterAll
        void stop() {
            store.close();
            registry.close();
            cdn.close();
        }

        @Test
        void blobGetIsRedirectedToAnotherHostWhichNeverSeesTheToken() throws IOException {
            blobsArriveVerifiedWithoutAuthorization(store, cdn, "redirect/token");
            assertTrue(registry.tokenIssuer().orElseThrow().tokensIssued() >= 1, "the registry should have required a token");
        }

        @Test
        void wrongBytesBehindTheRedirectAreRefused() {
            wrongBytesFromTheCdnAreRefused(store, cdn, "redirect/token-bad");
        }
    }

    @Nested
    @TestInstance(TestInstance.Lifecycle.PER_CLASS)
    class BasicOverTls {
        BlobCdn cdn;
        RegistryProcess registry;
        RegistryStore store;

        @BeforeAll
        void start() throws IOException {
            cdn = new BlobCdn();
            registry = RegistryProcess.startTlsBasic(USER, PASSWORD, cdn.registryConfig());
            cdn.root = registry.storage();
            store = RegistryStore.open(registry.host(), new RegistryOptions(
                    TlsOptions.defaults().withCaCert(registry.caCertificate().orElseThrow()),
                    CredentialSource.of(Credentials.basic(USER, PASSWORD)), TransportOptions.defaults()));
        }

        @BeforeEach
        void forget() {
            cdn.seen.clear();
        }

        @AfterAll
        void stop() {
            store.close();
            registry.close();
            cdn.close();
        }

        @Test
        void blobGetIsRedirectedToAnotherHostWhichNeverSeesTheBasicCredentials() throws IOException {
            blobsArriveVerifiedWithoutAuthorization(store, cdn, "redirect/basic");
        }

        @Test
        void wrongBytesBehindTheRedirectAreRefused() {
            wrongBytesFromTheCdnAreRefused(store, cdn, "redirect/basic-bad");
        }
    }
}
