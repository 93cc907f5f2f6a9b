package dev.airlock.io;

import dev.airlock.error.LocalIoException;
import dev.airlock.error.UsageException;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.AccessDeniedException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;

/**
 * Bounded reads of the small local files Airlock reads whole: keys, certificates, trust files,
 * image lists, credential files, layout index files. The limit is enforced on the bytes read, not
 * on {@link Files#size} (a device such as {@code /dev/zero}, a FIFO or a file still growing reports
 * a size that means nothing), so no input can exhaust memory.
 *
 * <p>Over the limit is a usage error (exit 2: the option names something that is not the small
 * file it expects); a missing or unreadable file is local I/O (exit 5).
 */
public final class SmallFiles {
    /** For PEM keys and single certificates. */
    public static final int PEM_LIMIT = 1 << 20;
    /** For CA bundles (a system bundle is ~200 KiB). */
    public static final int CA_BUNDLE_LIMIT = 4 << 20;

    private SmallFiles() {
    }

    /** At most {@code max} bytes of {@code file}; {@code what} names it in errors ("trusted key"). */
    public static byte[] read(Path file, int max, String what) {
        try (InputStream in = Files.newInputStream(file)) {
            byte[] b = in.readNBytes(max + 1);
            if (b.length > max) {
                throw new UsageException(what + " " + file + " is larger than " + limit(max) + " (is it the right file?)");
            }
            return b;
        } catch (NoSuchFileException e) {
            throw new LocalIoException("reading " + what + " " + file + ": no such file", e);
        } catch (AccessDeniedException e) {
            throw new LocalIoException("reading " + what + " " + file + ": permission denied", e);
        } catch (IOException e) {
            throw new LocalIoException("reading " + what + " " + file + ": " + e.getMessage(), e);
        }
    }

    private static String limit(int max) {
        return max % (1 << 20) == 0 ? (max >> 20) + " MiB" : max % 1024 == 0 ? (max >> 10) + " KiB" : max + " bytes";
    }
}
