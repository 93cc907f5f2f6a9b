package dev.airlock.registry;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.airlock.error.RegistryException;
import dev.airlock.model.Descriptor;
import dev.airlock.model.MediaType;
import dev.airlock.testkit.FaultProxy;
import dev.airlock.testkit.RegistryProcess;
import java.io.ByteArrayInputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/** The primitives preflight needs, against real docker-registry processes. */
class ProbePrimitivesTest {
    static final byte[] BYTES = "probe".getBytes(StandardCharsets.UTF_8);
    static final Descriptor BLOB = Descriptor.ofBytes(MediaType.OCI_LAYER_GZIP, BYTES);

    @Test
    void plainRegistryAnswersOpenAndDeletesBlobs() throws Exception {
        try (RegistryProcess reg = RegistryProcess.start();
             RegistryStore store = RegistryStore.open(reg.host(), RegistryOptions.anonymous())) {
            RegistryStore.ApiProbe p = store.probeApi();
            assertEquals(200, p.status());
            assertEquals("", p.challenge());
            assertEquals("registry/2.0", p.apiVersion());
            store.checkLogin();
            store.checkPush("scratch/x");
            // the cancelled session left no repository behind
            assertFalse(Files.exists(reg.storage().resolve("docker/registry/v2/repositories/scratch/x/_layers")));
            store.pushBlob("scratch/x", BLOB, () -> new ByteArrayInputStream(BYTES));
            assertEquals(Optional.of((long) BYTES.length), store.blobSize("scratch/x", BLOB.digest()));
            store.deleteBlob("scratch/x", BLOB.digest());
            assertEquals(Optional.empty(), store.blobSize("scratch/x", BLOB.digest()));
            assertFalse(store.hasReferrersApi("scratch/x", BLOB.digest()), "Distribution 2.8 has no referrers API");
        }
    }

    @Test
    void refusedDeleteIsTheRegistrysAnswer() {
        try (RegistryProcess reg = RegistryProcess.start(); FaultProxy proxy = FaultProxy.in(reg);
             RegistryStore store = RegistryStore.open(proxy.host(), RegistryOptions.anonymous())) {
            store.pushBlob("scratch/y", BLOB, () -> new ByteArrayInputStream(BYTES));
            proxy.rejectRequests(head -> head.startsWith("DELETE "), 405);
            RegistryException e = assertThrows(RegistryException.class, () -> store.deleteBlob("scratch/y", BLOB.digest()));
            assertEquals(405, e.status());
            assertTrue(e.getMessage().startsWith("deleting blob " + BLOB.digest()), e.getMessage());
        }
    }

    @Test
    void basicAuthChallengeAndLogin() {
        try (RegistryProcess reg = RegistryProcess.startTlsBasic("ops", "pw-123")) {
            TlsOptions tls = TlsOptions.defaults().withCaCert(reg.caCertificate().orElseThrow());
            try (RegistryStore anon = RegistryStore.open(reg.host(), RegistryOptions.anonymous().withTls(tls))) {
                RegistryStore.ApiProbe p = anon.probeApi();
                assertEquals(401, p.status());
                assertEquals("basic", p.challenge());
                assertThrows(RegistryException.class, anon::checkLogin);
            }
            RegistryOptions wrong = RegistryOptions.anonymous().withTls(tls).withCredentials(CredentialSource.of(Credentials.basic("ops", "nope")));
            try (RegistryStore bad = RegistryStore.open(reg.host(), wrong)) {
                assertEquals(401, assertThrows(RegistryException.class, bad::checkLogin).status());
            }
            RegistryOptions good = wrong.withCredentials(CredentialSource.of(Credentials.basic("ops", "pw-123")));
            try (RegistryStore ok = RegistryStore.open(reg.host(), good)) {
                ok.checkLogin();
                ok.checkPush("team/app");
            }
        }
    }

    @Test
    void pullOnlyTokensCannotPush() {
        try (RegistryProcess reg = RegistryProcess.startTokenAuth("robot", "pw", null)) {
            reg.tokenIssuer().orElseThrow().grantPullOnly(true);
            RegistryOptions o = RegistryOptions.anonymous().withCredentials(CredentialSource.of(Credentials.basic("robot", "pw")));
            try (RegistryStore store = RegistryStore.open(reg.host(), o)) {
                assertEquals("bearer", store.probeApi().challenge());
                store.checkLogin();
                RegistryException e = assertThrows(RegistryException.class, () -> store.checkPush("team/app"));
                assertEquals(401, e.status());
            }
            reg.tokenIssuer().orElseThrow().grantPullOnly(false);
            try (RegistryStore store = RegistryStore.open(reg.host(), o)) {
                store.checkPush("team/app");
            }
        }
    }

    @Test
    void unreachableRegistryThrowsWithStatusZero() {
        int port = RegistryProcess.freePort();
        try (RegistryStore store = RegistryStore.open("127.0.0.1:" + port,
                RegistryOptions.anonymous().withTransport(TransportOptions.defaults().withMaxAttempts(1)))) {
            assertEquals(0, assertThrows(RegistryException.class, store::probeApi).status());
        }
    }

}
