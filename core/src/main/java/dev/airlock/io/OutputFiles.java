package dev.airlock.io;

import dev.airlock.error.UsageException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;

/**
 * The rule for every file Airlock writes by replacing it (a bundle with {@code -o}, its checksum
 * file, {@code --report}): the path must be absent or a regular file. A device node, FIFO,
 * socket, directory or symbolic link is refused (exit 2) before anything is written, instead of
 * being silently replaced by a regular file through the final rename.
 */
public final class OutputFiles {
    private OutputFiles() {
    }

    /** Throws {@link UsageException} unless {@code target} is absent or a regular file; {@code what} names it ("output", "report"). */
    public static void requireReplaceable(Path target, String what) {
        String problem = problem(target);
        if (problem != null) {
            throw new UsageException(what + " " + target + " " + problem + "; give a regular file or a new name");
        }
    }

    /** Why {@code target} may not be replaced, or null when it may. */
    public static String problem(Path target) {
        if (!Files.exists(target, LinkOption.NOFOLLOW_LINKS)) {
            return null;
        }
        if (Files.isSymbolicLink(target)) {
            return "is a symbolic link (it would be replaced, not followed)";
        }
        if (Files.isDirectory(target, LinkOption.NOFOLLOW_LINKS)) {
            return "is a directory";
        }
        if (!Files.isRegularFile(target, LinkOption.NOFOLLOW_LINKS)) {
            return "is not a regular file (a device, FIFO or socket)";
        }
        return null;
    }
}
