package dev.airlock.bundle;

import com.github.luben.zstd.ZstdInputStream;
import dev.airlock.error.LocalIoException;
import dev.airlock.error.Printable;
import dev.airlock.error.VerificationException;
import java.io.BufferedInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.AccessDeniedException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveInputStream;

/** One sequential pass over a bundle, uncompressed or zstd-compressed (detected by magic bytes). */
final class SequentialSource extends EntrySource {
    private static final int BUFFER = 1 << 20;
    private static final long MAX_TRAILER = 1 << 20;
    private final InputStream file;
    private final InputStream tarBytes;
    private final TarArchiveInputStream tar;
    private final boolean zstd;
    private TarArchiveEntry current;
    private final TarTap tap;
    /** Where the last entry's padded data ends, and how many zero bytes the reader consumed after it. */
    private long lastEnd;
    private long zerosAfterLast;

    SequentialSource(Path path, String where) {
        super(where);
        InputStream f;
        try {
            f = new BufferedInputStream(Files.newInputStream(path), BUFFER);
        } catch (NoSuchFileException e) {
            throw new LocalIoException(where + ": no such file", e);
        } catch (AccessDeniedException e) {
            throw new LocalIoException(where + ": permission denied", e);
        } catch (IOException e) {
            throw new LocalIoException(where + ": cannot open: " + e.getMessage(), e);
        }
        this.file = f;
        try {
            zstd = isZstd(f);
            tarBytes = zstd ? new BufferedInputStream(new ZstdInputStream(f), BUFFER) : f;
        } catch (IOException e) {
            close();
            throw damaged(e, "the start of the file");
        } catch (UnsatisfiedLinkError | NoClassDefFoundError e) {
            close();
            throw new LocalIoException(where + ": zstd native library could not be loaded (" + e.getMessage()
                    + "); on hosts with a noexec /tmp set -DZstdTempFolder=/some/exec/dir");
        }
        tap = new TarTap(tarBytes);
        tar = new TarArchiveInputStream(tap, 512, 512, StandardCharsets.UTF_8.name(), false);
    }

    static boolean isZstd(InputStream in) throws IOException {
        in.mark(4);
        byte[] m = in.readNBytes(4);
        in.reset();
        return m.length == 4 && (m[0] & 0xff) == 0x28 && (m[1] & 0xff) == 0xb5 && (m[2] & 0xff) == 0x2f && (m[3] & 0xff) == 0xfd;
    }

    @Override
    TarArchiveEntry next() {
        String after = current == null ? "the first entry" : "the entry after '" + Printable.of(current.getName()) + "'";
        try {
            current = tar.getNextEntry();
        } catch (IOException | IllegalArgumentException e) {
            throw damaged(e instanceof IOException io ? io : new IOException(e.getMessage()), after);
        }
        if (current == null) {
            if (!tap.zeroFrom(lastEnd)) {
                throw new VerificationException(where + ": data after the end of the tar archive (offset " + lastEnd + ")");
            }
            zerosAfterLast = tap.count() - lastEnd;
            return null;
        }
        BundleLayout.checkUstar(tap.lastRecord(), 0, where, current.getName());
        lastEnd = tap.count() + (current.getSize() + BundleLayout.RECORD - 1) / BundleLayout.RECORD * BundleLayout.RECORD;
        return accept(current);
    }

    @Override
    InputStream content() {
        return guarded(tar, Printable.of(current.getName()));
    }

    @Override
    void end() {
        long n = 0;
        byte[] buf = new byte[8192];
        try {
            int r;
            while ((r = tarBytes.read(buf)) >= 0) {
                for (int i = 0; i < r; i++) {
                    if (buf[i] != 0) {
                        throw new VerificationException(where + ": data after the end of the tar archive (offset +" + (n + i) + ")");
                    }
                }
                n += r;
                if (n > MAX_TRAILER) {
                    throw new VerificationException(where + ": more than " + MAX_TRAILER + " bytes after the end of the tar archive");
                }
            }
        } catch (IOException e) {
            throw damaged(e, "the end of the archive");
        }
        BundleLayout.checkEndRecords(zerosAfterLast + n, where);
    }

    @Override
    boolean compressed() {
        return zstd;
    }

    @Override
    public void close() {
        try {
            if (tar != null) {
                tar.close();
            } else {
                file.close();
            }
        } catch (IOException e) {
            // nothing was written; nothing to lose
        }
    }
}
