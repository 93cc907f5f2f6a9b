package dev.airlock.error;

/** Makes untrusted text safe to quote in a one-line error message. */
public final class Printable {
    private Printable() {
    }

    /** Control characters become '?', and text longer than 200 characters is cut with '…'. */
    public static String of(String s) {
        if (s == null) {
            return "null";
        }
        StringBuilder b = new StringBuilder(Math.min(s.length(), 201));
        for (int i = 0; i < s.length() && b.length() < 200; i++) {
            char c = s.charAt(i);
            b.append(c < 0x20 || c == 0x7f || c == 0x2028 || c == 0x2029 ? '?' : c);
        }
        return s.length() > 200 ? b + "…" : b.toString();
    }
}
