package dev.airlock.model;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.airlock.error.UsageException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

class PlatformTest {
    @ParameterizedTest(name = "{0} ≡ {1}: {2}")
    @CsvSource(textBlock = """
            linux/arm64,     linux/arm64/v8,  true
            linux/aarch64,   linux/arm64,     true
            linux/x86_64,    linux/amd64,     true
            linux/amd64,     linux/amd64/v1,  true
            linux/arm/v7,    linux/arm/7,     true
            linux/armhf,     linux/arm/v7,    true
            linux/arm/v7,    linux/arm/v6,    false
            linux/arm/v5,    linux/arm,       false
            linux/arm64,     linux/arm/v8,    false
            linux/amd64,     windows/amd64,   false
            linux/386,       linux/i386,      true
            linux/ppc64le,   linux/ppc64le,   true
            linux/s390x,     linux/s390x,     true
            linux/riscv64,   linux/riscv64,   true
            linux/mips64le,  linux/mips64le,  true
            """)
    void matchesAfterNormalisation(String a, String b, boolean same) {
        assertEquals(same, Platform.parse(a).matches(Platform.parse(b)));
        assertEquals(same, Platform.parse(b).matches(Platform.parse(a)));
    }

    @Test
    void keepsValuesAsGivenAndPrintsThem() {
        assertEquals("linux/arm/v7", Platform.parse("linux/arm/v7").toString());
        assertEquals("linux/arm64", Platform.parse("linux/arm64").toString());
        assertEquals("linux/arm64/v8", Platform.parse("linux/arm64").normalized().toString());
        assertTrue(Platform.parse("linux/arm").lacksArmVariant());
        assertFalse(Platform.parse("linux/arm/v7").lacksArmVariant());
        assertTrue(Platform.UNKNOWN.isUnknown());
    }

    @Test
    void osVersionComparedOnlyWhenBothHaveOne() {
        Platform w1 = new Platform("windows", "amd64", "", "10.0.17763.1");
        Platform w2 = new Platform("windows", "amd64", "", "10.0.20348.1");
        assertFalse(w1.matches(w2));
        assertTrue(w1.matches(Platform.parse("windows/amd64")));
    }

    @ParameterizedTest
    @ValueSource(strings = {"", "linux", "linux/", "/amd64", "linux/arm/v7/x", "Linux/AMD64 ", "linux/am d64"})
    void rejectsMalformed(String in) {
        assertThrows(UsageException.class, () -> Platform.parse(in));
    }
}
