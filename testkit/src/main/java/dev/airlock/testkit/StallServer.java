package dev.airlock.testkit;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A tiny TCP server on 127.0.0.1 that stalls the way a hostile or broken registry does (the brief
 * allows it where a real registry cannot be made to): it never answers, answers headers and then
 * stops the body, or accepts an upload session and then stops reading the body. It records the
 * request heads it received. {@link #close()} closes every socket.
 */
public final class StallServer implements AutoCloseable {
    public enum Mode {
        /** Reads everything, answers nothing. */
        SILENT,
        /** Answers a 200 with Content-Length 1000 and 10 bytes of body, then sends nothing more. */
        HEADERS_THEN_STOP,
        /** Answers POST with 202 + Location (an upload session); for PUT/PATCH reads the head, then stops reading. */
        STOP_READING_UPLOADS,
        /** Sends the status line and part of a header, then nothing more. */
        HALF_HEADERS,
        /**
         * Answers every PUT with 201 and every HEAD with 200 (an OCI manifest of 100 bytes), both
         * with a Docker-Content-Digest of all zeros (a registry lying about what it stored or has);
         * anything else with 404.
         */
        WRONG_DIGEST
    }

    private final ServerSocket server = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
    private final Mode mode;
    private final Set<Socket> sockets = ConcurrentHashMap.newKeySet();
    private final AtomicInteger connections = new AtomicInteger();
    private final List<String> heads = new ArrayList<>();

    public StallServer(Mode mode) throws IOException {
        this.mode = mode;
        Thread t = new Thread(this::acceptLoop, "stall-server-" + server.getLocalPort());
        t.setDaemon(true);
        t.start();
    }

    public String host() {
        return "127.0.0.1:" + server.getLocalPort();
    }

    public int connections() {
        return connections.get();
    }

    /** The request lines received, e.g. "HEAD /v2/a/blobs/sha256:… HTTP/1.1". */
    public List<String> requestLines() {
        return heads().stream().map(h -> h.lines().findFirst().orElse("")).toList();
    }

    /** Every request head received (request line and header lines). */
    public List<String> heads() {
        synchronized (heads) {
            return List.copyOf(heads);
        }
    }

    private void acceptLoop() {
        while (!server.isClosed()) {
            try {
                Socket s = server.accept();
                sockets.add(s);
                connections.incrementAndGet();
                Thread t = new Thread(() -> serve(s), "stall-server-conn");
                t.setDaemon(true);
                t.start();
            } catch (IOException e) {
                return;
            }
        }
    }

    private void serve(Socket s) {
        try (s; InputStream in = s.getInputStream(); OutputStream out = s.getOutputStream()) {
            while (true) {
                String head = readHead(in);
                if (head == null) {
                    return;
                }
                String line = head.lines().findFirst().orElse("");
                synchronized (heads) {
                    heads.add(head);
                }
                switch (mode) {
                    case SILENT -> {
                        in.transferTo(OutputStream.nullOutputStream());
                        return;
                    }
                    case HEADERS_THEN_STOP -> {
                        out.write(("HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\nContent-Length: 1000\r\n\r\n0123456789")
                                .getBytes(StandardCharsets.US_ASCII));
                        out.flush();
                        in.transferTo(OutputStream.nullOutputStream());
                        return;
                    }
                    case STOP_READING_UPLOADS -> {
                        if (line.startsWith("POST ")) {
                            out.write(("HTTP/1.1 202 Accepted\r\nLocation: /v2/stall/blobs/uploads/session-1\r\nRange: 0-0\r\n"
                                    + "Content-Length: 0\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
                            out.flush();
                            continue;
                        }
                        Thread.sleep(Long.MAX_VALUE); // never read the body; the socket closes with the server
                    }
                    case HALF_HEADERS -> {
                        out.write("HTTP/1.1 200 OK\r\nContent-Ty".getBytes(StandardCharsets.US_ASCII));
                        out.flush();
                        in.transferTo(OutputStream.nullOutputStream());
                        return;
                    }
                    case WRONG_DIGEST -> {
                        skipBody(in, head);
                        String zeros = "Docker-Content-Digest: sha256:" + "0".repeat(64) + "\r\n";
                        String answer = line.startsWith("PUT ") ? "HTTP/1.1 201 Created\r\n" + zeros + "Content-Length: 0\r\n\r\n"
                                : line.startsWith("HEAD ") ? "HTTP/1.1 200 OK\r\n" + zeros
                                        + "Content-Type: application/vnd.oci.image.manifest.v1+json\r\nContent-Length: 100\r\n\r\n"
                                : "HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n";
                        out.write(answer.getBytes(StandardCharsets.US_ASCII));
                        out.flush();
                    }
                    default -> throw new IllegalStateException();
                }
            }
        } catch (IOException | InterruptedException e) {
            // the client gave up, or the test closed the server
        } finally {
            sockets.remove(s);
        }
    }

    private static void skipBody(InputStream in, String head) throws IOException {
        for (String h : head.split("\r\n")) {
            if (h.toLowerCase(java.util.Locale.ROOT).startsWith("content-length:")) {
                in.readNBytes(Integer.parseInt(h.substring(15).trim()));
            }
        }
    }

    /** One request head up to the blank line; null at end of stream. */
    private static String readHead(InputStream in) throws IOException {
        ByteArrayOutputStream b = new ByteArrayOutputStream();
        int state = 0;
        while (true) {
            int c = in.read();
            if (c < 0) {
                return null;
            }
            b.write(c);
            state = (c == '\r' && (state == 0 || state == 2)) || (c == '\n' && (state == 1 || state == 3)) ? state + 1 : (c == '\r' ? 1 : 0);
            if (state == 4) {
                return b.toString(StandardCharsets.ISO_8859_1);
            }
        }
    }

    @Override
    public void close() {
        try {
            server.close();
            for (Socket s : sockets) {
                s.close();
            }
        } catch (IOException ignored) {
            // closing only
        }
    }
}
