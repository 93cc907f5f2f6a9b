package dev.airlock.export.dockerarchive;

import dev.airlock.model.Digest;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.InterruptedIOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.security.MessageDigest;
import java.util.ArrayDeque;
import java.util.Arrays;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Future;
import java.util.function.LongConsumer;
import java.util.zip.CRC32;
import java.util.zip.Deflater;

/**
 * Deterministic gzip, compressed in parallel the way pigz does it: the input is cut into fixed
 * {@value #CHUNK}-byte chunks, each chunk is raw-deflated on a worker (level {@value #LEVEL}) with the
 * previous chunk's last 32 KiB as its dictionary and ended with a sync flush, and the pieces are
 * written in order as one gzip member. The output depends only on the input bytes (not on the
 * number of threads or timing): header mtime 0, no file name, XFL 0, OS byte 255 (unknown).
 * Across machines it is as stable as the zlib the JVM uses.
 *
 * <p>Memory: at most {@code inFlight} chunks (input and output) exist at once.
 */
final class ParallelGzip {
    static final int CHUNK = 1 << 20;
    static final int LEVEL = 6;
    private static final int DICT = 32 * 1024;
    private static final byte[] HEADER = {0x1f, (byte) 0x8b, 8, 0, 0, 0, 0, 0, 0, (byte) 0xff};

    /** What went in and what came out. */
    record Result(Digest compressedDigest, long compressedSize, Digest uncompressedDigest, long uncompressedSize) {
    }

    private final ExecutorService pool;
    private final int inFlight;

    ParallelGzip(ExecutorService pool, int threads) {
        this.pool = pool;
        this.inFlight = Math.max(2, threads * 2);
    }

    /**
     * Compresses all of {@code in} to {@code out}; {@code progress} receives uncompressed byte
     * counts as they are read. Does not close either stream.
     */
    Result compress(InputStream in, OutputStream out, LongConsumer progress) throws IOException {
        MessageDigest plainSha = Digest.newSha256();
        MessageDigest gzSha = Digest.newSha256();
        CRC32 crc = new CRC32();
        long plainSize = 0;
        long[] gzSize = {0};
        ArrayDeque<Future<byte[]>> pending = new ArrayDeque<>();
        try {
            write(out, gzSha, gzSize, HEADER);
            byte[] cur = in.readNBytes(CHUNK);
            byte[] dict = null;
            while (true) {
                plainSha.update(cur);
                crc.update(cur);
                plainSize += cur.length;
                progress.accept(cur.length);
                byte[] next = cur.length == CHUNK ? in.readNBytes(CHUNK) : new byte[0];
                boolean last = next.length == 0;
                final byte[] chunk = cur;
                final byte[] dictionary = dict;
                pending.add(pool.submit(() -> deflate(chunk, dictionary, last)));
                while (pending.size() >= inFlight) {
                    write(out, gzSha, gzSize, take(pending));
                }
                if (last) {
                    break;
                }
                dict = Arrays.copyOfRange(cur, cur.length - DICT, cur.length);
                cur = next;
            }
            while (!pending.isEmpty()) {
                write(out, gzSha, gzSize, take(pending));
            }
            byte[] trailer = new byte[8];
            putIntLe(trailer, 0, crc.getValue());
            putIntLe(trailer, 4, plainSize & 0xffffffffL);
            write(out, gzSha, gzSize, trailer);
        } finally {
            pending.forEach(f -> f.cancel(true));
        }
        return new Result(Digest.ofSha256(gzSha.digest()), gzSize[0], Digest.ofSha256(plainSha.digest()), plainSize);
    }

    private static byte[] deflate(byte[] chunk, byte[] dictionary, boolean last) {
        Deflater d = new Deflater(LEVEL, true);
        try {
            if (dictionary != null) {
                d.setDictionary(dictionary);
            }
            d.setInput(chunk);
            ByteArrayOutputStream bo = new ByteArrayOutputStream(chunk.length / 2 + 64);
            byte[] buf = new byte[64 * 1024];
            if (last) {
                d.finish();
                while (!d.finished()) {
                    int n = d.deflate(buf);
                    bo.write(buf, 0, n);
                }
            } else {
                int n;
                do {
                    n = d.deflate(buf, 0, buf.length, Deflater.SYNC_FLUSH);
                    bo.write(buf, 0, n);
                } while (n == buf.length || !d.needsInput());
            }
            return bo.toByteArray();
        } finally {
            d.end();
        }
    }

    private static byte[] take(ArrayDeque<Future<byte[]>> pending) throws IOException {
        Future<byte[]> f = pending.poll();
        try {
            return f.get();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new InterruptedIOException("interrupted while compressing");
        } catch (ExecutionException e) {
            Throwable c = e.getCause();
            if (c instanceof RuntimeException r) {
                throw r;
            }
            throw new UncheckedIOException(new IOException("compressing a layer chunk failed", c));
        }
    }

    private static void write(OutputStream out, MessageDigest sha, long[] size, byte[] b) throws IOException {
        out.write(b);
        sha.update(b);
        size[0] += b.length;
    }

    private static void putIntLe(byte[] b, int off, long v) {
        b[off] = (byte) v;
        b[off + 1] = (byte) (v >>> 8);
        b[off + 2] = (byte) (v >>> 16);
        b[off + 3] = (byte) (v >>> 24);
    }
}
