package dev.airlock.io;

import java.io.IOException;
import java.io.InputStream;

/**
 * Base for streams that only know how to read into an array: {@link #read()} is that read of one
 * byte. Subclasses implement {@link #read(byte[], int, int)}.
 */
public abstract class BulkInputStream extends InputStream {
    @Override
    public final int read() throws IOException {
        byte[] one = new byte[1];
        int n;
        do {
            n = read(one, 0, 1);
        } while (n == 0);
        return n < 0 ? -1 : one[0] & 0xff;
    }

    @Override
    public abstract int read(byte[] b, int off, int len) throws IOException;
}
