package dev.airlock.testkit;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.Signature;
import java.security.cert.CertificateEncodingException;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A small token service for registry token auth tests (JDK HttpServer on 127.0.0.1, plain HTTP).
 * It checks Basic credentials (or an OAuth2 refresh-token grant with the configured identity
 * token) and issues ES256 JWTs in the form Distribution 2.8 accepts: {@code aud} a string, the
 * signature in P1363 (raw r||s) form, the signing certificate chain in the {@code x5c} header,
 * trusted by the registry through {@code auth.token.rootcertbundle}. Every requested action is
 * granted to an authenticated caller; anonymous callers get tokens without access.
 */
public final class TokenIssuer implements AutoCloseable {
    public static final String SERVICE = "airlock-test-registry";
    public static final String ISSUER = "airlock-test-issuer";

    private final HttpServer server;
    private final String user;
    private final String password;
    private final String identityToken;
    private final TestPki.Issued root;
    private final TestPki.Issued signer;
    private final TestPki.Issued rogue;
    private final Path bundle;
    private final AtomicInteger issued = new AtomicInteger();
    private final AtomicInteger refused = new AtomicInteger();
    private final List<String> scopesSeen = java.util.Collections.synchronizedList(new ArrayList<>());
    private volatile boolean untrusted;
    private volatile boolean pullOnly;
    private volatile Duration lifetime = Duration.ofMinutes(5);

    private TokenIssuer(String user, String password, String identityToken, Path dir) throws IOException {
        this.user = user;
        this.password = password;
        this.identityToken = identityToken;
        this.root = TestPki.ca("airlock test token root");
        this.signer = TestPki.signer(root, "airlock test token signer");
        TestPki.Issued rogueRoot = TestPki.ca("rogue root");
        this.rogue = TestPki.signer(rogueRoot, "rogue signer");
        this.bundle = root.writeCertificate(dir.resolve("token-root.pem"));
        this.server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 16);
        server.createContext("/token", this::handle);
        server.setExecutor(Executors.newFixedThreadPool(4, r -> {
            Thread t = new Thread(r, "token-issuer");
            t.setDaemon(true);
            return t;
        }));
        server.start();
    }

    /**
     * Starts an issuer accepting {@code user}/{@code password} (Basic) and {@code identityToken}
     * (refresh-token grant; may be null); the root certificate is written into {@code dir}.
     */
    public static TokenIssuer start(String user, String password, String identityToken, Path dir) {
        try {
            return new TokenIssuer(user, password, identityToken, dir);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** {@code http://127.0.0.1:<port>/token}. */
    public String realm() {
        return "http://127.0.0.1:" + server.getAddress().getPort() + "/token";
    }

    /** The PEM bundle the registry must trust. */
    public Path rootCertBundle() {
        return bundle;
    }

    /** The {@code auth:} section for the registry's config.yml. */
    public String registryConfig() {
        return String.join("\n",
                "auth:",
                "  token:",
                "    realm: " + realm(),
                "    service: " + SERVICE,
                "    issuer: " + ISSUER,
                "    rootcertbundle: " + bundle.toAbsolutePath(),
                "");
    }

    /** When true, tokens are signed by a certificate the registry does not trust (a 401 loop). */
    public void issueUntrustedTokens(boolean value) {
        this.untrusted = value;
    }

    /** When true, tokens grant only the {@code pull} action whatever was asked (a read-only robot account). */
    public void grantPullOnly(boolean value) {
        this.pullOnly = value;
    }

    /** Token lifetime announced in {@code expires_in} and in the JWT. */
    public void lifetime(Duration d) {
        this.lifetime = d;
    }

    public int tokensIssued() {
        return issued.get();
    }

    public int refusals() {
        return refused.get();
    }

    /** Every scope parameter received, in order. */
    public List<String> scopesSeen() {
        synchronized (scopesSeen) {
            return List.copyOf(scopesSeen);
        }
    }

    private void handle(HttpExchange ex) throws IOException {
        try (ex) {
            String query = ex.getRequestURI().getRawQuery();
            List<String> scopes = new ArrayList<>();
            String service = null;
            String subject = null;
            if (ex.getRequestMethod().equals("POST")) {
                String form;
                try (InputStream in = ex.getRequestBody()) {
                    form = new String(in.readNBytes(65536), StandardCharsets.UTF_8);
                }
                String grant = param(form, "grant_type");
                String refresh = param(form, "refresh_token");
                service = param(form, "service");
                String scope = param(form, "scope");
                if (scope != null) {
                    for (String s : scope.split(" ")) {
                        if (!s.isBlank()) {
                            scopes.add(s);
                        }
                    }
                }
                if (!"refresh_token".equals(grant) || identityToken == null || !identityToken.equals(refresh)) {
                    deny(ex);
                    return;
                }
                subject = user;
            } else {
                if (query != null) {
                    for (String kv : query.split("&")) {
                        int eq = kv.indexOf('=');
                        String k = eq < 0 ? kv : kv.substring(0, eq);
                        String v = eq < 0 ? "" : URLDecoder.decode(kv.substring(eq + 1), StandardCharsets.UTF_8);
                        if (k.equals("scope")) {
                            scopes.add(v);
                        } else if (k.equals("service")) {
                            service = v;
                        }
                    }
                }
                String auth = ex.getRequestHeaders().getFirst("Authorization");
                if (auth != null) {
                    String expected = "Basic " + Base64.getEncoder().encodeToString((user + ":" + password).getBytes(StandardCharsets.UTF_8));
                    if (!auth.equals(expected)) {
                        deny(ex);
                        return;
                    }
                    subject = user;
                }
            }
            scopesSeen.addAll(scopes);
            if (service != null && !service.equals(SERVICE)) {
                deny(ex);
                return;
            }
            String token = jwt(subject, scopes);
            issued.incrementAndGet();
            boolean oauth = ex.getRequestMethod().equals("POST");
            String body = "{\"" + (oauth ? "access_token" : "token") + "\":\"" + token + "\",\"expires_in\":" + lifetime.toSeconds()
                    + ",\"issued_at\":\"" + Instant.now() + "\"}";
            send(ex, 200, body);
        }
    }

    private void deny(HttpExchange ex) throws IOException {
        refused.incrementAndGet();
        send(ex, 401, "{\"errors\":[{\"code\":\"UNAUTHORIZED\",\"message\":\"bad credentials\"}]}");
    }

    private static void send(HttpExchange ex, int status, String body) throws IOException {
        byte[] b = body.getBytes(StandardCharsets.UTF_8);
        ex.getResponseHeaders().set("Content-Type", "application/json");
        ex.sendResponseHeaders(status, b.length);
        try (OutputStream out = ex.getResponseBody()) {
            out.write(b);
        }
    }

    private static String param(String form, String name) {
        for (String kv : form.split("&")) {
            int eq = kv.indexOf('=');
            if (eq > 0 && kv.substring(0, eq).equals(name)) {
                return URLDecoder.decode(kv.substring(eq + 1), StandardCharsets.UTF_8);
            }
        }
        return null;
    }

    private String jwt(String subject, List<String> scopes) {
        TestPki.Issued key = untrusted ? rogue : signer;
        StringBuilder x5c = new StringBuilder();
        try {
            for (X509Certificate c : key.chain()) {
                x5c.append(x5c.length() == 0 ? "" : ",").append('"').append(Base64.getEncoder().encodeToString(c.getEncoded())).append('"');
            }
        } catch (CertificateEncodingException e) {
            throw new IllegalStateException(e);
        }
        String header = "{\"typ\":\"JWT\",\"alg\":\"ES256\",\"x5c\":[" + x5c + "]}";
        StringBuilder access = new StringBuilder();
        if (subject != null) {
            for (String s : scopes) {
                String[] parts = s.split(":");
                if (parts.length < 3) {
                    continue;
                }
                String actions = parts[parts.length - 1];
                String name = s.substring(parts[0].length() + 1, s.length() - actions.length() - 1);
                StringBuilder acts = new StringBuilder();
                for (String a : actions.split(",")) {
                    if (pullOnly && !a.equals("pull")) {
                        continue;
                    }
                    acts.append(acts.length() == 0 ? "" : ",").append('"').append(a).append('"');
                }
                access.append(access.length() == 0 ? "" : ",")
                        .append("{\"type\":\"").append(parts[0]).append("\",\"name\":\"").append(name).append("\",\"actions\":[").append(acts).append("]}");
            }
        }
        long now = Instant.now().getEpochSecond();
        String claims = "{\"iss\":\"" + ISSUER + "\",\"sub\":\"" + (subject == null ? "" : subject) + "\",\"aud\":\"" + SERVICE
                + "\",\"exp\":" + (now + lifetime.toSeconds()) + ",\"nbf\":" + (now - 10) + ",\"iat\":" + now
                + ",\"jti\":\"" + UUID.randomUUID() + "\",\"access\":[" + access + "]}";
        String signingInput = b64url(header.getBytes(StandardCharsets.UTF_8)) + "." + b64url(claims.getBytes(StandardCharsets.UTF_8));
        try {
            Signature sig = Signature.getInstance("SHA256withECDSAinP1363Format");
            sig.initSign(key.keyPair().getPrivate());
            sig.update(signingInput.getBytes(StandardCharsets.US_ASCII));
            return signingInput + "." + b64url(sig.sign());
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException(e);
        }
    }

    private static String b64url(byte[] b) {
        return Base64.getUrlEncoder().withoutPadding().encodeToString(b);
    }

    @Override
    public void close() {
        server.stop(0);
        ((java.util.concurrent.ExecutorService) server.getExecutor()).shutdownNow();
    }

}
