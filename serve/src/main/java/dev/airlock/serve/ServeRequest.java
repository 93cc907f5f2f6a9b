package dev.airlock.serve;

import dev.airlock.error.UsageException;
import dev.airlock.error.Printable;
import dev.airlock.sign.TrustPolicy;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.function.Consumer;

/**
 * What {@link BundleServer#start} serves and how.
 *
 * @param bundles          uncompressed bundles ({@code .tar}); each digest is served once, from the first bundle holding it
 * @param trust            which signers are accepted (checked at start, before anything is served)
 * @param verifyAll        also hash every blob at start (otherwise a blob is hashed the first time it is sent whole or a part of it is asked for)
 * @param keepRegistryHost repository names keep the source host: {@code docker.io/rancher/pause} (default {@code rancher/pause})
 * @param listen           address to listen on ({@link #DEFAULT_LISTEN} unless given)
 * @param tls              certificate chain and key for HTTPS; empty for plain HTTP
 * @param log              file that gets one line per request; empty for none
 * @param errors           receives one line per server-side failure (an unreadable or damaged blob)
 */
public record ServeRequest(List<Path> bundles, TrustPolicy trust, boolean verifyAll, boolean keepRegistryHost,
                           Listen listen, Optional<Tls> tls, Optional<Path> log, Consumer<String> errors) {
    /** {@code 127.0.0.1:5000}: loopback only unless another address is asked for. */
    public static final String DEFAULT_LISTEN = "127.0.0.1:5000";

    public ServeRequest {
        bundles = List.copyOf(bundles);
        if (bundles.isEmpty()) {
            throw new UsageException("serve needs at least one bundle");
        }
        Objects.requireNonNull(trust, "trust");
        Objects.requireNonNull(listen, "listen");
        tls = tls == null ? Optional.empty() : tls;
        log = log == null ? Optional.empty() : log;
        errors = errors == null ? line -> { } : errors;
    }

    /** Plain HTTP on {@code listen}, no log, errors dropped (tests, library use). */
    public static ServeRequest of(List<Path> bundles, TrustPolicy trust, Listen listen) {
        return new ServeRequest(bundles, trust, false, false, listen, Optional.empty(), Optional.empty(), null);
    }

    /** A PEM certificate (chain) and its unencrypted PEM private key (RSA or EC). */
    public record Tls(Path certificate, Path key) {
        public Tls {
            Objects.requireNonNull(certificate, "certificate");
            Objects.requireNonNull(key, "key");
        }

        /** Both or neither: {@code --tls-cert} and {@code --tls-key} come together. */
        public static Optional<Tls> of(Path certificate, Path key) {
            if (certificate == null && key == null) {
                return Optional.empty();
            }
            if (certificate == null || key == null) {
                throw new UsageException("--tls-cert and --tls-key go together: give both or neither");
            }
            return Optional.of(new Tls(certificate, key));
        }
    }

    /**
     * {@code HOST:PORT} to listen on: {@code 127.0.0.1:5000}, {@code 0.0.0.0:5000} (every
     * interface), {@code [::1]:5000}, {@code localhost:0} (a free port, printed at start).
     */
    public record Listen(String host, int port) {
        public Listen {
            Objects.requireNonNull(host, "host");
            if (port < 0 || port > 65535) {
                throw new UsageException("--listen port " + port + " is outside 0-65535");
            }
        }

        public static Listen parse(String text) {
            String s = text == null ? "" : text.strip();
            int colon = s.lastIndexOf(':');
            if (colon <= 0 || colon == s.length() - 1) {
                throw new UsageException("--listen " + Printable.of(text) + ": give HOST:PORT, e.g. 127.0.0.1:5000 or 0.0.0.0:5000");
            }
            String host = s.substring(0, colon);
            if (host.startsWith("[") && host.endsWith("]")) {
                host = host.substring(1, host.length() - 1);
            } else if (host.contains(":")) {
                throw new UsageException("--listen " + Printable.of(text) + ": write an IPv6 address in brackets, e.g. [::1]:5000");
            }
            int port;
            try {
                port = Integer.parseInt(s.substring(colon + 1));
            } catch (NumberFormatException e) {
                throw new UsageException("--listen " + Printable.of(text) + ": the port is not a number");
            }
            return new Listen(host, port);
        }

        InetSocketAddress resolve() {
            InetSocketAddress a = new InetSocketAddress(host, port);
            if (a.isUnresolved()) {
                throw new UsageException("--listen " + this + ": cannot resolve host '" + Printable.of(host) + "'");
            }
            return a;
        }

        @Override
        public String toString() {
            return (host.contains(":") ? "[" + host + "]" : host) + ":" + port;
        }
    }
}
