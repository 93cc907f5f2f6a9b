package dev.airlock.cli;

import com.fasterxml.jackson.core.JsonFactoryBuilder;
import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.SerializableString;
import com.fasterxml.jackson.core.io.CharacterEscapes;
import com.fasterxml.jackson.core.io.SerializedString;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.SerializerProvider;
import com.fasterxml.jackson.databind.json.JsonMapper;
import com.fasterxml.jackson.databind.module.SimpleModule;
import com.fasterxml.jackson.databind.ser.std.StdSerializer;
import com.fasterxml.jackson.databind.ser.std.ToStringSerializer;
import dev.airlock.error.LocalIoException;
import dev.airlock.error.Printable;
import dev.airlock.model.Digest;
import dev.airlock.model.ImageReference;
import dev.airlock.model.MediaType;
import dev.airlock.model.Platform;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Instant;
import java.util.Optional;

/**
 * JSON for {@code --report FILE} and {@code --json}: pretty-printed UTF-8; files are written to a
 * temporary sibling and moved into place, so a reader never sees half a report. Digests,
 * references, platforms, media types and instants are written as their usual strings.
 */
public final class ReportWriter {
    /**
     * Besides what JSON must escape (C0 controls, quote, backslash), also every character the
     * one sanitiser ({@link Printable}) would not print: DEL, C1 controls such as U+009B (an 8-bit
     * CSI), bidi overrides, zero-width characters, line separators. {@code --json} on a terminal is
     * as safe as the human form, and a JSON reader gets the exact text back.
     */
    static final class TerminalSafeEscapes extends CharacterEscapes {
        private static final long serialVersionUID = 1L;
        private final int[] ascii = CharacterEscapes.standardAsciiEscapesForJSON();

        TerminalSafeEscapes() {
            ascii[0x7f] = CharacterEscapes.ESCAPE_STANDARD;
        }

        @Override
        public int[] getEscapeCodesForAscii() {
            return ascii;
        }

        @Override
        public SerializableString getEscapeSequence(int ch) {
            return Printable.isSafe(ch) ? null : new SerializedString(String.format("\\u%04x", ch));
        }
    }

    private static final ObjectMapper MAPPER = JsonMapper.builder(new JsonFactoryBuilder().characterEscapes(new TerminalSafeEscapes()).build())
            .enable(SerializationFeature.INDENT_OUTPUT)
            .disable(SerializationFeature.FAIL_ON_EMPTY_BEANS)
            .addModule(new SimpleModule("airlock-strings")
                    .addSerializer(Digest.class, ToStringSerializer.instance)
                    .addSerializer(ImageReference.class, ToStringSerializer.instance)
                    .addSerializer(Platform.class, ToStringSerializer.instance)
                    .addSerializer(MediaType.class, ToStringSerializer.instance)
                    .addSerializer(Instant.class, ToStringSerializer.instance)
                    .addSerializer(Path.class, ToStringSerializer.instance)
                    .addSerializer(new OptionalSerializer()))
            .build();

    private ReportWriter() {
    }

    /** The value as pretty JSON text ending in a newline. */
    public static String toJson(Object value) {
        try {
            return MAPPER.writeValueAsString(unwrap(value)) + "\n";
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("cannot write report of " + value.getClass().getName() + ": " + e.getOriginalMessage(), e);
        }
    }

    /** Writes the value as JSON to {@code file}, atomically replacing what was there. */
    public static void write(Path file, Object value) {
        byte[] bytes = toJson(value).getBytes(StandardCharsets.UTF_8);
        Path target = file.toAbsolutePath();
        Path tmp = null;
        try {
            Path dir = target.getParent();
            Files.createDirectories(dir);
            tmp = dev.airlock.io.TempFiles.register(Files.createTempFile(dir, "." + target.getFileName() + ".", ".tmp"));
            Files.write(tmp, bytes);
            try {
                Files.move(tmp, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            } catch (AtomicMoveNotSupportedException e) {
                Files.move(tmp, target, StandardCopyOption.REPLACE_EXISTING);
            }
            dev.airlock.io.TempFiles.release(tmp);
        } catch (IOException e) {
            if (tmp != null) {
                dev.airlock.io.TempFiles.delete(tmp); // the original failure is the one to report
            }
            throw new LocalIoException("writing report " + file + ": " + e, e);
        }
    }

    /** An Optional is its value, or null (no jdk8 datatype module needed for that). */
    @SuppressWarnings({"rawtypes", "unchecked"})
    private static final class OptionalSerializer extends StdSerializer<Optional> {
        private static final long serialVersionUID = 1L;

        OptionalSerializer() {
            super(Optional.class);
        }

        @Override
        public void serialize(Optional value, JsonGenerator gen, SerializerProvider provider) throws IOException {
            if (value.isPresent()) {
                provider.defaultSerializeValue(value.get(), gen);
            } else {
                gen.writeNull();
            }
        }
    }

    private static Object unwrap(Object value) {
        return value instanceof Optional<?> o ? o.orElse(null) : value;
    }
}
