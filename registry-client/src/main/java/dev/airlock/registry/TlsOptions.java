package dev.airlock.registry;

import java.nio.file.Path;
import java.util.List;
import java.util.Optional;

/**
 * How to reach a registry over TLS.
 *
 * <p>Scheme selection: {@code plainHttp} forces {@code http://}. Otherwise a loopback registry
 * ({@code localhost}, 127.0.0.0/8, {@code ::1}) is reached over plain HTTP like docker does,
 * <em>unless</em> TLS is configured for it (a {@code caCert}, {@code insecure}, or a certs.d
 * directory for that host); every other host uses {@code https://}.
 *
 * <p>Trust: the JVM's system trust store, plus {@code caCert}, plus every {@code *.crt} in
 * {@code <certsDirectory>/HOST[:PORT]/}; a {@code *.cert}/{@code *.key} pair there is presented as
 * the client certificate.
 *
 * @param caCert            an extra PEM CA certificate file (bundle) to trust (CLI {@code --ca-cert}); empty for none
 * @param insecure          skip certificate and host name verification (CLI {@code --insecure}); never the default
 * @param plainHttp         talk plain HTTP even to a non-loopback host (CLI {@code --plain-http})
 * @param certsDirectories  roots searched for per-host directories, default
 *                          {@code /etc/containers/certs.d} and {@code /etc/docker/certs.d}
 */
public record TlsOptions(Optional<Path> caCert, boolean insecure, boolean plainHttp, List<Path> certsDirectories) {
    /** The certs.d roots docker and podman use. */
    public static final List<Path> DEFAULT_CERTS_DIRECTORIES = List.of(Path.of("/etc/containers/certs.d"), Path.of("/etc/docker/certs.d"));

    public TlsOptions {
        caCert = caCert == null ? Optional.empty() : caCert;
        certsDirectories = certsDirectories == null ? DEFAULT_CERTS_DIRECTORIES : List.copyOf(certsDirectories);
    }

    /** System trust store and the default certs.d directories; HTTPS except for loopback hosts. */
    public static TlsOptions defaults() {
        return new TlsOptions(Optional.empty(), false, false, DEFAULT_CERTS_DIRECTORIES);
    }

    public TlsOptions withCaCert(Path file) {
        return new TlsOptions(Optional.ofNullable(file), insecure, plainHttp, certsDirectories);
    }

    public TlsOptions withInsecure(boolean value) {
        return new TlsOptions(caCert, value, plainHttp, certsDirectories);
    }

    public TlsOptions withPlainHttp(boolean value) {
        return new TlsOptions(caCert, insecure, value, certsDirectories);
    }

    public TlsOptions withCertsDirectories(List<Path> dirs) {
        return new TlsOptions(caCert, insecure, plainHttp, dirs);
    }
}
