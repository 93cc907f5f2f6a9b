package dev.airlock.model;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.airlock.error.ExitCodes;
import dev.airlock.error.InvalidContentException;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * Keys equal ignoring case: Go's encoding/json (containerd, skopeo, docker, Distribution) matches
 * struct fields ignoring case and keeps the LAST match, so {@code {"architecture":"amd64",
 * "Architecture":"arm64"}} is amd64 to a case-sensitive reader and arm64 to them.
 */
class JsonStrictKeysTest {
    private static final String D = "sha256:" + "b".repeat(64);

    private static InvalidContentException refused(String json) {
        return assertThrows(InvalidContentException.class, () -> Json.parse(json.getBytes(StandardCharsets.UTF_8), "index sha256:x"));
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
        // a platform with a case-variant key: Go clients read arm64
        "{\"manifests\":[{\"platform\":{\"architecture\":\"amd64\",\"os\":\"linux\",\"Architecture\":\"arm64\"}}]}|architecture|Architecture",
        // a second Platform object beside platform
        "{\"manifests\":[{\"platform\":{\"os\":\"linux\"},\"Platform\":{\"os\":\"windows\"}}]}|platform|Platform",
        // Config beside config in a manifest (Distribution itself reads the other one)
        "{\"schemaVersion\":2,\"config\":{},\"Config\":{}}|config|Config",
        // Go folds the long s (U+017F) to s and the Kelvin sign (U+212A) to k
        "{\"os\":\"linux\",\"o\u017f\":\"windows\"}|os|o\u017f",
        "{\"mediaType\":\"a\",\"MEDIATYPE\":\"b\"}|mediaType|MEDIATYPE",
    })
    void keysEqualIgnoringCaseAreRefusedNamingBoth(String json, String first, String second) {
        InvalidContentException e = refused(json);
        assertTrue(e.getMessage().startsWith("index sha256:x has keys \"" + first + "\" and \"" + second + "\""), e.getMessage());
        assertTrue(e.getMessage().contains("equal ignoring case"), e.getMessage());
        assertEquals(ExitCodes.VERIFICATION, e.exitCode());
        assertEquals(1, e.getMessage().lines().count());
    }

    @Test
    void theKelvinSignFoldsLikeGo() {
        assertEquals(Json.fold("kind"), Json.fold("\u212Aind"));
        refused("{\"kind\":1,\"\u212Aind\":2}");
    }

    @Test
    void mapsKeepCaseDistinctKeys() {
        // Go reads these as map[string]...: "Foo" and "foo" are two labels, not one field
        Json.parse(("{\"annotations\":{\"org.example\":\"a\",\"org.EXAMPLE\":\"b\"},\"config\":{\"Labels\":{\"vendor\":\"a\",\"Vendor\":\"b\"},"
                + "\"ExposedPorts\":{\"80/tcp\":{},\"80/TCP\":{}},\"Volumes\":{\"/a\":{},\"/A\":{}}},"
                + "\"manifests\":[{\"digest\":\"" + D + "\",\"annotations\":{\"a\":\"1\",\"A\":\"2\"}}]}").getBytes(StandardCharsets.UTF_8), "x");
        // but inside a map's values the struct rule applies again
        refused("{\"config\":{\"Labels\":{\"a\":\"1\"},\"labels\":{}}}");
    }

    @Test
    void exactDuplicatesStayRefused() {
        assertTrue(refused("{\"os\":\"linux\",\"os\":\"windows\"}").getMessage().contains("Duplicate field 'os'"));
    }

    @Test
    void aByteOrderMarkIsRefusedUpFront() {
        byte[] bom = {(byte) 0xef, (byte) 0xbb, (byte) 0xbf, '{', '}'};
        InvalidContentException e = assertThrows(InvalidContentException.class, () -> Json.parse(bom, "manifest sha256:y"));
        assertEquals("manifest sha256:y starts with a UTF-8 byte order mark (not valid JSON for registries and Go clients)", e.getMessage());
        assertThrows(InvalidContentException.class, () -> RawManifest.of(MediaType.OCI_MANIFEST, bom).view());
    }

    @Test
    void hostileKeysAreQuotedSafely() {
        String m = refused("{\"os\":1,\"O\\u001b[2KS\":2,\"o\\u001b[2ks\":3}").getMessage();
        assertTrue(m.contains("\"O?[2KS\" and \"o?[2ks\""), m);
    }
}
