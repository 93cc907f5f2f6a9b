package dev.airlock.model;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.airlock.error.LocalIoException;
import dev.airlock.error.UsageException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class ImageListTest {
    @TempDir
    Path tmp;

    @Test
    void parsesK3sStyleListWithCommentsAndBlankLines() throws Exception {
        Path f = tmp.resolve("k3s-images.txt");
        Files.writeString(f, "\uFEFF# k3s images\r\ndocker.io/rancher/mirrored-pause:3.6\n\n   \nrancher/klipper-lb:v0.4.4  # lb\n"
                + "busybox\nquay.io/x/y@sha256:" + "ab".repeat(32) + "\n", StandardCharsets.UTF_8);
        List<String> refs = ImageList.read(f).stream().map(ImageReference::toString).toList();
        assertEquals(List.of("docker.io/rancher/mirrored-pause:3.6", "docker.io/rancher/klipper-lb:v0.4.4",
                "docker.io/library/busybox:latest", "quay.io/x/y@sha256:" + "ab".repeat(32)), refs);
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', textBlock = """
            ok:1\\nBad/Upper:1   | list.txt:2:
            ok:1\\na b           | list.txt:2: one image reference per line
            \\n\\nx:             | list.txt:3:
            """)
    void badLinesNameFileAndLine(String text, String expected) {
        UsageException e = assertThrows(UsageException.class, () -> ImageList.parse(text.replace("\\n", "\n"), "list.txt"));
        assertTrue(e.getMessage().startsWith(expected), e.getMessage());
    }

    @Test
    void combineKeepsOrderDropsDuplicatesAndNeedsOne() throws Exception {
        Path f = tmp.resolve("l.txt");
        Files.writeString(f, "busybox:latest\nalpine:3\n", StandardCharsets.UTF_8);
        assertEquals(List.of("docker.io/library/busybox:latest", "docker.io/library/alpine:3"),
                ImageList.combine(List.of("busybox"), List.of(f), "sync").stream().map(ImageReference::toString).toList());
        assertThrows(UsageException.class, () -> ImageList.combine(List.of(), List.of(), "sync"));
        assertThrows(LocalIoException.class, () -> ImageList.read(tmp.resolve("missing.txt")));
    }
}
