package dev.airlock.io;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;

/**
 * Where one blob's bytes go: a whole file (the export cache's temporary file) or a fixed slice of
 * a larger file (the blob's place in a bundle whose tar layout was computed up front). Positions
 * are relative to the region's start. A slice refuses any write that would pass its end, so bytes
 * a lying source sends beyond the announced size never reach the next entry.
 */
public interface BlobRegion {

    /** Writes {@code src} at {@code position}; returns the bytes written. */
    int write(ByteBuffer src, long position) throws IOException;

    /** Reads into {@code dst} from {@code position}; returns the bytes read, -1 at the region's end. */
    int read(ByteBuffer dst, long position) throws IOException;

    /** Forgets what was written (before writing it again from the start). */
    void clear() throws IOException;

    /** The whole of {@code file} from position 0 ({@link #clear} truncates it). */
    static BlobRegion of(FileChannel file) {
        return new BlobRegion() {
            @Override
            public int write(ByteBuffer src, long position) throws IOException {
                return file.write(src, position);
            }

            @Override
            public int read(ByteBuffer dst, long position) throws IOException {
                return file.read(dst, position);
            }

            @Override
            public void clear() throws IOException {
                file.truncate(0);
            }
        };
    }

    /** The {@code size} bytes of {@code file} from {@code offset}; {@link #clear} leaves them to be overwritten. */
    static BlobRegion slice(FileChannel file, long offset, long size) {
        if (offset < 0 || size < 0) {
            throw new IllegalArgumentException("region " + offset + "+" + size);
        }
        return new BlobRegion() {
            @Override
            public int write(ByteBuffer src, long position) throws IOException {
                if (position < 0 || position + src.remaining() > size) {
                    throw new IOException("write of " + src.remaining() + " bytes at " + position + " passes the end of a " + size + "-byte blob");
                }
                return file.write(src, offset + position);
            }

            @Override
            public int read(ByteBuffer dst, long position) throws IOException {
                if (position >= size) {
                    return -1;
                }
                ByteBuffer view = dst.remaining() > size - position ? dst.slice().limit((int) (size - position)) : dst;
                int n = file.read(view, offset + position);
                if (view != dst && n > 0) {
                    dst.position(dst.position() + n);
                }
                return n;
            }

            @Override
            public void clear() {
                // the bytes are overwritten from position 0; the slice keeps its size
            }
        };
    }
}
