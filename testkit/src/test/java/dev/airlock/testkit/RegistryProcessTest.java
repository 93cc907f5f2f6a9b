package dev.airlock.testkit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.airlock.model.ImageConfig;
import dev.airlock.model.ImageIndex;
import dev.airlock.model.ManifestView;
import java.net.HttpURLConnection;
import java.net.URI;
import java.nio.file.Files;
import org.junit.jupiter.api.Test;

class RegistryProcessTest {

    private static int status(RegistryProcess r) throws Exception {
        HttpURLConnection c = (HttpURLConnection) URI.create("http://" + r.host() + "/v2/").toURL().openConnection();
        try {
            return c.getResponseCode();
        } finally {
            c.disconnect();
        }
    }

    @Test
    void startsOnLoopbackKillsAndRestartsWithSameStorage() throws Exception {
        try (RegistryProcess r = RegistryProcess.start()) {
            assertTrue(r.host().startsWith("127.0.0.1:"));
            assertEquals(200, status(r));
            r.kill();
            assertFalse(r.isRunning());
            r.restart();
            assertEquals(200, status(r));
            assertTrue(Files.isDirectory(r.storage()));
        }
    }

    @Test
    void testImagesAreDeterministicAndPlatformsMatchConfigs() {
        var a = TestImages.image("app").attestation().build();
        var b = TestImages.image("app").attestation().build();
        assertEquals(a.top().digest(), b.top().digest());
        ImageIndex index = (ImageIndex) ManifestView.parse(a.top());
        assertEquals(6, index.manifests().size(), "3 platforms + 3 attestations");
        for (var p : a.platforms()) {
            assertTrue(ImageConfig.parse(p.config().bytes(), "config").platform().matches(p.platform()));
        }
        var other = TestImages.image("other").build();
        assertNotEquals(a.top().digest(), other.top().digest());
        long shared = other.blobs().stream().filter(x -> a.blobs().stream().anyMatch(y -> y.digest().equals(x.digest()))).count();
        assertEquals(4, shared, "common layer + 3 per-platform base layers are shared");
        var odd = TestImages.image("app").oddJson().build();
        assertNotEquals(a.top().digest(), odd.top().digest());
        assertEquals(ManifestView.parse(odd.top()).references().size(), index.references().size() - 3);
    }
}
