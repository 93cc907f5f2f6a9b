package dev.airlock.registry;

import com.fasterxml.jackson.databind.JsonNode;
import dev.airlock.error.RegistryException;
import dev.airlock.model.Json;
import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Base64;
import java.util.List;
import java.util.Optional;
import java.util.TreeSet;
import java.util.concurrent.ConcurrentHashMap;
import java.util.stream.Collectors;

/**
 * Registry authentication: learns the scheme from the first 401 challenge, then authorises
 * requests up front. Basic sends the credentials; Bearer fetches a token from the challenge's
 * realm for the union of the scopes the request needs and the scopes the registry asked for, and
 * caches it per scope set until it expires. Never puts a secret into a message.
 */
final class Authenticator {
    private static final Duration DEFAULT_TOKEN_LIFETIME = Duration.ofSeconds(60);
    private static final Duration EXPIRY_MARGIN = Duration.ofSeconds(10);
    private static final int MAX_TOKEN_RESPONSE = 1 << 20;

    private final String registryHost;
    private final CredentialSource source;
    private final HttpClient client;
    private final TransportOptions transport;
    private final boolean registryTls;
    private final boolean plainRealmAllowed;
    private final ConcurrentHashMap<String, Token> tokens = new ConcurrentHashMap<>();
    private final ConcurrentHashMap<String, Optional<Credentials>> credentials = new ConcurrentHashMap<>();
    private volatile AuthChallenge bearer;
    private volatile boolean basic;

    record Token(String value, Instant expires) {
        boolean valid() {
            return Instant.now().isBefore(expires);
        }
    }

    /**
     * {@code registryTls}: the registry is reached over HTTPS, so credentials must not go to a
     * plain-HTTP token realm unless {@code plainRealmAllowed} (the user passed --plain-http or --insecure).
     */
    Authenticator(String registryHost, CredentialSource source, HttpClient client, TransportOptions transport,
                  boolean registryTls, boolean plainRealmAllowed) {
        this.registryHost = registryHost;
        this.source = source;
        this.client = client;
        this.transport = transport;
        this.registryTls = registryTls;
        this.plainRealmAllowed = plainRealmAllowed;
    }

    /** The credentials for requests about {@code repository} ("" for none), looked up once per repository. */
    private Optional<Credentials> credentials(String repository) {
        Optional<Credentials> c = credentials.get(repository);
        if (c == null) {
            c = source.lookup(registryHost, repository);
            Optional<Credentials> raced = credentials.putIfAbsent(repository, c);
            if (raced != null) {
                c = raced;
            }
        }
        return c;
    }

    /**
     * The repository whose credentials a request with these scopes uses: the one it pushes to (a
     * mount pulls from one repository and pushes to another), else the first it pulls from, else "".
     */
    static String credentialRepository(List<String> scopes) {
        String first = "";
        for (String s : scopes) {
            int last = s.lastIndexOf(':');
            if (!s.startsWith("repository:") || last <= "repository:".length()) {
                continue;
            }
            String name = s.substring("repository:".length(), last);
            if (Arrays.asList(s.substring(last + 1).split(",")).contains("push")) {
                return name;
            }
            if (first.isEmpty()) {
                first = name;
            }
        }
        return first;
    }

    /** The Authorization header to send before any challenge, when the scheme is already known. */
    Optional<String> preemptive(List<String> scopes, String action) {
        if (basic) {
            return credentials(credentialRepository(scopes)).filter(c -> !c.identityToken()).map(Authenticator::basicHeader);
        }
        AuthChallenge b = bearer;
        if (b != null) {
            return Optional.of("Bearer " + token(b, scopes, credentialRepository(scopes), action, false));
        }
        return Optional.empty();
    }

    /**
     * A 401 arrived with these challenges; returns the header to retry with. {@code fresh} forces a
     * new token even if one is cached (the cached one was just refused).
     */
    String answer(List<AuthChallenge> challenges, List<String> scopes, String action, boolean fresh) {
        for (AuthChallenge ch : challenges) {
            if (ch.scheme().equals("bearer") && ch.param("realm").isPresent()) {
                bearer = ch;
                basic = false;
                List<String> all = new ArrayList<>(scopes);
                ch.param("scope").ifPresent(s -> {
                    for (String one : s.split(" ")) {
                        if (!one.isBlank()) {
                            all.add(one);
                        }
                    }
                });
                return "Bearer " + token(ch, all, credentialRepository(scopes), action, fresh);
            }
        }
        for (AuthChallenge ch : challenges) {
            if (ch.scheme().equals("basic")) {
                Credentials c = credentials(credentialRepository(scopes)).orElseThrow(() -> new RegistryException(
                        action + ": 401 UNAUTHORIZED (" + registryHost + " requires credentials and none are configured)", 401, List.of("UNAUTHORIZED")));
                if (c.identityToken()) {
                    throw new RegistryException(action + ": 401 UNAUTHORIZED (" + registryHost + " wants Basic auth but only an identity token is configured)", 401, List.of("UNAUTHORIZED"));
                }
                basic = true;
                return basicHeader(c);
            }
        }
        throw new RegistryException(action + ": 401 UNAUTHORIZED (unsupported authentication challenge "
                + challenges.stream().map(AuthChallenge::scheme).collect(Collectors.joining(",", "[", "]")) + ")", 401, List.of("UNAUTHORIZED"));
    }

    private String token(AuthChallenge ch, List<String> scopes, String credentialRepository, String action, boolean fresh) {
        TreeSet<String> scopeSet = new TreeSet<>(mergeScopes(scopes));
        String key = ch.param("realm").orElse("") + "|" + ch.param("service").orElse("") + "|" + String.join(" ", scopeSet)
                + "|" + credentialRepository;
        Token t = tokens.get(key);
        if (!fresh && t != null && t.valid()) {
            return t.value();
        }
        Token n = fetchToken(ch, List.copyOf(scopeSet), credentials(credentialRepository), action);
        tokens.put(key, n);
        return n.value();
    }

    /** Merges {@code repository:x:pull} and {@code repository:x:push} into {@code repository:x:pull,push}. */
    static List<String> mergeScopes(List<String> scopes) {
        java.util.Map<String, TreeSet<String>> byResource = new java.util.TreeMap<>();
        for (String s : scopes) {
            int last = s.lastIndexOf(':');
            if (last <= 0) {
                byResource.computeIfAbsent(s, k -> new TreeSet<>());
                continue;
            }
            String resource = s.substring(0, last);
            TreeSet<String> actions = byResource.computeIfAbsent(resource, k -> new TreeSet<>());
            for (String a : s.substring(last + 1).split(",")) {
                if (!a.isBlank()) {
                    actions.add(a.trim());
                }
            }
        }
        List<String> out = new ArrayList<>();
        byResource.forEach((r, a) -> out.add(a.isEmpty() ? r : r + ":" + String.join(",", a)));
        return out;
    }

    private Token fetchToken(AuthChallenge ch, List<String> scopes, Optional<Credentials> creds, String action) {
        String realm = ch.param("realm").orElseThrow();
        URI realmUri;
        try {
            realmUri = URI.create(realm);
            if (realmUri.getScheme() == null || !(realmUri.getScheme().equals("https") || realmUri.getScheme().equals("http"))) {
                throw new IllegalArgumentException("not http(s)");
            }
        } catch (IllegalArgumentException e) {
            throw new RegistryException(action + ": " + registryHost + " sent an unusable token realm '" + realm
                    + "' (only https:// and http:// realms are used)", 401, List.of("UNAUTHORIZED"));
        }
        if (realmUri.getHost() == null) {
            throw new RegistryException(action + ": " + registryHost + " sent a token realm without a host '" + realm + "'", 401, List.of("UNAUTHORIZED"));
        }
        if (registryTls && realmUri.getScheme().equals("http") && creds.isPresent() && !plainRealmAllowed) {
            throw new RegistryException(action + ": " + registryHost + " is HTTPS but its token realm " + realmUri.getScheme() + "://"
                    + realmUri.getAuthority() + realmUri.getPath() + " is plain HTTP: credentials are not sent in clear text "
                    + "(pass --plain-http or --insecure to allow it)", 401, List.of("UNAUTHORIZED"));
        }
        Optional<String> service = ch.param("service");
        HttpRequest.Builder b;
        String postForm = null;
        if (creds.isPresent() && creds.get().identityToken()) {
            StringBuilder form = new StringBuilder("grant_type=refresh_token&client_id=airlock&refresh_token=")
                    .append(enc(creds.get().secret()));
            service.ifPresent(s -> form.append("&service=").append(enc(s)));
            if (!scopes.isEmpty()) {
                form.append("&scope=").append(enc(String.join(" ", scopes)));
            }
            postForm = form.toString();
            b = HttpRequest.newBuilder(realmUri).header("Content-Type", "application/x-www-form-urlencoded");
        } else {
            StringBuilder q = new StringBuilder();
            service.ifPresent(s -> q.append("service=").append(enc(s)));
            for (String s : scopes) {
                q.append(q.length() == 0 ? "" : "&").append("scope=").append(enc(s));
            }
            String sep = realm.contains("?") ? "&" : "?";
            b = HttpRequest.newBuilder(URI.create(realm + (q.length() == 0 ? "" : sep + q))).GET();
            creds.ifPresent(c -> b.header("Authorization", basicHeader(c)));
        }
        b.header("User-Agent", RegistryHttp.USER_AGENT);
        String where = "authenticating to " + registryHost + " at " + realmUri.getScheme() + "://" + realmUri.getAuthority() + realmUri.getPath();
        HttpResponse<InputStream> resp = null;
        IOException last = null;
        for (int attempt = 1; attempt <= transport.maxAttempts(); attempt++) {
            resp = null;
            try {
                TimedExchange.Watch watch = new TimedExchange.Watch(transport);
                if (postForm != null) {
                    b.POST(watch.wrap(HttpRequest.BodyPublishers.ofString(postForm, StandardCharsets.UTF_8)));
                }
                resp = TimedExchange.send(client, b.build(), info -> new StreamingBody(transport.idleTimeout(), () -> { }), watch);
                if (resp.statusCode() < 500 || attempt == transport.maxAttempts()) {
                    break;
                }
                resp.body().close();
            } catch (IOException e) {
                last = e;
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new RegistryException(where + ": interrupted", 0, List.of());
            }
            Backoff.sleep(transport, attempt, Optional.empty());
        }
        if (resp == null) {
            throw new RegistryException(action + ": " + where + ": " + RegistryHttp.describe(last), 0, List.of(), last);
        }
        byte[] body;
        try (InputStream in = resp.body()) {
            body = in.readNBytes(MAX_TOKEN_RESPONSE + 1);
        } catch (IOException e) {
            throw new RegistryException(action + ": " + where + ": " + RegistryHttp.describe(e), 0, List.of(), e);
        }
        if (resp.statusCode() != 200) {
            ErrorBody eb = ErrorBody.parse(body);
            String hint = resp.statusCode() == 401 || resp.statusCode() == 403
                    ? (creds.isPresent() ? " (credentials refused)" : " (credentials required)") : "";
            throw new RegistryException(action + ": " + where + ": " + resp.statusCode() + eb.suffix() + hint,
                    resp.statusCode() == 403 ? 403 : 401, eb.codes().isEmpty() ? List.of("UNAUTHORIZED") : eb.codes());
        }
        if (body.length > MAX_TOKEN_RESPONSE) {
            throw new RegistryException(action + ": " + where + ": token response larger than 1 MiB", 401, List.of("UNAUTHORIZED"));
        }
        JsonNode node;
        try {
            node = Json.parse(body, "token response");
        } catch (RuntimeException e) {
            throw new RegistryException(action + ": " + where + ": token response is not valid JSON", 401, List.of("UNAUTHORIZED"));
        }
        String token = node.path("token").asText("");
        if (token.isEmpty()) {
            token = node.path("access_token").asText("");
        }
        if (token.isEmpty()) {
            throw new RegistryException(action + ": " + where + ": token response has no token", 401, List.of("UNAUTHORIZED"));
        }
        long seconds = node.path("expires_in").asLong(DEFAULT_TOKEN_LIFETIME.toSeconds());
        if (seconds < 60) {
            seconds = 60; // the distribution token spec: treat shorter lifetimes as 60 s
        }
        Instant issued = Instant.now();
        Instant expires = issued.plusSeconds(seconds).minus(EXPIRY_MARGIN);
        return new Token(token, expires);
    }

    private static String enc(String s) {
        return URLEncoder.encode(s, StandardCharsets.UTF_8);
    }

    private static String basicHeader(Credentials c) {
        return "Basic " + Base64.getEncoder().encodeToString((c.username() + ":" + c.secret()).getBytes(StandardCharsets.UTF_8));
    }
}
