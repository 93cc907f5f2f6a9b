package dev.airlock.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code airlock serve} refusals through Airlock.run: each is one line and its exit code, before
 * anything listens. (A running serve is exercised on the packaged jar in ServeCommandIT and
 * against real clients in the serve module.)
 */
class ServeCommandTest {
    @TempDir
    static Path dir;

    static Path signed;

    @BeforeAll
    static void bundles() {
        assertEquals(0, CliRun.of("keygen", "--out", dir.resolve("ops").toString()).code());
        assertEquals(0, CliRun.of("keygen", "--out", dir.resolve("other").toString()).code());
        signed = TestBundles.write(dir, "signed.tar", dir.resolve("ops.key"), dir.resolve("ops.crt"));
    }

    static void refused(CliRun r, int code, String text) {
        assertEquals(code, r.code(), r.err());
        assertEquals(1, r.errLines().length, r.err());
        assertTrue(r.errLines()[0].startsWith("airlock: ") && r.errLines()[0].contains(text), r.err());
        assertEquals("", r.out());
    }

    @Test
    void aBundleFailingItsSignatureIsRefusedWithExitCode3() {
        refused(CliRun.of("serve", signed.toString(), "--trust", dir.resolve("other.pub.pem").toString(), "--listen", "127.0.0.1:0"),
                3, "signed by untrusted key");
    }

    @Test
    void usageErrorsAreExitCode2() {
        refused(CliRun.of("serve", signed.toString(), "--listen", "127.0.0.1:0"), 2, "serve needs --trust");
        refused(CliRun.of("serve", signed.toString(), "--allow-unsigned", "--tls-cert", "x.crt"), 2, "--tls-key");
        refused(CliRun.of("serve", signed.toString(), "--allow-unsigned", "--listen", "5000"), 2, "give HOST:PORT");
        refused(CliRun.of("serve", "--allow-unsigned"), 2, "BUNDLE");
    }

    @Test
    void aMissingBundleIsExitCode5() {
        refused(CliRun.of("serve", dir.resolve("nope.tar").toString(), "--allow-unsigned", "--listen", "127.0.0.1:0"), 5, "no such file");
    }

    @Test
    void helpShowsExamplesAndTheOptionGroups() {
        CliRun r = CliRun.of("serve", "--help");
        assertEquals(0, r.code());
        assertTrue(r.out().contains("Examples:") && r.out().contains("airlock serve images.tar --trust ops.pub.pem"), r.out());
        assertTrue(r.out().contains("HTTPS (both or neither):"), r.out());
        assertTrue(r.out().contains("127.0.0.1:5000"), r.out());
    }
}
