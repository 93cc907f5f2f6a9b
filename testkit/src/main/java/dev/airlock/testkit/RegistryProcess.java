package dev.airlock.testkit;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.HttpURLConnection;
import java.net.ServerSocket;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/**
 * A real CNCF Distribution registry (Debian's {@code docker-registry}) started for a test on
 * 127.0.0.1 with a free port, its own config and a temporary storage directory. Plain HTTP by
 * default; {@link #startTlsBasic} serves TLS with a CA made for the test and htpasswd Basic auth,
 * {@link #startTokenAuth} delegates auth to a {@link TokenIssuer}.
 * {@link #stop()} kills only the process this object started, by its PID; {@link #start()} again
 * restarts it on the same port with the same storage (to test a registry dying mid-job).
 */
public final class RegistryProcess implements AutoCloseable {
    /** Where Debian installs the registry binary. */
    public static final Path BINARY = Path.of(System.getProperty("airlock.registry.binary", "/usr/bin/docker-registry"));

    private final Path dir;
    private final Path storage;
    private final Path config;
    private final int port;
    private final boolean ownsDir;
    private final String httpExtra;
    private final Path caCertificate;
    private TokenIssuer tokenIssuer;
    private Process process;

    private RegistryProcess(Path dir, int port, String extraConfig, boolean ownsDir) throws IOException {
        this(dir, port, extraConfig, ownsDir, "", null);
    }

    private RegistryProcess(Path dir, int port, String extraConfig, boolean ownsDir, String httpExtra, Path caCertificate) throws IOException {
        this.dir = dir;
        this.ownsDir = ownsDir;
        this.storage = Files.createDirectories(dir.resolve("storage"));
        this.config = dir.resolve("config.yml");
        this.port = port;
        this.httpExtra = httpExtra;
        this.caCertificate = caCertificate;
        Files.writeString(config, configYaml(extraConfig), StandardCharsets.UTF_8);
    }

    /**
     * Starts a registry serving TLS with a certificate for 127.0.0.1 issued by a CA generated for
     * this test ({@link #caCertificate()}), requiring htpasswd Basic auth for {@code user}/{@code password}
     * (bcrypt entry written with BouncyCastle).
     */
    public static RegistryProcess startTlsBasic(String user, String password) {
        return startTlsBasic(user, password, "");
    }

    /** Like {@link #startTlsBasic(String, String)} with {@code extraConfig} appended (see {@link #startWith}). */
    public static RegistryProcess startTlsBasic(String user, String password, String extraConfig) {
        try {
            Path d = Files.createTempDirectory("airlock-registry-");
            TestPki.Issued ca = TestPki.ca("airlock test CA");
            TestPki.Issued server = TestPki.server(ca, "127.0.0.1");
            Path caFile = ca.writeCertificate(d.resolve("ca.crt"));
            Path certFile = TestPki.writePem(d.resolve("server.crt"), server.certificate(), ca.certificate());
            Path keyFile = server.writeKey(d.resolve("server.key"));
            byte[] salt = new byte[16];
            new java.security.SecureRandom().nextBytes(salt);
            String hash = org.bouncycastle.crypto.generators.OpenBSDBCrypt.generate("2a", password.toCharArray(), salt, 6);
            Path htpasswd = d.resolve("htpasswd");
            Files.writeString(htpasswd, user + ":" + hash + "\n", StandardCharsets.UTF_8);
            String http = String.join("\n",
                    "  tls:",
                    "    certificate: " + certFile.toAbsolutePath(),
                    "    key: " + keyFile.toAbsolutePath(),
                    "");
            String auth = String.join("\n",
                    "auth:",
                    "  htpasswd:",
                    "    realm: airlock-test",
                    "    path: " + htpasswd.toAbsolutePath(),
                    "");
            RegistryProcess r = new RegistryProcess(d, freePort(), auth + (extraConfig == null ? "" : extraConfig), true, http, caFile);
            r.startProcess();
            return r;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /**
     * Starts a registry serving TLS like {@link #startTlsBasic} (its CA is {@link #caCertificate()})
     * with {@code extraConfig} appended and no auth section of its own: e.g. a {@code token:} auth
     * whose realm is a listener of the test.
     */
    public static RegistryProcess startTlsWith(String extraConfig) {
        try {
            Path d = Files.createTempDirectory("airlock-registry-");
            TestPki.Issued ca = TestPki.ca("airlock test CA");
            TestPki.Issued server = TestPki.server(ca, "127.0.0.1");
            Path caFile = ca.writeCertificate(d.resolve("ca.crt"));
            Path certFile = TestPki.writePem(d.resolve("server.crt"), server.certificate(), ca.certificate());
            Path keyFile = server.writeKey(d.resolve("server.key"));
            String http = String.join("\n",
                    "  tls:",
                    "    certificate: " + certFile.toAbsolutePath(),
                    "    key: " + keyFile.toAbsolutePath(),
                    "");
            RegistryProcess r = new RegistryProcess(d, freePort(), extraConfig == null ? "" : extraConfig, true, http, caFile);
            r.startProcess();
            return r;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /**
     * Starts a plain-HTTP registry using token auth: a {@link TokenIssuer} on 127.0.0.1 accepting
     * {@code user}/{@code password} (and {@code identityToken} as a refresh token, may be null) whose
     * root certificate the registry trusts. The issuer stops with the registry.
     */
    public static RegistryProcess startTokenAuth(String user, String password, String identityToken) {
        return startTokenAuth(user, password, identityToken, "");
    }

    /** Like {@link #startTokenAuth(String, String, String)} with {@code extraConfig} appended (see {@link #startWith}). */
    public static RegistryProcess startTokenAuth(String user, String password, String identityToken, String extraConfig) {
        try {
            Path d = Files.createTempDirectory("airlock-registry-");
            TokenIssuer issuer = TokenIssuer.start(user, password, identityToken, d);
            RegistryProcess r = new RegistryProcess(d, freePort(), issuer.registryConfig() + (extraConfig == null ? "" : extraConfig), true, "", null);
            r.tokenIssuer = issuer;
            try {
                r.startProcess();
            } catch (RuntimeException e) {
                issuer.close();
                throw e;
            }
            return r;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** The PEM CA certificate to trust for a TLS registry, else empty. */
    public java.util.Optional<Path> caCertificate() {
        return java.util.Optional.ofNullable(caCertificate);
    }

    /** The token issuer of a token-auth registry, else empty. */
    public java.util.Optional<TokenIssuer> tokenIssuer() {
        return java.util.Optional.ofNullable(tokenIssuer);
    }

    /** Starts a plain-HTTP registry with storage in a new temporary directory. */
    public static RegistryProcess start() {
        return startWith("");
    }

    /**
     * Starts a registry whose config.yml gets {@code extraConfig} appended (YAML top-level
     * sections such as {@code auth:}; must not repeat the sections this class writes).
     */
    public static RegistryProcess startWith(String extraConfig) {
        try {
            Path d = Files.createTempDirectory("airlock-registry-");
            RegistryProcess r = new RegistryProcess(d, freePort(), extraConfig, true);
            r.startProcess();
            return r;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** The {@code host:port} to use in references, e.g. {@code 127.0.0.1:41234}. */
    public String host() {
        return "127.0.0.1:" + port;
    }

    public int port() {
        return port;
    }

    /** The registry's storage root (filesystem driver), for tests that inspect or damage it. */
    public Path storage() {
        return storage;
    }

    /** The working directory (config, log). */
    public Path directory() {
        return dir;
    }

    /** Kills the process (SIGKILL, like a crash) and waits for it to go. Storage is kept. */
    public synchronized void kill() {
        if (process != null) {
            process.destroyForcibly();
            waitFor();
        }
    }

    /** Stops the process gracefully (SIGTERM). Storage is kept. */
    public synchronized void stop() {
        if (process != null) {
            process.destroy();
            waitFor();
        }
    }

    /** Starts the process again on the same port and storage. */
    public synchronized void restart() {
        stop();
        startProcess();
    }

    /** True while the process runs. */
    public synchronized boolean isRunning() {
        return process != null && process.isAlive();
    }

    /** Stops the process and deletes its temporary directory. */
    @Override
    public synchronized void close() {
        stop();
        if (tokenIssuer != null) {
            tokenIssuer.close();
        }
        if (ownsDir) {
            deleteTree(dir);
        }
    }

    /** The registry's log so far (for assertion messages). */
    public String log() {
        try {
            Path log = dir.resolve("registry.log");
            return Files.exists(log) ? Files.readString(log, StandardCharsets.UTF_8) : "";
        } catch (IOException e) {
            return "(log unreadable: " + e.getMessage() + ")";
        }
    }

    private void waitFor() {
        try {
            if (!process.waitFor(20, TimeUnit.SECONDS)) {
                process.destroyForcibly();
                process.waitFor(10, TimeUnit.SECONDS);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        process = null;
    }

    private synchronized void startProcess() {
        if (!Files.isExecutable(BINARY)) {
            throw new IllegalStateException(BINARY + " not found: install Debian's docker-registry package (apt-get install docker-registry)");
        }
        try {
            List<String> cmd = new ArrayList<>(List.of(BINARY.toString(), "serve", config.toString()));
            ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true)
                    .redirectOutput(ProcessBuilder.Redirect.appendTo(dir.resolve("registry.log").toFile()));
            pb.environment().remove("REGISTRY_HTTP_ADDR");
            process = pb.start();
        } catch (IOException e) {
            throw new UncheckedIOException("starting " + BINARY, e);
        }
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
        while (System.nanoTime() < deadline) {
            if (!process.isAlive()) {
                throw new IllegalStateException("docker-registry exited with " + process.exitValue() + ": " + log());
            }
            if (answers()) {
                return;
            }
            try {
                Thread.sleep(50);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException("interrupted while starting the registry");
            }
        }
        process.destroyForcibly();
        throw new IllegalStateException("docker-registry did not answer on " + host() + " within 20 s: " + log());
    }

    private boolean answers() {
        if (caCertificate != null) {
            try (java.net.Socket sock = new java.net.Socket()) {
                sock.connect(new java.net.InetSocketAddress(java.net.InetAddress.getLoopbackAddress(), port), 500);
                return true;
            } catch (IOException e) {
                return false;
            }
        }
        try {
            HttpURLConnection c = (HttpURLConnection) URI.create("http://" + host() + "/v2/").toURL().openConnection();
            c.setConnectTimeout(500);
            c.setReadTimeout(1000);
            int code = c.getResponseCode();
            c.disconnect();
            return code > 0;
        } catch (IOException e) {
            return false;
        }
    }

    private String configYaml(String extra) {
        return String.join("\n",
                "version: 0.1",
                "log:",
                "  level: warn",
                "  accesslog:",
                "    disabled: true",
                "storage:",
                "  filesystem:",
                "    rootdirectory: " + storage.toAbsolutePath(),
                "  delete:",
                "    enabled: true",
                "  maintenance:",
                "    uploadpurging:",
                "      enabled: false",
                "http:",
                "  addr: 127.0.0.1:" + port,
                "  secret: airlock-test-secret",
                httpExtra.stripTrailing(),
                "  headers:",
                "    X-Content-Type-Options: [nosniff]",
                "health:",
                "  storagedriver:",
                "    enabled: false",
                "") + (extra == null ? "" : extra);
    }

    /** A free TCP port on 127.0.0.1. */
    public static int freePort() {
        try (ServerSocket s = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
            s.setReuseAddress(true);
            return s.getLocalPort();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Deletes a directory tree, ignoring what cannot be deleted. */
    public static void deleteTree(Path root) {
        if (root == null || !Files.exists(root)) {
            return;
        }
        try (Stream<Path> s = Files.walk(root)) {
            s.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        } catch (IOException ignored) {
            // best effort cleanup of a temporary directory
        }
    }
}
