package dev.airlock.registry;

import dev.airlock.concurrent.Workers;
import dev.airlock.error.RegistryException;
import java.io.IOException;
import java.io.InputStream;
import java.net.ConnectException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpConnectTimeoutException;
import java.net.http.HttpHeaders;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.HttpTimeoutException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Semaphore;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Supplier;
import javax.net.ssl.SSLException;
import javax.net.ssl.SSLHandshakeException;

/**
 * HTTP to one registry: a bounded number of requests in flight (a semaphore, an open response
 * body holds its permit until it is closed or read to the end), authentication, redirects followed
 * by hand (Authorization dropped when the host changes), and retries with backoff for connection
 * failures, 429 and 5xx of requests marked retryable.
 */
final class RegistryHttp implements AutoCloseable {
    static final String USER_AGENT = "airlock/0.1";
    private static final int MAX_REDIRECTS = 10;
    private static final int MAX_ERROR_BODY = 64 * 1024;
    private static final System.Logger LOG = System.getLogger(RegistryHttp.class.getName());

    final String displayHost;
    final URI base;
    final TransportOptions transport;
    private final HttpClient client;
    private final ExecutorService executor;
    private final Semaphore permits;
    private final java.util.concurrent.ConcurrentHashMap<Thread, AtomicInteger> held = new java.util.concurrent.ConcurrentHashMap<>();
    private final Authenticator auth;

    /** A request body that can be produced again for a retry. */
    interface Body {
        HttpRequest.BodyPublisher publisher();

        long length();

        static Body ofBytes(byte[] bytes) {
            return new Body() {
                @Override
                public HttpRequest.BodyPublisher publisher() {
                    return HttpRequest.BodyPublishers.ofByteArray(bytes);
                }

                @Override
                public long length() {
                    return bytes.length;
                }
            };
        }

        /** {@code length} bytes from a fresh stream each time, sent with Content-Length. */
        static Body ofStream(Supplier<InputStream> stream, long length) {
            return new Body() {
                @Override
                public HttpRequest.BodyPublisher publisher() {
                    return length == 0 ? HttpRequest.BodyPublishers.noBody()
                            : new StreamPublisher(stream, length);
                }

                @Override
                public long length() {
                    return length;
                }
            };
        }
    }

    /** One logical request. {@code action} names it in errors: "pushing blob sha256:… to host/repo". */
    static final class Request {
        final String method;
        final URI uri;
        final Map<String, String> headers = new LinkedHashMap<>();
        Body body;
        List<String> scopes = List.of();
        String action;
        boolean retryable = true;
        boolean raw;

        Request(String method, URI uri, String action) {
            this.method = method;
            this.uri = uri;
            this.action = action;
        }

        Request header(String name, String value) {
            headers.put(name, value);
            return this;
        }

        Request body(Body b) {
            this.body = b;
            return this;
        }

        Request scopes(List<String> s) {
            this.scopes = List.copyOf(s);
            return this;
        }

        Request retryable(boolean r) {
            this.retryable = r;
            return this;
        }

        /** No authentication at all: no Authorization header, a 401 is returned as it is (probes). */
        Request raw() {
            this.raw = true;
            return this;
        }
    }

    /** A response whose body is an open stream; close it (or read it to the end) to free the permit. */
    static final class Response implements AutoCloseable {
        final int status;
        final HttpHeaders headers;
        final URI uri;
        final InputStream body;
        final int attempts;

        Response(int status, HttpHeaders headers, URI uri, InputStream body, int attempts) {
            this.status = status;
            this.headers = headers;
            this.uri = uri;
            this.body = body;
            this.attempts = attempts;
        }

        Optional<String> header(String name) {
            return headers.firstValue(name);
        }

        /** Reads at most {@code max} bytes of the body and closes it; more is an error. */
        byte[] readBody(int max, String action) {
            try (InputStream in = body) {
                byte[] b = in.readNBytes(max + 1);
                if (b.length > max) {
                    throw new RegistryException(action + ": response body larger than " + max + " bytes", status, List.of());
                }
                return b;
            } catch (IOException e) {
                throw new RegistryException(action + ": reading the response failed: " + describe(e), 0, List.of(), e);
            }
        }

        /** Reads a small error body and closes. */
        ErrorBody errorBody() {
            try (InputStream in = body) {
                return ErrorBody.parse(in.readNBytes(MAX_ERROR_BODY));
            } catch (IOException e) {
                return new ErrorBody(List.of(), "");
            }
        }

        @Override
        public void close() {
            try {
                body.close();
            } catch (IOException ignored) {
                // StreamingBody.close does not throw
            }
        }
    }

    /**
     * {@code plainRealmAllowed}: the user accepted plain HTTP or unverified TLS (--plain-http,
     * --insecure), so an HTTPS registry may send credentials to a plain-HTTP token realm.
     * {@code forcedPlain}: plain HTTP because of --plain-http (for the message when the port speaks TLS).
     */
    RegistryHttp(String displayHost, URI base, HttpClient.Builder builder, TransportOptions transport, CredentialSource credentials,
                 boolean plainRealmAllowed, boolean forcedPlain) {
        this.displayHost = displayHost;
        this.transportForcedPlain = forcedPlain;
        this.base = base;
        this.transport = transport;
        this.executor = Executors.newCachedThreadPool(Workers.named("http-" + displayHost));
        this.client = builder.executor(executor).followRedirects(HttpClient.Redirect.NEVER)
                .version(HttpClient.Version.HTTP_1_1).connectTimeout(transport.connectTimeout()).build();
        this.permits = new Semaphore(transport.maxConcurrentRequests(), true);
        this.auth = new Authenticator(displayHost, credentials, client, transport, "https".equalsIgnoreCase(base.getScheme()), plainRealmAllowed);
    }

    /** {@code base} + an absolute path + query (both already encoded). */
    URI uri(String pathAndQuery) {
        return base.resolve(pathAndQuery);
    }

    /**
     * Sends with auth, redirects and retries. Returns the final response whatever its status
     * (after retries of 429/5xx were exhausted); throws RegistryException when no response could
     * be had or authentication failed.
     */
    Response send(Request req) {
        int attempt = 0;
        while (true) {
            attempt++;
            Response r;
            try {
                r = sendOnce(req, attempt);
            } catch (IOException e) {
                if (req.retryable && attempt < transport.maxAttempts() && retryableIo(e)) {
                    LOG.log(System.Logger.Level.DEBUG, () -> req.action + ": attempt failed (" + describe(e) + "), retrying");
                    Backoff.sleep(transport, attempt, Optional.empty());
                    continue;
                }
                throw new RegistryException(req.action + ": " + describe(e) + (attempt > 1 ? " (after " + attempt + " attempts)" : ""), 0, List.of(), e);
            }
            if (req.retryable && attempt < transport.maxAttempts() && retryableStatus(r.status)) {
                Optional<String> retryAfter = r.header("Retry-After");
                r.close();
                final int status = r.status;
                LOG.log(System.Logger.Level.DEBUG, () -> req.action + ": " + status + ", retrying");
                Backoff.sleep(transport, attempt, retryAfter);
                continue;
            }
            if (r.status == 400 && "http".equalsIgnoreCase(base.getScheme()) && speaksTls()) {
                r.close();
                throw new RegistryException(req.action + ": " + displayHost + " speaks TLS (HTTPS) but was reached over plain HTTP"
                        + (TlsContexts.isLoopback(displayHost) && !transportForcedPlain
                        ? " (the default for loopback registries): pass --ca-cert FILE with the CA certificate of its TLS certificate,"
                                + " or --insecure to skip verification"
                        : ": drop --plain-http"), 400, List.of());
            }
            return r;
        }
    }

    /** Plain HTTP because the user said --plain-http (not the loopback default). */
    private final boolean transportForcedPlain;

    /** Null until asked; then whether this plain-HTTP address is a TLS port (Go servers answer 400 and say so). */
    private volatile Boolean speaksTls;

    /**
     * True when {@code GET /v2/} over plain HTTP answers 400 with Go's "Client sent an HTTP request
     * to an HTTPS server" (a HEAD's 400 carries no body to tell). Asked once, after a 400.
     */
    private boolean speaksTls() {
        Boolean known = speaksTls;
        if (known != null) {
            return known;
        }
        boolean tls = false;
        try {
            TimedExchange.Watch watch = new TimedExchange.Watch(transport);
            HttpRequest probe = HttpRequest.newBuilder(uri("/v2/")).header("User-Agent", USER_AGENT).GET().build();
            try (Response p = exchange(probe, watch, 1)) {
                if (p.status == 400) {
                    String text = new String(p.body.readNBytes(4096), java.nio.charset.StandardCharsets.UTF_8);
                    tls = text.contains("HTTP request to an HTTPS server");
                }
            }
        } catch (IOException | RuntimeException e) {
            tls = false; // the original 400 is reported as it is
        }
        speaksTls = tls;
        return tls;
    }

    /** Sends and requires one of {@code ok}; otherwise throws with the registry's error codes. */
    Response expect(Request req, int... ok) {
        Response r = send(req);
        for (int s : ok) {
            if (r.status == s) {
                return r;
            }
        }
        throw failure(req.action, r);
    }

    /** The RegistryException for an unexpected response (reads and closes its body). */
    static RegistryException failure(String action, Response r) {
        ErrorBody eb = r.errorBody();
        String codes = eb.codes().isEmpty() && r.status == 404 ? " NOT_FOUND" : "";
        String after = r.attempts > 1 ? " (after " + r.attempts + " attempts)" : "";
        return new RegistryException(action + ": " + r.status + codes + eb.suffix() + after, r.status, eb.codes());
    }

    /** One attempt: auth challenge round trips and redirects, no retries. */
    private Response sendOnce(Request req, int attempt) throws IOException {
        URI uri = req.uri;
        String method = req.method;
        Body body = req.body;
        Optional<String> authorization = sameOrigin(uri, base) && !req.raw ? auth.preemptive(req.scopes, req.action) : Optional.empty();
        boolean authFromCache = authorization.isPresent();
        int authRounds = 0;
        for (int hop = 0; hop <= MAX_REDIRECTS; hop++) {
            HttpRequest.Builder b = HttpRequest.newBuilder(uri).header("User-Agent", USER_AGENT);
            req.headers.forEach(b::header);
            authorization.ifPresent(a -> b.header("Authorization", a));
            TimedExchange.Watch watch = new TimedExchange.Watch(transport);
            b.method(method, body == null ? HttpRequest.BodyPublishers.noBody() : watch.wrap(body.publisher()));
            Response r = exchange(b.build(), watch, attempt);
            if (r.status == 401 && sameOrigin(uri, base) && !req.raw) {
                List<AuthChallenge> challenges = AuthChallenge.parseAll(r.headers.allValues("WWW-Authenticate"));
                ErrorBody eb = r.errorBody();
                authRounds++;
                if (authRounds > 2 || (authorization.isPresent() && !authFromCache)) {
                    throw new RegistryException(req.action + ": 401" + (eb.codes().isEmpty() ? " UNAUTHORIZED" : "") + eb.suffix()
                            + " (authentication refused)", 401, eb.codes().isEmpty() ? List.of("UNAUTHORIZED") : eb.codes());
                }
                if (challenges.isEmpty()) {
                    throw new RegistryException(req.action + ": 401 without a WWW-Authenticate challenge", 401, List.of("UNAUTHORIZED"));
                }
                authorization = Optional.of(auth.answer(challenges, req.scopes, req.action, authFromCache));
                authFromCache = false;
                hop--;
                continue;
            }
            if (isRedirect(r.status)) {
                Optional<String> location = r.header("Location");
                r.close();
                if (location.isEmpty()) {
                    throw new RegistryException(req.action + ": redirect " + r.status + " without Location", r.status, List.of());
                }
                URI next = uri.resolve(location.get());
                if (!sameOrigin(next, uri)) {
                    authorization = Optional.empty();
                }
                if (r.status == 303 && !method.equals("HEAD")) {
                    method = "GET";
                    body = null;
                }
                uri = next;
                continue;
            }
            return r;
        }
        throw new RegistryException(req.action + ": more than " + MAX_REDIRECTS + " redirects", 0, List.of());
    }

    /**
     * One HTTP exchange under a permit. A thread that already holds a permit (typically through an
     * open blob stream it is copying from) does not wait for a second one: a worker reading from and
     * writing to the same registry can never deadlock on the semaphore.
     */
    private Response exchange(HttpRequest request, TimedExchange.Watch watch, int attempt) throws IOException {
        Thread me = Thread.currentThread();
        AtomicInteger mine = held.get(me);
        boolean nested = mine != null && mine.get() > 0;
        if (!nested) {
            try {
                permits.acquire();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new java.io.InterruptedIOException("interrupted while waiting for a connection to " + displayHost);
            }
            held.computeIfAbsent(me, t -> new AtomicInteger()).incrementAndGet();
        }
        java.util.concurrent.atomic.AtomicBoolean released = new java.util.concurrent.atomic.AtomicBoolean(nested);
        Runnable release = () -> {
            if (!released.compareAndSet(false, true)) {
                return;
            }
            AtomicInteger c = held.get(me);
            if (c != null && c.decrementAndGet() <= 0) {
                held.remove(me, c);
            }
            permits.release();
        };
        boolean handedOver = false;
        try {
            HttpResponse<InputStream> resp = TimedExchange.send(client, request, info -> new StreamingBody(transport.idleTimeout(), release), watch);
            handedOver = true;
            return new Response(resp.statusCode(), resp.headers(), resp.uri(), resp.body(), attempt);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new java.io.InterruptedIOException("interrupted while talking to " + displayHost);
        } finally {
            if (!handedOver) {
                release.run();
            }
        }
    }

    private static boolean isRedirect(int s) {
        return s == 301 || s == 302 || s == 303 || s == 307 || s == 308;
    }

    static boolean sameOrigin(URI a, URI b) {
        return Objects.equals(lower(a.getScheme()), lower(b.getScheme())) && Objects.equals(lower(a.getHost()), lower(b.getHost()))
                && port(a) == port(b);
    }

    private static String lower(String s) {
        return s == null ? null : s.toLowerCase(Locale.ROOT);
    }

    private static int port(URI u) {
        if (u.getPort() >= 0) {
            return u.getPort();
        }
        return "https".equalsIgnoreCase(u.getScheme()) ? 443 : 80;
    }

    static boolean retryableStatus(int s) {
        return s == 429 || s == 408 || (s >= 500 && s != 501 && s != 505);
    }

    /** A 4xx answer that asking again cannot change (not 408 or 429): thrown as it is. */
    static boolean permanentClientError(int s) {
        return s >= 400 && s < 500 && !retryableStatus(s);
    }

    static boolean retryableIo(IOException e) {
        if (e instanceof SSLHandshakeException) {
            return false; // a certificate problem does not heal by retrying
        }
        if (e instanceof java.io.InterruptedIOException && !(e instanceof HttpTimeoutException) && !(e instanceof java.net.SocketTimeoutException)) {
            return false;
        }
        return true;
    }

    /** One line for an I/O failure, without secrets (exception messages carry no headers). */
    static String describe(Throwable e) {
        if (e == null) {
            return "no response";
        }
        if (e instanceof HttpConnectTimeoutException) {
            return "connect timed out (--timeout-connect)";
        }
        if (e instanceof TimedExchange.StallException) {
            return e.getMessage();
        }
        if (e instanceof HttpTimeoutException) {
            return "timed out waiting for the response";
        }
        if (e instanceof ConnectException) {
            return "connection refused";
        }
        if (e instanceof SSLHandshakeException) {
            return "TLS handshake failed: " + oneLine(rootMessage(e)) + " (use --ca-cert or certs.d, or --insecure)";
        }
        if (e instanceof SSLException) {
            return "TLS failed: " + oneLine(rootMessage(e));
        }
        String m = e.getMessage();
        if (m == null || m.isBlank()) {
            return e.getClass().getSimpleName();
        }
        return oneLine(m);
    }

    private static String rootMessage(Throwable e) {
        Throwable t = e;
        while (t.getCause() != null && t.getCause() != t) {
            t = t.getCause();
        }
        return t.getMessage() == null ? e.getMessage() : t.getMessage();
    }

    private static String oneLine(String s) {
        if (s == null) {
            return "";
        }
        String one = s.replaceAll("\\s+", " ").trim();
        return one.length() > 200 ? one.substring(0, 200) + "…" : one;
    }

    /** Retries of other layers (uploads, downloads) use the same backoff. */
    void backoff(int attempt, Optional<String> retryAfter) {
        Backoff.sleep(transport, attempt, retryAfter);
    }


    /**
     * Also stops the client's selector thread. Java 17's HttpClient has no close; its
     * SelectorManager thread waits in epoll_wait (native code) until the client is collected, and
     * a JVM exiting with a thread in native code waits 300 ms for it (HotSpot's
     * VM_Exit::wait_for_threads_in_native_to_block): every command that had talked to a registry
     * took 0.3 s longer to exit than --version (an up-to-date re-import: hook to process end
     * 330-450 ms, 20-50 ms with the thread stopped). The selector loop ends when its thread is
     * interrupted and closes the client's connections on its way out. The thread is found by the
     * name the JDK gives it ("HttpClient-ID-SelectorManager", ID the number the client's
     * toString ends with); when the JDK names it otherwise, nothing is stopped and the exit is as slow as before.
     */
    @Override
    public void close() {
        executor.shutdownNow();
        stopSelector(client);
    }

    static void stopSelector(HttpClient client) {
        String s = client.toString();
        int open = s.lastIndexOf('(');
        if (open < 0 || !s.endsWith(")")) {
            return;
        }
        String name = "HttpClient-" + s.substring(open + 1, s.length() - 1) + "-SelectorManager";
        ThreadGroup root = Thread.currentThread().getThreadGroup();
        while (root.getParent() != null) {
            root = root.getParent();
        }
        Thread[] threads = new Thread[root.activeCount() + 16];
        int n = root.enumerate(threads, true);
        for (int i = 0; i < n; i++) {
            Thread t = threads[i];
            if (t != null && name.equals(t.getName()) && t != Thread.currentThread()) {
                t.interrupt();
                try {
                    t.join(200);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
                return;
            }
        }
    }
}
