package dev.airlock.testkit;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.SocketException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A TCP proxy on 127.0.0.1 in front of a real registry that injects faults on demand, for
 * reliability tests. Faults are armed one at a time and fire once:
 * <ul>
 *   <li>{@link #dropUpstreamAfter(long)} / {@link #dropDownstreamAfter(long)}: after that many more
 *       bytes in that direction (client→registry, registry→client; counted over all connections from
 *       the moment of arming) the carrying connection is reset;</li>
 *   <li>{@link #stallDownstreamAfter(long, Duration)}: the registry's answer stops flowing for a while;</li>
 *   <li>{@link #answerStatus(int, int, String)} / {@link #answer500s(int)}: the next {@code n} requests
 *       get that HTTP status from the proxy itself (on fresh connections: arming closes the open ones);</li>
 *   <li>{@link #failRequests(String, int, int, int)}: requests with a given method, after skipping some,
 *       are answered with a status by the proxy and never reach the registry (the proxy reads request
 *       heads and Content-Length bodies to find request boundaries);</li>
 *   <li>{@link #rewriteRanges(java.util.function.UnaryOperator)} / {@link #ignoreRanges()}: every
 *       {@code Range} request header is changed or dropped on its way to the registry (a registry or a
 *       cache in between that ignores ranges, or answers other ones), until {@link #clear()}.</li>
 * </ul>
 * Everything else passes through unchanged. {@link #close()} stops the proxy and its threads.
 */
public final class FaultProxy implements AutoCloseable {
    private final ServerSocket server;
    private final InetSocketAddress target;
    private final Set<Socket> open = ConcurrentHashMap.newKeySet();
    private final AtomicInteger connections = new AtomicInteger();
    private final AtomicInteger fired = new AtomicInteger();
    private final AtomicInteger cannedLeft = new AtomicInteger();
    private volatile int cannedStatus = 500;
    private volatile String cannedHeaders = "";
    private volatile String failMethod;
    private final AtomicInteger failSkip = new AtomicInteger();
    private final AtomicInteger failLeft = new AtomicInteger();
    private volatile int failStatus;
    private volatile long blobSizeLie = -1;
    private volatile java.util.function.Predicate<String> rejectHead;
    private volatile int rejectStatus;
    private volatile java.util.function.UnaryOperator<String> rangeRewrite;
    private final AtomicInteger rangeRequests = new AtomicInteger();
    private final Fault upstream = new Fault();
    private final Fault downstream = new Fault();
    private final Thread acceptor;
    private volatile boolean closed;

    /** What happens after the byte budget of one direction is spent. */
    private static final class Fault {
        final AtomicLong budget = new AtomicLong(-1);
        volatile long stallMillis;
    }

    private FaultProxy(InetSocketAddress target) throws IOException {
        this.target = target;
        this.server = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
        this.acceptor = new Thread(this::acceptLoop, "fault-proxy-accept-" + server.getLocalPort());
        acceptor.setDaemon(true);
        acceptor.start();
    }

    /** Starts a proxy to {@code 127.0.0.1:port}. */
    public static FaultProxy start(int targetPort) {
        try {
            return new FaultProxy(new InetSocketAddress(InetAddress.getLoopbackAddress(), targetPort));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Starts a proxy in front of a running test registry. */
    public static FaultProxy in(RegistryProcess registry) {
        return start(registry.port());
    }

    /** {@code 127.0.0.1:<port>} of the proxy, to use as the registry host. */
    public String host() {
        return "127.0.0.1:" + server.getLocalPort();
    }

    public int port() {
        return server.getLocalPort();
    }

    /** Resets the connection after {@code bytes} more bytes from client to registry. */
    public void dropUpstreamAfter(long bytes) {
        arm(upstream, bytes, 0);
    }

    /** Resets the connection after {@code bytes} more bytes from registry to client. */
    public void dropDownstreamAfter(long bytes) {
        arm(downstream, bytes, 0);
    }

    /** After {@code bytes} more bytes from registry to client, holds the rest back for {@code stall}. */
    public void stallDownstreamAfter(long bytes, Duration stall) {
        arm(downstream, bytes, Math.max(1, stall.toMillis()));
    }

    /** The next {@code count} requests are answered {@code 500} with an OCI error body by the proxy. */
    public void answer500s(int count) {
        answerStatus(count, 500, "");
    }

    /**
     * The next {@code count} requests get {@code status} from the proxy (with the given extra header
     * lines, e.g. {@code "Retry-After: 1\r\n"}), each on a connection that is then closed. Arming
     * closes the connections open now, so that requests arrive on fresh ones.
     */
    public void answerStatus(int count, int status, String extraHeaderLines) {
        cannedStatus = status;
        cannedHeaders = extraHeaderLines == null ? "" : extraHeaderLines;
        cannedLeft.set(count);
        closeOpenConnections();
    }

    /**
     * Lets {@code skip} requests with {@code method} through, then answers the next {@code count} of
     * them with {@code status} (and closes that connection) without forwarding them to the registry.
     */
    public void failRequests(String method, int skip, int count, int status) {
        failStatus = status;
        failSkip.set(skip);
        failLeft.set(count);
        failMethod = method;
    }

    /**
     * Every HEAD of a blob is answered here, without asking the registry: 200 with its digest and
     * {@code Content-Length: size} (a registry lying that it holds blobs, and about their sizes).
     */
    public void lieAboutBlobSizes(long size) {
        blobSizeLie = size;
    }

    private void answerBlobHead(Socket client, String head) throws IOException {
        String path = head.substring(head.indexOf(' ') + 1, head.indexOf(' ', head.indexOf(' ') + 1));
        String digest = path.substring(path.indexOf("/blobs/") + "/blobs/".length());
        String resp = "HTTP/1.1 200 OK\r\nContent-Length: " + blobSizeLie + "\r\nDocker-Content-Digest: " + digest
                + "\r\nContent-Type: application/octet-stream\r\nConnection: close\r\n\r\n";
        OutputStream out = client.getOutputStream();
        out.write(resp.getBytes(StandardCharsets.US_ASCII));
        out.flush();
        closeQuietly(client);
    }

    /**
     * Answers every request whose head (request line and headers as text, e.g. {@code "PUT /v2/…"}
     * and {@code "Content-Type: application/vnd.oci.image.index.v1+json"}) matches {@code head}
     * with {@code status}, without forwarding it; until {@link #clear()}. Models a registry that
     * refuses some media types, or some users' pushes.
     */
    public void rejectRequests(java.util.function.Predicate<String> head, int status) {
        rejectStatus = status;
        rejectHead = head;
    }

    /**
     * Every {@code Range} header value of a request (e.g. {@code bytes=0-1023}) is replaced by what
     * {@code rewrite} returns for it, or the header is dropped when it returns null; until {@link #clear()}.
     */
    public void rewriteRanges(java.util.function.UnaryOperator<String> rewrite) {
        rangeRewrite = rewrite;
    }

    /** Drops every {@code Range} request header: the registry answers 200 with the whole blob. */
    public void ignoreRanges() {
        rewriteRanges(v -> null);
    }

    /** Requests with a {@code Range} header that passed so far (before any rewrite). */
    public int rangeRequests() {
        return rangeRequests.get();
    }

    /** Disarms every fault. */
    public void clear() {
        rangeRewrite = null;
        blobSizeLie = -1;
        rejectHead = null;
        failMethod = null;
        failLeft.set(0);
        upstream.budget.set(-1);
        downstream.budget.set(-1);
        cannedLeft.set(0);
    }

    /** Connections accepted so far. */
    public int connections() {
        return connections.get();
    }

    /** Faults that fired so far (drops, stalls, canned answers). */
    public int faultsFired() {
        return fired.get();
    }

    /** Canned answers still to give. */
    public int cannedAnswersLeft() {
        return Math.max(0, cannedLeft.get());
    }

    /** True while an armed drop or stall has not fired yet. */
    public boolean armed() {
        return upstream.budget.get() >= 0 || downstream.budget.get() >= 0;
    }

    private void arm(Fault f, long bytes, long stallMillis) {
        f.stallMillis = stallMillis;
        f.budget.set(bytes);
    }

    private void closeOpenConnections() {
        for (Socket s : open) {
            closeQuietly(s);
        }
    }

    private void acceptLoop() {
        while (!closed) {
            Socket client;
            try {
                client = server.accept();
            } catch (IOException e) {
                if (closed) {
                    return;
                }
                continue;
            }
            connections.incrementAndGet();
            Thread t = new Thread(() -> handle(client), "fault-proxy-conn-" + connections.get());
            t.setDaemon(true);
            t.start();
        }
    }

    private void handle(Socket client) {
        open.add(client);
        try {
            client.setTcpNoDelay(true);
            if (cannedLeft.getAndDecrement() > 0) {
                answerCanned(client);
                return;
            }
            Socket up = new Socket();
            try {
                up.connect(target, 5000);
                up.setTcpNoDelay(true);
            } catch (IOException e) {
                closeQuietly(up);
                closeQuietly(client);
                return;
            }
            open.add(up);
            Thread back = new Thread(() -> pump(up, client, downstream), Thread.currentThread().getName() + "-down");
            back.setDaemon(true);
            back.start();
            pumpRequests(client, up);
        } catch (IOException e) {
            closeQuietly(client);
        } finally {
            cannedLeft.updateAndGet(v -> Math.max(v, 0));
        }
    }

    private void answerCanned(Socket client) throws IOException {
        try {
            readHead(client.getInputStream());
        } catch (IOException ignored) {
            // answer anyway
        }
        fired.incrementAndGet();
        answer(client, cannedStatus, cannedHeaders);
    }

    /** Writes a canned HTTP answer with an OCI error body and closes the connection. */
    private static void answer(Socket client, int status, String cannedHeaders) throws IOException {
        InputStream in = client.getInputStream();
        String code = status == 429 ? "TOOMANYREQUESTS" : status == 401 ? "UNAUTHORIZED" : "UNKNOWN";
        byte[] body = ("{\"errors\":[{\"code\":\"" + code + "\",\"message\":\"injected by FaultProxy\"}]}").getBytes(StandardCharsets.UTF_8);
        String resp = "HTTP/1.1 " + status + " Injected\r\nContent-Type: application/json\r\nContent-Length: " + body.length
                + "\r\nConnection: close\r\n" + cannedHeaders + "\r\n";
        OutputStream out = client.getOutputStream();
        out.write(resp.getBytes(StandardCharsets.US_ASCII));
        out.write(body);
        out.flush();
        client.shutdownOutput();
        // let the client read the answer before the socket goes away
        try {
            client.setSoTimeout(2000);
            while (in.read() >= 0) {
                // drain whatever body the client still sends
            }
        } catch (IOException ignored) {
            // closed by the client or timed out
        }
        closeQuietly(client);
    }

    /**
     * Client → registry, request by request: reads each head, forwards it and its Content-Length
     * body; a request matched by {@link #failRequests} is answered here instead. A chunked request
     * body makes the rest of the connection plain forwarding.
     */
    private void pumpRequests(Socket from, Socket to) {
        try {
            InputStream in = from.getInputStream();
            OutputStream out = to.getOutputStream();
            while (true) {
                byte[] head = readHead(in);
                if (head == null) {
                    to.shutdownOutput();
                    return;
                }
                String text = new String(head, StandardCharsets.ISO_8859_1);
                String method = text.substring(0, Math.max(0, text.indexOf(' ')));
                long length = 0;
                boolean chunked = false;
                for (String line : text.split("\r\n")) {
                    int colon = line.indexOf(':');
                    if (colon <= 0) {
                        continue;
                    }
                    String name = line.substring(0, colon).trim().toLowerCase(java.util.Locale.ROOT);
                    String value = line.substring(colon + 1).trim();
                    if (name.equals("content-length")) {
                        length = Long.parseLong(value);
                    } else if (name.equals("transfer-encoding") && value.toLowerCase(java.util.Locale.ROOT).contains("chunked")) {
                        chunked = true;
                    }
                }
                java.util.function.Predicate<String> reject = rejectHead;
                boolean rejected = reject != null && reject.test(text);
                if (rejected || method.equals(failMethod) && failLeft.get() > 0 && failSkip.getAndDecrement() <= 0 && failLeft.getAndDecrement() > 0) {
                    discard(in, length);
                    fired.incrementAndGet();
                    answer(from, rejected ? rejectStatus : failStatus, "");
                    closeQuietly(to);
                    return;
                }
                if (method.equals("HEAD") && blobSizeLie >= 0 && text.contains("/blobs/sha256:")) {
                    fired.incrementAndGet();
                    answerBlobHead(from, text);
                    closeQuietly(to);
                    return;
                }
                head = ranges(head);
                if (!forward(out, head, 0, head.length, upstream, from, to)) {
                    return;
                }
                if (chunked) {
                    pump(from, to, upstream);
                    return;
                }
                byte[] buf = new byte[16 * 1024];
                while (length > 0) {
                    int n = in.read(buf, 0, (int) Math.min(buf.length, length));
                    if (n < 0) {
                        to.shutdownOutput();
                        return;
                    }
                    length -= n;
                    if (!forward(out, buf, 0, n, upstream, from, to)) {
                        return;
                    }
                }
            }
        } catch (IOException | RuntimeException e) {
            closeQuietly(from);
            closeQuietly(to);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            closeQuietly(from);
            closeQuietly(to);
        } finally {
            open.remove(from);
        }
    }

    /** The request head with its Range header counted and rewritten as {@link #rewriteRanges} says. */
    private byte[] ranges(byte[] head) {
        String text = new String(head, StandardCharsets.ISO_8859_1);
        StringBuilder out = new StringBuilder();
        boolean changed = false;
        java.util.function.UnaryOperator<String> rewrite = rangeRewrite;
        for (String line : text.split("\r\n", -1)) {
            int colon = line.indexOf(':');
            if (colon > 0 && line.substring(0, colon).trim().equalsIgnoreCase("range")) {
                rangeRequests.incrementAndGet();
                if (rewrite != null) {
                    String value = rewrite.apply(line.substring(colon + 1).trim());
                    changed = true;
                    fired.incrementAndGet();
                    if (value != null) {
                        out.append("Range: ").append(value).append("\r\n");
                    }
                    continue;
                }
            }
            out.append(line).append("\r\n");
        }
        if (!changed) {
            return head;
        }
        out.setLength(out.length() - 2); // split kept the empty strings after the final CRLF CRLF
        return out.toString().getBytes(StandardCharsets.ISO_8859_1);
    }

    /** The bytes up to and including the blank line, or null at a clean end of stream. */
    private static byte[] readHead(InputStream in) throws IOException {
        ByteArrayOutputStream head = new ByteArrayOutputStream();
        int state = 0;
        while (state < 4) {
            int b = in.read();
            if (b < 0) {
                if (head.size() == 0) {
                    return null;
                }
                throw new IOException("connection ended inside a request head");
            }
            head.write(b);
            if (head.size() > 65536) {
                throw new IOException("request head too large");
            }
            state = (b == '\r' && (state == 0 || state == 2)) || (b == '\n' && (state == 1 || state == 3)) ? state + 1 : (b == '\r' ? 1 : 0);
        }
        return head.toByteArray();
    }

    private static void discard(InputStream in, long n) throws IOException {
        byte[] buf = new byte[16 * 1024];
        while (n > 0) {
            int r = in.read(buf, 0, (int) Math.min(buf.length, n));
            if (r < 0) {
                return;
            }
            n -= r;
        }
    }

    /** Forwards bytes through {@code fault}'s budget; false when the fault fired and the connection was reset. */
    private boolean forward(OutputStream out, byte[] buf, int off, int n, Fault fault, Socket from, Socket to)
            throws IOException, InterruptedException {
        int pass = n;
        boolean fire = false;
        long budget = fault.budget.get();
        if (budget >= 0) {
            if (n >= budget) {
                if (fault.budget.compareAndSet(budget, -1)) {
                    pass = (int) budget;
                    fire = true;
                }
            } else {
                fault.budget.addAndGet(-n);
            }
        }
        if (pass > 0) {
            out.write(buf, off, pass);
            out.flush();
        }
        if (!fire) {
            return true;
        }
        fired.incrementAndGet();
        long stall = fault.stallMillis;
        if (stall > 0) {
            Thread.sleep(stall);
            if (n > pass) {
                out.write(buf, off + pass, n - pass);
                out.flush();
            }
            return true;
        }
        reset(from);
        reset(to);
        return false;
    }

    private void pump(Socket from, Socket to, Fault fault) {
        byte[] buf = new byte[16 * 1024];
        try {
            InputStream in = from.getInputStream();
            OutputStream out = to.getOutputStream();
            while (true) {
                int n = in.read(buf);
                if (n < 0) {
                    to.shutdownOutput();
                    return;
                }
                if (!forward(out, buf, 0, n, fault, from, to)) {
                    return;
                }
            }
        } catch (IOException e) {
            closeQuietly(from);
            closeQuietly(to);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            closeQuietly(from);
            closeQuietly(to);
        } finally {
            open.remove(from);
        }
    }

    /** Closes with SO_LINGER 0: the peer sees a connection reset. */
    private static void reset(Socket s) {
        try {
            s.setSoLinger(true, 0);
        } catch (IOException ignored) {
            // already closed
        }
        closeQuietly(s);
    }

    private static void closeQuietly(Socket s) {
        try {
            s.close();
        } catch (IOException ignored) {
            // closing
        }
    }

    @Override
    public void close() {
        closed = true;
        try {
            server.close();
        } catch (IOException ignored) {
            // closing
        }
        closeOpenConnections();
        try {
            acceptor.join(2000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
