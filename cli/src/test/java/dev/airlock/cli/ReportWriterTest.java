package dev.airlock.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.airlock.error.LocalIoException;
import dev.airlock.model.Digest;
import dev.airlock.model.ImageReference;
import dev.airlock.model.Platform;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ReportWriterTest {
    @TempDir
    Path dir;

    record Image(ImageReference reference, Digest digest, List<Platform> platforms, Optional<String> note, String label) {
    }

    @Test
    void writesModelValuesAsStringsInUtf8() throws IOException {
        Digest d = Digest.parse("sha256:" + "ab".repeat(32));
        Image image = new Image(ImageReference.parse("rancher/pause:3.1"), d,
                List.of(Platform.parse("linux/arm/v7"), Platform.parse("linux/amd64")), Optional.empty(), "café ✓");
        Path file = dir.resolve("sub/report.json");
        ReportWriter.write(file, image);
        String json = Files.readString(file, StandardCharsets.UTF_8);
        JsonNode node = new ObjectMapper().readTree(json);
        assertEquals("docker.io/rancher/pause:3.1", node.get("reference").asText());
        assertEquals(d.toString(), node.get("digest").asText());
        assertEquals("linux/arm/v7", node.get("platforms").get(0).asText());
        assertTrue(node.get("note").isNull());
        assertEquals("café ✓", node.get("label").asText());
        assertTrue(json.endsWith("}\n"));
    }

    @Test
    void replacesAnExistingReportAndLeavesNoTemporaryFiles() throws IOException {
        Path file = dir.resolve("r.json");
        Files.writeString(file, "old content that is longer than the new one ".repeat(10));
        ReportWriter.write(file, List.of(1, 2));
        assertEquals("[ 1, 2 ]\n", Files.readString(file));
        try (Stream<Path> files = Files.list(dir)) {
            assertEquals(List.of(file), files.toList());
        }
    }

    @Test
    void failureIsALocalIoErrorNamingTheFile() throws IOException {
        Path notADir = Files.writeString(dir.resolve("file"), "x");
        LocalIoException e = assertThrows(LocalIoException.class, () -> ReportWriter.write(notADir.resolve("r.json"), List.of()));
        assertTrue(e.getMessage().startsWith("writing report " + notADir.resolve("r.json")), e.getMessage());
    }
}
