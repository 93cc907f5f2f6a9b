package dev.airlock.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.airlock.error.ExitCodes;
import dev.airlock.registry.RegistryOptions;
import dev.airlock.registry.RegistryStore;
import dev.airlock.sign.KeyGen;
import dev.airlock.testkit.RegistryAudit;
import dev.airlock.testkit.RegistryProcess;
import dev.airlock.testkit.TestImages;
import dev.airlock.testkit.TestImages.TestImage;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Issue 20 item 2: two source registries each hold {@code rancher/pause:3.1}, with different
 * digests. Mapped to one target without the registry host they would land on one tag, the last
 * one silently winning: import, its dry run and sync refuse before anything is pushed, naming both
 * sources and the option that separates them; with {@code --keep-registry-host} both arrive.
 */
class TagCollisionTest {
    @TempDir
    static Path tmp;
    static RegistryProcess hostA;
    static RegistryProcess hostB;
    static TestImage pauseA;
    static TestImage pauseB;
    static KeyGen.Result key;
    static Path bundle;
    static String refA;
    static String refB;

    @BeforeAll
    static void start() {
        hostA = RegistryProcess.start();
        hostB = RegistryProcess.start();
        pauseA = TestImages.image("pause").docker().platforms("linux/amd64", "linux/arm64").baseSeed(11).tag("3.1").build();
        pauseB = TestImages.image("pause").oci().platforms("linux/amd64", "linux/arm/v7").baseSeed(12).tag("3.1").build();
        assertNotEquals(pauseA.top().digest(), pauseB.top().digest());
        try (RegistryStore a = RegistryStore.open(hostA.host(), RegistryOptions.anonymous());
             RegistryStore b = RegistryStore.open(hostB.host(), RegistryOptions.anonymous())) {
            pauseA.pushTo(a, "rancher/pause");
            pauseB.pushTo(b, "rancher/pause");
        }
        refA = hostA.host() + "/rancher/pause:3.1";
        refB = hostB.host() + "/rancher/pause:3.1";
        key = KeyGen.generate(tmp.resolve("ops"), Optional.empty());
        bundle = tmp.resolve("two-hosts.tar");
        CliRun e = CliRun.of("export", refA, refB, "-o", bundle.toString(), "--sign-key", key.privateKey().toString(),
                "--cache", tmp.resolve("cache").toString(), "-q");
        assertEquals(0, e.code(), e.err());
    }

    @AfterAll
    static void stop() {
        for (RegistryProcess r : new RegistryProcess[] {hostA, hostB}) {
            if (r != null) {
                r.close();
            }
        }
    }

    private static void refused(CliRun r) {
        List<String> lines = r.err().lines().filter(l -> !l.isBlank()).toList();
        assertEquals(ExitCodes.USAGE, r.code(), r.err());
        assertEquals(1, lines.size(), r.err());
        String line = lines.get(0);
        assertTrue(line.contains(refA + " and " + refB + " both map to "), line);
        assertTrue(line.contains("--keep-registry-host"), line);
    }

    @Test
    void importAndItsDryRunRefuseBeforeAnythingIsPushed() {
        try (RegistryProcess target = RegistryProcess.start()) {
            refused(CliRun.of("import", bundle.toString(), "--to", target.host() + "/mirror", "--trust", key.publicKey().toString(), "--dry-run"));
            refused(CliRun.of("import", bundle.toString(), "--to", target.host() + "/mirror", "--trust", key.publicKey().toString()));
            RegistryAudit.assertEmpty(target);

            CliRun ok = CliRun.of("import", bundle.toString(), "--to", target.host() + "/mirror", "--trust", key.publicKey().toString(),
                    "--keep-registry-host", "-q");
            assertEquals(0, ok.code(), ok.err());
            try (RegistryStore t = RegistryStore.open(target.host(), RegistryOptions.anonymous())) {
                assertEquals(pauseA.top().digest(), t.headManifest("mirror/" + hostA.host().replace(':', '_') + "/rancher/pause", "3.1")
                        .orElseThrow().digest());
                assertEquals(pauseB.top().digest(), t.headManifest("mirror/" + hostB.host().replace(':', '_') + "/rancher/pause", "3.1")
                        .orElseThrow().digest());
            }
        }
    }

    @Test
    void syncRefusesBeforeAnythingIsPushed() {
        try (RegistryProcess target = RegistryProcess.start()) {
            refused(CliRun.of("sync", refA, refB, "--to", target.host() + "/mirror"));
            refused(CliRun.of("sync", refA, refB, "--to", target.host() + "/mirror", "--dry-run"));
            RegistryAudit.assertEmpty(target);
        }
    }
}
