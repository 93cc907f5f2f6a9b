package dev.airlock.io;

import dev.airlock.error.DigestMismatchException;
import dev.airlock.model.Digest;
import java.io.FilterInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.security.MessageDigest;

/**
 * Passes bytes through while hashing them; at end of stream checks that exactly {@code size}
 * bytes with sha256 {@code digest} went by, and fails as soon as more than {@code size} arrive.
 * Never trusts a Content-Length or a tar header: only what was actually read counts.
 */
public final class VerifyingInputStream extends FilterInputStream {
    private final Digest expected;
    private final long size;
    private final String what;
    private final MessageDigest sha;
    private long count;
    private boolean verified;

    /**
     * @param what names the content in errors, e.g. "blob sha256:ab… from registry 127.0.0.1:5000"
     */
    public VerifyingInputStream(InputStream in, Digest expected, long size, String what) {
        super(in);
        this.expected = java.util.Objects.requireNonNull(expected, "expected");
        this.size = size;
        this.what = what;
        this.sha = Digest.newSha256();
    }

    private VerifyingInputStream(InputStream in, long size, String what) {
        super(in);
        this.expected = null;
        this.size = size;
        this.what = what;
        this.sha = null;
    }

    /**
     * Checks only that exactly {@code size} bytes go by: for content whose digest was verified
     * moments ago by this same process (e.g. a blob the export just fetched into its cache).
     */
    public static VerifyingInputStream sizeOnly(InputStream in, long size, String what) {
        return new VerifyingInputStream(in, size, what);
    }

    @Override
    public int read() throws IOException {
        int b = in.read();
        if (b < 0) {
            finish();
        } else {
            if (sha != null) {
                sha.update((byte) b);
            }
            advance(1);
        }
        return b;
    }

    @Override
    public int read(byte[] buf, int off, int len) throws IOException {
        int n = in.read(buf, off, len);
        if (n < 0) {
            finish();
        } else if (n > 0) {
            if (sha != null) {
                sha.update(buf, off, n);
            }
            advance(n);
        }
        return n;
    }

    @Override
    public long skip(long n) throws IOException {
        byte[] buf = new byte[(int) Math.min(8192, Math.max(n, 1))];
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
    public boolean markSupported() {
        return false;
    }

    /** True when this stream checks exactly {@code digest} and {@code size} (wrapping it again would hash twice). */
    public boolean checks(Digest digest, long size) {
        return this.size == size && expected.equals(digest);
    }

    /** Bytes read so far. */
    public long count() {
        return count;
    }

    /** True once the end was reached and size and digest matched. */
    public boolean verified() {
        return verified;
    }

    private void advance(int n) {
        count += n;
        if (count > size) {
            throw new DigestMismatchException(what + ": more than the expected " + size + " bytes");
        }
    }

    private void finish() {
        if (verified) {
            return;
        }
        if (count != size) {
            throw new DigestMismatchException(what + ": got " + count + " bytes, expected " + size + " (truncated)");
        }
        Digest actual = sha == null ? null : Digest.ofSha256(sha.digest());
        if (actual != null && !actual.equals(expected)) {
            throw new DigestMismatchException(what + ": content has digest " + actual + ", expected " + expected);
        }
        verified = true;
    }
}
