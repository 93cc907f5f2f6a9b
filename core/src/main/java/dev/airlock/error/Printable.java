package dev.airlock.error;

/**
 * The one sanitiser for untrusted text on every human output path: error messages, {@code inspect}
 * and {@code verify} listings, import/export/sync lines. Bundle fields, tar entry names,
 * references, annotations, certificate subjects and registry answers all pass through here
 * before they reach a terminal, so none can carry an escape sequence, a carriage return that
 * overwrites a line, a line break that forges one, or a bidirectional override that reorders it.
 * ({@code --json} output is escaped by the JSON writer instead.)
 *
 * <p>Replaced by {@code ?}: every code point of Unicode category Cc (C0 controls, DEL, C1 controls
 * such as the 8-bit CSI U+009B), Cf (format: bidi embeddings/overrides/isolates, zero-width
 * characters, the byte order mark), Zl and Zp (line/paragraph separators), and unpaired surrogates.
 */
public final class Printable {
    /** Longest text {@link #of} keeps, in characters. */
    public static final int MAX_QUOTED = 200;

    private Printable() {
    }

    /** For quoting in a one-line message: unsafe characters become '?', text over 200 characters is cut with '…'; null is "null". */
    public static String of(String s) {
        if (s == null) {
            return "null";
        }
        String clean = text(s.length() > MAX_QUOTED ? s.substring(0, MAX_QUOTED) : s);
        return s.length() > MAX_QUOTED ? clean + "…" : clean;
    }

    /** For a listing line: unsafe characters become '?', nothing is cut; null is "". */
    public static String text(String s) {
        if (s == null) {
            return "";
        }
        StringBuilder b = null;
        for (int i = 0; i < s.length(); ) {
            int c = s.codePointAt(i);
            int n = Character.charCount(c);
            if (!safe(c)) {
                if (b == null) {
                    b = new StringBuilder(s.length()).append(s, 0, i);
                }
                b.append('?');
            } else if (b != null) {
                b.appendCodePoint(c);
            }
            i += n;
        }
        return b == null ? s : b.toString();
    }

    /**
     * A list for a one-line message: at most {@code max} items (each through {@link #of}), then
     * "and N more", so a hostile document with 10 000 entries cannot make a 100 KB line.
     */
    public static String list(java.util.Collection<?> items, int max) {
        StringBuilder b = new StringBuilder("[");
        int n = 0;
        for (Object o : items) {
            if (n == max) {
                break;
            }
            b.append(n++ == 0 ? "" : ", ").append(of(String.valueOf(o)));
        }
        if (items.size() > max) {
            b.append(String.format(java.util.Locale.ROOT, " and %,d more", items.size() - max));
        }
        return b.append(']').toString();
    }

    /** True when {@code s} would be printed unchanged. */
    public static boolean isSafe(String s) {
        return s == null || text(s).equals(s);
    }

    /** True when code point {@code c} is printed as itself (not a control, format or separator character). */
    public static boolean isSafe(int c) {
        return safe(c);
    }

    private static boolean safe(int c) {
        return switch (Character.getType(c)) {
            case Character.CONTROL, Character.FORMAT, Character.LINE_SEPARATOR, Character.PARAGRAPH_SEPARATOR, Character.SURROGATE -> false;
            default -> true;
        };
    }
}
