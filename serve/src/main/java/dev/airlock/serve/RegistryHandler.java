package dev.airlock.serve;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.airlock.error.AirlockException;
import dev.airlock.error.DigestMismatchException;
import dev.airlock.model.Descriptor;
import dev.airlock.model.Digest;
import dev.airlock.model.Json;
import dev.airlock.model.MediaType;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.Consumer;
import java.util.regex.Pattern;

/**
 * The read-only Distribution API v2 over a {@link Catalog}:
 * <pre>
 * GET      /v2/                                 200 {}
 * GET      /v2/_catalog[?n=&amp;last=]              repositories
 * GET      /v2/NAME/tags/list[?n=&amp;last=]        tags
 * GET/HEAD /v2/NAME/manifests/TAG|DIGEST        exact bytes, the manifest's own Content-Type
 * GET/HEAD /v2/NAME/blobs/DIGEST                bytes; Range: 206 / 416
 * GET      /v2/NAME/referrers/DIGEST[?artifactType=]  an OCI index of the manifests whose subject is DIGEST
 * anything else with POST, PUT, PATCH, DELETE…  405 UNSUPPORTED
 * </pre>
 * Errors carry the OCI error body {@code {"errors":[{"code":…,"message":…}]}}. Percent-encoded
 * paths are refused (no encoded slashes, no smuggled "..": a name must match the distribution
 * grammar as sent).
 */
final class RegistryHandler implements Http1Server.Handler {
    private static final Pattern NAME = Pattern.compile("[a-z0-9]+(?:(?:\\.|_|__|-+)[a-z0-9]+)*(?:/[a-z0-9]+(?:(?:\\.|_|__|-+)[a-z0-9]+)*)*");
    private static final Pattern TAG = Pattern.compile("[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}");
    private static final int BUFFER = 256 * 1024;
    /** Bodies up to this size are written through the response stream, in one write with the headers. */
    private static final int SMALL = 32 * 1024;
    /**
     * Per connection thread, reused for every body: the direct buffer of {@link #send}'s channel
     * path and the array of {@link #copy}. 256 KiB: 1 and 4 MiB were not faster (skopeo copy --all,
     * 1 GiB), and 16 parallel pulls keep ~100 connections busy.
     */
    private static final ThreadLocal<java.nio.ByteBuffer> DIRECT = ThreadLocal.withInitial(() -> java.nio.ByteBuffer.allocateDirect(BUFFER));
    private static final ThreadLocal<byte[]> HEAP = ThreadLocal.withInitial(() -> new byte[BUFFER]);
    private static final int MAX_PAGE = 10_000;

    private final Catalog catalog;
    private final Optional<RequestLog> log;
    private final Consumer<String> errors;
    private final java.util.concurrent.atomic.AtomicLong requests = new java.util.concurrent.atomic.AtomicLong();

    RegistryHandler(Catalog catalog, Optional<RequestLog> log, Consumer<String> errors) {
        this.catalog = catalog;
        this.log = log;
        this.errors = errors;
    }

    /** The answer being built for one request. */
    private static final class Reply {
        final Http1Server.Request req;
        final Http1Server.Response res;
        final boolean head;

        Reply(Http1Server.Request req, Http1Server.Response res) {
            this.req = req;
            this.res = res;
            this.head = req.method().equals("HEAD");
        }

        void header(String name, String value) {
            res.header(name, value);
        }

        /** Sends status and headers; the body that follows has exactly {@code length} bytes (none for HEAD). */
        OutputStream start(int code, long length) throws IOException {
            return res.start(code, length);
        }

        void send(int code, String contentType, byte[] body) throws IOException {
            header("Content-Type", contentType);
            OutputStream out = start(code, body.length);
            if (!head && body.length > 0) {
                out.write(body);
            }
        }

        void json(int code, byte[] body) throws IOException {
            send(code, "application/json", body);
        }

        void error(int code, String errorCode, String message) throws IOException {
            ObjectNode root = JsonNodeFactory.instance.objectNode();
            ObjectNode e = root.putArray("errors").addObject();
            e.put("code", errorCode);
            e.put("message", message);
            json(code, Json.write(root));
        }
    }

    /** Requests received so far (each counted as its handling starts, so one cut by a stop counts too). */
    long requests() {
        return requests.get();
    }

    @Override
    public void handle(Http1Server.Request req, Http1Server.Response res) throws IOException {
        requests.incrementAndGet();
        long t0 = System.nanoTime();
        Reply r = new Reply(req, res);
        try {
            r.header("Docker-Distribution-API-Version", "registry/2.0");
            route(r);
        } catch (RuntimeException e) {
            String msg = e instanceof AirlockException ? e.getMessage() : e.toString();
            errors.accept("serve: " + req.method() + " " + req.rawPath() + ": " + msg);
            if (!res.started()) {
                r.error(500, "UNKNOWN", "the server failed to read this content; see its error output");
            }
        } finally {
            long ms = (System.nanoTime() - t0) / 1_000_000;
            String q = req.rawQuery();
            log.ifPresent(l -> l.write(req.client().getHostAddress(), req.method(), req.rawPath() + (q == null ? "" : "?" + q),
                    res.status(), res.written(), ms, errors));
        }
    }

    private void route(Reply r) throws IOException {
        String method = r.req.method();
        if (!method.equals("GET") && !method.equals("HEAD")) {
            r.header("Allow", "GET, HEAD");
            r.error(405, "UNSUPPORTED", "this registry is read-only (airlock serve): " + method + " is not supported");
            return;
        }
        String path = r.req.rawPath();
        if (path == null || path.isEmpty()) {
            path = "/";
        }
        if (path.indexOf('%') >= 0) {
            r.error(400, "NAME_INVALID", "percent-encoded characters are not accepted in paths");
            return;
        }
        if (traversal(path)) {
            r.error(400, "NAME_INVALID", "empty, '.' and '..' path segments are not accepted");
            return;
        }
        if (path.equals("/v2/") || path.equals("/v2")) {
            r.json(200, "{}".getBytes(StandardCharsets.US_ASCII));
            return;
        }
        if (!path.startsWith("/v2/")) {
            r.error(404, "UNSUPPORTED", "not a registry API path; the API is under /v2/");
            return;
        }
        String rest = path.substring(4);
        Map<String, String> query = query(r.req.rawQuery());
        if (rest.equals("_catalog")) {
            catalog(r, query);
            return;
        }
        int at;
        if (rest.endsWith("/tags/list")) {
            withRepository(r, rest.substring(0, rest.length() - "/tags/list".length()), repo -> tags(r, repo, query));
        } else if ((at = rest.lastIndexOf("/manifests/")) > 0) {
            String reference = rest.substring(at + "/manifests/".length());
            withRepository(r, rest.substring(0, at), repo -> manifest(r, repo, reference));
        } else if (rest.contains("/blobs/uploads")) {
            r.error(404, "BLOB_UPLOAD_UNKNOWN", "this registry is read-only (airlock serve): there are no uploads");
        } else if ((at = rest.lastIndexOf("/blobs/")) > 0) {
            String digest = rest.substring(at + "/blobs/".length());
            withRepository(r, rest.substring(0, at), repo -> blob(r, repo, digest));
        } else if ((at = rest.lastIndexOf("/referrers/")) > 0) {
            String digest = rest.substring(at + "/referrers/".length());
            withRepository(r, rest.substring(0, at), repo -> referrers(r, repo, digest, query));
        } else {
            r.error(404, "UNSUPPORTED", "unknown registry API path");
        }
    }

    @FunctionalInterface
    private interface RepoAction {
        void run(Catalog.Repository repo) throws IOException;
    }

    private void withRepository(Reply r, String name, RepoAction action) throws IOException {
        if (name.length() > 255 || !NAME.matcher(name).matches()) {
            r.error(400, "NAME_INVALID", "invalid repository name");
            return;
        }
        Optional<Catalog.Repository> repo = catalog.repository(name);
        if (repo.isEmpty()) {
            r.error(404, "NAME_UNKNOWN", "repository " + name + " is not in the served bundles");
            return;
        }
        action.run(repo.get());
    }

    private void manifest(Reply r, Catalog.Repository repo, String reference) throws IOException {
        Digest digest;
        if (reference.contains(":")) {
            Optional<Digest> d = digest(reference);
            if (d.isEmpty()) {
                r.error(400, "DIGEST_INVALID", "invalid digest");
                return;
            }
            digest = d.get();
        } else if (TAG.matcher(reference).matches()) {
            digest = repo.tags().get(reference);
            if (digest == null) {
                r.error(404, "MANIFEST_UNKNOWN", "no tag " + reference + " in " + repo.name());
                return;
            }
        } else {
            r.error(400, "TAG_INVALID", "invalid tag");
            return;
        }
        Optional<Catalog.Content> c = catalog.content(repo, digest).filter(Catalog.Content::isManifest);
        if (c.isEmpty()) {
            r.error(404, "MANIFEST_UNKNOWN", "no manifest " + digest + " in " + repo.name());
            return;
        }
        Descriptor d = c.get().descriptor();
        r.header("Docker-Content-Digest", d.digest().toString());
        r.header("ETag", "\"" + d.digest() + "\"");
        if (r.head) {
            r.header("Content-Type", d.mediaType().value());
            r.start(200, d.size());
            return;
        }
        byte[] bytes = c.get().archive().fetchManifest(repo.name(), d.digest().toString()).bytes();
        r.send(200, d.mediaType().value(), bytes);
    }

    private void blob(Reply r, Catalog.Repository repo, String text) throws IOException {
        Optional<Digest> digest = digest(text);
        if (digest.isEmpty()) {
            r.error(400, "DIGEST_INVALID", "invalid digest");
            return;
        }
        Optional<Catalog.Content> c = catalog.content(repo, digest.get());
        if (c.isEmpty()) {
            r.error(404, "BLOB_UNKNOWN", "no blob " + digest.get() + " in " + repo.name());
            return;
        }
        Descriptor d = c.get().descriptor();
        if (catalog.damaged(d.digest())) {
            r.error(500, "UNKNOWN", "blob " + d.digest() + " failed its digest check in the served bundle; see the server's error output");
            return;
        }
        long size = d.size();
        r.header("Docker-Content-Digest", d.digest().toString());
        r.header("ETag", "\"" + d.digest() + "\"");
        r.header("Accept-Ranges", "bytes");
        r.header("Content-Type", "application/octet-stream");
        ByteRange.Answer answer = ByteRange.of(r.req.header("Range"), size);
        if (answer instanceof ByteRange.Unsatisfiable) {
            r.header("Content-Range", "bytes */" + size);
            r.error(416, "SIZE_INVALID", "the requested range is not within the blob's " + size + " bytes");
            return;
        }
        if (answer instanceof ByteRange.Part p) {
            if (!r.head) {
                // a part cannot be checked alone: the whole blob is hashed (once in the run) before any part of it is sent
                verifyWhole(c.get());
            }
            r.header("Content-Range", p.range().contentRange(size));
            OutputStream out = r.start(206, p.range().length());
            if (!r.head) {
                send(r, c.get(), p.range().first(), p.range().length(), out, false);
            }
            return;
        }
        OutputStream out = r.start(200, size);
        if (r.head || size == 0) {
            return;
        }
        // hashed on its first full read in this run (or its first Range request, or at start with --verify-all); after that read unverified
        boolean verified = catalog.verified(d.digest());
        try {
            send(r, c.get(), 0, size, out, !verified);
        } catch (DigestMismatchException e) {
            catalog.markDamaged(d.digest());
            throw e;
        }
        if (!verified) {
            catalog.markVerified(d.digest());
        }
    }

    /** Hashes the whole blob unless it was verified in this run; a mismatch marks it damaged and throws. */
    private void verifyWhole(Catalog.Content c) throws IOException {
        Descriptor d = c.descriptor();
        if (catalog.verified(d.digest())) {
            return;
        }
        try (InputStream in = c.archive().openBlob("", d)) {
            copy(in, OutputStream.nullOutputStream(), d.size(), true);
        } catch (DigestMismatchException e) {
            catalog.markDamaged(d.digest());
            throw e;
        }
        catalog.markVerified(d.digest());
    }

    /**
     * The body: {@code length} bytes of the blob from {@code first}. With {@code verify}, through a
     * verifying stream (the whole blob). Otherwise a body of more than {@value #SMALL} bytes goes
     * from the tar to the connection's channel through this thread's direct buffer (no heap copy);
     * a smaller one, and every body over TLS, through the response stream, where a small body
     * leaves in one write with its headers. (Hashing on the direct-buffer path instead, from the
     * buffer copied into the heap array, was no cheaper: a fresh serve, 1 GiB of layers by curl,
     * 1.11 vs 1.14 CPU-s; under skopeo 1.67-2.20 vs 1.32-1.77 CPU-s. Hashing each buffer-full in
     * another thread while it is written cost 0.3-1.2 CPU-s more per GiB, one thread hand-off per
     * 256 KiB, and was 0.92x, 0.93x, 1.07x and 1.15x the wall time of this in four same-run
     * comparisons on a loaded machine: reverted. See docs/benchmarks.md, airlock serve.)
     */
    private void send(Reply r, Catalog.Content c, long first, long length, OutputStream out, boolean verify) throws IOException {
        Descriptor d = c.descriptor();
        Optional<java.nio.channels.WritableByteChannel> ch = verify || length <= SMALL ? Optional.empty() : r.res.channel();
        if (ch.isPresent()) {
            r.res.wrote(c.archive().transferBlob(d.digest(), first, length, ch.get(), DIRECT.get()));
            return;
        }
        try (InputStream in = verify ? c.archive().openBlob("", d) : c.archive().openBlobRange(d.digest(), first, length)) {
            copy(in, out, length, verify);
        }
    }

    /**
     * Copies exactly {@code length} bytes. With {@code verified}, the last chunk is held back until
     * the stream has checked size and digest: a damaged blob is never sent complete (the exchange is
     * cut short instead, and the client sees a broken body).
     */
    private static void copy(InputStream in, OutputStream out, long length, boolean verified) throws IOException {
        byte[] buf = HEAP.get();
        long left = length;
        while (left > 0) {
            int n = in.read(buf, 0, (int) Math.min(buf.length, left));
            if (n < 0) {
                throw new IOException("blob ended " + left + " bytes early");
            }
            left -= n;
            if (left == 0 && verified && in.read() >= 0) {
                throw new IllegalStateException("blob longer than listed");
            }
            out.write(buf, 0, n);
        }
    }

    private void tags(Reply r, Catalog.Repository repo, Map<String, String> query) throws IOException {
        Page page = page(new ArrayList<>(repo.tags().keySet()), query);
        ObjectNode root = JsonNodeFactory.instance.objectNode();
        root.put("name", repo.name());
        ArrayNode a = root.putArray("tags");
        page.items().forEach(a::add);
        page.next().ifPresent(last -> r.header("Link", "</v2/" + repo.name() + "/tags/list?n=" + page.n() + "&last=" + last + ">; rel=\"next\""));
        r.json(200, Json.write(root));
    }

    private void catalog(Reply r, Map<String, String> query) throws IOException {
        Page page = page(new ArrayList<>(catalog.repositories().keySet()), query);
        ObjectNode root = JsonNodeFactory.instance.objectNode();
        ArrayNode a = root.putArray("repositories");
        page.items().forEach(a::add);
        page.next().ifPresent(last -> r.header("Link", "</v2/_catalog?n=" + page.n() + "&last=" + last + ">; rel=\"next\""));
        r.json(200, Json.write(root));
    }

    private void referrers(Reply r, Catalog.Repository repo, String text, Map<String, String> query) throws IOException {
        Optional<Digest> subject = digest(text);
        if (subject.isEmpty()) {
            r.error(400, "DIGEST_INVALID", "invalid digest");
            return;
        }
        String type = query.get("artifactType");
        ObjectNode root = JsonNodeFactory.instance.objectNode();
        root.put("schemaVersion", 2);
        root.put("mediaType", MediaType.OCI_INDEX.value());
        ArrayNode a = root.putArray("manifests");
        for (Catalog.Referrer ref : catalog.referrers(repo, subject.get())) {
            if (type != null && !type.equals(ref.artifactType())) {
                continue;
            }
            Descriptor d = ref.descriptor();
            ObjectNode o = a.addObject();
            o.put("mediaType", d.mediaType().value());
            o.put("digest", d.digest().toString());
            o.put("size", d.size());
            if (!ref.artifactType().isEmpty()) {
                o.put("artifactType", ref.artifactType());
            }
            if (!ref.annotations().isEmpty()) {
                ObjectNode an = o.putObject("annotations");
                new java.util.TreeMap<>(ref.annotations()).forEach(an::put);
            }
        }
        if (type != null) {
            r.header("OCI-Filters-Applied", "artifactType");
        }
        r.send(200, MediaType.OCI_INDEX.value(), Json.write(root));
    }

    private record Page(List<String> items, int n, Optional<String> next) {
    }

    /** {@code ?n=N&last=X}: at most N items after X (sorted), and the last one when more follow. */
    private static Page page(List<String> sorted, Map<String, String> query) {
        List<String> items = sorted;
        String last = query.get("last");
        if (last != null) {
            items = items.stream().filter(s -> s.compareTo(last) > 0).toList();
        }
        int n = MAX_PAGE;
        try {
            if (query.containsKey("n")) {
                n = Math.max(0, Math.min(MAX_PAGE, Integer.parseInt(query.get("n"))));
            }
        } catch (NumberFormatException e) {
            n = MAX_PAGE;
        }
        if (items.size() > n) {
            return new Page(items.subList(0, n), n, n == 0 ? Optional.empty() : Optional.of(items.get(n - 1)));
        }
        return new Page(items, n, Optional.empty());
    }

    /** A '.' or '..' segment, or an empty one other than a trailing slash. */
    private static boolean traversal(String path) {
        String[] segments = path.split("/", -1);
        for (int i = 1; i < segments.length; i++) {
            String s = segments[i];
            if (s.equals(".") || s.equals("..") || (s.isEmpty() && i < segments.length - 1)) {
                return true;
            }
        }
        return false;
    }

    private static Optional<Digest> digest(String text) {
        try {
            Digest d = Digest.parse(text);
            return d.algorithm().equals("sha256") ? Optional.of(d) : Optional.empty();
        } catch (RuntimeException e) {
            return Optional.empty();
        }
    }

    private static Map<String, String> query(String raw) {
        Map<String, String> out = new LinkedHashMap<>();
        if (raw == null || raw.isEmpty()) {
            return out;
        }
        for (String kv : raw.split("&")) {
            int eq = kv.indexOf('=');
            try {
                String k = URLDecoder.decode(eq < 0 ? kv : kv.substring(0, eq), StandardCharsets.UTF_8);
                String v = eq < 0 ? "" : URLDecoder.decode(kv.substring(eq + 1), StandardCharsets.UTF_8);
                out.putIfAbsent(k, v);
            } catch (IllegalArgumentException e) {
                // a malformed pair is ignored
            }
        }
        return out;
    }
}
