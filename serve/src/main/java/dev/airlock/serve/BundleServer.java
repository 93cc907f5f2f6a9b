package dev.airlock.serve;

import dev.airlock.bundle.BundleArchive;
import dev.airlock.error.LocalIoException;
import dev.airlock.error.UsageException;
import dev.airlock.progress.ProgressListener;
import java.io.IOException;
import java.net.BindException;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CountDownLatch;

/**
 * Bundles served as a read-only registry, in place: each blob is read from the tar with
 * positional reads when asked for, nothing is extracted or copied, and memory does not grow with
 * bundle size. {@link #start} does every check before it listens: each bundle's signature
 * against the trust policy and its bundle.json (entries, sizes, graph, platforms; every blob's
 * hash too with {@code verifyAll}), then the repository names (one digest per repository:tag
 * across all bundles). A {@code .tar.zst} bundle is refused: serving needs random access.
 *
 * <p>HTTP is {@link Http1Server}, a small HTTP/1.1 server of this module (see there why not the
 * JDK's {@code com.sun.net.httpserver}): one thread per connection, at most
 * {@value Http1Server#MAX_CONNECTIONS} at once.
 */
public final class BundleServer implements AutoCloseable {
    private final Http1Server http;
    private final RegistryHandler handler;
    private final List<BundleArchive> archives;
    private final Catalog catalog;
    private final Optional<RequestLog> log;
    private final boolean tls;
    private final CountDownLatch stopped = new CountDownLatch(1);
    private boolean closed;

    private BundleServer(Http1Server http, RegistryHandler handler, List<BundleArchive> archives, Catalog catalog, Optional<RequestLog> log,
                         boolean tls) {
        this.http = http;
        this.handler = handler;
        this.archives = archives;
        this.catalog = catalog;
        this.log = log;
        this.tls = tls;
    }

    /**
     * Opens and checks every bundle, then listens.
     *
     * @throws dev.airlock.error.VerificationException a bundle fails its signature or structure (or, with verifyAll, a blob its hash)
     * @throws UsageException a compressed bundle, conflicting tags, a bad listen address or TLS files
     * @throws LocalIoException a bundle cannot be read, the address is in use
     */
    public static BundleServer start(ServeRequest request, ProgressListener progress) {
        List<BundleArchive> archives = new ArrayList<>();
        Optional<RequestLog> log = Optional.empty();
        try {
            for (Path p : request.bundles()) {
                BundleArchive a = BundleArchive.open(p, request.trust());
                archives.add(a);
                if (!a.randomAccess()) {
                    String plain = p.getFileName().toString().replaceFirst("\\.zst$", "");
                    throw new UsageException("serving " + p + ": a .tar.zst bundle cannot be served in place (a registry needs random access);"
                            + " decompress it first: zstd -d " + p + " -o " + plain + ", then serve " + plain);
                }
            }
            if (request.verifyAll()) {
                for (BundleArchive a : archives) {
                    a.stream((file, in) -> in.transferTo(java.io.OutputStream.nullOutputStream()), progress);
                }
            }
            Catalog catalog = Catalog.of(archives, request.keepRegistryHost(), request.verifyAll());
            InetSocketAddress address = request.listen().resolve();
            Optional<javax.net.ssl.SSLContext> ssl = request.tls().map(ServerTls::context);
            log = RequestLog.open(request.log());
            RegistryHandler handler = new RegistryHandler(catalog, log, request.errors());
            Http1Server http;
            try {
                http = new Http1Server(address, ssl, handler);
            } catch (BindException e) {
                throw new LocalIoException("listening on " + request.listen() + ": " + e.getMessage() + " (is another registry running there?)", e);
            } catch (IOException e) {
                throw new LocalIoException("listening on " + request.listen() + ": " + e.getMessage(), e);
            }
            return new BundleServer(http, handler, List.copyOf(archives), catalog, log, request.tls().isPresent());
        } catch (RuntimeException e) {
            log.ifPresent(RequestLog::close);
            archives.forEach(BundleArchive::close);
            throw e;
        }
    }

    /** The address actually listened on (the port is the real one when 0 was asked for). */
    public InetSocketAddress address() {
        return http.address();
    }

    /** {@code http://127.0.0.1:5000} or {@code https://…}. */
    public String url() {
        InetSocketAddress a = address();
        String host = a.getAddress().getHostAddress();
        return (tls ? "https://" : "http://") + (host.contains(":") ? "[" + host + "]" : host) + ":" + a.getPort();
    }

    /** What is served: one entry per image, in bundle order. */
    public List<Image> images() {
        return catalog.served().stream().map(s -> new Image(s.repository(), s.reference(), s.image().digest().toString(),
                s.image().descriptor().mediaType().value(), s.image().platforms().stream().map(Object::toString).toList(),
                s.archive().path())).toList();
    }

    /**
     * One served image.
     *
     * @param repository the repository name clients pull ({@code rancher/pause})
     * @param reference  its tag, or its digest when it was exported by digest only
     */
    public record Image(String repository, String reference, String digest, String mediaType, List<String> platforms, Path bundle) {
    }

    public int bundleCount() {
        return archives.size();
    }

    public int blobCount() {
        return catalog.blobCount();
    }

    public long blobBytes() {
        return catalog.blobBytes();
    }

    /** HTTP requests received so far, answered or cut by {@link #close}. */
    public long requestCount() {
        return handler.requests();
    }

    /** Blocks until {@link #close} has run. */
    public void awaitClose() throws InterruptedException {
        stopped.await();
    }

    /**
     * Stops listening, lets running requests finish for up to a second (idle connections are closed at once), then closes the bundles
     * and the log. Safe to call more than once and from a shutdown hook.
     */
    @Override
    public void close() {
        synchronized (this) {
            if (closed) {
                return;
            }
            closed = true;
        }
        http.stop(1000);
        archives.forEach(BundleArchive::close);
        log.ifPresent(RequestLog::close);
        stopped.countDown();
    }
}
