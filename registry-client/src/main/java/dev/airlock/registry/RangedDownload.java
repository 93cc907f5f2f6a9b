package dev.airlock.registry;

import dev.airlock.concurrent.Workers;
import dev.airlock.error.AirlockException;
import dev.airlock.error.DigestMismatchException;
import dev.airlock.error.RegistryException;
import dev.airlock.model.Descriptor;
import dev.airlock.model.Digest;
import java.io.IOException;
import java.io.InputStream;
import java.io.InterruptedIOException;
import java.nio.ByteBuffer;
import dev.airlock.io.BlobRegion;
import java.security.MessageDigest;
import java.util.Optional;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.LongConsumer;
import java.util.function.Supplier;

/**
 * One large blob fetched into a file as pieces of {@code rangeSize} bytes, up to {@code parallel}
 * ranged GETs ({@code Range: bytes=a-b}) at once, each piece written at its offset. The calling
 * thread hashes the file in order as the pieces complete (the page cache still holds them), so the
 * whole sha256 is known when the last piece lands; size and digest are checked before it returns.
 *
 * <p>A piece cut short is asked again from where it stopped. When the registry ignores ranges
 * (200 instead of 206), answers a range it was not asked for, or a piece keeps failing, the fetch
 * falls back to one stream from byte 0 ({@link BlobDownload}, which resumes on its own); errors
 * that no retry can heal (404, 401, 403) are thrown as they are.
 */
final class RangedDownload {
    private static final int HASH_BUFFER = 1 << 20;

    private final RegistryHttp http;
    private final Supplier<RegistryHttp.Request> request;
    private final Supplier<InputStream> oneStream;
    private final Descriptor blob;
    private final String what;
    private final String action;
    private final int parallel;
    private final long rangeSize;
    private final int pieces;
    /** Bytes of each piece written so far (a piece is complete at its length). */
    private final AtomicLong[] written;
    private final Object lock = new Object();
    private final AtomicInteger next = new AtomicInteger();
    private volatile Failure failure;
    /** Ranged GETs sent, for tests and diagnostics. */
    private final AtomicInteger requests = new AtomicInteger();

    /** Why the ranged fetch stopped: {@code fallback} means "read it as one stream", otherwise {@code error} is thrown. */
    private record Failure(boolean fallback, RuntimeException error, String reason) {
    }

    /**
     * {@code request} makes a fresh GET of the blob; {@code oneStream} opens the verifying single
     * stream used as the fallback.
     */
    RangedDownload(RegistryHttp http, Supplier<RegistryHttp.Request> request, Supplier<InputStream> oneStream, Descriptor blob, String what,
                   String action, int parallel, long rangeSize) {
        this.http = http;
        this.request = request;
        this.oneStream = oneStream;
        this.blob = blob;
        this.what = what;
        this.action = action;
        this.parallel = parallel;
        this.rangeSize = rangeSize;
        long n = (blob.size() + rangeSize - 1) / rangeSize;
        if (n > Integer.MAX_VALUE) {
            throw new IllegalArgumentException("too many pieces");
        }
        this.pieces = (int) n;
        this.written = new AtomicLong[pieces];
        for (int i = 0; i < pieces; i++) {
            written[i] = new AtomicLong();
        }
    }

    /** Ranged GETs sent so far. */
    int requests() {
        return requests.get();
    }

    /**
     * Writes the blob into {@code file} from position 0 and checks it; true when it came as ranges,
     * false when it came as one stream (the registry does not serve ranges, or served them badly).
     */
    boolean into(BlobRegion file, LongConsumer progress) throws IOException {
        AtomicLong reported = new AtomicLong();
        LongConsumer counted = n -> {
            reported.addAndGet(n);
            progress.accept(n);
        };
        int workers = (int) Math.min(parallel, pieces);
        ExecutorService pool = Executors.newFixedThreadPool(workers, Workers.named("range"));
        Digest actual;
        try {
            for (int w = 0; w < workers; w++) {
                pool.execute(() -> work(file, counted));
            }
            actual = hashInOrder(file);
        } finally {
            stop(pool);
        }
        Failure f = failure;
        if (f != null && !f.fallback()) {
            throw f.error();
        }
        if (f != null) {
            java.lang.System.getLogger(RangedDownload.class.getName()).log(java.lang.System.Logger.Level.DEBUG,
                    () -> action + ": ranged requests failed (" + f.reason() + "), reading it as one stream");
            oneStream(file, progress, reported.get());
            return false;
        }
        if (!actual.equals(blob.digest())) {
            throw new DigestMismatchException(what + ": content has digest " + actual + ", expected " + blob.digest());
        }
        return true;
    }

    /** Takes pieces in order until there are none or the fetch stopped. */
    private void work(BlobRegion file, LongConsumer progress) {
        int i;
        while (failure == null && (i = next.getAndIncrement()) < pieces) {
            try {
                piece(i, file, progress);
            } catch (AirlockException e) {
                fail(new Failure(false, e, e.getMessage()));
            } catch (InterruptedIOException e) {
                return; // stopped
            } catch (IOException e) {
                // the local file: disk full, I/O error
                fail(new Failure(false, new dev.airlock.error.LocalIoException("writing " + what + " to a file: " + e.getMessage(), e),
                        String.valueOf(e.getMessage())));
            } catch (RuntimeException e) {
                fail(new Failure(false, Workers.unwrap(e), String.valueOf(e)));
            }
        }
    }

    /** Fetches piece {@code i}, asking again from where an answer stopped. */
    private void piece(int i, BlobRegion file, LongConsumer progress) throws IOException {
        long start = (long) i * rangeSize;
        long end = Math.min(blob.size(), start + rangeSize); // exclusive
        int attempts = 0;
        String problem = null;
        while (failure == null) {
            long pos = start + written[i].get();
            if (pos >= end) {
                return;
            }
            if (attempts > 0) {
                if (attempts >= http.transport.maxAttempts()) {
                    fail(new Failure(true, null, problem));
                    return;
                }
                http.backoff(attempts, Optional.empty());
            }
            attempts++;
            RegistryHttp.Request req = request.get().header("Range", "bytes=" + pos + "-" + (end - 1));
            requests.incrementAndGet();
            try (RegistryHttp.Response r = http.send(req)) {
                if (r.status == 200) {
                    fail(new Failure(true, null, "the registry ignores Range (200)"));
                    return;
                }
                if (r.status == 416) {
                    fail(new Failure(true, null, "the registry cannot serve bytes " + pos + "-" + (end - 1) + " (416)"));
                    return;
                }
                if (r.status != 206) {
                    if (RegistryHttp.permanentClientError(r.status)) {
                        throw RegistryHttp.failure(action, r);
                    }
                    problem = "registry answered " + r.status + r.errorBody().suffix();
                    continue;
                }
                String range = r.header("Content-Range").orElse("");
                if (!range.trim().equals("bytes " + pos + "-" + (end - 1) + "/" + blob.size())) {
                    fail(new Failure(true, null, "asked for bytes " + pos + "-" + (end - 1) + ", the registry answered '" + range + "'"));
                    return;
                }
                problem = copy(r.body, file, i, pos, end, progress);
                if (problem != null && problem.startsWith("more")) {
                    fail(new Failure(true, null, problem));
                    return;
                }
            } catch (RegistryException e) {
                if (RegistryHttp.permanentClientError(e.status())) {
                    throw e;
                }
                problem = e.getMessage(); // no answer after the transport's own retries
            }
        }
    }

    /**
     * Writes the body at its offsets until {@code end}; null when the piece is complete, else what
     * went wrong with the answer (a short body, a broken connection, more bytes than asked). A
     * failure to write the local file is thrown.
     */
    private String copy(InputStream body, BlobRegion file, int i, long pos, long end, LongConsumer progress) throws IOException {
        byte[] buf = new byte[1 << 20];
        ByteBuffer bb = ByteBuffer.wrap(buf);
        long pieceStart = (long) i * rangeSize;
        long at = pos;
        while (at < end) {
            int n;
            try {
                n = body.read(buf, 0, (int) Math.min(buf.length, end - at));
            } catch (InterruptedIOException e) {
                throw e;
            } catch (IOException e) {
                return RegistryHttp.describe(e);
            }
            if (n < 0) {
                return "body ended after " + (at - pos) + " of " + (end - pos) + " bytes";
            }
            bb.clear().limit(n);
            while (bb.hasRemaining()) {
                at += file.write(bb, at);
            }
            written[i].set(at - pieceStart);
            progress.accept(n);
            synchronized (lock) {
                lock.notifyAll();
            }
        }
        try {
            if (body.read() >= 0) {
                return "more bytes than the " + (end - pos) + " asked for";
            }
        } catch (InterruptedIOException e) {
            throw e;
        } catch (IOException e) {
            return null; // the piece is complete; a connection that breaks after it does not matter
        }
        return null;
    }

    /** Hashes the file piece by piece as they complete; returns the digest of all of it (or of what there was when the fetch stopped). */
    private Digest hashInOrder(BlobRegion file) throws IOException {
        MessageDigest md = Digest.newSha256();
        ByteBuffer buf = ByteBuffer.allocate(HASH_BUFFER);
        long pos = 0;
        for (int i = 0; i < pieces; i++) {
            long pieceEnd = Math.min(blob.size(), (long) (i + 1) * rangeSize);
            long pieceLength = pieceEnd - (long) i * rangeSize;
            while (pos < pieceEnd) {
                long available = (long) i * rangeSize + written[i].get();
                if (available <= pos) {
                    if (!await(i, pieceLength)) {
                        return digest(md);
                    }
                    continue;
                }
                buf.clear().limit((int) Math.min(buf.capacity(), available - pos));
                int n = file.read(buf, pos);
                if (n <= 0) {
                    throw new IOException("reading " + what + " back at " + pos + ": end of file");
                }
                md.update(buf.array(), 0, n);
                pos += n;
            }
        }
        return digest(md);
    }

    /** Waits until piece {@code i} grows or the fetch stops; false when it stopped. */
    private boolean await(int i, long pieceLength) throws InterruptedIOException {
        synchronized (lock) {
            long seen = written[i].get();
            while (failure == null && written[i].get() == seen && seen < pieceLength) {
                try {
                    lock.wait(50);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    fail(new Failure(false, new dev.airlock.error.LocalIoException("interrupted while fetching " + what), "interrupted"));
                    throw new InterruptedIOException("interrupted while fetching " + what);
                }
            }
            return failure == null;
        }
    }

    private void fail(Failure f) {
        synchronized (lock) {
            if (failure == null || failure.fallback() && !f.fallback()) {
                failure = f;
            }
            lock.notifyAll();
        }
    }

    /** The fallback: one verifying stream from byte 0, over whatever the pieces wrote. */
    private void oneStream(BlobRegion file, LongConsumer progress, long alreadyReported) throws IOException {
        file.clear();
        byte[] buf = new byte[1 << 20];
        ByteBuffer bb = ByteBuffer.wrap(buf);
        long at = 0;
        try (InputStream in = oneStream.get()) {
            int n;
            while ((n = in.read(buf)) >= 0) {
                bb.clear().limit(n);
                while (bb.hasRemaining()) {
                    at += file.write(bb, at);
                }
                long fresh = Math.min(n, Math.max(0, at - alreadyReported));
                if (fresh > 0) {
                    progress.accept(fresh);
                }
            }
        }
    }

    private static void stop(ExecutorService pool) {
        pool.shutdownNow();
        try {
            if (!pool.awaitTermination(30, TimeUnit.SECONDS)) {
                throw new dev.airlock.error.LocalIoException("ranged download threads did not stop");
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private static Digest digest(MessageDigest md) {
        return Digest.ofSha256(md.digest());
    }

    @Override
    public String toString() {
        return action + " (" + pieces + " ranges of " + rangeSize + " bytes, " + parallel + " at once)";
    }
}
