package dev.airlock.serve;

import dev.airlock.error.LocalIoException;
import java.io.BufferedWriter;
import java.io.IOException;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Instant;
import java.util.Optional;

/**
 * {@code --log FILE}: one line per request, appended and flushed as each request ends:
 * <pre>2026-12-01T23:40:01.123Z 127.0.0.1 GET /v2/rancher/pause/manifests/3.1 200 1234 3ms</pre>
 * (time, client address, method, path with query, status, body bytes sent, milliseconds).
 * Control characters in the path are written as '?'.
 */
final class RequestLog implements AutoCloseable {
    private final Writer out;
    private boolean failed;

    private RequestLog(Writer out) {
        this.out = out;
    }

    static Optional<RequestLog> open(Optional<Path> file) {
        if (file.isEmpty()) {
            return Optional.empty();
        }
        try {
            return Optional.of(new RequestLog(new BufferedWriter(Files.newBufferedWriter(file.get(), StandardCharsets.UTF_8,
                    StandardOpenOption.CREATE, StandardOpenOption.APPEND, StandardOpenOption.WRITE))));
        } catch (IOException e) {
            throw new LocalIoException("opening request log " + file.get() + ": " + e.getMessage(), e);
        }
    }

    /** Writes one line; a failing log is reported once through {@code errors} and then left alone. */
    synchronized void write(String client, String method, String path, int status, long bytes, long millis, java.util.function.Consumer<String> errors) {
        if (failed) {
            return;
        }
        try {
            out.write(Instant.now() + " " + client + " " + method + " " + safe(path) + " " + status + " " + bytes + " " + millis + "ms\n");
            out.flush();
        } catch (IOException e) {
            failed = true;
            errors.accept("writing the request log failed (" + e.getMessage() + "); requests are no longer logged");
        }
    }

    private static String safe(String s) {
        StringBuilder b = new StringBuilder(s.length());
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            b.append(c < 0x21 || c == 0x7f ? '?' : c);
        }
        return b.toString();
    }

    @Override
    public synchronized void close() {
        try {
            out.close();
        } catch (IOException e) {
            // nothing more to write
        }
    }
}
