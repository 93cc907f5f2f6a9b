package dev.airlock.registry;

import com.fasterxml.jackson.databind.JsonNode;
import dev.airlock.error.InvalidContentException;
import dev.airlock.error.LocalIoException;
import dev.airlock.error.RegistryException;
import dev.airlock.model.Json;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Iterator;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

/**
 * Credentials from the files docker and podman/skopeo use, in this order (the first file that
 * knows the registry wins):
 * <ol>
 *   <li>{@code $REGISTRY_AUTH_FILE}</li>
 *   <li>{@code $XDG_RUNTIME_DIR/containers/auth.json}</li>
 *   <li>{@code $DOCKER_CONFIG/config.json}, else {@code ~/.docker/config.json}</li>
 * </ol>
 * Within one file: {@code credHelpers[host]} (runs {@code docker-credential-<name> get}), then an
 * {@code auths} entry with {@code auth} (base64 user:password) or {@code identitytoken}, then the
 * file's {@code credsStore} helper. {@code auths} keys may name a repository path as podman allows
 * ({@code reg.local:5000/team} or {@code reg.local:5000/team/app}): for a request about a
 * repository the most specific key of a file that covers it wins (whole path segments only, so
 * {@code …/team} covers {@code team/app} but not {@code teamx/app}), before the host's own key.
 * Helpers are looked up on the {@code PATH} of the given
 * environment and killed after {@code helperTimeout}. Docker Hub is looked up under
 * {@code https://index.docker.io/v1/}, {@code index.docker.io}, {@code docker.io} and
 * {@code registry-1.docker.io}. Secrets are never put in exception messages.
 */
public final class CredentialFiles implements CredentialSource {
    private static final String HUB_URL = "https://index.docker.io/v1/";
    private static final int MAX_FILE_BYTES = 1 << 20;

    private final List<Path> files;
    private final List<Path> path;
    private final Duration helperTimeout;
    private final java.util.concurrent.ConcurrentHashMap<String, Optional<Credentials>> helperAnswers = new java.util.concurrent.ConcurrentHashMap<>();

    /**
     * @param files         config files in priority order (missing ones are skipped)
     * @param path          directories searched for {@code docker-credential-*} helpers
     * @param helperTimeout how long a helper may run
     */
    public CredentialFiles(List<Path> files, List<Path> path, Duration helperTimeout) {
        this.files = List.copyOf(files);
        this.path = List.copyOf(path);
        this.helperTimeout = helperTimeout;
    }

    /** The files and PATH of this process's environment and {@code user.home}; helpers get 15 s. */
    public static CredentialFiles fromEnvironment() {
        return fromEnvironment(System.getenv(), Path.of(System.getProperty("user.home", "/")), Duration.ofSeconds(15));
    }

    /** The files and PATH named by {@code env} (REGISTRY_AUTH_FILE, XDG_RUNTIME_DIR, DOCKER_CONFIG, PATH) and {@code home}. */
    public static CredentialFiles fromEnvironment(Map<String, String> env, Path home, Duration helperTimeout) {
        List<Path> files = new ArrayList<>();
        String authFile = env.get("REGISTRY_AUTH_FILE");
        if (authFile != null && !authFile.isBlank()) {
            files.add(Path.of(authFile));
        }
        String xdg = env.get("XDG_RUNTIME_DIR");
        if (xdg != null && !xdg.isBlank()) {
            files.add(Path.of(xdg, "containers", "auth.json"));
        }
        String dockerConfig = env.get("DOCKER_CONFIG");
        if (dockerConfig != null && !dockerConfig.isBlank()) {
            files.add(Path.of(dockerConfig, "config.json"));
        } else if (home != null) {
            files.add(home.resolve(".docker").resolve("config.json"));
        }
        List<Path> path = new ArrayList<>();
        String p = env.getOrDefault("PATH", "");
        for (String dir : p.split(java.io.File.pathSeparator)) {
            if (!dir.isBlank()) {
                path.add(Path.of(dir));
            }
        }
        return new CredentialFiles(files, path, helperTimeout);
    }

    /** The files consulted, in order. */
    public List<Path> files() {
        return files;
    }

    @Override
    public Optional<Credentials> lookup(String registryHost) {
        return lookup(registryHost, "");
    }

    @Override
    public Optional<Credentials> lookup(String registryHost, String repository) {
        List<String> keys = keysFor(registryHost);
        for (Path file : files) {
            Optional<JsonNode> root = read(file);
            if (root.isEmpty()) {
                continue;
            }
            Optional<Credentials> c = fromFile(root.get(), file, registryHost, keys, repository == null ? "" : repository);
            if (c.isPresent()) {
                return c;
            }
        }
        return Optional.empty();
    }

    private Optional<Credentials> fromFile(JsonNode root, Path file, String registryHost, List<String> keys, String repository) {
        JsonNode helpers = root.path("credHelpers");
        for (String key : keys) {
            JsonNode h = helpers.get(key);
            if (h != null && h.isTextual() && !h.asText().isBlank()) {
                return runHelper(h.asText(), serverUrl(registryHost));
            }
        }
        JsonNode auths = root.path("auths");
        if (auths.isObject()) {
            // normalised key → its entries in file order (several spellings may normalise alike)
            Map<String, List<Map.Entry<String, JsonNode>>> byKey = new java.util.HashMap<>();
            for (Iterator<Map.Entry<String, JsonNode>> it = auths.fields(); it.hasNext(); ) {
                Map.Entry<String, JsonNode> e = it.next();
                byKey.computeIfAbsent(normaliseKey(e.getKey()), k -> new ArrayList<>()).add(e);
            }
            for (String candidate : candidates(keys, repository)) {
                for (Map.Entry<String, JsonNode> e : byKey.getOrDefault(candidate, List.of())) {
                    Optional<Credentials> c = fromAuthEntry(e.getValue(), file, e.getKey());
                    if (c.isPresent()) {
                        return c;
                    }
                }
            }
        }
        JsonNode store = root.get("credsStore");
        if (store != null && store.isTextual() && !store.asText().isBlank()) {
            return runHelper(store.asText(), serverUrl(registryHost));
        }
        return Optional.empty();
    }

    private static Optional<Credentials> fromAuthEntry(JsonNode entry, Path file, String key) {
        JsonNode token = entry.get("identitytoken");
        if (token != null && token.isTextual() && !token.asText().isEmpty()) {
            return Optional.of(Credentials.identityToken(token.asText()));
        }
        JsonNode auth = entry.get("auth");
        if (auth != null && auth.isTextual() && !auth.asText().isEmpty()) {
            String decoded;
            try {
                decoded = new String(Base64.getDecoder().decode(auth.asText().trim()), StandardCharsets.UTF_8);
            } catch (IllegalArgumentException e) {
                throw new InvalidContentException("reading credentials for " + key + " from " + file + ": \"auth\" is not valid base64");
            }
            int colon = decoded.indexOf(':');
            if (colon < 0) {
                throw new InvalidContentException("reading credentials for " + key + " from " + file + ": \"auth\" is not user:password");
            }
            return Optional.of(Credentials.basic(decoded.substring(0, colon), decoded.substring(colon + 1)));
        }
        JsonNode user = entry.get("username");
        JsonNode pass = entry.get("password");
        if (user != null && user.isTextual() && pass != null && pass.isTextual()) {
            return Optional.of(Credentials.basic(user.asText(), pass.asText()));
        }
        return Optional.empty();
    }

    /** A helper's answer per server, so that looking up several repositories runs it once. */
    private Optional<Credentials> runHelper(String name, String serverUrl) {
        String key = name + "|" + serverUrl;
        Optional<Credentials> c = helperAnswers.get(key);
        if (c == null) {
            c = runHelperProcess(name, serverUrl);
            helperAnswers.putIfAbsent(key, c);
        }
        return c;
    }

    private Optional<Credentials> runHelperProcess(String name, String serverUrl) {
        String program = "docker-credential-" + name;
        if (!name.matches("[A-Za-z0-9._-]+")) {
            throw new InvalidContentException("credential helper name '" + name + "' is not a plain program name");
        }
        Path exe = path.stream().map(d -> d.resolve(program)).filter(Files::isExecutable).findFirst()
                .orElseThrow(() -> new LocalIoException("credential helper " + program + " not found on PATH"));
        Process p;
        try {
            p = new ProcessBuilder(exe.toString(), "get").redirectError(ProcessBuilder.Redirect.PIPE).start();
        } catch (IOException e) {
            throw new LocalIoException("running credential helper " + program + ": " + e.getMessage(), e);
        }
        try {
            CompletableFuture<byte[]> out = CompletableFuture.supplyAsync(() -> readLimited(p.getInputStream()));
            CompletableFuture<byte[]> err = CompletableFuture.supplyAsync(() -> readLimited(p.getErrorStream()));
            try (OutputStream in = p.getOutputStream()) {
                in.write(serverUrl.getBytes(StandardCharsets.UTF_8));
            } catch (IOException ignored) {
                // the helper may exit without reading; its answer decides
            }
            if (!p.waitFor(helperTimeout.toMillis(), TimeUnit.MILLISECONDS)) {
                p.destroyForcibly();
                throw new LocalIoException("credential helper " + program + " did not answer within " + helperTimeout.toSeconds() + " s");
            }
            byte[] stdout = out.get(5, TimeUnit.SECONDS);
            String stderr = new String(err.get(5, TimeUnit.SECONDS), StandardCharsets.UTF_8);
            String text = new String(stdout, StandardCharsets.UTF_8);
            if (p.exitValue() != 0) {
                String msg = (text + " " + stderr).trim();
                if (msg.toLowerCase(Locale.ROOT).contains("credentials not found")) {
                    return Optional.empty();
                }
                throw new RegistryException("getting credentials for " + serverUrl + " from " + program + ": exit "
                        + p.exitValue() + (msg.isEmpty() ? "" : ": " + firstLine(msg)), 0, List.of());
            }
            JsonNode node = Json.parse(stdout, "answer of " + program);
            String user = node.path("Username").asText("");
            String secret = node.path("Secret").asText("");
            if (secret.isEmpty()) {
                return Optional.empty();
            }
            return Optional.of(user.equals("<token>") ? Credentials.identityToken(secret) : Credentials.basic(user, secret));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            p.destroyForcibly();
            throw new LocalIoException("interrupted while running " + program);
        } catch (java.util.concurrent.ExecutionException | java.util.concurrent.TimeoutException e) {
            p.destroyForcibly();
            throw new LocalIoException("reading the answer of " + program + " failed");
        }
    }

    private static byte[] readLimited(InputStream in) {
        try (in) {
            ByteArrayOutputStream out = new ByteArrayOutputStream();
            byte[] buf = new byte[8192];
            int n;
            while ((n = in.read(buf)) >= 0) {
                if (out.size() + n > MAX_FILE_BYTES) {
                    throw new IOException("too much output");
                }
                out.write(buf, 0, n);
            }
            return out.toByteArray();
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    private static String firstLine(String s) {
        String line = s.lines().findFirst().orElse("").trim();
        return line.length() > 160 ? line.substring(0, 160) + "…" : line;
    }

    private static Optional<JsonNode> read(Path file) {
        if (!Files.isRegularFile(file)) {
            return Optional.empty();
        }
        return Optional.of(Json.parse(dev.airlock.io.SmallFiles.read(file, MAX_FILE_BYTES, "credential file"), "credential file " + file));
    }

    /** The keys a registry may be filed under, normalised. */
    static List<String> keysFor(String registryHost) {
        String h = registryHost.toLowerCase(Locale.ROOT);
        if (isDockerHub(h)) {
            return List.of("docker.io", "index.docker.io", "registry-1.docker.io");
        }
        return List.of(h);
    }

    /**
     * {@code https://host:port/v1/} → {@code host:port} (a URL names a whole registry, as docker
     * writes it); {@code host:port/team/app} stays a repository-path key (podman); Docker Hub
     * aliases → {@code docker.io}.
     */
    static String normaliseKey(String key) {
        String k = key.trim().toLowerCase(Locale.ROOT);
        int scheme = k.indexOf("://");
        String path = "";
        if (scheme >= 0) {
            k = k.substring(scheme + 3);
            int slash = k.indexOf('/');
            if (slash >= 0) {
                k = k.substring(0, slash);
            }
        } else {
            int slash = k.indexOf('/');
            if (slash >= 0) {
                path = k.substring(slash).replaceAll("/+$", "");
                k = k.substring(0, slash);
            }
        }
        return (isDockerHub(k) ? "docker.io" : k) + path;
    }

    /**
     * The auths keys to try for {@code repository} on a host known under {@code hostKeys}, most
     * specific first: {@code host/a/b/c}, {@code host/a/b}, {@code host/a}, then {@code host}.
     */
    static List<String> candidates(List<String> hostKeys, String repository) {
        List<String> out = new ArrayList<>();
        String repo = repository.toLowerCase(Locale.ROOT).replaceAll("^/+|/+$", "");
        while (!repo.isEmpty()) {
            for (String h : hostKeys) {
                out.add(h + "/" + repo);
            }
            int slash = repo.lastIndexOf('/');
            repo = slash < 0 ? "" : repo.substring(0, slash);
        }
        out.addAll(hostKeys);
        return out;
    }

    private static boolean isDockerHub(String h) {
        return h.equals("docker.io") || h.equals("index.docker.io") || h.equals("registry-1.docker.io");
    }

    private static String serverUrl(String registryHost) {
        return isDockerHub(registryHost.toLowerCase(Locale.ROOT)) ? HUB_URL : registryHost;
    }
}
