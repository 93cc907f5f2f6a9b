package dev.airlock.registry;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.airlock.error.ExitCodes;
import dev.airlock.error.RegistryException;
import dev.airlock.model.Descriptor;
import dev.airlock.model.Digest;
import dev.airlock.model.MediaType;
import dev.airlock.model.RawManifest;
import dev.airlock.store.ImageDestination;
import dev.airlock.testkit.FaultProxy;
import dev.airlock.testkit.RegistryProcess;
import dev.airlock.testkit.StallServer;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Registries that stop answering: every request ends with a one-line RegistryException (exit 4)
 * naming the operation and the timeout, after the retries of the backoff policy, instead of
 * hanging. Short timeouts (500 ms) keep it fast; the @Timeout is only a guard against a hang.
 */
@Timeout(120)
class StallTest {
    static final Duration SHORT = Duration.ofMillis(500);

    static RegistryOptions shortTimeouts(int attempts) {
        return RegistryOptions.anonymous().withTransport(TransportOptions.defaults().withMaxAttempts(attempts)
                .withBackoff(Duration.ofMillis(10), Duration.ofMillis(20)).withTimeouts(Duration.ofSeconds(5), SHORT, SHORT));
    }

    static final Digest SOME = Digest.ofSha256(Digest.newSha256().digest("x".getBytes(StandardCharsets.UTF_8)));

    @Test
    void headThatIsNeverAnsweredTimesOutAfterTheRetries() throws Exception {
        try (StallServer server = new StallServer(StallServer.Mode.SILENT);
             RegistryStore store = RegistryStore.open(server.host(), shortTimeouts(3))) {
            RegistryException e = assertThrows(RegistryException.class, () -> store.blobSize("stall/me", SOME));
            assertEquals("checking blob " + SOME + " in " + server.host() + "/stall/me: no response within 500 ms (--timeout-response)"
                    + " (after 3 attempts)", e.getMessage());
            assertEquals(ExitCodes.REGISTRY, e.exitCode());
            assertEquals(3, server.requestLines().size(), server.requestLines().toString());
            assertTrue(server.requestLines().get(0).startsWith("HEAD /v2/stall/me/blobs/"), server.requestLines().toString());
        }
    }

    @Test
    void manifestPutThatIsNeverAnsweredTimesOut() throws Exception {
        RawManifest m = RawManifest.of(MediaType.OCI_MANIFEST, ("{\"schemaVersion\":2,\"mediaType\":\"" + MediaType.OCI_MANIFEST.value()
                + "\",\"config\":{\"mediaType\":\"application/vnd.oci.image.config.v1+json\",\"digest\":\"" + SOME + "\",\"size\":1},\"layers\":[]}")
                .getBytes(StandardCharsets.UTF_8));
        try (StallServer server = new StallServer(StallServer.Mode.SILENT);
             RegistryStore store = RegistryStore.open(server.host(), shortTimeouts(2))) {
            RegistryException e = assertThrows(RegistryException.class, () -> store.pushManifest("stall/me", "1.0", m));
            assertEquals("pushing manifest " + m.digest() + " to " + server.host() + "/stall/me as 1.0: no response within 500 ms"
                    + " (--timeout-response) (after 2 attempts)", e.getMessage());
            assertEquals(2, server.requestLines().stream().filter(l -> l.startsWith("PUT /v2/stall/me/manifests/1.0 ")).count(),
                    server.requestLines().toString());
        }
    }

    @Test
    void blobBodyThatStopsTimesOutAndSaysWhere() throws Exception {
        Descriptor blob = Descriptor.of(MediaType.OCI_LAYER, SOME, 1000);
        try (StallServer server = new StallServer(StallServer.Mode.HEADERS_THEN_STOP);
             RegistryStore store = RegistryStore.open(server.host(), shortTimeouts(2))) {
            RegistryException e = assertThrows(RegistryException.class, () -> {
                try (InputStream in = store.openBlob("stall/me", blob)) {
                    in.transferTo(java.io.OutputStream.nullOutputStream());
                }
            });
            assertEquals("fetching blob " + SOME + " from " + server.host() + "/stall/me: no data of the response body for 500 ms"
                    + " (--timeout-idle) after 10 of 1000 bytes (after 2 attempts)", e.getMessage());
            // the retry asked for the rest only
            assertEquals(2, server.requestLines().size(), server.requestLines().toString());
        }
    }

    @Test
    void uploadTheRegistryStopsReadingTimesOut() throws Exception {
        // larger than the loopback socket buffers of both ends, so the client's writes block
        FaultRegistryTest.Generated g = new FaultRegistryTest.Generated(7, 48L << 20);
        try (StallServer server = new StallServer(StallServer.Mode.STOP_READING_UPLOADS);
             RegistryStore store = RegistryStore.open(server.host(), shortTimeouts(2))) {
            RegistryException e = assertThrows(RegistryException.class,
                    () -> store.pushBlob("stall/me", g.descriptor, (ImageDestination.BlobContent) g::open));
            assertTrue(e.getMessage().startsWith("pushing blob " + g.descriptor.digest() + " to " + server.host() + "/stall/me: "
                    + "the registry took no data of the request body for 500 ms (--timeout-idle)"), e.getMessage());
            assertTrue(server.requestLines().stream().anyMatch(l -> l.startsWith("PUT /v2/stall/blobs/uploads/session-1")),
                    server.requestLines().toString());
        }
    }

    /** A registry that says it stored a manifest or blob under another digest failed the push: exit 4, not 3. */
    @Test
    void aPushAnsweredWithAWrongDockerContentDigestIsARegistryFailure() throws Exception {
        RawManifest m = RawManifest.of(MediaType.OCI_MANIFEST, ("{\"schemaVersion\":2,\"mediaType\":\"" + MediaType.OCI_MANIFEST.value()
                + "\",\"config\":{\"mediaType\":\"application/vnd.oci.image.config.v1+json\",\"digest\":\"" + SOME + "\",\"size\":1},\"layers\":[]}")
                .getBytes(StandardCharsets.UTF_8));
        String zeros = "sha256:" + "0".repeat(64);
        try (StallServer server = new StallServer(StallServer.Mode.WRONG_DIGEST);
             RegistryStore store = RegistryStore.open(server.host(), shortTimeouts(2))) {
            RegistryException e = assertThrows(RegistryException.class, () -> store.pushManifest("lie/me", "1.0", m));
            assertEquals("pushing manifest " + m.digest() + " to " + server.host() + "/lie/me as 1.0: the registry says it stored it as "
                    + zeros + " (wrong Docker-Content-Digest)", e.getMessage());
            assertEquals(ExitCodes.REGISTRY, e.exitCode());
            RegistryException head = assertThrows(RegistryException.class, () -> store.headManifest("lie/me", m.digest().toString()));
            assertEquals("checking manifest " + m.digest() + " in " + server.host() + "/lie/me: the registry answered for " + zeros
                    + " (wrong Docker-Content-Digest)", head.getMessage());
            assertEquals(ExitCodes.REGISTRY, head.exitCode());
        }
    }

    @Test
    void headersThatStopHalfWayTimeOut() throws Exception {
        try (StallServer server = new StallServer(StallServer.Mode.HALF_HEADERS);
             RegistryStore store = RegistryStore.open(server.host(), shortTimeouts(2))) {
            RegistryException e = assertThrows(RegistryException.class, () -> store.fetchManifest("stall/me", "1.0"));
            assertEquals("fetching manifest 1.0 from " + server.host() + "/stall/me: no response within 500 ms (--timeout-response)"
                    + " (after 2 attempts)", e.getMessage());
        }
    }

    /** A real registry behind a proxy that holds back one answer: the retry gets it. */
    @Test
    void oneStalledAnswerFromARealRegistryIsRetried() throws Exception {
        try (RegistryProcess registry = RegistryProcess.start(); FaultProxy proxy = FaultProxy.in(registry);
             RegistryStore store = RegistryStore.open(proxy.host(), shortTimeouts(3))) {
            byte[] content = "a small layer".getBytes(StandardCharsets.UTF_8);
            Descriptor d = Descriptor.of(MediaType.OCI_LAYER, Digest.ofSha256(Digest.newSha256().digest(content)), content.length);
            store.pushBlob("stall/real", d, () -> new java.io.ByteArrayInputStream(content));
            proxy.stallDownstreamAfter(0, Duration.ofSeconds(30));
            assertEquals(Optional.of((long) content.length), store.blobSize("stall/real", d.digest()));
            assertEquals(1, proxy.faultsFired());
        }
    }
}
