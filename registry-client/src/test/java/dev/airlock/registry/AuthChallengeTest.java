package dev.airlock.registry;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.URI;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.api.Test;

class AuthChallengeTest {

    @Test
    void bearerWithQuotedCommasInScope() {
        List<AuthChallenge> cs = AuthChallenge.parse(
                "Bearer realm=\"https://auth.docker.io/token\",service=\"registry.docker.io\",scope=\"repository:library/busybox:pull,push\"");
        assertEquals(1, cs.size());
        AuthChallenge c = cs.get(0);
        assertEquals("bearer", c.scheme());
        assertEquals(Map.of("realm", "https://auth.docker.io/token", "service", "registry.docker.io",
                "scope", "repository:library/busybox:pull,push"), c.params());
    }

    @Test
    void severalChallengesInOneHeaderWithSpacesEscapesAndTokens() {
        List<AuthChallenge> cs = AuthChallenge.parse(
                "Newauth realm=\"apps\", type=1, title=\"Login to \\\"apps\\\"\", Basic realm=\"simple\" ,  BEARER Realm = \"x,y\" , error=insufficient_scope");
        assertEquals(3, cs.size());
        assertEquals("newauth", cs.get(0).scheme());
        assertEquals("1", cs.get(0).param("type").orElseThrow());
        assertEquals("Login to \"apps\"", cs.get(0).param("title").orElseThrow());
        assertEquals("basic", cs.get(1).scheme());
        assertEquals("simple", cs.get(1).param("REALM").orElseThrow());
        assertEquals("bearer", cs.get(2).scheme());
        assertEquals("x,y", cs.get(2).param("realm").orElseThrow());
        assertEquals("insufficient_scope", cs.get(2).param("error").orElseThrow());
    }

    @Test
    void token68AndBareSchemes() {
        List<AuthChallenge> cs = AuthChallenge.parseAll(List.of("Negotiate abc123==", "Basic"));
        assertEquals(2, cs.size());
        assertEquals("abc123==", cs.get(0).token68());
        assertTrue(cs.get(0).params().isEmpty());
        assertEquals("basic", cs.get(1).scheme());
    }

    @Test
    void garbageYieldsNoUsableChallenge() {
        assertTrue(AuthChallenge.parse("").isEmpty());
        assertTrue(AuthChallenge.parse(null).isEmpty());
        List<AuthChallenge> cs = AuthChallenge.parse("Bearer realm=\"unterminated");
        assertEquals("unterminated", cs.get(0).param("realm").orElseThrow());
    }

    @Test
    void scopesAreMergedPerRepository() {
        assertEquals(List.of("repository:a:pull,push", "repository:b:pull"),
                Authenticator.mergeScopes(List.of("repository:a:pull", "repository:b:pull", "repository:a:push,pull")));
        assertEquals(List.of("registry:catalog:*"), Authenticator.mergeScopes(List.of("registry:catalog:*")));
    }

    @Test
    void linkHeaderNextPage() {
        URI cur = URI.create("http://127.0.0.1:5000/v2/app/tags/list?n=2");
        assertEquals(URI.create("http://127.0.0.1:5000/v2/app/tags/list?last=b&n=2"),
                RegistryStore.nextLink(List.of("</v2/app/tags/list?last=b&n=2>; rel=\"next\""), cur));
        assertEquals(URI.create("https://other/x?y=1"), RegistryStore.nextLink(List.of("<https://other/x?y=1>;rel=next"), cur));
        assertNull(RegistryStore.nextLink(List.of("</v2/app/tags/list?last=b>; rel=\"prev\""), cur));
        assertNull(RegistryStore.nextLink(List.of(), cur));
    }

    @Test
    void retryAfterAsSecondsOrDate() {
        assertEquals(Optional.of(Duration.ofSeconds(7)), Backoff.parseRetryAfter("7"));
        assertEquals(Optional.of(Duration.ZERO), Backoff.parseRetryAfter("Wed, 21 Oct 2015 07:28:00 GMT"));
        assertEquals(Optional.empty(), Backoff.parseRetryAfter("soon"));
        TransportOptions t = TransportOptions.defaults().withBackoff(Duration.ofMillis(100), Duration.ofSeconds(2));
        assertEquals(Duration.ofSeconds(2), Backoff.delay(t, 1, Optional.of("3600")), "Retry-After is capped at maxBackoff");
        assertTrue(Backoff.delay(t, 30, Optional.empty()).compareTo(Duration.ofSeconds(2)) <= 0);
    }

    @ParameterizedTest
    @CsvSource({
        "localhost:5000, true",
        "127.0.0.1:5000, true",
        "127.1.2.3, true",
        "[::1]:5000, true",
        "registry.local:5000, false",
        "10.0.0.1:5000, false",
        "docker.io, false",
        "128.0.0.1, false",
    })
    void plainHttpOnlyForLoopbackByDefault(String host, boolean plain) {
        TlsOptions none = TlsOptions.defaults().withCertsDirectories(List.of());
        assertEquals(plain, TlsContexts.usePlainHttp(none, host));
        assertTrue(TlsContexts.usePlainHttp(none.withPlainHttp(true), host));
        assertFalse(TlsContexts.usePlainHttp(none.withInsecure(true), host));
    }

    @Test
    void dockerHubApiHostAndSecretsHidden() {
        assertEquals("registry-1.docker.io", RegistryStore.apiHost("docker.io"));
        assertEquals("127.0.0.1:5000", RegistryStore.apiHost("127.0.0.1:5000"));
        assertFalse(Credentials.basic("bob", "hunter2").toString().contains("hunter2"));
        assertFalse(Credentials.identityToken("tok-123").toString().contains("tok-123"));
    }
}
