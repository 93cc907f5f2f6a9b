package dev.airlock.progress;

import java.util.Locale;

/** The one way sizes and durations are shown to operators: decimal units, like skopeo and docker. */
public final class Sizes {
    private static final String[] UNITS = {"kB", "MB", "GB", "TB", "PB"};

    private Sizes() {
    }

    /** "999 B", "1.00 kB", "12.3 MB", "123 GB": three significant digits. */
    public static String bytes(long n) {
        if (n < 1000) {
            return n + " B";
        }
        double v = n;
        int u = -1;
        while (v >= 1000 && u < UNITS.length - 1) {
            v /= 1000;
            u++;
        }
        return String.format(Locale.ROOT, v < 10 ? "%.2f %s" : v < 100 ? "%.1f %s" : "%.0f %s", v, UNITS[u]);
    }

    /** "0.4 s", "12.0 s". */
    public static String seconds(double s) {
        return String.format(Locale.ROOT, "%.1f s", s);
    }
}
