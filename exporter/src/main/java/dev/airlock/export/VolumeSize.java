package dev.airlock.export;

import dev.airlock.error.UsageException;
import dev.airlock.error.Printable;
import java.math.BigDecimal;
import java.util.Locale;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * {@code --volume-size SIZE}: a number with an optional unit ({@code B}, decimal {@code kB MB GB TB},
 * binary {@code KiB MiB GiB TiB}; case does not matter, fractions allowed and rounded down to a
 * byte) or a preset: {@code fat32} = 4 GiB - 1 byte (the largest file FAT32 holds), {@code dvd} =
 * 4.7 GB, {@code dvd-dl} = 8.5 GB, {@code bd25} = 25 GB, {@code bd50} = 50 GB, {@code cd} = 700 MB.
 */
public final class VolumeSize {
    /** The smallest volume accepted: 1 MiB (the fixed part of a volume, bundle.json and signatures, must fit). */
    public static final long MIN = 1L << 20;

    private static final Map<String, Long> PRESETS = Map.of(
            "fat32", (4L << 30) - 1,
            "dvd", 4_700_000_000L,
            "dvd-dl", 8_500_000_000L,
            "bd25", 25_000_000_000L,
            "bd50", 50_000_000_000L,
            "cd", 700_000_000L);
    private static final Map<String, Long> UNITS = Map.ofEntries(
            Map.entry("", 1L), Map.entry("b", 1L),
            Map.entry("k", 1000L), Map.entry("kb", 1000L), Map.entry("m", 1000_000L), Map.entry("mb", 1000_000L),
            Map.entry("g", 1000_000_000L), Map.entry("gb", 1000_000_000L), Map.entry("t", 1000_000_000_000L), Map.entry("tb", 1000_000_000_000L),
            Map.entry("kib", 1L << 10), Map.entry("mib", 1L << 20), Map.entry("gib", 1L << 30), Map.entry("tib", 1L << 40));
    private static final Pattern SIZE = Pattern.compile("([0-9]+(?:\\.[0-9]+)?)\\s*([a-z]*)");

    private VolumeSize() {
    }

    /** Bytes per volume; a {@link UsageException} naming the text for anything else. */
    public static long parse(String text) {
        String t = text.strip().toLowerCase(Locale.ROOT);
        Long preset = PRESETS.get(t);
        if (preset != null) {
            return preset;
        }
        Matcher m = SIZE.matcher(t);
        Long unit = m.matches() ? UNITS.get(m.group(2)) : null;
        if (unit == null) {
            throw new UsageException("--volume-size '" + Printable.of(text) + "' is not a size: give e.g. 4GiB, 4.7GB, 700MB, "
                    + "or fat32, dvd, dvd-dl, bd25, bd50, cd");
        }
        BigDecimal bytes = new BigDecimal(m.group(1)).multiply(BigDecimal.valueOf(unit));
        if (bytes.compareTo(BigDecimal.valueOf(MIN)) < 0) {
            throw new UsageException("--volume-size " + Printable.of(text) + " is too small: a volume must hold at least 1 MiB");
        }
        if (bytes.compareTo(BigDecimal.valueOf(1L << 50)) > 0) {
            throw new UsageException("--volume-size " + Printable.of(text) + " is too large (at most 1 PiB)");
        }
        return bytes.longValue();
    }
}
