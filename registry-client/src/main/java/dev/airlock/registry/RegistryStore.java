package dev.airlock.registry;

import com.fasterxml.jackson.databind.JsonNode;
import dev.airlock.error.DigestMismatchException;
import dev.airlock.error.InvalidContentException;
import dev.airlock.error.RegistryException;
import dev.airlock.error.UsageException;
import dev.airlock.io.VerifyingInputStream;
import dev.airlock.model.Descriptor;
import dev.airlock.model.Digest;
import dev.airlock.model.ImageIndex;
import dev.airlock.model.Json;
import dev.airlock.model.ManifestView;
import dev.airlock.model.MediaType;
import dev.airlock.model.RawManifest;
import dev.airlock.store.ImageDestination.BlobContent;
import dev.airlock.store.ImageStore;
import dev.airlock.store.ReferrersSource;
import dev.airlock.store.TagLister;
import java.io.InputStream;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * An {@link ImageStore} backed by one registry, speaking the OCI distribution API over
 * java.net.http. Manifests travel as exact bytes; blobs stream and are verified while they flow.
 * Thread-safe; close it to release its threads.
 *
 * <pre>{@code
 * try (RegistryStore reg = RegistryStore.open("127.0.0.1:5000", RegistryOptions.defaults())) {
 *     RawManifest m = reg.fetchManifest("library/busybox", "1.36");
 * }
 * }</pre>
 */
public final class RegistryStore implements ImageStore, ReferrersSource, TagLister {
    /** The Accept header for manifests: OCI and Docker image manifests and indexes. */
    public static final String MANIFEST_ACCEPT = String.join(", ", MediaType.OCI_INDEX.value(), MediaType.OCI_MANIFEST.value(),
            MediaType.DOCKER_MANIFEST_LIST.value(), MediaType.DOCKER_MANIFEST.value());
    private static final Pattern REPOSITORY = Pattern.compile("[a-z0-9]+(?:(?:\\.|_|__|-+)[a-z0-9]+)*(?:/[a-z0-9]+(?:(?:\\.|_|__|-+)[a-z0-9]+)*)*");
    private static final Pattern TAG = Pattern.compile("[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}");
    private static final Pattern LINK_NEXT = Pattern.compile("<([^>]*)>\\s*;[^,]*rel=\"?next\"?");
    private static final int MAX_PAGES = 100_000;
    /** Read buffer of java.net.http for plain-HTTP bodies; see the static block. */
    static final String BODY_BUFFER_PROPERTY = "jdk.httpclient.bufsize";
    static final int BODY_BUFFER = 1 << 20;

    static {
        // java.net.http reads a body in pieces of jdk.httpclient.bufsize bytes (16 KiB by default),
        // each handed from its selector thread to the reading thread: one GET of a 1 GiB blob from a
        // loopback registry ran at ~300 MB/s against curl's ~900 MB/s, and at ~900 MB/s with 1 MiB
        // pieces. The JDK reads the property once, when its HTTP classes load, so it is set here,
        // before the first client is built, unless the user set it (JAVA_OPTS=-Djdk.httpclient.bufsize=N).
        if (System.getProperty(BODY_BUFFER_PROPERTY) == null) {
            System.setProperty(BODY_BUFFER_PROPERTY, Integer.toString(BODY_BUFFER));
        }
    }

    private final String host;
    private final RegistryHttp http;
    /** Set once the registry answered a referrers request as a registry without the API does. */
    private final java.util.concurrent.atomic.AtomicBoolean noReferrersApi = new java.util.concurrent.atomic.AtomicBoolean();
    private final java.util.concurrent.atomic.AtomicInteger uploadResumes = new java.util.concurrent.atomic.AtomicInteger();
    private final java.util.concurrent.atomic.AtomicInteger uploadRestarts = new java.util.concurrent.atomic.AtomicInteger();
    private final java.util.concurrent.atomic.AtomicInteger rangeFallbacks = new java.util.concurrent.atomic.AtomicInteger();

    private RegistryStore(String host, RegistryHttp http) {
        this.host = host;
        this.http = http;
    }

    /**
     * Opens a store for {@code registryHost} ({@code host[:port]}; {@code docker.io} means Docker
     * Hub, reached at {@code registry-1.docker.io}). Nothing is sent until the first call.
     */
    public static RegistryStore open(String registryHost, RegistryOptions options) {
        if (registryHost == null || !registryHost.matches("[A-Za-z0-9.-]+(:[0-9]{1,5})?|\\[[0-9A-Fa-f:.]+\\](:[0-9]{1,5})?")) {
            throw new UsageException("invalid registry host '" + registryHost + "'");
        }
        new dev.airlock.model.ImageReference(registryHost, "x", "t", Optional.empty()); // the port range
        RegistryOptions o = options == null ? RegistryOptions.defaults() : options;
        String apiHost = apiHost(registryHost);
        boolean plain = TlsContexts.usePlainHttp(o.tls(), registryHost);
        URI base = URI.create((plain ? "http://" : "https://") + apiHost + "/");
        HttpClient.Builder b = HttpClient.newBuilder();
        if (!plain) {
            b.sslContext(TlsContexts.build(o.tls(), registryHost));
        } else {
            // plain HTTP: the JDK's default TLS context (for an https redirect, say) only when first used
            b.sslContext(new LazyDefaultSslContext()).sslParameters(new javax.net.ssl.SSLParameters());
        }
        return new RegistryStore(registryHost, new RegistryHttp(registryHost, base, b, o.transport(), o.credentials(),
                o.tls().plainHttp() || o.tls().insecure(), o.tls().plainHttp()));
    }

    /** The host API requests go to: {@code docker.io} → {@code registry-1.docker.io}. */
    static String apiHost(String registryHost) {
        String h = registryHost.toLowerCase(Locale.ROOT);
        return h.equals("docker.io") || h.equals("index.docker.io") ? "registry-1.docker.io" : registryHost;
    }

    /** The registry host as given, e.g. {@code 127.0.0.1:5000}. */
    public String host() {
        return host;
    }

    /** The base URI requests go to, e.g. {@code http://127.0.0.1:5000/}. */
    public URI baseUri() {
        return http.base;
    }

    @Override
    public String describe() {
        return "registry " + host;
    }

    // ---------------------------------------------------------------- manifests

    @Override
    public RawManifest fetchManifest(String repository, String reference) {
        checkRepository(repository);
        Optional<Digest> expected = digestReference(reference);
        String what = "manifest " + reference + " from " + host + "/" + repository;
        String action = "fetching " + what;
        RegistryHttp.Request req = new RegistryHttp.Request("GET", manifestUri(repository, reference), action)
                .header("Accept", MANIFEST_ACCEPT).scopes(pull(repository));
        try (RegistryHttp.Response r = http.expect(req, 200)) {
            byte[] bytes = r.readBody(Json.MAX_DOCUMENT_BYTES, action);
            RawManifest m = wrap(r, bytes, what);
            if (expected.isPresent()) {
                if (!m.digest().equals(expected.get())) {
                    throw new DigestMismatchException(what + ": content has digest " + m.digest() + ", expected " + expected.get());
                }
            } else {
                Optional<String> claimed = r.header("Docker-Content-Digest").map(String::trim);
                if (claimed.isPresent() && !claimed.get().equals(m.digest().toString())) {
                    // the bytes fail the registry's own digest: a content check, like a blob that does not hash to its digest (exit 3)
                    throw new DigestMismatchException(what + ": registry says " + claimed.get() + " but the content has digest " + m.digest());
                }
            }
            return m;
        }
    }

    private static RawManifest wrap(RegistryHttp.Response r, byte[] bytes, String what) {
        String ct = r.header("Content-Type").map(RegistryStore::baseType).orElse("");
        MediaType mt = null;
        try {
            mt = ct.isEmpty() ? null : MediaType.of(ct);
        } catch (InvalidContentException ignored) {
            mt = null;
        }
        if (mt != null && mt.isManifest()) {
            return RawManifest.of(mt, bytes);
        }
        if (mt != null && mt.equals(MediaType.DOCKER_SCHEMA1_SIGNED) || ct.equals("application/vnd.docker.distribution.manifest.v1+json")) {
            throw new InvalidContentException(what + " is a Docker schema 1 manifest, which Airlock does not carry");
        }
        return RawManifest.sniff(bytes, what);
    }

    private static String baseType(String contentType) {
        int semi = contentType.indexOf(';');
        return (semi >= 0 ? contentType.substring(0, semi) : contentType).trim().toLowerCase(Locale.ROOT);
    }

    @Override
    public Optional<Descriptor> headManifest(String repository, String reference) {
        checkRepository(repository);
        Optional<Digest> expected = digestReference(reference);
        String action = "checking manifest " + reference + " in " + host + "/" + repository;
        RegistryHttp.Request req = new RegistryHttp.Request("HEAD", manifestUri(repository, reference), action)
                .header("Accept", MANIFEST_ACCEPT).scopes(pull(repository));
        try (RegistryHttp.Response r = http.send(req)) {
            if (r.status == 404) {
                return Optional.empty();
            }
            if (r.status != 200) {
                throw RegistryHttp.failure(action, r);
            }
            Optional<String> digest = r.header("Docker-Content-Digest").map(String::trim);
            Optional<String> ct = r.header("Content-Type").map(RegistryStore::baseType);
            OptionalLongHolder len = new OptionalLongHolder(r.header("Content-Length"));
            if (digest.isPresent() && ct.isPresent() && len.value >= 0 && isManifestType(ct.get())) {
                Digest d = Digest.parse(digest.get());
                if (expected.isPresent() && !expected.get().equals(d)) {
                    throw wrongDigestHeader(action + ": the registry answered for " + d, r.status);
                }
                return Optional.of(Descriptor.of(MediaType.of(ct.get()), d, len.value));
            }
        } catch (InvalidContentException e) {
            // an unparsable digest or media type header: fall back to fetching the bytes
        }
        try {
            return Optional.of(fetchManifest(repository, reference).descriptor());
        } catch (RegistryException e) {
            if (e.isNotFound()) {
                return Optional.empty();
            }
            throw e;
        }
    }

    private static boolean isManifestType(String ct) {
        try {
            return MediaType.of(ct).isManifest();
        } catch (InvalidContentException e) {
            return false;
        }
    }

    private record OptionalLongHolder(long value) {
        OptionalLongHolder(Optional<String> header) {
            this(parse(header));
        }

        private static long parse(Optional<String> h) {
            try {
                return h.map(s -> Long.parseLong(s.trim())).orElse(-1L);
            } catch (NumberFormatException e) {
                return -1;
            }
        }
    }

    @Override
    public void pushManifest(String repository, String reference, RawManifest manifest) {
        checkRepository(repository);
        Optional<Digest> asDigest = digestReference(reference);
        String action = "pushing manifest " + manifest.digest() + " to " + host + "/" + repository
                + (asDigest.isPresent() ? "" : " as " + reference);
        if (asDigest.isPresent() && !asDigest.get().equals(manifest.digest())) {
            throw new DigestMismatchException(action + ": its bytes have digest " + manifest.digest() + ", not " + reference);
        }
        RegistryHttp.Request req = new RegistryHttp.Request("PUT", manifestUri(repository, reference), action)
                .header("Content-Type", manifest.mediaType().value())
                .body(RegistryHttp.Body.ofBytes(manifest.bytes())).scopes(push(repository));
        try (RegistryHttp.Response r = http.expect(req, 201, 200, 204)) {
            Optional<String> stored = r.header("Docker-Content-Digest").map(String::trim);
            if (stored.isPresent() && !stored.get().equals(manifest.digest().toString())) {
                throw wrongDigestHeader(action + ": the registry says it stored it as " + stored.get(), r.status);
            }
        }
    }

    /** Deletes a manifest by digest (registries refuse deleting by tag). */
    public void deleteManifest(String repository, Digest digest) {
        checkRepository(repository);
        String action = "deleting manifest " + digest + " from " + host + "/" + repository;
        RegistryHttp.Request req = new RegistryHttp.Request("DELETE", manifestUri(repository, digest.toString()), action)
                .scopes(List.of("repository:" + repository + ":delete"));
        http.expect(req, 202, 200, 204).close();
    }

    // ---------------------------------------------------------------- blobs

    @Override
    public Optional<Long> blobSize(String repository, Digest digest) {
        checkRepository(repository);
        String action = "checking blob " + digest + " in " + host + "/" + repository;
        RegistryHttp.Request req = new RegistryHttp.Request("HEAD", blobUri(repository, digest), action).scopes(pull(repository));
        try (RegistryHttp.Response r = http.send(req)) {
            if (r.status == 404) {
                return Optional.empty();
            }
            if (r.status != 200) {
                throw RegistryHttp.failure(action, r);
            }
            long len = new OptionalLongHolder(r.header("Content-Length")).value;
            if (len < 0) {
                throw new RegistryException(action + ": answer has no Content-Length", r.status, List.of());
            }
            return Optional.of(len);
        }
    }

    @Override
    public InputStream openBlob(String repository, Descriptor blob) {
        checkRepository(repository);
        String what = "blob " + blob.digest() + " from " + host + "/" + repository;
        String action = "fetching " + what;
        URI uri = blobUri(repository, blob.digest());
        BlobDownload d = new BlobDownload(http, () -> new RegistryHttp.Request("GET", uri, action).scopes(pull(repository)), blob, action);
        d.start();
        return new VerifyingInputStream(d, blob.digest(), blob.size(), what);
    }

    /**
     * A blob of {@link TransportOptions#rangedDownloadThreshold()} bytes or more, when
     * {@code parallel} is above 1, writes itself into the destination's file as ranged GETs of
     * {@link TransportOptions#rangeSize()} bytes, {@code parallel} at once ({@link RangedDownload});
     * otherwise, and for {@link BlobContent#open}, it is one verifying stream.
     */
    @Override
    public BlobContent blobContent(String repository, Descriptor blob, int parallel) {
        checkRepository(repository);
        BlobContent stream = BlobContent.selfVerifying(() -> openBlob(repository, blob));
        TransportOptions t = http.transport;
        if (parallel < 2 || blob.size() < Math.max(1, t.rangedDownloadThreshold()) || blob.size() <= t.rangeSize()) {
            return stream;
        }
        String what = "blob " + blob.digest() + " from " + host + "/" + repository;
        String action = "fetching " + what;
        URI uri = blobUri(repository, blob.digest());
        return new BlobContent() {
            @Override
            public InputStream open() throws java.io.IOException {
                return stream.open();
            }

            @Override
            public boolean verifiesItself() {
                return true;
            }

            @Override
            public boolean writeInto(dev.airlock.io.BlobRegion file, java.util.function.LongConsumer progress) throws java.io.IOException {
                RangedDownload d = new RangedDownload(http, () -> new RegistryHttp.Request("GET", uri, action).scopes(pull(repository)),
                        () -> openBlob(repository, blob), blob, what, action, parallel, t.rangeSize());
                if (!d.into(file, progress)) {
                    rangeFallbacks.incrementAndGet();
                }
                return true;
            }
        };
    }

    /** Large blobs that came as one stream because ranged requests did not work (diagnostics, tests). */
    public int rangeFallbacks() {
        return rangeFallbacks.get();
    }

    @Override
    public void pushBlob(String repository, Descriptor blob, BlobContent content) {
        checkRepository(repository);
        String action = "pushing blob " + blob.digest() + " to " + host + "/" + repository;
        BlobUpload u = new BlobUpload(http, repository, blob, content, action);
        try {
            u.run();
        } finally {
            uploadResumes.addAndGet(u.resumed());
            uploadRestarts.addAndGet(u.restarted());
        }
    }

    /**
     * Asks the registry to link a blob of {@code fromRepository} into {@code repository}
     * ({@code POST …/blobs/uploads/?mount=&from=}). True when it did (201); false when it refused or
     * started an upload instead (that session is cancelled) — then the caller uploads.
     */
    @Override
    public boolean mountBlob(String repository, Descriptor blob, String fromRepository) {
        checkRepository(repository);
        checkRepository(fromRepository);
        String action = "mounting blob " + blob.digest() + " from " + host + "/" + fromRepository + " into " + repository;
        URI uri = http.uri("/v2/" + repository + "/blobs/uploads/?mount=" + enc(blob.digest().toString()) + "&from=" + enc(fromRepository));
        RegistryHttp.Request req = new RegistryHttp.Request("POST", uri, action)
                .body(RegistryHttp.Body.ofBytes(new byte[0]))
                .scopes(List.of("repository:" + repository + ":pull,push", "repository:" + fromRepository + ":pull"));
        RegistryHttp.Response r;
        try {
            r = http.send(req);
        } catch (RegistryException e) {
            if (e.status() == 401 || e.status() == 403) {
                return false;
            }
            throw e;
        }
        try (r) {
            if (r.status == 201) {
                Optional<String> d = r.header("Docker-Content-Digest").map(String::trim);
                return d.isEmpty() || d.get().equals(blob.digest().toString());
            }
            if (r.status == 202) {
                r.header("Location").ifPresent(loc -> cancelUpload(r.uri.resolve(loc), repository, action));
            }
            return false;
        }
    }

    private void cancelUpload(URI location, String repository, String action) {
        try {
            http.send(new RegistryHttp.Request("DELETE", location, action + " (cancelling the upload it started)")
                    .scopes(push(repository)).retryable(false)).close();
        } catch (RegistryException ignored) {
            // an abandoned upload session is purged by the registry
        }
    }

    // ---------------------------------------------------------------- tags, referrers

    /** Every tag of a repository, following {@code Link} pagination; empty for an unknown repository. */
    @Override
    public List<String> listTags(String repository) {
        return listTags(repository, 0);
    }

    /** Like {@link #listTags(String)} asking for {@code pageSize} tags per request (0: the registry's default). */
    public List<String> listTags(String repository, int pageSize) {
        checkRepository(repository);
        String action = "listing tags of " + host + "/" + repository;
        URI first = http.uri("/v2/" + repository + "/tags/list" + (pageSize > 0 ? "?n=" + pageSize : ""));
        return paged(first, action, pull(repository), "tags", "tag list of " + repository, true);
    }

    /**
     * Every repository the registry lists in its catalog ({@code GET /v2/_catalog}), following
     * {@code Link} pagination; with token auth this asks for the {@code registry:catalog:*} scope.
     * Registries may restrict or disable the catalog (Docker Hub does): that is a RegistryException.
     */
    public List<String> listRepositories() {
        return listRepositories(0);
    }

    /** Like {@link #listRepositories()} asking for {@code pageSize} names per request (0: the registry's default). */
    public List<String> listRepositories(int pageSize) {
        String action = "listing the repositories of " + host;
        URI first = http.uri("/v2/_catalog" + (pageSize > 0 ? "?n=" + pageSize : ""));
        return paged(first, action, List.of("registry:catalog:*"), "repositories", "catalog of " + host, false);
    }

    /**
     * The strings of {@code field} in every page from {@code first} on, following {@code rel="next"}
     * Link headers. With {@code emptyWhenUnknown} a first-page {@code 404 NAME_UNKNOWN} is an empty list.
     */
    private List<String> paged(URI first, String action, List<String> scopes, String field, String what, boolean emptyWhenUnknown) {
        URI next = first;
        List<String> out = new ArrayList<>();
        Set<String> seenPages = new HashSet<>();
        for (int page = 0; next != null; page++) {
            if (page >= MAX_PAGES || !seenPages.add(next.toString())) {
                throw new RegistryException(action + ": pagination does not end", 0, List.of());
            }
            RegistryHttp.Request req = new RegistryHttp.Request("GET", next, action).scopes(scopes);
            try (RegistryHttp.Response r = http.send(req)) {
                if (r.status == 404 && page == 0 && emptyWhenUnknown) {
                    ErrorBody eb = r.errorBody();
                    if (eb.codes().contains("NAME_UNKNOWN")) {
                        return List.of();
                    }
                    throw new RegistryException(action + ": 404" + eb.suffix(), 404, eb.codes());
                }
                if (r.status != 200) {
                    throw RegistryHttp.failure(action, r);
                }
                JsonNode node = Json.parse(r.readBody(Json.MAX_DOCUMENT_BYTES, action), what);
                for (JsonNode t : node.path(field)) {
                    if (t.isTextual()) {
                        out.add(t.asText());
                    }
                }
                next = nextLink(r.headers.allValues("Link"), next);
            }
        }
        return out;
    }

    /** The {@code rel="next"} target of RFC 8288 Link headers, resolved against the current page; null when none. */
    static URI nextLink(List<String> linkHeaders, URI current) {
        for (String link : linkHeaders) {
            Matcher m = LINK_NEXT.matcher(link);
            if (m.find()) {
                return current.resolve(m.group(1));
            }
        }
        return null;
    }

    /**
     * The manifests that refer to {@code subject} (signatures, SBOMs, attestations): the OCI
     * referrers API when the registry has it, else the {@code sha256-<hex>} tag scheme. Filtered by
     * {@code artifactType} when it is not empty.
     */
    public List<Descriptor> referrers(String repository, Digest subject, String artifactType) {
        List<Descriptor> found = referrersApi(repository, subject).orElseGet(() -> fallbackReferrers(repository, subject));
        if (artifactType == null || artifactType.isEmpty()) {
            return found;
        }
        List<Descriptor> filtered = new ArrayList<>();
        for (Descriptor d : found) {
            String at = d.annotations().getOrDefault("org.opencontainers.image.artifactType", "");
            if (at.equals(artifactType) || artifactTypeOf(d).equals(artifactType)) {
                filtered.add(d);
            }
        }
        return filtered;
    }

    /**
     * The OCI referrers API's list for {@code subject}, or empty when the registry has no such API
     * (404, 400 or 405, or an answer that is not an OCI index, as Distribution 2.8 gives): that is
     * remembered, so later calls ask nothing. The registry's own errors (auth, 5xx) are thrown.
     */
    @Override
    public Optional<List<Descriptor>> referrersApi(String repository, Digest subject) {
        checkRepository(repository);
        if (noReferrersApi.get()) {
            return Optional.empty();
        }
        String action = "listing referrers of " + subject + " in " + host + "/" + repository;
        RegistryHttp.Request req = new RegistryHttp.Request("GET", http.uri("/v2/" + repository + "/referrers/" + subject), action)
                .header("Accept", MediaType.OCI_INDEX.value()).scopes(pull(repository));
        try (RegistryHttp.Response r = http.send(req)) {
            String ct = r.header("Content-Type").map(RegistryStore::baseType).orElse("");
            if (r.status == 200 && ct.equals(MediaType.OCI_INDEX.value())) {
                byte[] bytes = r.readBody(Json.MAX_DOCUMENT_BYTES, action);
                return Optional.of(entries(RawManifest.of(MediaType.OCI_INDEX, bytes)));
            }
            if (r.status == 404 || r.status == 200 || r.status == 400 || r.status == 405) {
                noReferrersApi.set(true);
                return Optional.empty();
            }
            throw RegistryHttp.failure(action, r);
        }
    }

    /** The tag the referrers fallback scheme uses for a subject: {@code sha256-<hex>}. */
    public static String referrersTag(Digest subject) {
        return ReferrersSource.schemaTag(subject);
    }

    private List<Descriptor> fallbackReferrers(String repository, Digest subject) {
        try {
            return entries(fetchManifest(repository, referrersTag(subject)));
        } catch (RegistryException e) {
            if (e.isNotFound()) {
                return List.of();
            }
            throw e;
        }
    }

    private static List<Descriptor> entries(RawManifest index) {
        ManifestView v = index.view();
        if (v instanceof ImageIndex i) {
            return i.manifests();
        }
        throw new InvalidContentException("referrers list " + index.digest() + " is not an index");
    }

    private static String artifactTypeOf(Descriptor d) {
        // Descriptor has no artifactType field; the referrers API puts it in annotations only in some registries
        return d.annotations().getOrDefault("artifactType", "");
    }

    // ---------------------------------------------------------------- probes (preflight)

    /**
     * What {@code GET /v2/} answers without any credentials.
     *
     * @param status     the HTTP status (200 open, 401 authentication wanted)
     * @param challenge  the scheme of the first {@code WWW-Authenticate} challenge, lowercase
     *                   ({@code basic}, {@code bearer}), or "" when there is none
     * @param apiVersion the {@code Docker-Distribution-API-Version} header, or ""
     */
    public record ApiProbe(int status, String challenge, String apiVersion) {
    }

    /**
     * Asks {@code GET /v2/} without credentials and returns the answer as it is. Throws a
     * RegistryException (status 0) when no answer arrives: connection refused, TLS failure.
     */
    public ApiProbe probeApi() {
        String action = "probing " + host + "/v2/";
        try (RegistryHttp.Response r = http.send(new RegistryHttp.Request("GET", http.uri("/v2/"), action).raw())) {
            List<AuthChallenge> ch = AuthChallenge.parseAll(r.headers.allValues("WWW-Authenticate"));
            return new ApiProbe(r.status, ch.isEmpty() ? "" : ch.get(0).scheme(), r.header("Docker-Distribution-API-Version").orElse(""));
        }
    }

    /** {@code GET /v2/} with the configured credentials; returns when the registry accepts them, else throws its refusal. */
    public void checkLogin() {
        String action = "logging in to " + host;
        http.expect(new RegistryHttp.Request("GET", http.uri("/v2/"), action), 200).close();
    }

    /**
     * Opens a blob upload session in {@code repository} ({@code POST …/blobs/uploads/}) and cancels
     * it: returns when the registry lets us push there, else throws its refusal (401/403 DENIED,
     * NAME_INVALID, ...). No content is stored.
     */
    public void checkPush(String repository) {
        checkRepository(repository);
        String action = "starting an upload to " + host + "/" + repository;
        RegistryHttp.Request req = new RegistryHttp.Request("POST", http.uri("/v2/" + repository + "/blobs/uploads/"), action)
                .body(RegistryHttp.Body.ofBytes(new byte[0])).scopes(push(repository));
        try (RegistryHttp.Response r = http.expect(req, 202)) {
            Optional<String> loc = r.header("Location");
            if (loc.isEmpty()) {
                throw new RegistryException(action + ": 202 without Location", 202, List.of());
            }
            cancelUpload(r.uri.resolve(loc.get()), repository, action);
        }
    }

    /** Deletes a blob from one repository; Distribution refuses (405 UNSUPPORTED) unless storage.delete is enabled. */
    public void deleteBlob(String repository, Digest digest) {
        checkRepository(repository);
        String action = "deleting blob " + digest + " from " + host + "/" + repository;
        RegistryHttp.Request req = new RegistryHttp.Request("DELETE", blobUri(repository, digest), action)
                .scopes(List.of("repository:" + repository + ":delete"));
        http.expect(req, 202, 200, 204).close();
    }

    /**
     * True when the registry answers the OCI referrers API ({@code GET …/referrers/<digest>} gives
     * 200 with an OCI index); false when it does not know the endpoint (404, 400, 405): clients
     * then use the {@code sha256-<hex>} tag fallback.
     */
    public boolean hasReferrersApi(String repository, Digest subject) {
        checkRepository(repository);
        String action = "asking " + host + "/" + repository + " for the referrers of " + subject;
        RegistryHttp.Request req = new RegistryHttp.Request("GET", http.uri("/v2/" + repository + "/referrers/" + subject), action)
                .header("Accept", MediaType.OCI_INDEX.value()).scopes(pull(repository));
        try (RegistryHttp.Response r = http.send(req)) {
            String ct = r.header("Content-Type").map(RegistryStore::baseType).orElse("");
            if (r.status == 200) {
                return ct.equals(MediaType.OCI_INDEX.value());
            }
            if (r.status == 404 || r.status == 400 || r.status == 405) {
                return false;
            }
            throw RegistryHttp.failure(action, r);
        }
    }

    /** Uploads continued from the registry's reported offset after a failure, so far (diagnostics). */
    public int uploadResumes() {
        return uploadResumes.get();
    }

    /** Uploads started again from byte 0 because the registry had lost the session, so far (diagnostics). */
    public int uploadRestarts() {
        return uploadRestarts.get();
    }

    @Override
    public void close() {
        http.close();
    }

    @Override
    public String toString() {
        return describe();
    }

    // ---------------------------------------------------------------- helpers

    /**
     * A {@code Docker-Content-Digest} answer to a push or a HEAD that is not the digest pushed or
     * asked for: the registry failed the operation (exit 4). Bytes that do not hash to the digest
     * they were asked for (or that the registry names) are a verification failure instead
     * ({@link DigestMismatchException}, exit 3).
     */
    static RegistryException wrongDigestHeader(String message, int status) {
        return new RegistryException(message + " (wrong Docker-Content-Digest)", status, List.of("DIGEST_INVALID"));
    }

    private URI manifestUri(String repository, String reference) {
        return http.uri("/v2/" + repository + "/manifests/" + reference);
    }

    private URI blobUri(String repository, Digest digest) {
        return http.uri("/v2/" + repository + "/blobs/" + digest);
    }

    private static List<String> pull(String repository) {
        return List.of("repository:" + repository + ":pull");
    }

    private static List<String> push(String repository) {
        return List.of("repository:" + repository + ":pull,push");
    }

    private static String enc(String s) {
        return URLEncoder.encode(s, StandardCharsets.UTF_8);
    }

    private static void checkRepository(String repository) {
        if (repository == null || repository.length() > 255 || !REPOSITORY.matcher(repository).matches()) {
            throw new UsageException("invalid repository '" + repository + "'");
        }
    }

    /** A digest reference, or empty for a valid tag; anything else is a usage error. */
    private static Optional<Digest> digestReference(String reference) {
        if (reference == null) {
            throw new UsageException("missing tag or digest");
        }
        if (reference.contains(":")) {
            try {
                return Optional.of(Digest.parse(reference));
            } catch (InvalidContentException e) {
                throw new UsageException("invalid digest reference '" + reference + "'");
            }
        }
        if (!TAG.matcher(reference).matches()) {
            throw new UsageException("invalid tag '" + reference + "'");
        }
        return Optional.empty();
    }
}
