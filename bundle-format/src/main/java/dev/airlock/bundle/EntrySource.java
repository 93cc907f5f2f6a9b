package dev.airlock.bundle;

import dev.airlock.error.LocalIoException;
import dev.airlock.error.Printable;
import dev.airlock.error.VerificationException;
import java.io.Closeable;
import java.io.IOException;
import java.io.InputStream;
import java.util.HashSet;
import java.util.Set;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;

/**
 * The entries of a bundle archive in archive order, each already checked by
 * {@link BundleLayout#checkEntry} and for duplicates. Implementations: {@link SequentialSource}
 * (one pass, plain or zstd) and {@link IndexedSource} (uncompressed tar, positional reads).
 */
abstract class EntrySource implements Closeable {
    final String where;
    private final Set<String> names = new HashSet<>();

    EntrySource(String where) {
        this.where = where;
    }

    /** The next entry, or null at the end of the archive. */
    abstract TarArchiveEntry next();

    /** The content of the current entry (exactly its header size, or fewer bytes when truncated). */
    abstract InputStream content();

    /** Checks what follows the last entry (only zero padding is allowed). */
    abstract void end();

    abstract boolean compressed();

    /** Validates an entry before anyone reads it. */
    final TarArchiveEntry accept(TarArchiveEntry e) {
        if (e == null) {
            return null;
        }
        BundleLayout.checkEntry(e, where);
        if (!names.add(e.getName())) {
            throw new VerificationException(where + ": duplicate entry '" + Printable.of(e.getName()) + "'");
        }
        return e;
    }

    /** Maps an IOException of the archive to a one-line failure. */
    final RuntimeException damaged(IOException e, String at) {
        String msg = String.valueOf(e.getMessage()).replaceAll("\\s+", " ");
        if (msg.contains("Input/output error") || e instanceof java.nio.file.FileSystemException) {
            return new LocalIoException(where + ": reading " + at + " failed: " + msg, e);
        }
        return new VerificationException(where + ": damaged or truncated archive at " + at + " (" + msg + ")", e);
    }

    @Override
    public abstract void close();

    /** Wraps an entry stream so archive I/O failures become one-line Airlock exceptions. */
    final InputStream guarded(InputStream in, String entry) {
        return new InputStream() {
            @Override
            public int read() {
                try {
                    return in.read();
                } catch (IOException e) {
                    throw damaged(e, "entry '" + entry + "'");
                }
            }

            @Override
            public int read(byte[] b, int off, int len) {
                try {
                    return in.read(b, off, len);
                } catch (IOException e) {
                    throw damaged(e, "entry '" + entry + "'");
                }
            }

            @Override
            public void close() {
                // the archive stays open; the caller closes the source
            }
        };
    }
}
