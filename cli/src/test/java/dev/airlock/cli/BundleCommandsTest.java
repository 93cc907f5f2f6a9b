package dev.airlock.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.airlock.bundle.BundleArchive;
import dev.airlock.bundle.BundleManifest.FileEntry;
import dev.airlock.error.ExitCodes;
import dev.airlock.sign.TrustPolicy;
import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermission;
import java.util.Comparator;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** keygen, verify and inspect through Airlock.run on real keys and real bundles. */
class BundleCommandsTest {
    @TempDir
    static Path dir;
    static Path signed;
    static Path unsigned;

    @BeforeAll
    static void keysAndBundles() {
        CliRun k = CliRun.of("keygen", "--out", dir.resolve("ops").toString(), "--subject", "CN=ops test,O=Airlock");
        assertEquals(0, k.code(), k.err());
        CliRun other = CliRun.of("keygen", "-o", dir.resolve("other").toString());
        assertEquals(0, other.code(), other.err());
        signed = TestBundles.write(dir, "signed.tar", dir.resolve("ops.key"), dir.resolve("ops.crt"));
        unsigned = TestBundles.write(dir, "unsigned.tar", null, null);
    }

    @Test
    void keygenWritesKeyPairAndCertificateThatOpensslReads() throws Exception {
        assertEquals(Set.of(PosixFilePermission.OWNER_READ, PosixFilePermission.OWNER_WRITE),
                Files.getPosixFilePermissions(dir.resolve("ops.key")));
        String pubFromKey = exec("openssl", "pkey", "-in", dir.resolve("ops.key").toString(), "-pubout");
        assertEquals(Files.readString(dir.resolve("ops.pub.pem")).strip(), pubFromKey.strip());
        String subject = exec("openssl", "x509", "-in", dir.resolve("ops.crt").toString(), "-noout", "-subject");
        assertTrue(subject.contains("CN = ops test"), subject);
        String crtPub = exec("openssl", "x509", "-in", dir.resolve("ops.crt").toString(), "-noout", "-pubkey");
        assertEquals(pubFromKey.strip(), crtPub.strip());
    }

    @Test
    void keygenRefusesToOverwrite() {
        CliRun r = CliRun.of("keygen", "--out", dir.resolve("ops").toString());
        assertEquals(ExitCodes.USAGE, r.code());
        assertEquals(1, r.errLines().length, r.err());
        assertTrue(r.err().contains("refusing to overwrite"), r.err());
    }

    @Test
    void verifyTrustedBundlePrintsSummary() {
        CliRun r = CliRun.of("verify", signed.toString(), "--trust", dir.resolve("ops.pub.pem").toString());
        assertEquals(0, r.code(), r.err());
        assertTrue(r.out().startsWith("OK\n"), r.out());
        assertTrue(r.out().contains(TestBundles.REFERENCE), r.out());
        assertTrue(r.out().contains("linux/amd64, linux/arm64, linux/arm/v7"), r.out());
        assertTrue(r.out().matches("(?s).*signed by sha256:[0-9a-f]{64} \\([^)]*CN=ops test[^)]*\\), trusted.*"), r.out());
        assertTrue(r.err().lines().allMatch(l -> l.startsWith("verifying done: ")), "only progress on stderr: " + r.err());
    }

    @Test
    void verifyJsonAndReport() throws IOException {
        Path report = dir.resolve("verify-report.json");
        CliRun r = CliRun.of("verify", signed.toString(), "--trust", dir.resolve("ops.crt").toString(), "--json", "--quiet",
                "--report", report.toString());
        assertEquals(0, r.code(), r.err());
        JsonNode json = new ObjectMapper().readTree(r.out());
        assertTrue(json.get("ok").asBoolean());
        assertEquals("TRUSTED", json.get("signature").asText());
        assertEquals(3, json.get("images").get(0).get("platforms").size());
        assertEquals(json, new ObjectMapper().readTree(Files.readString(report, StandardCharsets.UTF_8)));
    }

    @Test
    void verifyByAnUntrustedKeyFailsWithExitThree() {
        CliRun r = CliRun.of("verify", signed.toString(), "--trust", dir.resolve("other.pub.pem").toString(), "-q");
        assertEquals(ExitCodes.VERIFICATION, r.code(), r.err());
        assertEquals(1, r.errLines().length, r.err());
        assertTrue(r.err().startsWith("airlock: "), r.err());
        assertEquals("", r.out());
    }

    @Test
    void verifyNeedsTrustOrAllowUnsigned() {
        CliRun r = CliRun.of("verify", unsigned.toString());
        assertEquals(ExitCodes.USAGE, r.code());
        assertTrue(r.err().contains("--trust"), r.err());
        CliRun ok = CliRun.of("verify", unsigned.toString(), "--allow-unsigned");
        assertEquals(0, ok.code(), ok.err());
        assertTrue(ok.out().contains("signature  unsigned"), ok.out());
        CliRun refused = CliRun.of("verify", unsigned.toString(), "--trust", dir.resolve("ops.pub.pem").toString(), "-q");
        assertEquals(ExitCodes.VERIFICATION, refused.code(), refused.err());
    }

    @Test
    void oneFlippedLayerByteFailsWithOneLineAndAFailureReport() throws IOException {
        Path tampered = dir.resolve("tampered.tar");
        Files.copy(signed, tampered);
        FileEntry layer;
        try (BundleArchive a = BundleArchive.open(signed, TrustPolicy.allowUnsignedOnly())) {
            layer = a.manifest().files().stream().filter(FileEntry::isBlob).max(Comparator.comparingLong(FileEntry::size)).orElseThrow();
        }
        long header = headerOf(tampered, layer.path());
        try (RandomAccessFile f = new RandomAccessFile(tampered.toFile(), "rw")) {
            long pos = header + 512 + layer.size() / 2;
            f.seek(pos);
            int b = f.read();
            f.seek(pos);
            f.write(b ^ 0x01);
        }
        Path report = dir.resolve("fail-report.json");
        CliRun r = CliRun.of("verify", tampered.toString(), "--trust", dir.resolve("ops.pub.pem").toString(), "-q",
                "--report", report.toString());
        assertEquals(ExitCodes.VERIFICATION, r.code(), r.err());
        assertEquals(1, r.errLines().length, r.err());
        assertTrue(r.err().contains(layer.sha256().hex().substring(0, 12)), r.err());
        assertFalse(r.err().contains("\tat "), r.err());
        JsonNode json = new ObjectMapper().readTree(Files.readString(report));
        assertFalse(json.get("ok").asBoolean());
        assertEquals(ExitCodes.VERIFICATION, json.get("exitCode").asInt());
        assertEquals("airlock verify", json.get("command").asText());
    }

    @Test
    void missingBundleIsAnIoError() {
        CliRun r = CliRun.of("verify", dir.resolve("nope.tar").toString(), "--allow-unsigned", "-q");
        assertEquals(ExitCodes.IO, r.code(), r.err());
        assertEquals(1, r.errLines().length, r.err());
    }

    @Test
    void inspectShowsImagesPlatformsSizesSignerAndTime() throws IOException {
        CliRun r = CliRun.of("inspect", signed.toString());
        assertEquals(0, r.code(), r.err());
        assertTrue(r.out().contains(TestBundles.REFERENCE), r.out());
        assertTrue(r.out().contains("platforms  linux/amd64, linux/arm64, linux/arm/v7"), r.out());
        assertTrue(r.out().contains("signed by sha256:"), r.out());
        assertTrue(r.out().contains("not checked against a trusted key"), r.out());
        assertTrue(r.out().contains("created    "), r.out());
        assertTrue(r.out().contains("    size       "), r.out());

        CliRun j = CliRun.of("inspect", signed.toString(), "--json", "--trust", dir.resolve("ops.pub.pem").toString());
        assertEquals(0, j.code(), j.err());
        JsonNode json = new ObjectMapper().readTree(j.out());
        assertEquals("TRUSTED", json.get("signature").asText());
        assertTrue(json.get("certificateSubject").asText().contains("CN=ops test"), json.toString());
        JsonNode image = json.get("images").get(0);
        assertEquals(TestBundles.REFERENCE, image.get("reference").asText());
        long size = image.get("size").asLong();
        long listed = 0;
        try (BundleArchive a = BundleArchive.open(signed, TrustPolicy.allowUnsignedOnly())) {
            listed = a.manifest().files().stream().filter(FileEntry::isBlob).mapToLong(FileEntry::size).sum();
        }
        assertEquals(listed, size, "one image: its size is every blob of the bundle");
    }

    private static long headerOf(Path file, String text) throws IOException {
        byte[] all = Files.readAllBytes(file);
        byte[] needle = text.getBytes(StandardCharsets.US_ASCII);
        outer:
        for (int i = 0; i + needle.length <= all.length; i += 512) { // a tar header's name field starts a block
            for (int j = 0; j < needle.length; j++) {
                if (all[i + j] != needle[j]) {
                    continue outer;
                }
            }
            return i;
        }
        throw new AssertionError(text + " not found in " + file);
    }

    static String exec(String... command) throws Exception {
        Process p = new ProcessBuilder(List.of(command)).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(30, TimeUnit.SECONDS));
        assertEquals(0, p.exitValue(), String.join(" ", command) + ": " + out);
        return out;
    }
}
