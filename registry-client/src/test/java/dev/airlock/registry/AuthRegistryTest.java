package dev.airlock.registry;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.airlock.error.RegistryException;
import dev.airlock.model.Descriptor;
import dev.airlock.model.MediaType;
import dev.airlock.model.RawManifest;
import dev.airlock.testkit.RegistryProcess;
import dev.airlock.testkit.TestImages;
import dev.airlock.testkit.TokenIssuer;
import java.io.ByteArrayInputStream;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

class AuthRegistryTest {
    static final String USER = "alice";
    static final String PASSWORD = "s3cret-pa55word";

    static void roundTrip(RegistryStore store, String repo) throws Exception {
        var img = TestImages.image("auth-" + repo.replace('/', '-')).oci().platforms("linux/amd64", "linux/arm64").build();
        img.pushTo(store, repo);
        RawManifest got = store.fetchManifest(repo, img.tag());
        assertArrayEquals(img.top().bytes(), got.bytes());
        TestImages.Blob b = img.blobs().get(0);
        try (InputStream in = store.openBlob(repo, b.descriptor())) {
            assertArrayEquals(b.bytes(), in.readAllBytes());
        }
    }

    /** An auth.json with the right password only under {@code host/team} and a wrong one for the whole host. */
    static java.nio.file.Path writeAuthFile(java.nio.file.Path dir, String host) throws java.io.IOException {
        java.util.Base64.Encoder b64 = java.util.Base64.getEncoder();
        String good = b64.encodeToString((USER + ":" + PASSWORD).getBytes(StandardCharsets.UTF_8));
        String bad = b64.encodeToString((USER + ":not-the-password").getBytes(StandardCharsets.UTF_8));
        return java.nio.file.Files.writeString(dir.resolve("auth.json"), "{\"auths\":{\"" + host + "\":{\"auth\":\"" + bad + "\"},\""
                + host + "/team\":{\"auth\":\"" + good + "\"}}}", StandardCharsets.UTF_8);
    }

    @Nested
    @TestInstance(TestInstance.Lifecycle.PER_CLASS)
    class BasicOverTls {
        RegistryProcess registry;

        @BeforeAll
        void start() {
            registry = RegistryProcess.startTlsBasic(USER, PASSWORD);
        }

        @AfterAll
        void stop() {
            registry.close();
        }

        RegistryOptions options(CredentialSource creds) {
            return new RegistryOptions(TlsOptions.defaults().withCaCert(registry.caCertificate().orElseThrow()), creds, TransportOptions.defaults());
        }

        @Test
        void pushAndPullWithTheTestCa() throws Exception {
            try (RegistryStore store = RegistryStore.open(registry.host(), options(CredentialSource.of(Credentials.basic(USER, PASSWORD))))) {
                assertEquals("https://" + registry.host() + "/", store.baseUri().toString());
                roundTrip(store, "tls/app");
            }
        }

        @Test
        void untrustedCertificateIsAClearErrorNotARetryLoop() {
            try (RegistryStore store = RegistryStore.open(registry.host(), RegistryOptions.anonymous()
                    .withTls(TlsOptions.defaults().withCertsDirectories(java.util.List.of()).withInsecure(false))
                    .withCredentials(CredentialSource.of(Credentials.basic(USER, PASSWORD))))) {
                // loopback without TLS material means plain HTTP: the TLS port answers 400 to plain HTTP
                RegistryException e = assertThrows(RegistryException.class, () -> store.fetchManifest("tls/none", "latest"));
                assertFalse(e.getMessage().contains(PASSWORD), e.getMessage());
            }
            try (RegistryStore store = RegistryStore.open(registry.host(), RegistryOptions.anonymous()
                    .withTls(TlsOptions.defaults().withCaCert(writeOtherCa()))
                    .withCredentials(CredentialSource.of(Credentials.basic(USER, PASSWORD))))) {
                RegistryException e = assertThrows(RegistryException.class, () -> store.fetchManifest("tls/none", "latest"));
                assertTrue(e.getMessage().contains("TLS"), e.getMessage());
                assertEquals(0, e.status());
            }
        }

        private java.nio.file.Path writeOtherCa() {
            return dev.airlock.testkit.TestPki.ca("other").writeCertificate(registry.directory().resolve("other-ca.crt"));
        }

        @Test
        void insecureSkipsVerification() throws Exception {
            try (RegistryStore store = RegistryStore.open(registry.host(), RegistryOptions.anonymous()
                    .withTls(TlsOptions.defaults().withInsecure(true))
                    .withCredentials(CredentialSource.of(Credentials.basic(USER, PASSWORD))))) {
                assertTrue(store.headManifest("tls/nothing", "latest").isEmpty());
            }
        }

        @Test
        void certsDirectoryOfTheHostIsTrusted() throws Exception {
            java.nio.file.Path root = registry.directory().resolve("certs.d");
            java.nio.file.Path hostDir = java.nio.file.Files.createDirectories(root.resolve(registry.host()));
            java.nio.file.Files.copy(registry.caCertificate().orElseThrow(), hostDir.resolve("ca.crt"), java.nio.file.StandardCopyOption.REPLACE_EXISTING);
            try (RegistryStore store = RegistryStore.open(registry.host(), RegistryOptions.anonymous()
                    .withTls(TlsOptions.defaults().withCertsDirectories(java.util.List.of(root)))
                    .withCredentials(CredentialSource.of(Credentials.basic(USER, PASSWORD))))) {
                assertEquals("https://" + registry.host() + "/", store.baseUri().toString());
                assertTrue(store.headManifest("tls/nothing", "latest").isEmpty());
            }
        }

        @Test
        void authFileCredentialsKeyedByRepositoryPathAreUsedForThatPathOnly() throws Exception {
            java.nio.file.Path dir = java.nio.file.Files.createTempDirectory("airlock-authfile-");
            try {
                java.nio.file.Path file = writeAuthFile(dir, registry.host());
                try (RegistryStore store = RegistryStore.open(registry.host(), options(CredentialFiles.fromEnvironment(
                        java.util.Map.of("REGISTRY_AUTH_FILE", file.toString()), dir, java.time.Duration.ofSeconds(5))))) {
                    roundTrip(store, "team/app");
                    RegistryException e = assertThrows(RegistryException.class, () -> store.fetchManifest("other/app", "1.0"));
                    assertEquals(401, e.status(), e.getMessage());
                }
            } finally {
                RegistryProcess.deleteTree(dir);
            }
        }

        @Test
        void wrongPasswordIsRefusedWithoutLoopingAndWithoutTheSecret() {
            try (RegistryStore store = RegistryStore.open(registry.host(), options(CredentialSource.of(Credentials.basic(USER, "wrong-password-xyz"))))) {
                RegistryException e = assertThrows(RegistryException.class, () -> store.fetchManifest("tls/app", "latest"));
                assertEquals(401, e.status());
                assertTrue(e.getMessage().contains("401"), e.getMessage());
                assertFalse(e.getMessage().contains("wrong-password-xyz"), e.getMessage());
            }
        }

        @Test
        void noCredentialsSaysSo() {
            try (RegistryStore store = RegistryStore.open(registry.host(), options(CredentialSource.anonymous()))) {
                RegistryException e = assertThrows(RegistryException.class, () -> store.blobSize("tls/app", dev.airlock.model.Digest.sha256(new byte[0])));
                assertEquals(401, e.status());
                assertTrue(e.getMessage().contains("requires credentials"), e.getMessage());
            }
        }
    }

    @Nested
    @TestInstance(TestInstance.Lifecycle.PER_CLASS)
    class TokenAuth {
        RegistryProcess registry;
        TokenIssuer issuer;

        @BeforeAll
        void start() {
            registry = RegistryProcess.startTokenAuth(USER, PASSWORD, "refresh-me-please");
            issuer = registry.tokenIssuer().orElseThrow();
        }

        @AfterAll
        void stop() {
            registry.close();
        }

        @Test
        void pushAndPullWithBearerTokensCachedPerScope() throws Exception {
            try (RegistryStore store = RegistryStore.open(registry.host(), RegistryOptions.anonymous()
                    .withCredentials(CredentialSource.of(Credentials.basic(USER, PASSWORD))))) {
                roundTrip(store, "token/app");
                int after = issuer.tokensIssued();
                assertTrue(after >= 1);
                // the same scopes again: served from the cache
                roundTrip(store, "token/app");
                assertEquals(after, issuer.tokensIssued(), "tokens should be cached per scope");
            }
        }

        @Test
        void identityTokenUsesTheRefreshTokenGrant() throws Exception {
            try (RegistryStore store = RegistryStore.open(registry.host(), RegistryOptions.anonymous()
                    .withCredentials(CredentialSource.of(Credentials.identityToken("refresh-me-please"))))) {
                roundTrip(store, "token/idt");
            }
        }

        @Test
        void mountAsksForPullOnTheSourceAndPushOnTheTarget() {
            try (RegistryStore store = RegistryStore.open(registry.host(), RegistryOptions.anonymous()
                    .withCredentials(CredentialSource.of(Credentials.basic(USER, PASSWORD))))) {
                byte[] data = "token mount".getBytes(StandardCharsets.UTF_8);
                Descriptor d = Descriptor.ofBytes(MediaType.OCI_LAYER, data);
                store.pushBlob("token/src", d, () -> new ByteArrayInputStream(data));
                assertTrue(store.mountBlob("token/dst", d, "token/src"));
                assertTrue(issuer.scopesSeen().contains("repository:token/src:pull"), issuer.scopesSeen().toString());
                assertTrue(issuer.scopesSeen().contains("repository:token/dst:pull,push"), issuer.scopesSeen().toString());
                assertEquals(data.length, store.blobSize("token/dst", d.digest()).orElseThrow());
            }
        }

        @Test
        void catalogAsksForTheCatalogScope() {
            try (RegistryStore store = RegistryStore.open(registry.host(), RegistryOptions.anonymous()
                    .withCredentials(CredentialSource.of(Credentials.basic(USER, PASSWORD))))) {
                byte[] data = "token catalog".getBytes(StandardCharsets.UTF_8);
                Descriptor d = Descriptor.ofBytes(MediaType.OCI_LAYER, data);
                store.pushBlob("token/catalog", d, () -> new ByteArrayInputStream(data));
                assertTrue(store.listRepositories(1).contains("token/catalog"));
                assertTrue(issuer.scopesSeen().contains("registry:catalog:*"), issuer.scopesSeen().toString());
            }
        }

        @Test
        void authFileCredentialsKeyedByRepositoryPathGetTheTokens() throws Exception {
            java.nio.file.Path dir = java.nio.file.Files.createTempDirectory("airlock-authfile-");
            try {
                java.nio.file.Path file = writeAuthFile(dir, registry.host());
                try (RegistryStore store = RegistryStore.open(registry.host(), RegistryOptions.anonymous().withCredentials(CredentialFiles.fromEnvironment(
                        java.util.Map.of("REGISTRY_AUTH_FILE", file.toString()), dir, java.time.Duration.ofSeconds(5))))) {
                    roundTrip(store, "team/tok");
                    RegistryException e = assertThrows(RegistryException.class, () -> store.fetchManifest("other/tok", "1.0"));
                    assertEquals(401, e.status(), e.getMessage());
                    assertTrue(e.getMessage().contains("credentials refused"), e.getMessage());
                }
            } finally {
                RegistryProcess.deleteTree(dir);
            }
        }

        @Test
        void wrongPasswordIsRefusedByTheTokenService() {
            try (RegistryStore store = RegistryStore.open(registry.host(), RegistryOptions.anonymous()
                    .withCredentials(CredentialSource.of(Credentials.basic(USER, "nope-not-it"))))) {
                RegistryException e = assertThrows(RegistryException.class, () -> store.fetchManifest("token/app", "1.0"));
                assertEquals(401, e.status());
                assertTrue(e.getMessage().contains("credentials refused"), e.getMessage());
                assertFalse(e.getMessage().contains("nope-not-it"), e.getMessage());
            }
        }

        @Test
        void tokensTheRegistryRejectsEndInAnErrorNotALoop() {
            issuer.issueUntrustedTokens(true);
            try (RegistryStore store = RegistryStore.open(registry.host(), RegistryOptions.anonymous()
                    .withCredentials(CredentialSource.of(Credentials.basic(USER, PASSWORD))))) {
                int before = issuer.tokensIssued();
                RegistryException e = assertThrows(RegistryException.class, () -> store.fetchManifest("token/loop", "1.0"));
                assertEquals(401, e.status());
                assertTrue(e.getMessage().contains("authentication refused"), e.getMessage());
                assertTrue(issuer.tokensIssued() - before <= 2, "at most one fresh token per request: " + (issuer.tokensIssued() - before));
            } finally {
                issuer.issueUntrustedTokens(false);
            }
        }
    }
}
