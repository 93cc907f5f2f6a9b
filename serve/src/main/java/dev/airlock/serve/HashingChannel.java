package dev.airlock.serve;

import dev.airlock.error.DigestMismatchException;
import dev.airlock.model.Digest;
import java.io.IOException;
import java.io.InterruptedIOException;
import java.nio.ByteBuffer;
import java.nio.channels.WritableByteChannel;
import java.security.MessageDigest;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Future;

/**
 * Passes a blob's bytes on to a channel while another thread hashes them: each buffer-full is
 * hashed by {@code hashers} while it is written, and the write returns once both are done (the
 * caller then reuses the buffer). The buffer-full that completes the blob is hashed first and
 * checked against the digest <em>before</em> it is written, so a damaged blob never arrives
 * complete. Not thread-safe; one per response.
 */
final class HashingChannel implements WritableByteChannel {
    private static final ThreadLocal<byte[]> SCRATCH = ThreadLocal.withInitial(() -> new byte[64 * 1024]);
    private final WritableByteChannel target;
    private final Digest expected;
    private final long size;
    private final String what;
    private final ExecutorService hashers;
    private final MessageDigest sha = Digest.newSha256();
    private long count;

    HashingChannel(WritableByteChannel target, Digest expected, long size, String what, ExecutorService hashers) {
        this.target = target;
        this.expected = expected;
        this.size = size;
        this.what = what;
        this.hashers = hashers;
    }

    @Override
    public int write(ByteBuffer src) throws IOException {
        int n = src.remaining();
        if (count + n > size) {
            throw new DigestMismatchException(what + ": more than the expected " + size + " bytes");
        }
        count += n;
        ByteBuffer view = src.duplicate();
        if (count == size) {
            hash(view);
            Digest actual = Digest.ofSha256(sha.digest());
            if (!actual.equals(expected)) {
                throw new DigestMismatchException(what + ": content has digest " + actual + ", expected " + expected);
            }
        } else {
            Future<?> h = hashers.submit(() -> hash(view));
            try {
                while (src.hasRemaining()) {
                    target.write(src);
                }
            } finally {
                await(h);
            }
            return n;
        }
        while (src.hasRemaining()) {
            target.write(src);
        }
        return n;
    }

    /** Hashes from a heap array of the running thread (MessageDigest would copy a direct buffer 4 KiB at a time). */
    private void hash(ByteBuffer view) {
        byte[] scratch = SCRATCH.get();
        while (view.hasRemaining()) {
            int k = Math.min(view.remaining(), scratch.length);
            view.get(scratch, 0, k);
            sha.update(scratch, 0, k);
        }
    }

    private static void await(Future<?> h) throws IOException {
        try {
            h.get();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new InterruptedIOException("interrupted while hashing");
        } catch (ExecutionException e) {
            throw new IOException("hashing failed: " + e.getCause(), e.getCause());
        }
    }

    @Override
    public boolean isOpen() {
        return target.isOpen();
    }

    @Override
    public void close() {
        // the connection's channel is the server's to close
    }
}
