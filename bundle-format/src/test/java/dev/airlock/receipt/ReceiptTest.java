package dev.airlock.receipt;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.airlock.error.AirlockException;
import dev.airlock.error.ExitCodes;
import dev.airlock.model.Digest;
import dev.airlock.model.ImageReference;
import dev.airlock.sign.KeyGen;
import dev.airlock.sign.SignatureInfo;
import dev.airlock.sign.Signer;
import dev.airlock.sign.TrustPolicy;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/** Receipts: strict parsing, signatures checked with the trusted keys, and openssl verifying what was written. */
class ReceiptTest {
    @TempDir
    Path tmp;

    private static final Digest M = Digest.sha256("m".getBytes(StandardCharsets.UTF_8));
    private static final Digest B = Digest.sha256("b".getBytes(StandardCharsets.UTF_8));

    static Receipt sample() {
        return Receipt.create(UUID.fromString("00000000-0000-4000-8000-000000000002"), Instant.parse("2026-12-01T00:00:00Z"), "test",
                new Receipt.Target("reg.local:5000", "mirror"), List.of(UUID.fromString("00000000-0000-4000-8000-000000000003")),
                List.of(new Receipt.Image(ImageReference.parse("example.org/a:1"), ImageReference.parse("reg.local:5000/mirror/a:1"),
                                Optional.of(M), List.of(M), List.of(new Receipt.Blob(B, 1))),
                        Receipt.Image.absent(ImageReference.parse("example.org/b:1"), ImageReference.parse("reg.local:5000/mirror/b:1"))));
    }

    @Test
    void roundTrips() {
        Receipt r = Receipt.parse(sample().bytes(), "receipt r");
        assertEquals(2, r.images().size());
        assertTrue(r.images().get(0).present());
        assertTrue(!r.images().get(1).present());
        assertEquals(List.of(new Receipt.Blob(B, 1)), r.images().get(0).blobs());
        assertEquals("mirror", r.target().prefix());
    }

    static Stream<Arguments> bad() {
        String ok = new String(sample().bytes(), StandardCharsets.UTF_8);
        return Stream.of(
                Arguments.of("duplicate key", ok.replace("{\"receiptVersion\":1,", "{\"receiptVersion\":1,\"receiptVersion\":1,"), "duplicate"),
                Arguments.of("newer version", ok.replace("\"receiptVersion\":1", "\"receiptVersion\":3"), "receiptVersion 3; this Airlock reads receipt versions 1 to 2: use a newer Airlock"),
                Arguments.of("artifacts in version 1", ok.replace("\"blobs\":[{", "\"artifacts\":[{\"subject\":\"" + M + "\",\"digest\":\"" + M
                        + "\",\"foundBy\":\"referrers-tag\"}],\"blobs\":[{"), "which receipt version 1 does not have"),
                Arguments.of("unknown field", ok.replace("\"bundles\":", "\"extra\":0,\"bundles\":"), "unknown field 'extra'"),
                Arguments.of("trailing data", ok + "{}", "trailing"),
                Arguments.of("absent with a digest", ok.replace("\"present\":false", "\"present\":false,\"digest\":\"" + M + "\""), "absent but has a digest"),
                Arguments.of("bad digest", ok.replace(B.toString(), "sha256:xyz"), "invalid digest"),
                Arguments.of("negative size", ok.replace("\"size\":1", "\"size\":-1"), "out of range"),
                Arguments.of("top not among its manifests", ok.replace("\"manifests\":[\"" + M + "\"]", "\"manifests\":[]"), "not among its manifests"),
                Arguments.of("not normalised", ok.replace("\"source\":\"example.org/a:1\"", "\"source\":\"busybox:1\""), "source"));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("bad")
    void isRefusedWithOneLineAndExit3(String name, String text, String expected) {
        AirlockException e = assertThrows(AirlockException.class, () -> Receipt.parse(text.getBytes(StandardCharsets.UTF_8), "receipt r"));
        assertEquals(ExitCodes.VERIFICATION, e.exitCode());
        assertTrue(e.getMessage().startsWith("receipt r"), e.getMessage());
        assertTrue(e.getMessage().toLowerCase().contains(expected.toLowerCase()), e.getMessage());
    }

    @Test
    void version2RecordsArtifactsAndRefusesOnesItCannotStandBehind() {
        Digest sig = Digest.sha256("s".getBytes(StandardCharsets.UTF_8));
        String tag = "cosign-tag:sha256-" + M.hex() + ".sig";
        Receipt r = Receipt.create(UUID.fromString("00000000-0000-4000-8000-000000000004"), Instant.parse("2026-12-01T00:00:00Z"), "test",
                new Receipt.Target("reg.local:5000", "mirror"), List.of(),
                List.of(new Receipt.Image(ImageReference.parse("example.org/a:1"), ImageReference.parse("reg.local:5000/mirror/a:1"),
                        Optional.of(M), List.of(M, sig), List.of(new Receipt.Blob(B, 1)), List.of(new Receipt.Attached(M, sig, tag)))));
        String ok = new String(r.bytes(), StandardCharsets.UTF_8);
        assertTrue(ok.startsWith("{\"receiptVersion\":2,"), ok);
        assertEquals(List.of(new Receipt.Attached(M, sig, tag)), Receipt.parse(r.bytes(), "receipt r").images().get(0).artifacts());
        for (String[] bad : new String[][] {
                {ok.replace(tag, "cosign-tag:sha256-" + sig.hex() + ".sig"), "cosign tag naming its subject"},
                {ok.replace("\"manifests\":[\"" + M + "\",\"" + sig + "\"]", "\"manifests\":[\"" + M + "\"]"), "must be among the image's manifests"},
                {ok.replace("\"artifacts\":[{", "\"artifacts\":[{\"subject\":\"" + M + "\",\"digest\":\"" + sig + "\",\"foundBy\":\"" + tag + "\"},{"), "twice"},
                {ok.replace("\"foundBy\":\"" + tag + "\"", "\"foundBy\":\"guessed\""), "expected referrers-api"}}) {
            AirlockException e = assertThrows(AirlockException.class, () -> Receipt.parse(bad[0].getBytes(StandardCharsets.UTF_8), "receipt r"));
            assertEquals(ExitCodes.VERIFICATION, e.exitCode());
            assertTrue(e.getMessage().startsWith("receipt r") && e.getMessage().contains(bad[1]), e.getMessage());
        }
    }

    @Test
    void signedReceiptsVerifyWithOpensslAndOneChangedByteIsRefused() throws Exception {
        KeyGen.Result k = KeyGen.generate(tmp.resolve("site"), Optional.of("CN=site"));
        Path f = tmp.resolve("r.json");
        ReceiptFiles.write(f, sample(), Optional.of(Signer.load(k.privateKey(), Optional.of(k.certificate()))));
        assertTrue(Files.exists(Path.of(f + ".sig")) && Files.exists(Path.of(f + ".p7s")));
        assertEquals(0, run("openssl", "dgst", "-sha256", "-verify", k.publicKey().toString(), "-signature", f + ".sig", f.toString()));
        assertEquals(0, run("openssl", "cms", "-verify", "-binary", "-inform", "DER", "-content", f.toString(), "-in", f + ".p7s",
                "-CAfile", k.certificate().toString(), "-purpose", "any", "-out", "/dev/null"));
        TrustPolicy trust = TrustPolicy.fromFiles(List.of(k.publicKey()), false);
        assertEquals(SignatureInfo.Status.TRUSTED, ReceiptFiles.read(f, trust).signature().status());

        byte[] b = Files.readAllBytes(f);
        b[b.length - 3] ^= 1;
        Files.write(f, b);
        AirlockException e = assertThrows(AirlockException.class, () -> ReceiptFiles.read(f, trust));
        assertEquals(ExitCodes.VERIFICATION, e.exitCode());
        assertTrue(e.getMessage().contains("does not verify"), e.getMessage());

        Path unsigned = tmp.resolve("u.json");
        ReceiptFiles.write(unsigned, sample(), Optional.empty());
        assertTrue(assertThrows(AirlockException.class, () -> ReceiptFiles.read(unsigned, trust)).getMessage().contains("is not signed"));
        assertEquals(SignatureInfo.Status.UNSIGNED, ReceiptFiles.read(unsigned, TrustPolicy.fromFiles(List.of(), true)).signature().status());
    }

    private static int run(String... cmd) throws Exception {
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        p.getInputStream().readAllBytes();
        assertTrue(p.waitFor(60, TimeUnit.SECONDS));
        return p.exitValue();
    }
}
