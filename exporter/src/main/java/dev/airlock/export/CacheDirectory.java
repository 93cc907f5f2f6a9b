package dev.airlock.export;

import java.nio.file.Path;
import java.util.Map;

/**
 * Where the export's content-addressed blob cache lives by default:
 * {@code $XDG_CACHE_HOME/airlock/blobs}, else {@code ~/.cache/airlock/blobs}.
 */
public final class CacheDirectory {
    private CacheDirectory() {
    }

    /** The default cache directory for this user. */
    public static Path defaultDirectory() {
        return defaultDirectory(System.getenv(), System.getProperty("user.home"));
    }

    static Path defaultDirectory(Map<String, String> env, String home) {
        String xdg = env.get("XDG_CACHE_HOME");
        Path base = xdg != null && !xdg.isBlank() && Path.of(xdg).isAbsolute() ? Path.of(xdg) : Path.of(home, ".cache");
        return base.resolve("airlock").resolve("blobs");
    }
}
