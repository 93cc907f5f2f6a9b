package dev.airlock.io;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The temporary files this process is writing (a bundle's {@code .NAME.tmp-*} beside the output,
 * the export cache's {@code .tmp-*} blobs, a docker-archive scratch directory), deleted by a JVM shutdown hook when the process ends
 * before they were renamed or removed: on SIGINT (Ctrl-C), SIGTERM, {@code System.exit} or the
 * end of {@code main}. A writer registers a path before it creates the file and {@linkplain
 * #release releases} it once the file was moved into place or deleted. SIGKILL runs no hook; the
 * export cache removes such left-overs on a later run.
 */
public final class TempFiles {
    private static final Set<Path> LIVE = ConcurrentHashMap.newKeySet();
    private static volatile boolean shuttingDown;

    static {
        Runtime.getRuntime().addShutdownHook(new Thread(TempFiles::deleteAll, "airlock-temp-files"));
    }

    private TempFiles() {
    }

    /** Remembers {@code file} for deletion at exit and returns it. */
    public static Path register(Path file) {
        Path p = file.toAbsolutePath();
        LIVE.add(p);
        if (shuttingDown) {
            delete(p); // the hook may already have run: do not leave this one behind
        }
        return file;
    }

    /** Forgets {@code file}: it was renamed into place or deleted by its writer. */
    public static void release(Path file) {
        LIVE.remove(file.toAbsolutePath());
    }

    /** Deletes {@code file} (a directory with everything in it) if it is there and forgets it; true when nothing is left. */
    public static boolean delete(Path file) {
        Path p = file.toAbsolutePath();
        try {
            if (Files.isDirectory(p, java.nio.file.LinkOption.NOFOLLOW_LINKS)) {
                try (java.util.stream.Stream<Path> walk = Files.walk(p)) {
                    for (Path q : walk.sorted(java.util.Comparator.reverseOrder()).toList()) {
                        Files.deleteIfExists(q);
                    }
                }
            } else {
                Files.deleteIfExists(p);
            }
            LIVE.remove(p);
            return true;
        } catch (IOException | java.io.UncheckedIOException e) {
            return false;
        }
    }

    /** The files registered and not yet released (for tests and diagnostics). */
    public static Set<Path> live() {
        return Set.copyOf(LIVE);
    }

    private static void deleteAll() {
        shuttingDown = true;
        for (Path p : LIVE.toArray(new Path[0])) {
            delete(p);
        }
    }
}
