package dev.airlock.error;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Collections;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class PrintableTest {
    @ParameterizedTest
    @ValueSource(strings = {"\u001b[2K", "\r", "\n", "\t", "\u0000", "\u007f", "\u009b31m", "\u0085", "\u202e", "\u2066", "\u200b",
        "\ufeff", "\u2028", "\u2029", "\ud800"})
    void everyControlFormatOrSeparatorCharacterBecomesAQuestionMark(String bad) {
        String s = "a" + bad + "b";
        String t = Printable.text(s);
        assertTrue(t.startsWith("a?") && t.endsWith("b"), t);
        assertFalse(Printable.isSafe(s));
        assertEquals(t, Printable.of(s));
    }

    @Test
    void ordinaryTextIsUntouched() {
        String s = "docker.io/library/busybox:1.36@sha256:ab → ünïcødé 漢字 😀 CN=ops,O=Example";
        assertEquals(s, Printable.text(s));
        assertTrue(Printable.isSafe(s));
    }

    @Test
    void ofCutsLongTextTextDoesNot() {
        String s = "x".repeat(500);
        assertEquals("x".repeat(200) + "…", Printable.of(s));
        assertEquals(s, Printable.text(s));
        assertEquals("null", Printable.of(null));
        assertEquals("", Printable.text(null));
    }

    @Test
    void listsAreCapped() {
        assertEquals("[linux/amd64, linux/amd64, linux/amd64, linux/amd64, linux/amd64 and 9,995 more]",
                Printable.list(Collections.nCopies(10_000, "linux/amd64"), 5));
        assertEquals("[a, b?]", Printable.list(List.of("a", "b\u001b"), 5));
        assertEquals("[]", Printable.list(List.of(), 5));
    }
}
