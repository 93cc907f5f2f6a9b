package dev.airlock.io;

import java.io.IOException;
import java.io.InputStream;

/** Reading network streams in large blocks: they return small pieces, and one write per piece would cost many more system calls. */
public final class Blocks {
    private Blocks() {
    }

    /** Reads until {@code buf} is full or the stream ends; returns the bytes read (fewer than {@code buf.length} only at the end). */
    public static int fill(InputStream in, byte[] buf) throws IOException {
        int filled = 0;
        while (filled < buf.length) {
            int n = in.read(buf, filled, buf.length - filled);
            if (n < 0) {
                break;
            }
            filled += n;
        }
        return filled;
    }
}
