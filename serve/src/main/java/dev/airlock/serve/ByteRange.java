package dev.airlock.serve;

import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * One {@code Range: bytes=...} request against a blob of {@code size} bytes (RFC 9110 14.1.2):
 * {@code bytes=0-0}, {@code bytes=100-199}, {@code bytes=500-} (to the end), {@code bytes=-500}
 * (the last 500). An end beyond the blob is cut to its last byte.
 *
 * @param first  first byte offset
 * @param length number of bytes
 */
record ByteRange(long first, long length) {
    private static final Pattern SINGLE = Pattern.compile("bytes=(\\d{0,19})-(\\d{0,19})");

    /** What to do with a Range header. */
    sealed interface Answer permits Whole, Part, Unsatisfiable {
    }

    /** No Range, or one the server may ignore (several ranges, bad syntax): send all, 200. */
    record Whole() implements Answer {
    }

    /** Send this part, 206. */
    record Part(ByteRange range) implements Answer {
    }

    /** Asks only for bytes the blob does not have: 416 with {@code Content-Range: bytes *}{@code /size}. */
    record Unsatisfiable() implements Answer {
    }

    long last() {
        return first + length - 1;
    }

    /** {@code bytes FIRST-LAST/SIZE} for Content-Range. */
    String contentRange(long size) {
        return "bytes " + first + "-" + last() + "/" + size;
    }

    static Answer of(Optional<String> header, long size) {
        if (header.isEmpty()) {
            return new Whole();
        }
        Matcher m = SINGLE.matcher(header.get().strip());
        if (!m.matches() || (m.group(1).isEmpty() && m.group(2).isEmpty())) {
            return new Whole(); // several ranges or not understood: ignoring Range is allowed
        }
        try {
            if (m.group(1).isEmpty()) {
                long suffix = Long.parseLong(m.group(2));
                if (suffix == 0 || size == 0) {
                    return new Unsatisfiable();
                }
                long n = Math.min(suffix, size);
                return new Part(new ByteRange(size - n, n));
            }
            long first = Long.parseLong(m.group(1));
            if (!m.group(2).isEmpty() && Long.parseLong(m.group(2)) < first) {
                return new Whole(); // invalid range-spec: the header is ignored
            }
            if (first >= size) {
                return new Unsatisfiable();
            }
            long last = m.group(2).isEmpty() ? size - 1 : Long.parseLong(m.group(2));
            last = Math.min(last, size - 1);
            return new Part(new ByteRange(first, last - first + 1));
        } catch (NumberFormatException e) {
            return new Whole(); // more than a long can hold
        }
    }
}
