package dev.airlock.serve;

import java.io.BufferedInputStream;
import java.io.BufferedOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.SocketException;
import java.nio.charset.StandardCharsets;
import java.time.ZoneOffset;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLServerSocket;
import javax.net.ssl.SSLSocket;

/**
 * A small HTTP/1.1 server for a read-only registry: one thread per connection (at most
 * {@value #MAX_CONNECTIONS}; more wait in the backlog), keep-alive, every response with a
 * Content-Length. Requests carrying a body (the write methods) are answered and the connection is
 * closed without reading the body.
 *
 * <p>Why not the JDK's {@code com.sun.net.httpserver}: clients of an "insecure" registry (docker,
 * podman, skopeo, containerd) try TLS first. Go's server answers a TLS ClientHello on a plain
 * port at once with a 400, and the client falls back to HTTP; the JDK server waits for a request
 * line that never comes, so every pull paid the client's handshake timeout (10 s), or 1 s with
 * {@code sun.net.httpserver.maxReqTime=1}, its floor. Here the first byte decides: 0x16 (a TLS
 * record) gets the 400 and the connection is closed. Plain connections are {@code SocketChannel}s,
 * so blob bodies go from the tar to the socket through a direct buffer, never through the heap.
 */
final class Http1Server implements AutoCloseable {
    static final int MAX_CONNECTIONS = 256;
    private static final int MAX_LINE = 8192;
    private static final int MAX_HEADERS = 100;
    private static final int IDLE_TIMEOUT_MS = 60_000;
    private static final int HEADER_TIMEOUT_MS = 20_000;
    /** IMF-fixdate (RFC 9110 5.6.7): a two-digit day, "Wed, 02 Dec 2026 05:27:14 GMT"; RFC_1123_DATE_TIME writes "2 Dec". */
    static final DateTimeFormatter DATE = DateTimeFormatter.ofPattern("EEE, dd MMM yyyy HH:mm:ss 'GMT'", Locale.US);

    /** Handles one request; must call {@link Response#start} exactly once. */
    @FunctionalInterface
    interface Handler {
        void handle(Request request, Response response) throws IOException;
    }

    /** One parsed request: method, the raw path and query as sent, headers (names lowercased). */
    record Request(String method, String rawPath, String rawQuery, Map<String, String> headers, InetAddress client) {
        Optional<String> header(String name) {
            return Optional.ofNullable(headers.get(name.toLowerCase(Locale.ROOT)));
        }
    }

    /** The response to one request: headers first, then {@link #start}, then exactly that many body bytes. */
    static final class Response {
        private final Map<String, String> headers = new LinkedHashMap<>();
        private final OutputStream socket;
        private final java.nio.channels.SocketChannel channel;
        private final boolean head;
        private boolean keepAlive;
        private int status;
        private long length;
        private long written;

        Response(OutputStream socket, java.nio.channels.SocketChannel channel, boolean head, boolean keepAlive) {
            this.socket = socket;
            this.channel = channel;
            this.head = head;
            this.keepAlive = keepAlive;
        }

        void header(String name, String value) {
            headers.put(name, value);
        }

        void removeHeader(String name) {
            headers.remove(name);
        }

        boolean started() {
            return status != 0;
        }

        int status() {
            return status;
        }

        /** Body bytes written so far. */
        long written() {
            return written;
        }

        /**
         * Sends the status line and headers with {@code Content-Length: length}. For HEAD nothing
         * may follow; otherwise exactly {@code length} bytes must be written to the stream returned.
         */
        OutputStream start(int code, long bodyLength) throws IOException {
            if (status != 0) {
                throw new IllegalStateException("response already started");
            }
            status = code;
            length = bodyLength;
            StringBuilder sb = new StringBuilder(256);
            sb.append("HTTP/1.1 ").append(code).append(' ').append(reason(code)).append("\r\n");
            sb.append("Date: ").append(DATE.format(ZonedDateTime.now(ZoneOffset.UTC))).append("\r\n");
            headers.forEach((k, v) -> sb.append(k).append(": ").append(v).append("\r\n"));
            sb.append("Content-Length: ").append(bodyLength).append("\r\n");
            if (!keepAlive) {
                sb.append("Connection: close\r\n");
            }
            sb.append("\r\n");
            socket.write(sb.toString().getBytes(StandardCharsets.ISO_8859_1));
            return new OutputStream() {
                @Override
                public void write(int b) throws IOException {
                    write(new byte[] {(byte) b}, 0, 1);
                }

                @Override
                public void write(byte[] b, int off, int len) throws IOException {
                    if (head || written + len > length) {
                        throw new IOException("response body longer than its Content-Length");
                    }
                    socket.write(b, off, len);
                    written += len;
                }
            };
        }

        /**
         * The connection's channel for body writes from a direct buffer, after the headers were
         * flushed; empty over TLS. Count what is written with {@link #wrote}.
         */
        Optional<java.nio.channels.WritableByteChannel> channel() throws IOException {
            if (channel == null || head) {
                return Optional.empty();
            }
            socket.flush();
            return Optional.of(channel);
        }

        /** Records body bytes written through {@link #channel()}. */
        void wrote(long n) {
            written += n;
        }

        /** True when the response is complete and the connection can take another request. */
        boolean complete() {
            return status != 0 && (head || written == length);
        }
    }

    private final ServerSocket server;
    private final java.nio.channels.ServerSocketChannel plain;
    private final boolean tls;
    private final Handler handler;
    private final ExecutorService pool;
    private final Semaphore slots = new Semaphore(MAX_CONNECTIONS);
    /** Open connections; true while one is handling a request (idle ones are closed at once on stop). */
    private final Map<Socket, Boolean> open = new ConcurrentHashMap<>();
    private final Thread acceptor;
    private volatile boolean stopping;

    Http1Server(InetSocketAddress address, Optional<SSLContext> tls, Handler handler) throws IOException {
        this.handler = handler;
        this.tls = tls.isPresent();
        this.plain = tls.isPresent() ? null : java.nio.channels.ServerSocketChannel.open();
        ServerSocket s = tls.isPresent() ? tls.get().getServerSocketFactory().createServerSocket() : plain.socket();
        try {
            s.setReuseAddress(true);
            s.bind(address, 256);
        } catch (IOException e) {
            s.close();
            throw e;
        }
        if (s instanceof SSLServerSocket ssl) {
            ssl.setEnabledProtocols(new String[] {"TLSv1.3", "TLSv1.2"});
        }
        this.server = s;
        AtomicInteger n = new AtomicInteger();
        this.pool = Executors.newCachedThreadPool(r -> {
            Thread t = new Thread(r, "airlock-serve-" + n.incrementAndGet());
            t.setDaemon(true);
            return t;
        });
        this.acceptor = new Thread(this::acceptLoop, "airlock-serve-accept");
        acceptor.setDaemon(true);
        acceptor.start();
    }

    InetSocketAddress address() {
        return (InetSocketAddress) server.getLocalSocketAddress();
    }

    private void acceptLoop() {
        while (!stopping) {
            try {
                slots.acquire();
            } catch (InterruptedException e) {
                return;
            }
            Socket c;
            try {
                c = plain != null ? plain.accept().socket() : server.accept();
            } catch (IOException e) {
                slots.release();
                if (stopping) {
                    return;
                }
                continue;
            }
            open.put(c, false);
            pool.execute(() -> {
                try {
                    serve(c);
                } finally {
                    open.remove(c);
                    closeQuietly(c);
                    slots.release();
                }
            });
        }
    }

    private void serve(Socket c) {
        try {
            c.setTcpNoDelay(true);
            c.setSoTimeout(HEADER_TIMEOUT_MS);
            if (c instanceof SSLSocket ssl) {
                ssl.startHandshake();
            }
            BufferedInputStream in = new BufferedInputStream(c.getInputStream(), 16 * 1024);
            OutputStream out = new BufferedOutputStream(c.getOutputStream(), 64 * 1024);
            if (!tls) {
                in.mark(1);
                int first = in.read();
                if (first == 0x16) {
                    // a TLS ClientHello on the plain port: say so at once, as Go's server does
                    out.write(("HTTP/1.1 400 Bad Request\r\nContent-Type: text/plain; charset=utf-8\r\nConnection: close\r\n"
                            + "Content-Length: 48\r\n\r\nClient sent an HTTP request to an HTTPS server.\n").getBytes(StandardCharsets.US_ASCII));
                    out.flush();
                    return;
                }
                if (first < 0) {
                    return;
                }
                in.reset();
            }
            while (!stopping) {
                String line = readLine(in);
                if (line == null) {
                    return;
                }
                if (line.isEmpty()) {
                    continue; // tolerate a stray CRLF between requests
                }
                open.put(c, true);
                Request req = parse(line, in, c.getInetAddress());
                if (req == null) {
                    badRequest(out);
                    return;
                }
                boolean hasBody = req.header("transfer-encoding").isPresent()
                        || req.header("content-length").map(v -> !v.strip().equals("0")).orElse(false);
                boolean keepAlive = !hasBody && !req.header("connection").map(v -> v.toLowerCase(Locale.ROOT).contains("close")).orElse(false)
                        && !line.endsWith("HTTP/1.0") && !stopping;
                Response res = new Response(out, c.getChannel(), req.method().equals("HEAD"), keepAlive);
                try {
                    handler.handle(req, res);
                } finally {
                    out.flush();
                }
                if (!res.complete() || !keepAlive) {
                    return;
                }
                open.put(c, false);
                if (stopping) {
                    return;
                }
                c.setSoTimeout(IDLE_TIMEOUT_MS);
            }
        } catch (IOException | RuntimeException e) {
            // the client went away, timed out, sent garbage, or the handler failed mid-body: close
        }
    }

    private static void badRequest(OutputStream out) throws IOException {
        out.write("HTTP/1.1 400 Bad Request\r\nConnection: close\r\nContent-Length: 0\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
        out.flush();
    }

    /** Request line already read; reads the headers. Null for anything malformed. */
    private static Request parse(String line, InputStream in, InetAddress client) throws IOException {
        String[] parts = line.split(" ", -1);
        if (parts.length != 3 || !parts[2].startsWith("HTTP/1.") || parts[0].isEmpty() || !parts[0].chars().allMatch(ch -> ch >= 'A' && ch <= 'Z')) {
            return null;
        }
        Map<String, String> headers = new LinkedHashMap<>();
        for (int i = 0; ; i++) {
            String h = readLine(in);
            if (h == null || i > MAX_HEADERS) {
                return null;
            }
            if (h.isEmpty()) {
                break;
            }
            int colon = h.indexOf(':');
            if (colon <= 0) {
                return null;
            }
            headers.putIfAbsent(h.substring(0, colon).strip().toLowerCase(Locale.ROOT), h.substring(colon + 1).strip());
        }
        String target = parts[1];
        if (target.startsWith("http://") || target.startsWith("https://")) {
            int slash = target.indexOf('/', target.indexOf("//") + 2);
            target = slash < 0 ? "/" : target.substring(slash);
        }
        if (!target.startsWith("/")) {
            return null;
        }
        int q = target.indexOf('?');
        String path = q < 0 ? target : target.substring(0, q);
        String query = q < 0 ? null : target.substring(q + 1);
        int hash = path.indexOf('#');
        if (hash >= 0) {
            path = path.substring(0, hash);
        }
        return new Request(parts[0], path, query, headers, client);
    }

    /** One line without its CRLF (or LF); null at end of stream; an IOException beyond {@value #MAX_LINE} bytes. */
    private static String readLine(InputStream in) throws IOException {
        StringBuilder sb = new StringBuilder(128);
        while (true) {
            int b = in.read();
            if (b < 0) {
                if (sb.length() == 0) {
                    return null;
                }
                throw new IOException("connection closed inside a line");
            }
            if (b == '\n') {
                int len = sb.length();
                if (len > 0 && sb.charAt(len - 1) == '\r') {
                    sb.setLength(len - 1);
                }
                return sb.toString();
            }
            if (sb.length() >= MAX_LINE) {
                throw new IOException("line longer than " + MAX_LINE + " bytes");
            }
            sb.append((char) b);
        }
    }

    static String reason(int code) {
        return switch (code) {
            case 200 -> "OK";
            case 206 -> "Partial Content";
            case 400 -> "Bad Request";
            case 404 -> "Not Found";
            case 405 -> "Method Not Allowed";
            case 416 -> "Range Not Satisfiable";
            case 500 -> "Internal Server Error";
            default -> "Status";
        };
    }

    /** Stops accepting, gives running requests {@code graceMillis}, then closes every connection. */
    void stop(long graceMillis) {
        stopping = true;
        closeQuietly(server);
        acceptor.interrupt();
        pool.shutdown();
        open.forEach((socket, busy) -> {
            if (!busy) {
                closeQuietly(socket);
            }
        });
        try {
            if (!pool.awaitTermination(graceMillis, TimeUnit.MILLISECONDS)) {
                open.keySet().forEach(Http1Server::closeQuietly);
                pool.shutdownNow();
                pool.awaitTermination(2, TimeUnit.SECONDS);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    @Override
    public void close() {
        stop(1000);
    }

    private static void closeQuietly(java.io.Closeable c) {
        try {
            c.close();
        } catch (IOException e) {
            // closing
        }
    }
}
