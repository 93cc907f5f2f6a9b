package dev.airlock.serve;

import com.sun.net.httpserver.HttpServer;
import com.sun.net.httpserver.HttpsConfigurator;
import com.sun.net.httpserver.HttpsServer;
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
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Bundles served as a read-only registry, in place: each blob is read from the tar with
 * positional reads when asked for, nothing is extracted or copied, and memory does not grow with
 * bundle size. {@link #start} does every check before it listens: each bundle's signature
 * against the trust policy and its bundle.json (entries, sizes, graph, platforms; every blob's
 * hash too with {@code verifyAll}), then the repository names (one digest per repository:tag
 * across all bundles). A {@code .tar.zst} bundle is refused: serving needs random access.
 *
 * <p>HTTP is the JDK's own {@code com.sun.net.httpserver} (no extra dependency) with a pool of
 * {@value #THREADS} request threads; idle keep-alive connections hold no thread.
 */
public final class BundleServer implements AutoCloseable {
    static final int THREADS = 64;

    static {
        // A client that probes TLS first (docker, podman, skopeo, ctr against an "insecure" registry) sends a
        // ClientHello, which has no line end: the JDK server would wait for a request line forever and the
        // client only falls back to plain HTTP after its own 10 s handshake timeout (measured: skopeo copy
        // 10.2 s -> 1.2 s). A request's headers must arrive within 1 s; responses (long blob
        // downloads) have no limit. Read once per JVM by the JDK, before the first server starts;
        // JAVA_OPTS=-Dsun.net.httpserver.maxReqTime=N overrides.
        if (System.getProperty("sun.net.httpserver.maxReqTime") == null) {
            System.setProperty("sun.net.httpserver.maxReqTime", "1");
        }
        if (System.getProperty("sun.net.httpserver.timerMillis") == null) {
            System.setProperty("sun.net.httpserver.timerMillis", "200");
        }
    }

    private final HttpServer http;
    private final ExecutorService pool;
    private final List<BundleArchive> archives;
    private final Catalog catalog;
    private final Optional<RequestLog> log;
    private final boolean tls;
    private final CountDownLatch stopped = new CountDownLatch(1);
    private boolean closed;

    private BundleServer(HttpServer http, ExecutorService pool, List<BundleArchive> archives, Catalog catalog, Optional<RequestLog> log, boolean tls) {
        this.http = http;
        this.pool = pool;
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
            Catalog catalog = Catalog.of(archives, request.keepRegistryHost());
            InetSocketAddress address = request.listen().resolve();
            HttpServer http;
            try {
                if (request.tls().isPresent()) {
                    HttpsServer https = HttpsServer.create(address, 256);
                    https.setHttpsConfigurator(new HttpsConfigurator(ServerTls.context(request.tls().get())));
                    http = https;
                } else {
                    http = HttpServer.create(address, 256);
                }
            } catch (BindException e) {
                throw new LocalIoException("listening on " + request.listen() + ": " + e.getMessage() + " (is another registry running there?)", e);
            } catch (IOException e) {
                throw new LocalIoException("listening on " + request.listen() + ": " + e.getMessage(), e);
            }
            log = RequestLog.open(request.log());
            AtomicInteger n = new AtomicInteger();
            ExecutorService pool = Executors.newFixedThreadPool(THREADS, r -> {
                Thread t = new Thread(r, "airlock-serve-" + n.incrementAndGet());
                t.setDaemon(true);
                return t;
            });
            http.setExecutor(pool);
            http.createContext("/", new RegistryHandler(catalog, log, request.errors()));
            http.start();
            return new BundleServer(http, pool, List.copyOf(archives), catalog, log, request.tls().isPresent());
        } catch (RuntimeException e) {
            log.ifPresent(RequestLog::close);
            archives.forEach(BundleArchive::close);
            throw e;
        }
    }

    /** The address actually listened on (the port is the real one when 0 was asked for). */
    public InetSocketAddress address() {
        return http.getAddress();
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

    /** Blocks until {@link #close} has run. */
    public void awaitClose() throws InterruptedException {
        stopped.await();
    }

    /**
     * Stops listening, lets running requests finish for up to a second, then closes the bundles
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
        http.stop(1);
        pool.shutdownNow();
        try {
            pool.awaitTermination(2, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        archives.forEach(BundleArchive::close);
        log.ifPresent(RequestLog::close);
        stopped.countDown();
    }
}
