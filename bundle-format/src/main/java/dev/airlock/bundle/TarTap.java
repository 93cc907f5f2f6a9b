package dev.airlock.bundle;

import java.io.FilterInputStream;
import java.io.IOException;
import java.io.InputStream;

/**
 * Sits between a tar reader and its input and remembers what the reader consumed: how many
 * bytes and the last 1024 (after a header was read, its last 512 are that header, for the ustar
 * magic check; after the end, they hold the end records). No mark/reset, so
 * the reader cannot push a record back unseen.
 */
final class TarTap extends FilterInputStream {
    /** The two end records; all a reader consumes after the last entry's padded data. */
    private static final int TAIL = 2 * BundleLayout.RECORD;
    private final byte[] tail = new byte[TAIL];
    private long count;

    TarTap(InputStream in) {
        super(in);
    }

    @Override
    public int read() throws IOException {
        int b = super.read();
        if (b >= 0) {
            seen(new byte[] {(byte) b}, 0, 1);
        }
        return b;
    }

    @Override
    public int read(byte[] b, int off, int len) throws IOException {
        int n = super.read(b, off, len);
        if (n > 0) {
            seen(b, off, n);
        }
        return n;
    }

    @Override
    public long skip(long n) throws IOException {
        // read, not skip: every byte counted and checked
        byte[] buf = new byte[(int) Math.min(n, 8192)];
        int r = read(buf, 0, buf.length);
        return Math.max(r, 0);
    }

    @Override
    public boolean markSupported() {
        return false;
    }

    @Override
    public void mark(int limit) {
        // not supported
    }

    @Override
    public void reset() throws IOException {
        throw new IOException("mark/reset not supported");
    }

    private void seen(byte[] b, int off, int n) {
        if (n >= TAIL) {
            System.arraycopy(b, off + n - TAIL, tail, 0, TAIL);
        } else {
            System.arraycopy(tail, n, tail, 0, TAIL - n);
            System.arraycopy(b, off, tail, TAIL - n, n);
        }
        count += n;
    }

    /** Bytes consumed so far. */
    long count() {
        return count;
    }

    /** The last 512 bytes consumed (right after a header was read: that header). */
    byte[] lastRecord() {
        return java.util.Arrays.copyOfRange(tail, TAIL - BundleLayout.RECORD, TAIL);
    }

    /**
     * True when every byte consumed from offset {@code from} on is zero; {@code from} must be
     * within the last 1024 bytes consumed (false otherwise: too much was read to tell).
     */
    boolean zeroFrom(long from) {
        if (count - from > TAIL) {
            return false;
        }
        for (long p = Math.max(from, count - TAIL); p < count; p++) {
            if (tail[(int) (TAIL - (count - p))] != 0) {
                return false;
            }
        }
        return true;
    }
}
