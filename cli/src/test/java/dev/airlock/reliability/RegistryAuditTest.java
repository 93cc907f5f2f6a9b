package dev.airlock.reliability;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.airlock.registry.RegistryOptions;
import dev.airlock.registry.RegistryStore;
import dev.airlock.testkit.RegistryAudit;
import dev.airlock.testkit.RegistryProcess;
import dev.airlock.testkit.TestImages;
import dev.airlock.testkit.TestImages.TestImage;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;

/** The checker the fault tests rely on must itself find broken graphs. */
class RegistryAuditTest {
    @Test
    void findsNothingInAnEmptyRegistryAndAConsistentGraphAfterAPush() {
        try (RegistryProcess reg = RegistryProcess.start()) {
            RegistryAudit.assertEmpty(reg);
            TestImage img = TestImages.image("audit").attestation().layerSize(4096).build();
            try (RegistryStore s = RegistryStore.open(reg.host(), RegistryOptions.anonymous())) {
                img.pushTo(s, "a/b");
            }
            RegistryAudit.Report r = RegistryAudit.assertConsistent(reg);
            assertEquals(1, r.tagCount());
            assertEquals(1 + img.children().size(), r.manifests(), r.toString());
            assertFalse(r.empty());
            assertThrows(AssertionError.class, () -> RegistryAudit.assertEmpty(reg));
        }
    }

    @Test
    void reportsATagWhoseGraphLostALayer() throws Exception {
        try (RegistryProcess reg = RegistryProcess.start()) {
            TestImage img = TestImages.image("audit").layerSize(4096).build();
            try (RegistryStore s = RegistryStore.open(reg.host(), RegistryOptions.anonymous())) {
                img.pushTo(s, "a/b");
            }
            var layer = img.platforms().get(1).layers().get(1).digest();
            Path data = reg.storage().resolve("docker/registry/v2/blobs/sha256").resolve(layer.hex().substring(0, 2))
                    .resolve(layer.hex()).resolve("data");
            Files.delete(data);
            RegistryAudit.Report r = RegistryAudit.of(reg);
            assertFalse(r.consistent());
            assertTrue(r.problems().stream().anyMatch(p -> p.contains(layer.toString())), r.toString());
            assertThrows(AssertionError.class, () -> RegistryAudit.assertConsistent(reg));
        }
    }

    @Test
    void reportsAnIndexWhoseChildManifestIsGone() throws Exception {
        try (RegistryProcess reg = RegistryProcess.start()) {
            TestImage img = TestImages.image("audit").layerSize(4096).build();
            try (RegistryStore s = RegistryStore.open(reg.host(), RegistryOptions.anonymous())) {
                img.pushTo(s, "a/b");
            }
            var child = img.children().get(0).digest();
            Path data = reg.storage().resolve("docker/registry/v2/blobs/sha256").resolve(child.hex().substring(0, 2))
                    .resolve(child.hex()).resolve("data");
            Files.delete(data);
            RegistryAudit.Report r = RegistryAudit.of(reg);
            assertTrue(r.problems().stream().anyMatch(p -> p.contains(child.toString()) || p.contains(child.hex())), r.toString());
        }
    }
}
