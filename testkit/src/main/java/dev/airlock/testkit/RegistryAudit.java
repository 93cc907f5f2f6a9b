package dev.airlock.testkit;

import com.fasterxml.jackson.databind.JsonNode;
import dev.airlock.model.Descriptor;
import dev.airlock.model.Digest;
import dev.airlock.model.ImageIndex;
import dev.airlock.model.ImageManifest;
import dev.airlock.model.Json;
import dev.airlock.model.ManifestView;
import dev.airlock.model.MediaType;
import dev.airlock.model.RawManifest;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.stream.Stream;

/**
 * Walks everything a real test registry holds and reports every inconsistency, for reliability
 * tests: after any failure, no tag may point to an incomplete graph and nothing may reference a
 * missing blob.
 *
 * <p>Two views are checked. Over HTTP (what a client sees): every repository of the catalog,
 * every tag, the manifest or index it names (its {@code Docker-Content-Digest} must equal the
 * sha256 of the bytes), recursively every child manifest (by digest, in the same repository) and
 * every config/layer blob (HEAD, with the size the descriptor claims). On disk (the registry's
 * filesystem storage, when the registry is a {@link RegistryProcess}): every manifest revision a
 * repository links to (tagged or not) is walked the same way, and every blob link of a repository
 * must have its data file. Subjects (referrers) are not required.
 *
 * <p>Uses plain HTTP on loopback only (the registries of {@link RegistryProcess#start()}).
 */
public final class RegistryAudit {
    private static final String ACCEPT = String.join(", ", MediaType.OCI_INDEX.value(), MediaType.OCI_MANIFEST.value(),
            MediaType.DOCKER_MANIFEST_LIST.value(), MediaType.DOCKER_MANIFEST.value());

    /** What the audit found. */
    public record Report(Map<String, List<String>> tags, int manifests, int blobs, int storedRepositories, int storedBlobs,
                         List<String> problems) {
        public boolean consistent() {
            return problems.isEmpty();
        }

        /** No repository, tag, manifest or blob at all: nothing was pushed. */
        public boolean empty() {
            return tags.isEmpty() && storedRepositories == 0 && storedBlobs == 0;
        }

        public int tagCount() {
            return tags.values().stream().mapToInt(List::size).sum();
        }

        @Override
        public String toString() {
            return tags.size() + " repositories, " + tagCount() + " tags, " + manifests + " manifests, " + blobs + " blob references, "
                    + storedRepositories + " repositories and " + storedBlobs + " blobs in storage"
                    + (problems.isEmpty() ? "; consistent" : "; " + problems.size() + " problems:\n  " + String.join("\n  ", problems));
        }
    }

    private final String host;
    private final Path storage;
    private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(10)).build();

    private RegistryAudit(String host, Path storage) {
        this.host = host;
        this.storage = storage;
    }

    /** Audits a running test registry (HTTP and its storage directory). */
    public static Report of(RegistryProcess registry) {
        return new RegistryAudit(registry.host(), registry.storage()).run();
    }

    /** Audits a registry over HTTP only ({@code storage} may be null). */
    public static Report of(String host, Path storage) {
        return new RegistryAudit(host, storage).run();
    }

    /** Fails with the full report unless the registry is consistent; returns the report. */
    public static Report assertConsistent(RegistryProcess registry) {
        Report r = of(registry);
        if (!r.consistent()) {
            throw new AssertionError("registry " + registry.host() + " is inconsistent: " + r);
        }
        return r;
    }

    /** Fails unless the registry holds nothing at all (no repository, no blob, over HTTP and on disk). */
    public static Report assertEmpty(RegistryProcess registry) {
        Report r = of(registry);
        if (!r.empty() || !r.consistent()) {
            throw new AssertionError("registry " + registry.host() + " should hold nothing: " + r);
        }
        return r;
    }

    private Report run() {
        List<String> problems = new ArrayList<>();
        Map<String, List<String>> tags = new TreeMap<>();
        Set<String> walked = new HashSet<>();
        int[] blobs = {0};
        for (String repo : catalog()) {
            List<String> ts = tags(repo);
            tags.put(repo, ts);
            for (String t : ts) {
                walk(repo, t, null, "tag " + repo + ":" + t, walked, blobs, problems, 0);
            }
        }
        int storedRepos = 0;
        int storedBlobs = 0;
        if (storage != null) {
            Path v2 = storage.resolve("docker/registry/v2");
            Path repos = v2.resolve("repositories");
            for (Path manifestsDir : find(repos, "_manifests")) {
                storedRepos++;
                Path repoDir = manifestsDir.getParent();
                String repo = repos.relativize(repoDir).toString().replace('\\', '/');
                for (Path link : find(manifestsDir.resolve("revisions/sha256"), "link")) {
                    String hex = link.getParent().getFileName().toString();
                    if (!Files.exists(blobData(v2, hex))) {
                        problems.add("storage: manifest revision sha256:" + hex + " of " + repo + " has no data");
                        continue;
                    }
                    walk(repo, "sha256:" + hex, null, "revision " + repo + "@sha256:" + hex.substring(0, 12), walked, blobs, problems, 0);
                }
                for (Path link : find(repoDir.resolve("_layers/sha256"), "link")) {
                    String hex = link.getParent().getFileName().toString();
                    if (!Files.exists(blobData(v2, hex))) {
                        problems.add("storage: blob link sha256:" + hex + " of " + repo + " has no data (missing blob)");
                    }
                }
            }
            storedBlobs = find(v2.resolve("blobs"), "data").size();
        }
        return new Report(tags, walked.size(), blobs[0], storedRepos, storedBlobs, List.copyOf(problems));
    }

    private static Path blobData(Path v2, String hex) {
        return v2.resolve("blobs/sha256").resolve(hex.substring(0, 2)).resolve(hex).resolve("data");
    }

    private void walk(String repo, String reference, Descriptor expected, String path, Set<String> walked, int[] blobs,
                      List<String> problems, int depth) {
        if (depth > 8) {
            problems.add(path + ": nested deeper than 8");
            return;
        }
        HttpResponse<byte[]> r = send("/v2/" + repo + "/manifests/" + reference, "GET", true);
        if (r.statusCode() != 200) {
            problems.add(path + ": manifest " + reference + " → HTTP " + r.statusCode());
            return;
        }
        byte[] bytes = r.body();
        Digest actual = Digest.sha256(bytes);
        String header = r.headers().firstValue("Docker-Content-Digest").orElse("");
        if (!header.equals(actual.toString())) {
            problems.add(path + ": Docker-Content-Digest " + header + " but the bytes hash to " + actual);
        }
        if (expected != null && (!expected.digest().equals(actual) || expected.size() != bytes.length)) {
            problems.add(path + ": expected " + expected.digest() + " (" + expected.size() + " bytes), got " + actual + " (" + bytes.length + ")");
            return;
        }
        if (!walked.add(repo + "@" + actual)) {
            return;
        }
        String type = r.headers().firstValue("Content-Type").orElse("");
        ManifestView view;
        try {
            view = RawManifest.of(MediaType.of(type.split(";")[0].trim()), bytes).view();
        } catch (RuntimeException e) {
            problems.add(path + ": unreadable manifest " + actual + " (" + type + "): " + e.getMessage());
            return;
        }
        if (view instanceof ImageIndex idx) {
            for (Descriptor d : idx.manifests()) {
                walk(repo, d.digest().toString(), d, path + " → " + d.digest().shortForm(), walked, blobs, problems, depth + 1);
            }
            return;
        }
        for (Descriptor d : ((ImageManifest) view).blobs()) {
            blobs[0]++;
            HttpResponse<byte[]> h = send("/v2/" + repo + "/blobs/" + d.digest(), "HEAD", false);
            long len = h.headers().firstValueAsLong("Content-Length").orElse(-1);
            if (h.statusCode() != 200 || len != d.size()) {
                problems.add(path + ": blob " + d.digest() + " (" + d.mediaType() + ", " + d.size() + " bytes) → HTTP " + h.statusCode()
                        + ", Content-Length " + len);
            }
        }
    }

    private List<String> catalog() {
        HttpResponse<byte[]> r = send("/v2/_catalog?n=1000", "GET", false);
        if (r.statusCode() != 200) {
            throw new IllegalStateException("GET /v2/_catalog on " + host + " → " + r.statusCode());
        }
        List<String> out = new ArrayList<>();
        JsonNode n = Json.parse(r.body(), "catalog of " + host, 64 * 1024 * 1024).path("repositories");
        n.forEach(x -> out.add(x.asText()));
        return out;
    }

    private List<String> tags(String repo) {
        HttpResponse<byte[]> r = send("/v2/" + repo + "/tags/list", "GET", false);
        List<String> out = new ArrayList<>();
        if (r.statusCode() == 404) {
            return out;
        }
        if (r.statusCode() != 200) {
            throw new IllegalStateException("GET tags of " + repo + " on " + host + " → " + r.statusCode());
        }
        JsonNode n = Json.parse(r.body(), "tags of " + repo, 64 * 1024 * 1024).path("tags");
        n.forEach(x -> out.add(x.asText()));
        out.sort(String::compareTo);
        return out;
    }

    private HttpResponse<byte[]> send(String path, String method, boolean manifest) {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create("http://" + host + path)).timeout(Duration.ofSeconds(30));
        if (manifest) {
            b.header("Accept", ACCEPT);
        }
        b.method(method, HttpRequest.BodyPublishers.noBody());
        try {
            return http.send(b.build(), HttpResponse.BodyHandlers.ofByteArray());
        } catch (IOException e) {
            throw new UncheckedIOException("auditing " + host + path, e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    private static List<Path> find(Path root, String fileName) {
        if (!Files.isDirectory(root)) {
            return List.of();
        }
        try (Stream<Path> s = Files.walk(root)) {
            return s.filter(p -> p.getFileName().toString().equals(fileName)).sorted().toList();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
