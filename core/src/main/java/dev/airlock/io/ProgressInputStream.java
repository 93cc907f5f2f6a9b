package dev.airlock.io;

import dev.airlock.progress.ProgressListener;
import java.io.FilterInputStream;
import java.io.IOException;
import java.io.InputStream;

/** Reports every byte read to a progress listener. Closing it closes the stream it wraps. */
public final class ProgressInputStream extends FilterInputStream {
    private final ProgressListener progress;

    public ProgressInputStream(InputStream in, ProgressListener progress) {
        super(in);
        this.progress = progress;
    }

    @Override
    public int read() throws IOException {
        int b = in.read();
        if (b >= 0) {
            progress.bytes(1);
        }
        return b;
    }

    @Override
    public int read(byte[] b, int off, int len) throws IOException {
        int n = in.read(b, off, len);
        if (n > 0) {
            progress.bytes(n);
        }
        return n;
    }

    @Override
    public long skip(long n) throws IOException {
        long s = in.skip(n);
        if (s > 0) {
            progress.bytes(s);
        }
        return s;
    }
}
