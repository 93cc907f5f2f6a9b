package dev.airlock.registry;

import dev.airlock.store.ImageDestination;
import dev.airlock.error.AirlockException;
import dev.airlock.error.DigestMismatchException;
import dev.airlock.error.RegistryException;
import dev.airlock.io.VerifyingInputStream;
import dev.airlock.model.Descriptor;
import dev.airlock.store.ImageStore;
import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Optional;

/**
 * One blob upload. Small blobs: POST then one PUT with Content-Length. Large blobs: POST, PATCH
 * chunks with Content-Range, then PUT with the digest. After a broken connection or a 5xx the
 * upload asks the registry where it stands (GET on the upload URL, {@code Range: 0-<last>}) and
 * continues from there; when the registry has dropped the session it starts a new one. The
 * content is read through a {@link VerifyingInputStream}, so local content that does not match its
 * descriptor fails with a {@link DigestMismatchException}; the registry checks the digest again on
 * the final PUT.
 */
final class BlobUpload {
    private final RegistryHttp http;
    private final String repository;
    private final Descriptor blob;
    private final ImageDestination.BlobContent content;
    private final String action;
    private final List<String> scopes;
    private final Cursor cursor = new Cursor();
    private int failures;
    private int resumed;
    private int restarted;

    BlobUpload(RegistryHttp http, String repository, Descriptor blob, ImageDestination.BlobContent content, String action) {
        this.http = http;
        this.repository = repository;
        this.blob = blob;
        this.content = content;
        this.action = action;
        this.scopes = List.of("repository:" + repository + ":pull,push");
    }

    /** Resumptions from the registry's Range after a failure (for tests and progress notes). */
    int resumed() {
        return resumed;
    }

    /** Fresh sessions started after the registry lost one. */
    int restarted() {
        return restarted;
    }

    void run() {
        try {
            if (blob.size() >= http.transport.chunkedUploadThreshold() && blob.size() > 0) {
                chunked();
            } else {
                monolithic();
            }
        } finally {
            cursor.close();
        }
    }

    private void monolithic() {
        while (true) {
            URI location = start();
            RegistryHttp.Request put = new RegistryHttp.Request("PUT", withDigest(location), action)
                    .header("Content-Type", "application/octet-stream")
                    .body(RegistryHttp.Body.ofStream(() -> cursor.at(0, blob.size()), blob.size()))
                    .scopes(scopes).retryable(false);
            RegistryHttp.Response r;
            try {
                r = http.send(put);
            } catch (RegistryException e) {
                cursor.rethrowMismatch();
                if (e.status() == 0) {
                    fail(e);
                    continue;
                }
                throw e;
            }
            cursor.rethrowMismatch();
            if (r.status == 201 || r.status == 204) {
                checkDigestHeader(r);
                r.close();
                return;
            }
            if (RegistryHttp.retryableStatus(r.status)) {
                fail(RegistryHttp.failure(action, r));
                continue;
            }
            throw RegistryHttp.failure(action, r);
        }
    }

    private void chunked() {
        URI location = start();
        long offset = 0;
        long chunk = http.transport.chunkSize();
        while (true) {
            if (offset < blob.size()) {
                long len = Math.min(chunk, blob.size() - offset);
                long from = offset;
                RegistryHttp.Request patch = new RegistryHttp.Request("PATCH", location, action)
                        .header("Content-Type", "application/octet-stream")
                        .header("Content-Range", from + "-" + (from + len - 1))
                        .body(RegistryHttp.Body.ofStream(() -> cursor.at(from, len), len))
                        .scopes(scopes).retryable(false);
                RegistryHttp.Response r = null;
                RegistryException problem;
                try {
                    r = http.send(patch);
                    cursor.rethrowMismatch();
                    if (r.status == 202 || r.status == 204) {
                        URI next = nextLocation(r, location);
                        long end = rangeEnd(r.header("Range"));
                        r.close();
                        location = next;
                        offset = end >= 0 ? end + 1 : from + len;
                        if (offset != from + len) {
                            resumed++;
                        }
                        continue;
                    }
                    if (!RegistryHttp.retryableStatus(r.status) && r.status != 416) {
                        throw RegistryHttp.failure(action, r);
                    }
                    problem = RegistryHttp.failure(action, r);
                } catch (RegistryException e) {
                    cursor.rethrowMismatch();
                    if (e.status() != 0) {
                        throw e;
                    }
                    problem = e;
                }
                fail(problem);
                Optional<Status> s = status(location);
                if (s.isPresent()) {
                    location = s.get().location;
                    offset = s.get().offset;
                    resumed++;
                } else {
                    restarted++;
                    location = start();
                    offset = 0;
                }
                continue;
            }
            // all bytes sent: the local content must have been exactly right
            cursor.finish();
            RegistryHttp.Request put = new RegistryHttp.Request("PUT", withDigest(location), action)
                    .header("Content-Type", "application/octet-stream")
                    .body(RegistryHttp.Body.ofBytes(new byte[0])).scopes(scopes).retryable(false);
            RegistryHttp.Response r;
            try {
                r = http.send(put);
            } catch (RegistryException e) {
                if (e.status() != 0) {
                    throw e;
                }
                fail(e);
                // the PUT may have completed; if the blob is there we are done
                if (exists()) {
                    return;
                }
                Optional<Status> s = status(location);
                if (s.isPresent() && s.get().offset == blob.size()) {
                    location = s.get().location;
                } else {
                    restarted++;
                    location = start();
                    offset = 0;
                }
                continue;
            }
            if (r.status == 201 || r.status == 204) {
                checkDigestHeader(r);
                r.close();
                return;
            }
            throw RegistryHttp.failure(action, r);
        }
    }

    private record Status(URI location, long offset) {
    }

    /** Where the registry stands with this upload; empty when it no longer knows it. */
    private Optional<Status> status(URI location) {
        RegistryHttp.Response r;
        try {
            r = http.send(new RegistryHttp.Request("GET", location, action + " (asking for the upload status)").scopes(scopes));
        } catch (RegistryException e) {
            if (e.status() == 0) {
                return Optional.empty();
            }
            throw e;
        }
        try {
            if (r.status != 204 && r.status != 200) {
                return Optional.empty();
            }
            long end = rangeEnd(r.header("Range"));
            return Optional.of(new Status(nextLocation(r, location), end + 1));
        } finally {
            r.close();
        }
    }

    private boolean exists() {
        try (RegistryHttp.Response r = http.send(new RegistryHttp.Request("HEAD",
                http.uri("/v2/" + repository + "/blobs/" + blob.digest()), action).scopes(scopes))) {
            return r.status == 200;
        } catch (RegistryException e) {
            return false;
        }
    }

    /** POST /blobs/uploads/ → the upload URL. */
    private URI start() {
        RegistryHttp.Request post = new RegistryHttp.Request("POST", http.uri("/v2/" + repository + "/blobs/uploads/"), action)
                .body(RegistryHttp.Body.ofBytes(new byte[0])).scopes(scopes);
        try (RegistryHttp.Response r = http.expect(post, 202)) {
            return nextLocation(r, null);
        }
    }

    private URI nextLocation(RegistryHttp.Response r, URI previous) {
        Optional<String> loc = r.header("Location");
        if (loc.isEmpty()) {
            if (previous != null) {
                return previous;
            }
            throw new RegistryException(action + ": registry answered " + r.status + " without an upload Location", r.status, List.of());
        }
        return r.uri.resolve(loc.get());
    }

    private URI withDigest(URI location) {
        String s = location.toString();
        String d = "digest=" + URLEncoder.encode(blob.digest().toString(), StandardCharsets.UTF_8);
        return URI.create(s + (location.getRawQuery() == null ? "?" : "&") + d);
    }

    private void checkDigestHeader(RegistryHttp.Response r) {
        Optional<String> d = r.header("Docker-Content-Digest");
        if (d.isPresent() && !d.get().trim().equals(blob.digest().toString())) {
            throw RegistryStore.wrongDigestHeader(action + ": the registry says it stored it as " + d.get().trim(), r.status);
        }
    }

    /** "0-1234" → 1234; absent → -1. */
    static long rangeEnd(Optional<String> range) {
        if (range.isEmpty()) {
            return -1;
        }
        String v = range.get().trim();
        if (v.startsWith("bytes=")) {
            v = v.substring(6);
        }
        int dash = v.indexOf('-');
        try {
            return dash >= 0 ? Long.parseLong(v.substring(dash + 1).trim()) : -1;
        } catch (NumberFormatException e) {
            return -1;
        }
    }

    private void fail(RegistryException e) {
        failures++;
        if (failures >= http.transport.maxAttempts()) {
            throw new RegistryException(e.getMessage() + " (gave up after " + failures + " attempts)", e.status(), e.errorCodes(), e);
        }
        http.backoff(failures, Optional.empty());
    }

    /**
     * The content as one verified sequence. {@link #at} hands out a view of {@code len} bytes from
     * {@code offset}; it reuses the open stream when it is already there and otherwise reopens and
     * reads forward, so every byte passes through one VerifyingInputStream in order.
     */
    private final class Cursor {
        /** The content, verified as it is read: its own check when it verifies itself, else a VerifyingInputStream. */
        private InputStream in;
        private long position;
        private volatile DigestMismatchException mismatch;
        private IOException openFailure;
        /** The local content failed with its own error (e.g. a truncated bundle): reported as-is, never retried. */
        private volatile AirlockException sourceFailure;

        synchronized InputStream at(long offset, long len) {
            try {
                if (in == null || position != offset) {
                    reopen();
                    long skipped = BlobDownload.discard(in, offset);
                    position = skipped;
                    if (skipped != offset) {
                        throw new IOException("local content of " + blob.digest() + " ended after " + skipped + " bytes");
                    }
                }
            } catch (DigestMismatchException e) {
                mismatch = e;
                return failing(new IOException(e.getMessage()));
            } catch (AirlockException e) {
                sourceFailure = e;
                return failing(new IOException(e.getMessage()));
            } catch (IOException e) {
                openFailure = e;
                return failing(e);
            }
            return new Slice(len);
        }

        private void reopen() throws IOException {
            close();
            InputStream raw = content.open();
            // content that verifies itself (ImageStore.openBlob streams) is not hashed a second time
            in = content.verifiesItself() ? raw : new VerifyingInputStream(raw, blob.digest(), blob.size(), "content of blob " + blob.digest());
            position = 0;
        }

        /** Reads past the end so that the VerifyingInputStream checks size and digest. */
        synchronized void finish() {
            try {
                if (in == null || position != blob.size()) {
                    reopen();
                    BlobDownload.discard(in, blob.size());
                }
                if (in.read() >= 0) {
                    throw new DigestMismatchException("content of blob " + blob.digest() + ": more than the expected " + blob.size() + " bytes");
                }
            } catch (IOException e) {
                throw new dev.airlock.error.LocalIoException(action + ": reading the content failed: " + e.getMessage(), e);
            }
        }

        void rethrowMismatch() {
            AirlockException source = sourceFailure;
            if (source != null) {
                throw source;
            }
            DigestMismatchException m = mismatch;
            if (m != null) {
                throw new DigestMismatchException(action + ": " + m.getMessage());
            }
            IOException f = openFailure;
            if (f != null) {
                throw new dev.airlock.error.LocalIoException(action + ": reading the content failed: " + f.getMessage(), f);
            }
        }

        synchronized void close() {
            if (in != null) {
                try {
                    in.close();
                } catch (IOException ignored) {
                    // local content stream
                }
                in = null;
            }
        }

        private InputStream failing(IOException e) {
            return new InputStream() {
                @Override
                public int read() throws IOException {
                    throw e;
                }
            };
        }

        /** {@code len} bytes of the shared stream; does not close it. */
        private final class Slice extends dev.airlock.io.BulkInputStream {
            private long left;

            Slice(long len) {
                this.left = len;
            }


            @Override
            public int read(byte[] b, int off, int len) throws IOException {
                synchronized (Cursor.this) {
                    if (left <= 0) {
                        return -1;
                    }
                    try {
                        int n = in.read(b, off, (int) Math.min(len, left));
                        if (n > 0) {
                            left -= n;
                            position += n;
                        } else if (n < 0) {
                            throw new IOException("local content of " + blob.digest() + " ended early at " + position + " bytes");
                        }
                        if (left == 0 && position == blob.size()) {
                            // let the verifying stream see the end now, before the last bytes are committed
                            int extra = in.read();
                            if (extra >= 0) {
                                throw new DigestMismatchException("content of blob " + blob.digest() + ": more than the expected " + blob.size() + " bytes");
                            }
                        }
                        return n;
                    } catch (DigestMismatchException e) {
                        mismatch = e;
                        throw new IOException(e.getMessage());
                    } catch (AirlockException e) {
                        sourceFailure = e;
                        throw new IOException(e.getMessage(), e);
                    } catch (IOException e) {
                        openFailure = e;
                        throw e;
                    }
                }
            }

            @Override
            public void close() {
                // the shared stream stays open for the next chunk
            }
        }
    }
}
