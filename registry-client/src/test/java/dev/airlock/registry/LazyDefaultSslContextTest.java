package dev.airlock.registry;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.airlock.testkit.RegistryProcess;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.SSLParameters;
import org.junit.jupiter.api.Test;

/** The lazily created default TLS context of plain-HTTP clients behaves as the JDK's default once used. */
class LazyDefaultSslContextTest {

    @Test
    void onceUsedItIsTheDefaultContext() throws Exception {
        SSLContext lazy = new LazyDefaultSslContext();
        SSLEngine e = lazy.createSSLEngine("registry.example", 443);
        SSLEngine d = SSLContext.getDefault().createSSLEngine("registry.example", 443);
        assertArrayEquals(d.getEnabledProtocols(), e.getEnabledProtocols());
        assertArrayEquals(d.getEnabledCipherSuites(), e.getEnabledCipherSuites());
        assertSame(SSLContext.getDefault().getClientSessionContext(), lazy.getClientSessionContext());
    }

    @Test
    void aTlsServerWhoseCaTheDefaultTrustStoreDoesNotKnowIsRefused() throws Exception {
        try (RegistryProcess tls = RegistryProcess.startTlsBasic("u", "p")) {
            HttpClient client = HttpClient.newBuilder().sslContext(new LazyDefaultSslContext())
                    .sslParameters(new SSLParameters()).build();
            HttpRequest get = HttpRequest.newBuilder(URI.create("https://" + tls.host() + "/v2/")).build();
            IOException e = assertThrows(IOException.class, () -> client.send(get, HttpResponse.BodyHandlers.discarding()));
            String chain = String.valueOf(e) + " " + e.getCause();
            assertTrue(chain.contains("PKIX") || chain.contains("certification path") || chain.contains("handshake"), chain);
        }
    }
}
