package dev.airlock.export.dockerarchive;

import dev.airlock.error.AirlockException;
import dev.airlock.error.LocalIoException;
import dev.airlock.error.Printable;
import dev.airlock.error.VerificationException;
import java.io.BufferedInputStream;
import java.io.FilterInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.AccessDeniedException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveInputStream;
import org.apache.commons.compress.compressors.gzip.GzipCompressorInputStream;

/**
 * One sequential pass over a {@code .tar} or {@code .tar.gz} (recognised by its magic bytes, not
 * its name), nothing extracted to disk. Every entry name is checked before the visitor sees it:
 * absolute names, {@code ..} segments, NUL bytes, hard links, devices and FIFOs are rejected with
 * a {@link VerificationException}. The content stream handed to the visitor counts what is
 * actually read and fails when it ends before the size the header claimed.
 */
final class TarWalker {
    /** Most entries accepted in one archive (docker save writes about four per layer). */
    static final int MAX_ENTRIES = 200_000;

    private TarWalker() {
    }

    /** What kind of entry: only these three are accepted. */
    enum Kind { FILE, DIRECTORY, SYMLINK }

    /** A checked entry header: normalised name, kind, claimed size, symlink target (empty otherwise). */
    record Header(String name, Kind kind, long size, String linkTarget) {
    }

    @FunctionalInterface
    interface Visitor {
        /**
         * Called for every entry in archive order. {@code content} is only valid during the call;
         * the visitor may read none, part or all of it.
         */
        void visit(Header header, CountingStream content) throws IOException;
    }

    /** Walks {@code file}; {@code what} names it in errors (its file name). */
    static void walk(Path file, Visitor visitor) {
        String what = "docker archive " + file.getFileName();
        String current = null;
        int count = 0;
        try (InputStream raw = new BufferedInputStream(Files.newInputStream(file), 1 << 16)) {
            raw.mark(2);
            int b0 = raw.read();
            int b1 = raw.read();
            raw.reset();
            if (b0 < 0) {
                throw new VerificationException(what + " is empty");
            }
            InputStream data = b0 == 0x1f && b1 == 0x8b ? new BufferedInputStream(new GzipCompressorInputStream(raw, true), 1 << 16) : raw;
            try (TarArchiveInputStream tar = new TarArchiveInputStream(data, StandardCharsets.UTF_8.name())) {
                TarArchiveEntry e;
                while ((e = tar.getNextEntry()) != null) {
                    if (++count > MAX_ENTRIES) {
                        throw new VerificationException(what + " has more than " + MAX_ENTRIES + " entries");
                    }
                    current = Printable.of(e.getName());
                    Header h = check(e, what);
                    current = h.name();
                    CountingStream content = new CountingStream(tar, h.size(), what + " entry " + h.name());
                    visitor.visit(h, content);
                }
            }
            if (count == 0) {
                throw new VerificationException(what + " is not a tar archive (no entries)");
            }
        } catch (AirlockException e) {
            throw e;
        } catch (NoSuchFileException e) {
            throw new LocalIoException("reading " + what + ": file not found: " + file);
        } catch (AccessDeniedException e) {
            throw new LocalIoException("reading " + what + ": permission denied: " + file);
        } catch (IOException | RuntimeException e) {
            String at = current == null ? "" : " near entry " + current;
            throw new VerificationException("reading " + what + ": corrupt or truncated archive" + at + ": " + oneLine(e), e);
        }
    }

    private static Header check(TarArchiveEntry e, String what) {
        String name = normalise(e.getName(), what);
        if (e.isSymbolicLink()) {
            String target = e.getLinkName();
            if (target == null || target.isEmpty() || target.indexOf('\0') >= 0) {
                throw new VerificationException(what + " entry " + name + " is a symlink without a usable target");
            }
            return new Header(stripSlash(name), Kind.SYMLINK, 0, target);
        }
        if (e.isLink()) {
            throw new VerificationException(what + " entry " + name + " is a hard link to " + Printable.of(e.getLinkName()) + "; docker save does not write hard links");
        }
        if (e.isDirectory()) {
            return new Header(stripSlash(name), Kind.DIRECTORY, 0, "");
        }
        if (e.isGNUSparse() || e.isCharacterDevice() || e.isBlockDevice() || e.isFIFO() || !e.isFile()) {
            throw new VerificationException(what + " entry " + name + " is not a regular file, directory or symlink");
        }
        long size = e.getSize();
        if (size < 0 || size > dev.airlock.model.Descriptor.MAX_BLOB_SIZE) {
            throw new VerificationException(what + " entry " + name + " claims an impossible size " + size);
        }
        if (name.endsWith("/")) {
            throw new VerificationException(what + " entry " + name + " is a file whose name ends in '/'");
        }
        return new Header(name, Kind.FILE, size, "");
    }

    /** Drops a leading "./", rejects absolute names, ".." segments, empty segments and NUL. */
    static String normalise(String raw, String what) {
        if (raw == null || raw.isEmpty()) {
            throw new VerificationException(what + " has an entry without a name");
        }
        if (raw.indexOf('\0') >= 0 || raw.indexOf('\\') >= 0) {
            throw new VerificationException(what + " entry " + Printable.of(raw) + " has a NUL or backslash in its name");
        }
        String n = raw;
        while (n.startsWith("./")) {
            n = n.substring(2);
        }
        if (n.startsWith("/")) {
            throw new VerificationException(what + " entry " + Printable.of(raw) + " has an absolute name");
        }
        String body = n.endsWith("/") ? n.substring(0, n.length() - 1) : n;
        if (body.isEmpty() || body.equals(".")) {
            return n.isEmpty() ? "./" : n;
        }
        for (String seg : body.split("/", -1)) {
            if (seg.equals("..")) {
                throw new VerificationException(what + " entry " + Printable.of(raw) + " escapes the archive with '..'");
            }
            if (seg.isEmpty() || seg.equals(".")) {
                throw new VerificationException(what + " entry " + Printable.of(raw) + " has an empty or '.' path segment");
            }
        }
        return n;
    }

    private static String stripSlash(String n) {
        return n.endsWith("/") ? n.substring(0, n.length() - 1) : n;
    }


    static String oneLine(Throwable e) {
        if (e instanceof java.io.EOFException && e.getMessage() == null) {
            return "unexpected end of data";
        }
        String m = e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage();
        m = m.replaceAll("\\s+", " ").trim();
        return m.length() > 200 ? m.substring(0, 200) + "…" : m;
    }

    /**
     * An entry's content: never reads past the entry, counts what arrived, and throws when the
     * archive ends before the claimed size ({@link #readFully} / end of stream).
     */
    static final class CountingStream extends FilterInputStream {
        private final long claimed;
        private final String what;
        private long count;

        CountingStream(InputStream in, long claimed, String what) {
            super(in);
            this.claimed = claimed;
            this.what = what;
        }

        @Override
        public int read() throws IOException {
            byte[] one = new byte[1];
            int n = read(one, 0, 1);
            return n < 0 ? -1 : one[0] & 0xff;
        }

        @Override
        public int read(byte[] b, int off, int len) throws IOException {
            if (count >= claimed) {
                return -1;
            }
            int n = in.read(b, off, (int) Math.min(len, claimed - count));
            if (n < 0) {
                throw new VerificationException(what + " is truncated: " + count + " of " + claimed + " bytes present");
            }
            count += n;
            return n;
        }

        @Override
        public long skip(long n) throws IOException {
            byte[] buf = new byte[8192];
            long done = 0;
            while (done < n) {
                int r = read(buf, 0, (int) Math.min(buf.length, n - done));
                if (r < 0) {
                    break;
                }
                done += r;
            }
            return done;
        }

        @Override
        public void close() {
            // the tar stream belongs to the walker
        }

        @Override
        public boolean markSupported() {
            return false;
        }

        long count() {
            return count;
        }

        long claimed() {
            return claimed;
        }

        /** Reads the whole entry into memory; only for entries already checked to be small. */
        byte[] readAll() throws IOException {
            long before = count;
            byte[] out = readNBytes((int) (claimed - before));
            if (count != claimed) {
                throw new VerificationException(what + " is truncated: " + count + " of " + claimed + " bytes present");
            }
            return out;
        }
    }
}
