package dev.airlock.importer;

import java.util.Locale;

/** Human sizes and durations for per-image lines. */
public final class Sizes {
    private Sizes() {
    }

    /** "0 B", "512 B", "12.3 KB", "4.0 MB", "1.25 GB" (decimal units, like skopeo and docker). */
    public static String bytes(long n) {
        if (n < 1000) {
            return n + " B";
        }
        if (n < 1_000_000) {
            return String.format(Locale.ROOT, "%.1f KB", n / 1e3);
        }
        if (n < 1_000_000_000) {
            return String.format(Locale.ROOT, "%.1f MB", n / 1e6);
        }
        return String.format(Locale.ROOT, "%.2f GB", n / 1e9);
    }

    /** "0.4 s", "12.0 s". */
    public static String seconds(double s) {
        return String.format(Locale.ROOT, "%.1f s", s);
    }
}
