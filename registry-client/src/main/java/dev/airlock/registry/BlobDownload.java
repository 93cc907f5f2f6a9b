package dev.airlock.registry;

import dev.airlock.error.RegistryException;
import dev.airlock.model.Descriptor;
import java.io.IOException;
import java.io.InputStream;
import java.util.List;
import java.util.Optional;
import java.util.function.Supplier;

/**
 * The raw bytes of one blob download, resumed after a broken connection or a short body: the
 * next attempt asks for {@code Range: bytes=<position>-} and, when the registry ignores the range
 * and starts again, skips what was already delivered. The caller wraps it in a
 * {@link dev.airlock.io.VerifyingInputStream}, so whatever arrives is verified as one sequence.
 */
final class BlobDownload extends dev.airlock.io.BulkInputStream {
    private final RegistryHttp http;
    private final Supplier<RegistryHttp.Request> request;
    private final Descriptor blob;
    private final String action;
    private RegistryHttp.Response current;
    private long position;
    private int failures;
    private boolean shortBody;
    private boolean closed;

    BlobDownload(RegistryHttp http, Supplier<RegistryHttp.Request> request, Descriptor blob, String action) {
        this.http = http;
        this.request = request;
        this.blob = blob;
        this.action = action;
    }

    /** Sends the first request; throws RegistryException (isNotFound for 404) when there is no blob. */
    BlobDownload start() {
        current = http.expect(request.get(), 200);
        return this;
    }

    /** Attempts that broke and were resumed so far. */
    int resumes() {
        return failures;
    }


    @Override
    public int read(byte[] b, int off, int len) throws IOException {
        if (closed) {
            throw new IOException("stream closed");
        }
        if (len == 0) {
            return 0;
        }
        while (true) {
            IOException broken;
            try {
                int n = current.body.read(b, off, len);
                if (n > 0) {
                    position += n;
                    return n;
                }
                if (n < 0 && position >= blob.size()) {
                    return -1;
                }
                if (n == 0) {
                    continue;
                }
                shortBody = true;
                broken = new IOException("body ended after " + position + " of " + blob.size() + " bytes");
            } catch (IOException e) {
                broken = e;
            }
            current.close();
            if (!resume(broken)) {
                return -1; // the verifying stream reports the truncation
            }
        }
    }

    /** Opens a new response positioned at {@link #position}; false when attempts are used up on a short body. */
    private boolean resume(IOException cause) {
        while (true) {
            failures++;
            if (failures >= http.transport.maxAttempts()) {
                if (shortBody) {
                    return false; // the registry keeps sending too little: VerifyingInputStream says "truncated"
                }
                throw new RegistryException(action + ": " + RegistryHttp.describe(cause) + " after " + position + " of "
                        + blob.size() + " bytes (after " + failures + " attempts)", 0, List.of(), cause);
            }
            http.backoff(failures, Optional.empty());
            RegistryHttp.Request req = request.get();
            if (position > 0) {
                req.header("Range", "bytes=" + position + "-");
            }
            RegistryHttp.Response r;
            try {
                r = http.send(req);
            } catch (RegistryException e) {
                cause = new IOException(e.getMessage(), e);
                continue;
            }
            if (r.status == 206 && position > 0) {
                long start = rangeStart(r.header("Content-Range").orElse(""));
                if (start == position) {
                    current = r;
                    return true;
                }
                r.close();
                cause = new IOException("registry answered a range from " + start + " instead of " + position);
                continue;
            }
            if (r.status == 200) {
                try {
                    long skipped = discard(r.body, position);
                    if (skipped == position) {
                        current = r;
                        return true;
                    }
                    cause = new IOException("body ended while skipping to " + position);
                } catch (IOException e) {
                    cause = e;
                }
                r.close();
                continue;
            }
            if (r.status != 416 && RegistryHttp.permanentClientError(r.status)) {
                throw RegistryHttp.failure(action, r);
            }
            ErrorBody eb = r.errorBody();
            cause = new IOException("registry answered " + r.status + eb.suffix());
        }
    }

    /** Reads and drops up to {@code n} bytes; returns how many were dropped. */
    static long discard(InputStream in, long n) throws IOException {
        byte[] buf = new byte[64 * 1024];
        long done = 0;
        while (done < n) {
            int r = in.read(buf, 0, (int) Math.min(buf.length, n - done));
            if (r < 0) {
                break;
            }
            done += r;
        }
        return done;
    }

    private static long rangeStart(String contentRange) {
        // bytes 100-199/200
        String v = contentRange.trim();
        if (!v.startsWith("bytes ")) {
            return -1;
        }
        int dash = v.indexOf('-');
        try {
            return dash > 6 ? Long.parseLong(v.substring(6, dash).trim()) : -1;
        } catch (NumberFormatException e) {
            return -1;
        }
    }

    @Override
    public void close() {
        if (!closed) {
            closed = true;
            if (current != null) {
                current.close();
            }
        }
    }
}
