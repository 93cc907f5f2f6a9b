package dev.airlock.serve;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.airlock.bundle.BundleWriter;
import dev.airlock.error.AirlockException;
import dev.airlock.error.ExitCodes;
import dev.airlock.error.UsageException;
import dev.airlock.progress.ProgressListener;
import dev.airlock.sign.Signer;
import dev.airlock.sign.TrustPolicy;
import dev.airlock.testkit.TestImages;
import dev.airlock.testkit.TestImages.TestImage;
import dev.airlock.testkit.TestPki;
import java.io.IOException;
import java.io.RandomAccessFile;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyPair;
import java.security.KeyStore;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CopyOnWriteArrayList;
import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManagerFactory;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** What {@link BundleServer#start} checks before it listens, several bundles, damaged content, TLS. */
class ServeStartTest {
    @TempDir
    Path dir;

    static final ServeRequest.Listen ANY_PORT = new ServeRequest.Listen("127.0.0.1", 0);
    static final HttpClient HTTP = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();

    static TestImage image(String name, String tag, long seed) {
        return TestImages.image(name).oci().tag(tag).platforms("linux/amd64", "linux/arm64/v8").baseSeed(seed).layerSize(8 * 1024).build();
    }

    Path bundle(String file, Optional<Signer> signer, ServeBundles.Entry... entries) {
        return ServeBundles.write(dir.resolve(file), List.of(entries), signer);
    }

    static BundleServer start(List<Path> bundles, TrustPolicy trust) {
        return BundleServer.start(ServeRequest.of(bundles, trust, ANY_PORT), ProgressListener.NONE);
    }

    static int code(BundleServer s, String path) throws Exception {
        return HTTP.send(HttpRequest.newBuilder(URI.create(s.url() + path)).build(), HttpResponse.BodyHandlers.discarding()).statusCode();
    }

    @Test
    void aBundleFailingItsSignatureIsRefusedWithExitCode3() throws Exception {
        KeyPair signer = ServeHttpTest.keyPair();
        KeyPair other = ServeHttpTest.keyPair();
        Path b = bundle("signed.tar", Optional.of(Signer.of(signer.getPrivate(), Optional.empty(), "k")),
                new ServeBundles.Entry("docker.io/library/a:1", image("a", "1", 1)));
        AirlockException e = assertThrows(AirlockException.class, () -> start(List.of(b), TrustPolicy.trusting(other.getPublic())));
        assertEquals(ExitCodes.VERIFICATION, e.exitCode(), e.getMessage());
        // unsigned with a trust key given: refused too
        Path u = bundle("unsigned.tar", Optional.empty(), new ServeBundles.Entry("docker.io/library/a:1", image("a", "1", 1)));
        e = assertThrows(AirlockException.class, () -> start(List.of(u), TrustPolicy.trusting(other.getPublic())));
        assertEquals(ExitCodes.VERIFICATION, e.exitCode(), e.getMessage());
        // and the trusted signer is served
        try (BundleServer s = start(List.of(b), TrustPolicy.trusting(signer.getPublic()))) {
            assertEquals(200, code(s, "/v2/library/a/manifests/1"));
        }
    }

    @Test
    void severalBundlesAreServedTogetherEachDigestOnce() throws Exception {
        TestImage a = image("a", "1", 1);
        TestImage b = image("b", "2", 1); // shares base layers with a
        Path one = bundle("one.tar", Optional.empty(), new ServeBundles.Entry("docker.io/library/a:1", a));
        Path two = bundle("two.tar", Optional.empty(), new ServeBundles.Entry("docker.io/library/b:2", b),
                new ServeBundles.Entry("docker.io/library/a:1", a));
        try (BundleServer s = start(List.of(one, two), TrustPolicy.allowUnsignedOnly())) {
            assertEquals(2, s.bundleCount());
            // a:1 is in both bundles: served, and shown in the start line, once
            assertEquals(List.of("library/a:1", "library/b:2"), s.images().stream().map(i -> i.repository() + ":" + i.reference()).toList());
            java.util.Set<String> unique = new java.util.HashSet<>();
            a.blobs().forEach(x -> unique.add(x.digest().toString()));
            b.blobs().forEach(x -> unique.add(x.digest().toString()));
            a.manifestDigests().forEach(x -> unique.add(x.toString()));
            b.manifestDigests().forEach(x -> unique.add(x.toString()));
            assertEquals(unique.size(), s.blobCount());
            assertEquals(200, code(s, "/v2/library/a/manifests/1"));
            assertEquals(200, code(s, "/v2/library/b/manifests/2"));
            assertEquals(200, code(s, "/v2/library/b/blobs/" + b.blobs().get(0).digest()));
        }
    }

    @Test
    void theSameTagWithTwoDigestsIsRefusedInOneLine() {
        Path one = bundle("one.tar", Optional.empty(), new ServeBundles.Entry("docker.io/library/a:1", image("a", "1", 1)));
        Path two = bundle("two.tar", Optional.empty(), new ServeBundles.Entry("docker.io/library/a:1", image("a", "1", 2)));
        UsageException e = assertThrows(UsageException.class, () -> start(List.of(one, two), TrustPolicy.allowUnsignedOnly()));
        assertTrue(e.getMessage().startsWith("serving library/a:1: it is sha256:"), e.getMessage());
        assertTrue(e.getMessage().contains("one.tar") && e.getMessage().contains("two.tar"), e.getMessage());
        assertFalse(e.getMessage().contains("\n"));
        // two hosts, one name: --keep-registry-host keeps them apart
        Path hosts = bundle("hosts.tar", Optional.empty(), new ServeBundles.Entry("docker.io/library/a:1", image("a", "1", 1)),
                new ServeBundles.Entry("ghcr.io/library/a:1", image("a", "1", 2)));
        e = assertThrows(UsageException.class, () -> start(List.of(hosts), TrustPolicy.allowUnsignedOnly()));
        assertTrue(e.getMessage().endsWith("or use --keep-registry-host"), e.getMessage());
        try (BundleServer s = BundleServer.start(new ServeRequest(List.of(hosts), TrustPolicy.allowUnsignedOnly(), false, true, ANY_PORT,
                Optional.empty(), Optional.empty(), null), ProgressListener.NONE)) {
            assertEquals(List.of("docker.io/library/a", "ghcr.io/library/a"), s.images().stream().map(BundleServer.Image::repository).toList());
        }
    }

    @Test
    void aCompressedBundleIsRefusedWithTheDecompressCommand() {
        Path zst = dir.resolve("images.tar.zst");
        ServeBundles.write(zst, List.of(new ServeBundles.Entry("docker.io/library/a:1", image("a", "1", 1))), Optional.empty());
        UsageException e = assertThrows(UsageException.class, () -> start(List.of(zst), TrustPolicy.allowUnsignedOnly()));
        assertTrue(e.getMessage().contains("zstd -d " + zst + " -o images.tar"), e.getMessage());
    }

    @Test
    void aDamagedBlobIsNeverSentCompleteAndVerifyAllRefusesToStart() throws Exception {
        TestImage a = image("a", "1", 1);
        Path b = bundle("damaged.tar", Optional.empty(), new ServeBundles.Entry("docker.io/library/a:1", a));
        TestImages.Blob layer = a.platforms().get(0).layers().get(2);
        flipByteOf(b, layer.bytes());
        List<String> errors = new CopyOnWriteArrayList<>();
        try (BundleServer s = BundleServer.start(new ServeRequest(List.of(b), TrustPolicy.allowUnsignedOnly(), false, false, ANY_PORT,
                Optional.empty(), Optional.empty(), errors::add), ProgressListener.NONE)) {
            String url = s.url() + "/v2/library/a/blobs/" + layer.digest();
            assertThrows(IOException.class, () -> HTTP.send(HttpRequest.newBuilder(URI.create(url)).build(), HttpResponse.BodyHandlers.ofByteArray()));
            // other blobs are fine
            TestImages.Blob ok = a.platforms().get(1).layers().get(2);
            assertArrayEquals(ok.bytes(), HTTP.send(HttpRequest.newBuilder(URI.create(s.url() + "/v2/library/a/blobs/" + ok.digest())).build(),
                    HttpResponse.BodyHandlers.ofByteArray()).body());
        }
        assertEquals(1, errors.size(), errors.toString());
        assertTrue(errors.get(0).contains(layer.digest().hex()) && errors.get(0).contains("content has digest"), errors.get(0));
        AirlockException e = assertThrows(AirlockException.class, () -> BundleServer.start(new ServeRequest(List.of(b),
                TrustPolicy.allowUnsignedOnly(), true, false, ANY_PORT, Optional.empty(), Optional.empty(), null), ProgressListener.NONE));
        assertEquals(ExitCodes.VERIFICATION, e.exitCode(), e.getMessage());
    }

    /**
     * A damaged layer spanning several 256 KiB transfer buffers: its first whole read arrives short
     * of its Content-Length, later requests for it get a 500 without a byte of it, and a Range
     * request is answered only from a blob whose whole content matched (a damaged blob asked for
     * first by a Range request: 500; an intact one: the right part, then the whole blob by the
     * direct-buffer path).
     */
    @Test
    void aDamagedLargeBlobIsCutShortAndNoPartOfItIsServedAfterwards() throws Exception {
        TestImage a = TestImages.image("big").oci().tag("1").platforms("linux/amd64", "linux/arm64/v8").baseSeed(7).layerSize(640 * 1024).build();
        Path b = bundle("big.tar", Optional.empty(), new ServeBundles.Entry("docker.io/library/big:1", a));
        TestImages.Blob bad = a.platforms().get(0).layers().get(2);
        TestImages.Blob good = a.platforms().get(1).layers().get(2);
        assertTrue(bad.bytes().length > 2 * 256 * 1024, "spans several transfer buffers: " + bad.bytes().length);
        flipByteOf(b, bad.bytes());
        for (boolean rangeFirst : new boolean[] {false, true}) {
            List<String> errors = new CopyOnWriteArrayList<>();
            try (BundleServer s = BundleServer.start(new ServeRequest(List.of(b), TrustPolicy.allowUnsignedOnly(), false, false, ANY_PORT,
                    Optional.empty(), Optional.empty(), errors::add), ProgressListener.NONE)) {
                String path = "/v2/library/big/blobs/" + bad.digest();
                if (rangeFirst) {
                    RawAnswer part = RawAnswer.get(s, path, "Range: bytes=0-99");
                    assertEquals(500, part.status(), part.head());
                    assertFalse(part.head().contains("Content-Range"), part.head());
                } else {
                    RawAnswer first = RawAnswer.get(s, path, null);
                    assertEquals(200, first.status(), first.head());
                    assertTrue(first.head().contains("Content-Length: " + bad.bytes().length), first.head());
                    assertTrue(first.body().length < bad.bytes().length, "a damaged blob must arrive short: " + first.body().length);
                }
                assertEquals(1, errors.size(), errors.toString());
                assertTrue(errors.get(0).contains(bad.digest().hex()) && errors.get(0).contains("content has digest"), errors.get(0));
                RawAnswer again = RawAnswer.get(s, path, null);
                assertEquals(500, again.status(), again.head());
                assertFalse(new String(again.body(), java.nio.charset.StandardCharsets.ISO_8859_1).contains(new String(bad.bytes(), 0, 64,
                        java.nio.charset.StandardCharsets.ISO_8859_1)), "no byte of a damaged blob after the first failure");
                assertEquals(500, RawAnswer.get(s, path, "Range: bytes=10-20").status());
                // an intact large blob: a part first (whole blob hashed, then the part), then whole
                String ok = "/v2/library/big/blobs/" + good.digest();
                RawAnswer part = RawAnswer.get(s, ok, "Range: bytes=300000-300099");
                assertEquals(206, part.status(), part.head());
                assertArrayEquals(java.util.Arrays.copyOfRange(good.bytes(), 300000, 300100), part.body());
                RawAnswer whole = RawAnswer.get(s, ok, null);
                assertEquals(200, whole.status(), whole.head());
                assertArrayEquals(good.bytes(), whole.body());
                assertEquals(1, errors.size(), errors.toString());
            }
        }
    }

    /** One GET on its own connection, read to the end of the stream as sent: status line and headers, then every body byte that came. */
    record RawAnswer(int status, String head, byte[] body) {
        static RawAnswer get(BundleServer s, String path, String extraHeader) throws IOException {
            try (java.net.Socket c = new java.net.Socket(s.address().getAddress(), s.address().getPort())) {
                c.setSoTimeout(10_000);
                String req = "GET " + path + " HTTP/1.1\r\nHost: x\r\nConnection: close\r\n" + (extraHeader == null ? "" : extraHeader + "\r\n") + "\r\n";
                c.getOutputStream().write(req.getBytes(java.nio.charset.StandardCharsets.US_ASCII));
                byte[] all = c.getInputStream().readAllBytes();
                int end = indexOf(all, "\r\n\r\n".getBytes(java.nio.charset.StandardCharsets.US_ASCII));
                assertTrue(end > 0, "no complete response head");
                String head = new String(all, 0, end, java.nio.charset.StandardCharsets.ISO_8859_1);
                return new RawAnswer(Integer.parseInt(head.substring(9, 12)), head, java.util.Arrays.copyOfRange(all, end + 4, all.length));
            }
        }
    }

    /** Changes one byte in the middle of {@code content}'s copy inside the tar. */
    static void flipByteOf(Path tar, byte[] content) throws IOException {
        byte[] all = Files.readAllBytes(tar);
        int at = indexOf(all, content);
        assertTrue(at > 0);
        try (RandomAccessFile f = new RandomAccessFile(tar.toFile(), "rw")) {
            f.seek(at + content.length / 2);
            f.write(all[at + content.length / 2] ^ 0x40);
        }
    }

    static int indexOf(byte[] hay, byte[] needle) {
        outer:
        for (int i = 0; i + needle.length <= hay.length; i++) {
            for (int j = 0; j < Math.min(needle.length, 64); j++) {
                if (hay[i + j] != needle[j]) {
                    continue outer;
                }
            }
            return i;
        }
        return -1;
    }

    @Test
    void anAddressInUseIsALocalIoError() throws Exception {
        Path b = bundle("a.tar", Optional.empty(), new ServeBundles.Entry("docker.io/library/a:1", image("a", "1", 1)));
        try (ServerSocket taken = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
            AirlockException e = assertThrows(AirlockException.class, () -> BundleServer.start(ServeRequest.of(List.of(b),
                    TrustPolicy.allowUnsignedOnly(), new ServeRequest.Listen("127.0.0.1", taken.getLocalPort())), ProgressListener.NONE));
            assertEquals(ExitCodes.IO, e.exitCode(), e.getMessage());
        }
    }

    @Test
    void listenAddressesParse() {
        assertEquals(new ServeRequest.Listen("127.0.0.1", 5000), ServeRequest.Listen.parse(ServeRequest.DEFAULT_LISTEN));
        assertEquals(new ServeRequest.Listen("::1", 5001), ServeRequest.Listen.parse("[::1]:5001"));
        assertEquals("[::1]:5001", ServeRequest.Listen.parse("[::1]:5001").toString());
        for (String bad : List.of("", "5000", "host:", ":5000", "::1:5000", "h:99999", "h:x")) {
            assertThrows(UsageException.class, () -> ServeRequest.Listen.parse(bad), bad);
        }
        assertThrows(UsageException.class, () -> ServeRequest.Tls.of(Path.of("a"), null));
    }

    @Test
    void servesHttpsWithTheGivenCertificate() throws Exception {
        TestPki.Issued ca = TestPki.ca("serve test CA");
        TestPki.Issued cert = TestPki.server(ca, "127.0.0.1");
        Path crt = cert.writeCertificate(dir.resolve("server.crt"));
        Path key = cert.writeKey(dir.resolve("server.key"));
        Path b = bundle("a.tar", Optional.empty(), new ServeBundles.Entry("docker.io/library/a:1", image("a", "1", 1)));
        try (BundleServer s = BundleServer.start(new ServeRequest(List.of(b), TrustPolicy.allowUnsignedOnly(), false, false, ANY_PORT,
                ServeRequest.Tls.of(crt, key), Optional.empty(), null), ProgressListener.NONE)) {
            assertTrue(s.url().startsWith("https://127.0.0.1:"), s.url());
            KeyStore ts = KeyStore.getInstance("PKCS12");
            ts.load(null, null);
            ts.setCertificateEntry("ca", ca.certificate());
            TrustManagerFactory tmf = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
            tmf.init(ts);
            SSLContext ctx = SSLContext.getInstance("TLS");
            ctx.init(null, tmf.getTrustManagers(), null);
            HttpClient https = HttpClient.newBuilder().sslContext(ctx).build();
            HttpResponse<String> r = https.send(HttpRequest.newBuilder(URI.create(s.url() + "/v2/library/a/tags/list")).build(), HttpResponse.BodyHandlers.ofString());
            assertEquals(200, r.statusCode());
            assertEquals("{\"name\":\"library/a\",\"tags\":[\"1\"]}", r.body());
        }
        // a key that is not the certificate's is refused at start
        Path otherKey = TestPki.server(ca, "other").writeKey(dir.resolve("other.key"));
        UsageException e = assertThrows(UsageException.class, () -> BundleServer.start(new ServeRequest(List.of(b), TrustPolicy.allowUnsignedOnly(),
                false, false, ANY_PORT, ServeRequest.Tls.of(crt, otherKey), Optional.empty(), null), ProgressListener.NONE));
        assertTrue(e.getMessage().contains("does not belong to the certificate"), e.getMessage());
    }
}
