package dev.airlock.cli;

import dev.airlock.error.LocalIoException;
import dev.airlock.error.UsageException;
import dev.airlock.registry.CredentialFiles;
import dev.airlock.registry.CredentialSource;
import dev.airlock.registry.Credentials;
import dev.airlock.registry.RegistryOptions;
import dev.airlock.registry.TlsOptions;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import picocli.CommandLine.Option;

/**
 * How export and import reach registries: credentials ({@code --username} + {@code
 * --password-stdin}, {@code --authfile}, else docker/podman config files) and TLS ({@code
 * --ca-cert}, {@code --insecure}, {@code --plain-http}) and timeouts ({@code --timeout-connect},
 * {@code --timeout-response}, {@code --timeout-idle}). Maps onto {@link RegistryOptions}.
 */
public final class RegistryFlags {
    /** Longest password read from standard input. */
    static final int MAX_PASSWORD_BYTES = 64 * 1024;

    @Option(names = "--username", paramLabel = "USER",
            description = "Log in as USER (password from --password-stdin); used for every registry of this command.")
    String username;

    @Option(names = "--password-stdin", description = "Read the password (or token) for --username from standard input.")
    boolean passwordStdin;

    @Option(names = "--authfile", paramLabel = "FILE",
            description = "Credentials file (docker config.json / containers auth.json format) instead of "
                    + "$REGISTRY_AUTH_FILE, $XDG_RUNTIME_DIR/containers/auth.json and ~/.docker/config.json.")
    Path authfile;

    @Option(names = "--ca-cert", paramLabel = "PEM",
            description = "Also trust this CA certificate (PEM) for registry TLS; /etc/containers/certs.d/HOST/ and "
                    + "/etc/docker/certs.d/HOST/ are always read.")
    Path caCert;

    @Option(names = "--insecure", description = "Do not verify registry TLS certificates (dangerous).")
    boolean insecure;

    @Option(names = "--plain-http", description = "Use plain HTTP, not HTTPS (loopback registries use HTTP anyway unless TLS is configured for them).")
    boolean plainHttp;

    @picocli.CommandLine.Mixin
    TimeoutFlags timeouts = new TimeoutFlags();

    /** The options, reading a password from this process's standard input when asked to. */
    public RegistryOptions toOptions() {
        return toOptions(System.in);
    }

    /** The options, reading a password from {@code stdin} when {@code --password-stdin} was given. */
    public RegistryOptions toOptions(InputStream stdin) {
        RegistryOptions o = toOptions("--", username, passwordStdin, authfile, caCert, insecure, plainHttp, stdin);
        return o.withTransport(timeouts.apply(o.transport()));
    }

    /** {@code flag} is the prefix of the flags as typed: "--", "--src-" or "--dest-" (for messages). */
    static RegistryOptions toOptions(String flag, String username, boolean passwordStdin, Path authfile, Path caCert, boolean insecure,
                                     boolean plainHttp, InputStream stdin) {
        if (username != null && !passwordStdin) {
            throw new UsageException(flag + "username needs " + flag + "password-stdin (a password is never taken on the command line)");
        }
        if (passwordStdin && username == null) {
            throw new UsageException(flag + "password-stdin needs " + flag + "username");
        }
        if (caCert != null && !Files.isReadable(caCert)) {
            throw new UsageException(flag + "ca-cert " + caCert + ": no such readable file");
        }
        CredentialSource files = authfile == null ? CredentialFiles.fromEnvironment() : authFile(authfile);
        CredentialSource credentials = username == null ? files
                : CredentialSource.firstOf(CredentialSource.of(Credentials.basic(username, readPassword(flag, stdin))), files);
        TlsOptions tls = TlsOptions.defaults().withCaCert(caCert).withInsecure(insecure).withPlainHttp(plainHttp);
        return RegistryOptions.defaults().withTls(tls).withCredentials(credentials);
    }

    private static CredentialSource authFile(Path file) {
        if (!Files.isReadable(file)) {
            throw new UsageException("--authfile " + file + ": no such readable file");
        }
        if (!Files.isRegularFile(file)) {
            throw new UsageException("--authfile " + file + " is not a regular file");
        }
        return CredentialFiles.fromEnvironment(
                Map.of("REGISTRY_AUTH_FILE", file.toString(), "PATH", System.getenv().getOrDefault("PATH", "")),
                null, Duration.ofSeconds(15));
    }

    /** The password: all of standard input without its final line break. */
    static String readPassword(String flag, InputStream stdin) {
        byte[] bytes;
        try {
            bytes = stdin.readNBytes(MAX_PASSWORD_BYTES + 1);
        } catch (IOException e) {
            throw new LocalIoException("reading the password from standard input: " + e.getMessage(), e);
        }
        if (bytes.length > MAX_PASSWORD_BYTES) {
            throw new UsageException(flag + "password-stdin: more than " + MAX_PASSWORD_BYTES + " bytes on standard input");
        }
        String password = new String(bytes, StandardCharsets.UTF_8);
        if (password.endsWith("\n")) {
            password = password.substring(0, password.length() - 1);
        }
        if (password.endsWith("\r")) {
            password = password.substring(0, password.length() - 1);
        }
        if (password.isEmpty()) {
            throw new UsageException(flag + "password-stdin: standard input is empty");
        }
        return password;
    }
}
