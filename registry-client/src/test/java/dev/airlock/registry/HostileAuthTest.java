package dev.airlock.registry;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.airlock.error.ExitCodes;
import dev.airlock.error.RegistryException;
import dev.airlock.model.Digest;
import dev.airlock.testkit.RegistryProcess;
import dev.airlock.testkit.StallServer;
import dev.airlock.testkit.TestPki;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Hostile registries around authentication and TLS, against a real docker-registry serving TLS:
 * a token realm on plain HTTP (credentials must not go there in clear text), a realm that is not
 * http(s), and a TLS registry on loopback reached over plain HTTP without --ca-cert.
 */
@Timeout(120)
class HostileAuthTest {
    static final String USER = "alice";
    static final String PASSWORD = "s3cret-passw0rd";
    static final Digest SOME = Digest.ofSha256(Digest.newSha256().digest("x".getBytes(StandardCharsets.UTF_8)));

    @TempDir
    Path tmp;

    /** A TLS registry whose token auth points at {@code realm}. */
    RegistryProcess tlsRegistryWithRealm(String realm) {
        Path bundle = TestPki.ca("token root").writeCertificate(tmp.resolve("token-root.pem"));
        return RegistryProcess.startTlsWith(String.join("\n",
                "auth:",
                "  token:",
                "    realm: " + realm,
                "    service: hostile",
                "    issuer: hostile",
                "    rootcertbundle: " + bundle.toAbsolutePath(),
                ""));
    }

    static RegistryOptions options(RegistryProcess registry, CredentialSource creds, boolean insecure) {
        TlsOptions tls = TlsOptions.defaults().withCertsDirectories(java.util.List.of())
                .withCaCert(registry.caCertificate().orElseThrow()).withInsecure(insecure);
        return new RegistryOptions(tls, creds, TransportOptions.defaults().withMaxAttempts(1)
                .withTimeouts(Duration.ofSeconds(5), Duration.ofMillis(500), Duration.ofMillis(500)));
    }

    @Test
    void credentialsAreNotSentToAPlainHttpRealmOfAnHttpsRegistry() throws Exception {
        try (StallServer listener = new StallServer(StallServer.Mode.SILENT);
             RegistryProcess registry = tlsRegistryWithRealm("http://" + listener.host() + "/token")) {
            try (RegistryStore store = RegistryStore.open(registry.host(),
                    options(registry, CredentialSource.of(Credentials.basic(USER, PASSWORD)), false))) {
                assertTrue(store.baseUri().toString().startsWith("https://"), store.baseUri().toString());
                RegistryException e = assertThrows(RegistryException.class, () -> store.blobSize("team/app", SOME));
                assertEquals(ExitCodes.REGISTRY, e.exitCode());
                assertEquals("checking blob " + SOME + " in " + registry.host() + "/team/app: " + registry.host()
                        + " is HTTPS but its token realm http://" + listener.host() + "/token is plain HTTP: credentials are not sent"
                        + " in clear text (pass --plain-http or --insecure to allow it)", e.getMessage());
                assertFalse(e.getMessage().contains(PASSWORD));
            }
            assertEquals(0, listener.connections(), "the plain-HTTP realm must not even be contacted: " + listener.heads());

            // the listener does record what reaches it: with --insecure the user accepted the downgrade
            try (RegistryStore store = RegistryStore.open(registry.host(),
                    options(registry, CredentialSource.of(Credentials.basic(USER, PASSWORD)), true))) {
                assertThrows(RegistryException.class, () -> store.blobSize("team/app", SOME));
            }
            assertEquals(1, listener.heads().size(), listener.heads().toString());
            assertTrue(listener.heads().get(0).contains("Authorization: Basic "), listener.heads().get(0));
        }
    }

    @Test
    void anonymousRequestsMayUseAPlainHttpRealmWithoutAuthorization() throws Exception {
        try (StallServer listener = new StallServer(StallServer.Mode.SILENT);
             RegistryProcess registry = tlsRegistryWithRealm("http://" + listener.host() + "/token");
             RegistryStore store = RegistryStore.open(registry.host(), options(registry, CredentialSource.anonymous(), false))) {
            RegistryException e = assertThrows(RegistryException.class, () -> store.blobSize("team/app", SOME));
            assertTrue(e.getMessage().contains("no response within 500 ms"), e.getMessage());
            assertEquals(1, listener.heads().size(), listener.heads().toString());
            assertFalse(listener.heads().get(0).toLowerCase(java.util.Locale.ROOT).contains("authorization:"), listener.heads().get(0));
        }
    }

    @Test
    void aRealmThatIsNotHttpIsRefused() {
        try (RegistryProcess registry = tlsRegistryWithRealm("file:///etc/passwd");
             RegistryStore store = RegistryStore.open(registry.host(),
                     options(registry, CredentialSource.of(Credentials.basic(USER, PASSWORD)), false))) {
            RegistryException e = assertThrows(RegistryException.class, () -> store.blobSize("team/app", SOME));
            assertEquals("checking blob " + SOME + " in " + registry.host() + "/team/app: " + registry.host()
                    + " sent an unusable token realm 'file:///etc/passwd' (only https:// and http:// realms are used)", e.getMessage());
            assertEquals(ExitCodes.REGISTRY, e.exitCode());
        }
    }

    /** Issue 18: plain HTTP (the loopback default) to a TLS port says so and what to pass. */
    @Test
    void plainHttpToALoopbackTlsRegistryNamesTlsAndTheOptions() throws Exception {
        try (RegistryProcess registry = RegistryProcess.startTlsBasic(USER, PASSWORD)) {
            try (RegistryStore store = RegistryStore.open(registry.host(), RegistryOptions.anonymous()
                    .withTls(TlsOptions.defaults().withCertsDirectories(java.util.List.of()))
                    .withCredentials(CredentialSource.of(Credentials.basic(USER, PASSWORD))))) {
                assertTrue(store.baseUri().toString().startsWith("http://"), store.baseUri().toString());
                RegistryException e = assertThrows(RegistryException.class, () -> store.blobSize("m4/coredns", SOME));
                assertEquals("checking blob " + SOME + " in " + registry.host() + "/m4/coredns: " + registry.host()
                        + " speaks TLS (HTTPS) but was reached over plain HTTP (the default for loopback registries): pass --ca-cert FILE"
                        + " with the CA certificate of its TLS certificate, or --insecure to skip verification", e.getMessage());
                assertEquals(ExitCodes.REGISTRY, e.exitCode());
            }
            // with --plain-http the fix is to drop it
            try (RegistryStore store = RegistryStore.open(registry.host(), RegistryOptions.anonymous()
                    .withTls(TlsOptions.defaults().withCertsDirectories(java.util.List.of()).withPlainHttp(true)))) {
                RegistryException e = assertThrows(RegistryException.class, () -> store.blobSize("m4/coredns", SOME));
                assertTrue(e.getMessage().endsWith(registry.host() + " speaks TLS (HTTPS) but was reached over plain HTTP: drop --plain-http"),
                        e.getMessage());
            }
            // what the message says works
            try (RegistryStore store = RegistryStore.open(registry.host(), RegistryOptions.anonymous()
                    .withTls(TlsOptions.defaults().withCertsDirectories(java.util.List.of()).withCaCert(registry.caCertificate().orElseThrow()))
                    .withCredentials(CredentialSource.of(Credentials.basic(USER, PASSWORD))))) {
                assertEquals(Optional.empty(), store.blobSize("m4/coredns", SOME));
            }
        }
    }

    /** A 400 of a plain-HTTP registry that is not a TLS port keeps the registry's own answer. */
    @Test
    void anOrdinary400IsNotMistakenForTls() {
        try (RegistryProcess registry = RegistryProcess.start();
             RegistryStore store = RegistryStore.open(registry.host(), RegistryOptions.anonymous())) {
            dev.airlock.model.RawManifest m = dev.airlock.model.RawManifest.of(dev.airlock.model.MediaType.OCI_MANIFEST,
                    ("{\"schemaVersion\":2,\"mediaType\":\"application/vnd.oci.image.manifest.v1+json\",\"config\":{\"mediaType\":"
                            + "\"application/vnd.oci.image.config.v1+json\",\"digest\":\"" + SOME + "\",\"size\":1},\"layers\":[]}")
                            .getBytes(StandardCharsets.UTF_8));
            RegistryException e = assertThrows(RegistryException.class, () -> store.pushManifest("plain/app", "1", m));
            assertEquals(400, e.status(), e.getMessage());
            assertFalse(e.getMessage().contains("TLS"), e.getMessage());
            assertTrue(e.getMessage().contains("MANIFEST_BLOB_UNKNOWN"), e.getMessage());
        }
    }
}
