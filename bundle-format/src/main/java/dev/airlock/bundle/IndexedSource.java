package dev.airlock.bundle;

import dev.airlock.error.LocalIoException;
import dev.airlock.error.Printable;
import dev.airlock.error.VerificationException;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.AccessDeniedException;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Iterator;
import java.util.List;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarFile;

/**
 * An uncompressed tar indexed once (commons-compress {@link TarFile}); content is read with
 * positional {@link FileChannel#read(ByteBuffer, long)}, which is safe from many threads at once.
 */
final class IndexedSource extends EntrySource {
    private final FileChannel channel;
    private final long fileSize;
    private final Iterator<TarArchiveEntry> entries;
    private TarArchiveEntry current;
    private long lastEnd;

    IndexedSource(Path path, String where) {
        super(where);
        try {
            channel = FileChannel.open(path, StandardOpenOption.READ);
            fileSize = channel.size();
        } catch (NoSuchFileException e) {
            throw new LocalIoException(where + ": no such file", e);
        } catch (AccessDeniedException e) {
            throw new LocalIoException(where + ": permission denied", e);
        } catch (IOException e) {
            throw new LocalIoException(where + ": cannot open: " + e.getMessage(), e);
        }
        List<TarArchiveEntry> list;
        try {
            // TarFile closes the channel it is given; give it its own
            try (TarFile tf = new TarFile(FileChannel.open(path, StandardOpenOption.READ), 10240, 512, StandardCharsets.UTF_8.name(), false)) {
                list = tf.getEntries();
            }
        } catch (IOException | RuntimeException e) {
            close();
            // TarFile does not say which entry broke: one sequential pass names it
            try (SequentialSource s = new SequentialSource(path, where)) {
                while (s.next() != null) {
                    s.content().transferTo(java.io.OutputStream.nullOutputStream());
                }
            } catch (IOException io) {
                throw damaged(io, "its tar headers");
            }
            throw damaged(e instanceof IOException io ? io : new IOException(e.getMessage()), "its tar headers");
        }
        entries = list.iterator();
    }

    FileChannel channel() {
        return channel;
    }

    @Override
    TarArchiveEntry next() {
        current = entries.hasNext() ? entries.next() : null;
        accept(current);
        if (current != null) {
            lastEnd = current.getDataOffset() + (current.getSize() + 511) / 512 * 512;
        }
        if (current != null && current.getDataOffset() + current.getSize() > fileSize) {
            throw new VerificationException(where + ": entry '" + Printable.of(current.getName()) + "' claims "
                    + current.getSize() + " bytes, beyond the end of the file (truncated archive)");
        }
        if (current != null) {
            ByteBuffer header = ByteBuffer.allocate(BundleLayout.RECORD);
            try {
                long at = current.getDataOffset() - BundleLayout.RECORD;
                while (header.hasRemaining() && channel.read(header, at + header.position()) > 0) {
                    // fill
                }
            } catch (IOException e) {
                throw damaged(e, "the tar header of '" + Printable.of(current.getName()) + "'");
            }
            BundleLayout.checkUstar(header.array(), 0, where, current.getName());
        }
        return current;
    }

    long offset() {
        return current.getDataOffset();
    }

    @Override
    InputStream content() {
        return guarded(new RangeInputStream(channel, current.getDataOffset(), current.getSize()), Printable.of(current.getName()));
    }

    @Override
    void end() {
        // after the last entry's padded data come the two zero end records and only zero padding
        long from = lastEnd;
        long rest = fileSize - from;
        if (rest > (1 << 20)) {
            throw new VerificationException(where + ": " + rest + " bytes after the last entry (more than end-of-archive padding)");
        }
        ByteBuffer buf = ByteBuffer.allocate((int) Math.max(rest, 0));
        try {
            while (buf.hasRemaining() && channel.read(buf, from + buf.position()) > 0) {
                // fill
            }
        } catch (IOException e) {
            throw damaged(e, "the end of the archive");
        }
        for (int i = 0; i < buf.position(); i++) {
            if (buf.get(i) != 0) {
                throw new VerificationException(where + ": data after the end of the tar archive (offset " + (from + i) + ")");
            }
        }
        BundleLayout.checkEndRecords(buf.position(), where);
    }

    @Override
    boolean compressed() {
        return false;
    }

    @Override
    public void close() {
        try {
            channel.close();
        } catch (IOException e) {
            // read-only
        }
    }

    /** {@code length} bytes of a channel from {@code start}, by positional reads (no shared position). */
    static final class RangeInputStream extends dev.airlock.io.BulkInputStream {
        private final FileChannel ch;
        private long pos;
        private final long end;

        RangeInputStream(FileChannel ch, long start, long length) {
            this.ch = ch;
            this.pos = start;
            this.end = start + length;
        }


        @Override
        public int read(byte[] b, int off, int len) throws IOException {
            if (len == 0) {
                return 0;
            }
            if (pos >= end) {
                return -1;
            }
            int want = (int) Math.min(len, end - pos);
            int n = ch.read(ByteBuffer.wrap(b, off, want), pos);
            if (n < 0) {
                throw new IOException("unexpected end of file at offset " + pos);
            }
            pos += n;
            return n;
        }
    }
}
