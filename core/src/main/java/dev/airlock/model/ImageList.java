package dev.airlock.model;

import dev.airlock.error.LocalIoException;
import dev.airlock.error.UsageException;
import java.io.IOException;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

/**
 * Image list files ({@code -f images.txt}, the format of k3s' {@code k3s-images.txt}): one
 * reference per line; blank lines and lines starting with {@code #} are ignored, as is anything
 * after a {@code #} preceded by white space. Each reference is normalised like docker does
 * ({@link ImageReference#parse}). The one parser for export and sync.
 */
public final class ImageList {
    /** A list longer than this is refused (a wrong file given by mistake). */
    public static final long MAX_FILE_BYTES = 16L << 20;

    private ImageList() {
    }

    /** Parses a list file; a bad line fails with its file name and line number. */
    public static List<ImageReference> read(Path file) {
        String text;
        byte[] bytes = dev.airlock.io.SmallFiles.read(file, (int) MAX_FILE_BYTES, "image list");
        try {
            text = StandardCharsets.UTF_8.newDecoder().decode(java.nio.ByteBuffer.wrap(bytes)).toString();
        } catch (CharacterCodingException e) {
            throw new UsageException("image list " + file + " is not UTF-8 text");
        }
        return parse(text, file.toString());
    }

    /** Parses list text; {@code where} names it in errors ("images.txt"). */
    public static List<ImageReference> parse(String text, String where) {
        List<ImageReference> out = new ArrayList<>();
        String[] lines = text.split("\r?\n", -1);
        for (int i = 0; i < lines.length; i++) {
            String line = lines[i];
            if (i == 0 && line.startsWith("\uFEFF")) {
                line = line.substring(1);
            }
            int hash = commentStart(line);
            if (hash >= 0) {
                line = line.substring(0, hash);
            }
            line = line.strip();
            if (line.isEmpty()) {
                continue;
            }
            if (line.chars().anyMatch(Character::isWhitespace)) {
                throw new UsageException(where + ":" + (i + 1) + ": one image reference per line, got '" + line + "'");
            }
            try {
                out.add(ImageReference.parse(line));
            } catch (UsageException e) {
                throw new UsageException(where + ":" + (i + 1) + ": " + e.getMessage());
            }
        }
        return out;
    }

    /**
     * References from the command line and from list files, in order, each once (by its full
     * normalised form). Empty result: a usage error naming {@code what} ("export", "sync").
     */
    public static List<ImageReference> combine(List<String> args, List<Path> files, String what) {
        Set<String> seen = new LinkedHashSet<>();
        List<ImageReference> out = new ArrayList<>();
        List<ImageReference> all = new ArrayList<>();
        for (String a : args) {
            all.add(ImageReference.parse(a));
        }
        for (Path f : files) {
            all.addAll(read(f));
        }
        for (ImageReference r : all) {
            if (seen.add(r.toString())) {
                out.add(r);
            }
        }
        if (out.isEmpty()) {
            throw new UsageException(what + ": no images given (name them or use -f FILE)");
        }
        return out;
    }

    /** Index of a comment's '#': at the start of the line or after white space; -1 if none. */
    private static int commentStart(String line) {
        for (int i = 0; i < line.length(); i++) {
            if (line.charAt(i) == '#' && (i == 0 || Character.isWhitespace(line.charAt(i - 1)))) {
                return i;
            }
        }
        return -1;
    }
}
