package dev.airlock.cli;

import dev.airlock.error.UsageException;
import dev.airlock.registry.RegistryOptions;
import java.io.InputStream;
import java.nio.file.Path;
import picocli.CommandLine.Option;

/**
 * {@link RegistryFlags} for sync, which talks to a source and a target registry: {@code --src-*}
 * and {@code --dest-*} variants, one shared {@code --authfile} and one set of {@code --timeout-*} options.
 */
public final class SyncRegistryFlags {

    @Option(names = "--authfile", paramLabel = "FILE",
            description = "Credentials file (docker config.json / containers auth.json format) for both sides, instead of "
                    + "$REGISTRY_AUTH_FILE, $XDG_RUNTIME_DIR/containers/auth.json and ~/.docker/config.json.")
    Path authfile;

    @Option(names = "--src-username", paramLabel = "USER", description = "Log in to the source registries as USER (password from --src-password-stdin).")
    String srcUsername;
    @Option(names = "--src-password-stdin", description = "Read the source password from standard input.")
    boolean srcPasswordStdin;
    @Option(names = "--src-ca-cert", paramLabel = "PEM", description = "Also trust this CA certificate for the source registries.")
    Path srcCaCert;
    @Option(names = "--src-insecure", description = "Do not verify the source registries' TLS certificates (dangerous).")
    boolean srcInsecure;
    @Option(names = "--src-plain-http", description = "Use plain HTTP to the source registries.")
    boolean srcPlainHttp;

    @Option(names = "--dest-username", paramLabel = "USER", description = "Log in to the target registry as USER (password from --dest-password-stdin).")
    String destUsername;
    @Option(names = "--dest-password-stdin", description = "Read the target password from standard input.")
    boolean destPasswordStdin;
    @Option(names = "--dest-ca-cert", paramLabel = "PEM", description = "Also trust this CA certificate for the target registry.")
    Path destCaCert;
    @Option(names = "--dest-insecure", description = "Do not verify the target registry's TLS certificate (dangerous).")
    boolean destInsecure;
    @Option(names = "--dest-plain-http", description = "Use plain HTTP to the target registry.")
    boolean destPlainHttp;

    /** The timeouts, for both sides. */
    @picocli.CommandLine.Mixin
    TimeoutFlags timeouts = new TimeoutFlags();

    /** Options for the source side. */
    public RegistryOptions source() {
        return source(System.in);
    }

    /** Options for the target side. */
    public RegistryOptions target() {
        return target(System.in);
    }

    RegistryOptions source(InputStream stdin) {
        checkOneStdin();
        RegistryOptions o = RegistryFlags.toOptions("--src-", srcUsername, srcPasswordStdin, authfile, srcCaCert, srcInsecure, srcPlainHttp, stdin);
        return o.withTransport(timeouts.apply(o.transport()));
    }

    RegistryOptions target(InputStream stdin) {
        checkOneStdin();
        RegistryOptions o = RegistryFlags.toOptions("--dest-", destUsername, destPasswordStdin, authfile, destCaCert, destInsecure, destPlainHttp, stdin);
        return o.withTransport(timeouts.apply(o.transport()));
    }

    private void checkOneStdin() {
        if (srcPasswordStdin && destPasswordStdin) {
            throw new UsageException("--src-password-stdin and --dest-password-stdin cannot both read standard input: "
                    + "put one side's credentials in --authfile");
        }
    }
}
