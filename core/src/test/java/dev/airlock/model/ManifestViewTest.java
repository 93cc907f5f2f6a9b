package dev.airlock.model;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.airlock.error.InvalidContentException;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class ManifestViewTest {
    private static final String D = "sha256:" + "b".repeat(64);
    private static final String CFG = "{\"mediaType\":\"application/vnd.oci.image.config.v1+json\",\"digest\":\"" + D + "\",\"size\":2}";

    private static RawManifest oci(String json) {
        return RawManifest.of(MediaType.OCI_MANIFEST, json.getBytes(StandardCharsets.UTF_8));
    }

    @Test
    void keepsBytesAndDigestOfWhatArrived() {
        String json = "{ \"schemaVersion\" : 2,\n \"config\":" + CFG + ",\"layers\":[ ]}\n";
        RawManifest m = oci(json);
        assertEquals(Digest.sha256(json.getBytes(StandardCharsets.UTF_8)), m.digest());
        ImageManifest v = (ImageManifest) m.view();
        assertEquals(D, v.config().digest().toString());
        assertEquals(json, m.text());
    }

    @ParameterizedTest
    @ValueSource(strings = {
        "{\"schemaVersion\":2,\"schemaVersion\":2,\"config\":CFG,\"layers\":[]}",
        "{\"schemaVersion\":2,\"config\":CFG,\"layers\":[]} {}",
        "{\"schemaVersion\":2,\"config\":CFG,\"layers\":[]}garbage",
        "{\"schemaVersion\":1,\"config\":CFG,\"layers\":[]}",
        "{\"schemaVersion\":2,\"layers\":[]}",
        "{\"schemaVersion\":2,\"config\":CFG}",
        "{\"schemaVersion\":2,\"config\":{\"mediaType\":\"x/y\",\"digest\":\"sha256:zz\",\"size\":1},\"layers\":[]}",
        "{\"schemaVersion\":2,\"config\":{\"mediaType\":\"x/y\",\"digest\":\"sha256:bbbb\",\"size\":-1},\"layers\":[]}",
        "{\"schemaVersion\":2,\"mediaType\":\"application/vnd.oci.image.index.v1+json\",\"config\":CFG,\"layers\":[]}",
        "{\"schemaVersion\":2,\"config\":CFG,\"layers\":[],\"manifests\":[]}",
        "[1,2,3]",
        "",
        "{\"schemaVersion\":2,\"config\":CFG,\"layers\":[],\"annotations\":{\"a\":1}}",
        "{\"schemaVersion\":2,\"config\":CFG,\"layers\":[DEEP]}",
    })
    void rejectsMalformedWithOneLine(String json) {
        InvalidContentException e = assertThrows(InvalidContentException.class, () -> oci(json.replace("CFG", CFG).replace("DEEP", "[".repeat(100) + "]".repeat(100))).view());
        assertTrue(e.getMessage().contains("manifest sha256:"), e.getMessage());
        assertTrue(!e.getMessage().contains("\n"), e.getMessage());
    }

    @Test
    void indexEntriesMustBeManifestsAndCarryPlatforms() {
        String entry = "{\"mediaType\":\"application/vnd.oci.image.manifest.v1+json\",\"digest\":\"" + D
                + "\",\"size\":10,\"platform\":{\"architecture\":\"arm\",\"os\":\"linux\",\"variant\":\"v7\"}}";
        RawManifest idx = RawManifest.of(MediaType.OCI_INDEX, ("{\"schemaVersion\":2,\"manifests\":[" + entry + "]}").getBytes(StandardCharsets.UTF_8));
        ImageIndex v = (ImageIndex) idx.view();
        assertEquals(Platform.parse("linux/arm/v7"), v.manifests().get(0).platform().orElseThrow());
        RawManifest bad = RawManifest.of(MediaType.OCI_INDEX, ("{\"schemaVersion\":2,\"manifests\":[" + CFG + "]}").getBytes(StandardCharsets.UTF_8));
        assertThrows(InvalidContentException.class, bad::view);
    }

    @Test
    void dockerManifestsMustDeclareTheirMediaType() {
        RawManifest m = RawManifest.of(MediaType.DOCKER_MANIFEST, ("{\"schemaVersion\":2,\"config\":" + CFG + ",\"layers\":[]}").getBytes(StandardCharsets.UTF_8));
        assertThrows(InvalidContentException.class, m::view);
    }

    @Test
    void digestParsingIsStrict() {
        assertEquals(D, Digest.parse(D).toString());
        for (String s : new String[] {"sha256:" + "B".repeat(64), "sha256:abc", "md5:" + "a".repeat(32), "sha256" + "a".repeat(64), ""}) {
            assertThrows(InvalidContentException.class, () -> Digest.parse(s), s);
        }
    }
}
