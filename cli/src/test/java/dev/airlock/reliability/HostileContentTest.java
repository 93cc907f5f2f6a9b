package dev.airlock.reliability;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.airlock.cli.Airlock;
import dev.airlock.error.ExitCodes;
import dev.airlock.model.Descriptor;
import dev.airlock.model.MediaType;
import dev.airlock.model.Platform;
import dev.airlock.model.RawManifest;
import dev.airlock.registry.RegistryOptions;
import dev.airlock.registry.RegistryStore;
import dev.airlock.sign.KeyGen;
import dev.airlock.sign.Signer;
import dev.airlock.testkit.RegistryAudit;
import dev.airlock.testkit.RegistryProcess;
import dev.airlock.testkit.TestImages;
import dev.airlock.testkit.TestImages.TestImage;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.function.UnaryOperator;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Issue 20's hostile content and local input, through the real commands ({@code Airlock.run},
 * in-process) against a real, empty docker-registry: case-variant JSON keys (verify, import, and
 * export from a registry serving such an index), terminal injection through inspect/verify, a
 * source pinned to another digest, index nesting (verify and import agree), and local inputs
 * such as {@code /dev/zero} or a FIFO given as files. Bundles carry a TRUSTED signature where it
 * matters. Every refusal is one line on stderr, its documented exit code, nothing in the
 * registry, no bundle or temporary file written.
 */
class HostileContentTest {
    @TempDir
    static Path keys;
    static Signer signer;
    static Path trust;
    static Path privateKey;
    static TestImage good;
    static RegistryProcess registry;

    @TempDir
    Path dir;

    @BeforeAll
    static void setUp() {
        // the certificate subject itself carries an escape sequence and a forged line
        KeyGen.Result k = KeyGen.generate(keys.resolve("ops"), Optional.of("CN=ops\u001b[2K\u001b[1A,O=x"));
        signer = Signer.load(k.privateKey(), Optional.of(k.certificate()));
        trust = k.publicKey();
        privateKey = k.privateKey();
        good = TestImages.image("victim").oci().layerSize(1024).build();
        registry = RegistryProcess.start();
    }

    @AfterAll
    static void stop() {
        registry.close();
    }

    // ---- item 1: keys equal ignoring case

    /** An index over the amd64 image whose entry's platform is {@code platform} (raw JSON). */
    private static BundleForge caseIndex(String platform) {
        BundleForge f = new BundleForge();
        Descriptor layer = f.add(MediaType.OCI_LAYER_GZIP, TestImages.layer(MediaType.OCI_LAYER_GZIP, "case", 512).bytes());
        Descriptor cfg = f.add(MediaType.OCI_CONFIG, "{\"os\":\"linux\",\"architecture\":\"amd64\"}".getBytes(StandardCharsets.UTF_8));
        String m = "{\"schemaVersion\":2,\"mediaType\":\"" + MediaType.OCI_MANIFEST + "\",\"config\":" + BundleForge.desc(cfg)
                + ",\"layers\":[" + BundleForge.desc(layer) + "]}";
        Descriptor man = f.add(MediaType.OCI_MANIFEST, m.getBytes(StandardCharsets.UTF_8));
        RawManifest idx = RawManifest.of(MediaType.OCI_INDEX, index(man, platform).getBytes(StandardCharsets.UTF_8));
        f.add(MediaType.OCI_INDEX, idx.bytes());
        return f.image("example.com/case:1", idx, List.of(Platform.parse("linux/amd64")));
    }

    private static String index(Descriptor child, String platform) {
        return "{\"schemaVersion\":2,\"mediaType\":\"" + MediaType.OCI_INDEX + "\",\"manifests\":[{\"mediaType\":\"" + child.mediaType()
                + "\",\"digest\":\"" + child.digest() + "\",\"size\":" + child.size() + ",\"platform\":" + platform + "}]}";
    }

    @Test
    void caseVariantArchitectureIsRefusedByVerifyAndImport() {
        Path control = caseIndex("{\"architecture\":\"amd64\",\"os\":\"linux\"}").write(dir.resolve("control.tar"), signer);
        assertEquals(0, run("verify", control.toString(), "--trust", trust.toString(), "-q").code);
        Path p = caseIndex("{\"architecture\":\"amd64\",\"os\":\"linux\",\"Architecture\":\"arm64\"}").write(dir.resolve("case.tar"), signer);
        String line = refused(run("verify", p.toString(), "--trust", trust.toString(), "-q"), ExitCodes.VERIFICATION,
                "has keys \"architecture\" and \"Architecture\" in \"platform\" that are equal ignoring case");
        assertTrue(line.contains("manifest sha256:"), line);
        refusedByImport(p, "has keys \"architecture\" and \"Architecture\"");
    }

    @Test
    void secondPlatformObjectIsRefusedByImport() {
        BundleForge f = caseIndex("{\"architecture\":\"amd64\",\"os\":\"linux\"},\"Platform\":{\"architecture\":\"arm64\",\"os\":\"linux\"}");
        // a .tar is checked whole at open: nothing is pushed
        refusedByImport(f.write(dir.resolve("platform.tar"), signer), "has keys \"platform\" and \"Platform\"");
        // a .tar.zst is read once: the verified child passed before the index may be pushed by
        // digest, but the hostile index is refused as it passes and nothing is tagged
        try (RegistryProcess own = RegistryProcess.start()) {
            Path zst = f.write(dir.resolve("platform.tar.zst"), signer, true, UnaryOperator.identity(), List.of(), 0);
            refused(run("import", zst.toString(), "--to", own.host() + "/hostile", "--trust", trust.toString(), "-q"),
                    ExitCodes.VERIFICATION, "has keys \"platform\" and \"Platform\"");
            assertEquals(0, RegistryAudit.assertConsistent(own).tagCount());
        }
    }

    @Test
    void exportFromARegistryServingACaseVariantIndexFailsBeforeWritingABundle() throws IOException {
        try (RegistryProcess source = RegistryProcess.start();
             RegistryStore s = RegistryStore.open(source.host(), RegistryOptions.anonymous())) {
            TestImage amd = TestImages.image("case").singlePlatform("linux/amd64").layerSize(512).build();
            amd.pushTo(s, "team/case");
            String hostile = index(amd.top().descriptor(), "{\"architecture\":\"amd64\",\"os\":\"linux\",\"Architecture\":\"arm64\"}");
            // Distribution reads it (Go, case-insensitive) and stores it
            s.pushManifest("team/case", "evil", RawManifest.of(MediaType.OCI_INDEX, hostile.getBytes(StandardCharsets.UTF_8)));
            Path out = dir.resolve("out").resolve("case.tar");
            Files.createDirectories(out.getParent());
            Run r = run("export", source.host() + "/team/case:evil", "-o", out.toString(), "--sign-key", privateKey.toString(),
                    "--cache", dir.resolve("cache").toString(), "-q");
            refused(r, ExitCodes.VERIFICATION, "has keys \"architecture\" and \"Architecture\"");
            try (Stream<Path> left = Files.list(out.getParent())) {
                assertEquals(List.of(), left.toList(), "nothing may be written beside the output");
            }
            // sync reads the same index the same way; nothing reaches the target
            Run sync = run("sync", source.host() + "/team/case:evil", "--to", registry.host() + "/mirror", "-q");
            assertTrue(sync.code == ExitCodes.VERIFICATION, sync.code + " " + sync.err);
            assertTrue(sync.err.contains("has keys \"architecture\" and \"Architecture\""), sync.err);
            clean(sync.err);
            RegistryAudit.assertEmpty(registry);
            // control: the plain tag of the same repository exports
            assertEquals(0, run("export", source.host() + "/team/case:" + amd.tag(), "-o", out.toString(), "--cache",
                    dir.resolve("cache").toString(), "-q").code);
        }
    }

    // ---- item 5: terminal injection

    /** bundle.json's tool fields forge a trusted signature line and try to erase the real one. */
    private static final String FORGED_NAME = "forge\\u001b[2K\\r\\nsignature  signed by sha256:" + "f".repeat(64) + ", trusted\\u001b[1A";
    private static final String FORGED_VERSION = "1\\u009b2J\\u001b]0;owned\\u0007\\u202e";

    private Path injected(String name, boolean signed) {
        UnaryOperator<byte[]> tool = b -> {
            String t = new String(b, StandardCharsets.UTF_8);
            String from = "\"tool\":{\"name\":\"forge\",\"version\":\"1\"}";
            assertTrue(t.contains(from), t);
            return t.replace(from, "\"tool\":{\"name\":\"" + FORGED_NAME + "\",\"version\":\"" + FORGED_VERSION + "\"}").getBytes(StandardCharsets.UTF_8);
        };
        return new BundleForge().image("example.com/victim:1.0", good).write(dir.resolve(name), signed ? signer : null, false, tool, List.of(), 0);
    }

    @Test
    void inspectOfAnUnsignedBundleCannotForgeASignatureLine() {
        Run r = run("inspect", injected("unsigned.tar", false).toString());
        assertEquals(0, r.code, r.err);
        clean(r.out);
        assertEquals(List.of("signature  unsigned"), signatureLines(r.out), r.out);
        assertTrue(r.out.contains("by forge?[2K??signature  signed by sha256:"), r.out);
    }

    @Test
    void inspectAndVerifyOfASignedBundleShowTheRealSignatureLine() {
        Path p = injected("signed.tar", true);
        Run inspect = run("inspect", p.toString(), "--trust", trust.toString());
        assertEquals(0, inspect.code, inspect.err);
        clean(inspect.out);
        List<String> lines = signatureLines(inspect.out);
        assertEquals(1, lines.size(), inspect.out);
        assertTrue(lines.get(0).matches("signature  signed by sha256:[0-9a-f]{64} \\(O=x,CN=ops\\?\\[2K\\?\\[1A\\), trusted"), lines.get(0));
        assertFalse(lines.get(0).contains("f".repeat(64)), lines.get(0));
        Run verify = run("verify", p.toString(), "--trust", trust.toString());
        assertEquals(0, verify.code, verify.err);
        clean(verify.out);
        assertEquals(lines, signatureLines(verify.out), verify.out);
        // --json keeps the raw text, escaped
        Run json = run("inspect", p.toString(), "--trust", trust.toString(), "--json");
        clean(json.out);
        assertTrue(json.out.contains("\\u001B[2K") || json.out.contains("\\u001b[2K"), json.out);
    }

    @Test
    void anUntrustedSignerWithAHostileSubjectIsQuotedSafelyInTheError() throws IOException {
        Path p = injected("untrusted.tar", true);
        Path other = KeyGen.generate(dir.resolve("other"), Optional.empty()).publicKey();
        refused(run("verify", p.toString(), "--trust", other.toString(), "-q"), ExitCodes.VERIFICATION, "(O=x,CN=ops?[2K?[1A)");
    }

    private static List<String> signatureLines(String out) {
        return out.lines().filter(l -> l.startsWith("signature ")).toList();
    }

    /** No control character but the line breaks of the output itself, no C1 control, no bidi override. */
    private static void clean(String out) {
        for (int i = 0; i < out.length(); i++) {
            char c = out.charAt(i);
            boolean bad = (c < 0x20 && c != '\n') || (c >= 0x7f && c < 0xa0) || Character.getType(c) == Character.FORMAT;
            assertFalse(bad, "control character U+" + Integer.toHexString(c) + " at " + i + " in: " + out);
        }
    }

    // ---- item 7: a pinned source digest

    @Test
    void sourcePinnedToAnotherDigestIsRefusedAndNothingTagged() {
        String zeros = "sha256:" + "0".repeat(64);
        UnaryOperator<byte[]> pin = b -> new String(b, StandardCharsets.UTF_8)
                .replace("\"source\":\"example.com/victim:1.0\"", "\"source\":\"example.com/victim:1.0@" + zeros + "\"").getBytes(StandardCharsets.UTF_8);
        for (boolean zstd : new boolean[] {false, true}) {
            Path p = new BundleForge().image("example.com/victim:1.0", good)
                    .write(dir.resolve("pinned" + (zstd ? ".tar.zst" : ".tar")), signer, zstd, pin, List.of(), 0);
            refused(run("verify", p.toString(), "--trust", trust.toString(), "-q"), ExitCodes.VERIFICATION,
                    "is pinned to " + zeros + " but the bundle carries " + good.top().digest());
            refusedByImport(p, "is pinned to " + zeros);
        }
    }

    // ---- index nesting: verify and import give the same answer

    private BundleForge nested(int levels) {
        BundleForge f = new BundleForge();
        Descriptor layer = f.add(MediaType.OCI_LAYER_GZIP, TestImages.layer(MediaType.OCI_LAYER_GZIP, "nest" + levels, 512).bytes());
        Descriptor cfg = f.add(MediaType.OCI_CONFIG, "{\"os\":\"linux\",\"architecture\":\"amd64\"}".getBytes(StandardCharsets.UTF_8));
        String m = "{\"schemaVersion\":2,\"mediaType\":\"" + MediaType.OCI_MANIFEST + "\",\"config\":" + BundleForge.desc(cfg)
                + ",\"layers\":[" + BundleForge.desc(layer) + "]}";
        Descriptor child = f.add(MediaType.OCI_MANIFEST, m.getBytes(StandardCharsets.UTF_8));
        RawManifest top = null;
        for (int i = 0; i < levels; i++) {
            top = RawManifest.of(MediaType.OCI_INDEX, index(child, "{\"architecture\":\"amd64\",\"os\":\"linux\"}").getBytes(StandardCharsets.UTF_8));
            child = f.add(MediaType.OCI_INDEX, top.bytes());
        }
        return f.image("example.com/nest:" + levels, top, List.of(Platform.parse("linux/amd64")));
    }

    @Test
    void indexesNestedFiveDeepAreRefusedByVerifyAndByImport() {
        Path p = nested(5).write(dir.resolve("nest5.tar"), signer);
        refused(run("verify", p.toString(), "--trust", trust.toString(), "-q"), ExitCodes.VERIFICATION, "nested deeper than 4");
        refusedByImport(p, "nested deeper than 4");
    }

    @Test
    void indexesNestedFourDeepPassVerifyAndImport() {
        Path p = nested(4).write(dir.resolve("nest4.tar"), signer);
        Run v = run("verify", p.toString(), "--trust", trust.toString(), "-q");
        assertEquals(0, v.code, v.err);
        try (RegistryProcess target = RegistryProcess.start()) {
            Run i = run("import", p.toString(), "--to", target.host() + "/deep", "--trust", trust.toString(), "-q");
            assertEquals(0, i.code, i.err);
            assertEquals(1, RegistryAudit.assertConsistent(target).tagCount());
        }
    }

    // ---- item 8: bounded reads of local input; outputs that are not regular files

    @Test
    void devZeroAsAKeyTrustFileImageListOrCertificateIsOneUsageLine() {
        Path bundle = new BundleForge().image("example.com/victim:1.0", good).write(dir.resolve("ok.tar"), signer);
        String out = dir.resolve("z.tar").toString();
        refused(run("verify", bundle.toString(), "--trust", "/dev/zero", "-q"), ExitCodes.USAGE, "trusted key /dev/zero is larger than 1 MiB");
        refused(run("inspect", bundle.toString(), "--trust", "/dev/zero"), ExitCodes.USAGE, "is larger than 1 MiB");
        refused(run("import", bundle.toString(), "--to", registry.host() + "/z", "--trust", "/dev/zero", "-q"), ExitCodes.USAGE,
                "is larger than 1 MiB");
        refused(run("export", "-f", "/dev/zero", "-o", out, "-q"), ExitCodes.USAGE, "image list /dev/zero is larger than 16 MiB");
        refused(run("sync", "-f", "/dev/zero", "--to", registry.host() + "/z", "-q"), ExitCodes.USAGE, "image list /dev/zero is larger than 16 MiB");
        refused(run("export", registry.host() + "/x:1", "-o", out, "--sign-key", "/dev/zero", "-q"), ExitCodes.USAGE,
                "private key /dev/zero is larger than 1 MiB");
        refused(run("export", registry.host() + "/x:1", "-o", out, "--sign-key", privateKey.toString(), "--sign-cert", "/dev/zero", "-q"),
                ExitCodes.USAGE, "certificate /dev/zero is larger than 1 MiB");
        refused(run("export", registry.host() + "/x:1", "-o", out, "--ca-cert", "/dev/zero", "-q"), ExitCodes.USAGE,
                "certificate file /dev/zero is larger than 4 MiB");
        refused(run("export", registry.host() + "/x:1", "-o", out, "--authfile", "/dev/zero", "-q"), ExitCodes.USAGE,
                "--authfile /dev/zero is not a regular file");
        assertFalse(Files.exists(Path.of(out)));
        RegistryAudit.assertEmpty(registry);
    }

    @Test
    void outputsOntoAFifoOrDeviceAreRefusedBeforeAnythingIsWritten() throws Exception {
        Path fifo = dir.resolve("pipe");
        assertEquals(0, new ProcessBuilder("mkfifo", fifo.toString()).start().waitFor());
        Path bundle = new BundleForge().image("example.com/victim:1.0", good).write(dir.resolve("ok.tar"), signer);
        refused(run("export", registry.host() + "/x:1", "-o", fifo.toString(), "-q"), ExitCodes.USAGE,
                "output " + fifo + " is not a regular file (a device, FIFO or socket)");
        refused(run("verify", bundle.toString(), "--trust", trust.toString(), "--report", fifo.toString(), "-q"), ExitCodes.USAGE,
                "--report " + fifo + " is not a regular file");
        // a character device (a private copy of /dev/null, so a failing check could only replace the copy)
        Path device = dir.resolve("null");
        if (new ProcessBuilder("mknod", device.toString(), "c", "1", "3").start().waitFor() == 0) {
            refused(run("export", registry.host() + "/x:1", "-o", device.toString(), "-q"), ExitCodes.USAGE,
                    "output " + device + " is not a regular file");
            refused(run("inspect", bundle.toString(), "--report", device.toString()), ExitCodes.USAGE, "is not a regular file");
            assertTrue(isFifo(device), "the device node stays a device node");
        }
        Path link = dir.resolve("link.tar");
        Files.createSymbolicLink(link, dir.resolve("elsewhere.tar"));
        refused(run("export", registry.host() + "/x:1", "-o", link.toString(), "-q"), ExitCodes.USAGE, "is a symbolic link");
        Path sumFifo = dir.resolve("b.tar.sha256");
        assertEquals(0, new ProcessBuilder("mkfifo", sumFifo.toString()).start().waitFor());
        refused(run("export", registry.host() + "/x:1", "-o", dir.resolve("b.tar").toString(), "-q"), ExitCodes.USAGE, "checksum file");
        Files.move(fifo, dir.resolve("k.key"));
        refused(run("keygen", "-o", dir.resolve("k").toString()), ExitCodes.USAGE, "refusing to overwrite");
        assertTrue(isFifo(dir.resolve("k.key")) && isFifo(sumFifo), "the FIFOs stay FIFOs");
        try (Stream<Path> s = Files.list(dir)) {
            assertEquals(List.of(), s.filter(f -> f.getFileName().toString().contains(".tmp")).toList());
        }
    }

    // ---- helpers

    /** A FIFO or device node (neither regular file, directory nor link). */
    private static boolean isFifo(Path p) throws IOException {
        return Files.readAttributes(p, java.nio.file.attribute.BasicFileAttributes.class, java.nio.file.LinkOption.NOFOLLOW_LINKS).isOther();
    }

    record Run(int code, String out, String err) {
    }

    private static Run run(String... args) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        int code = Airlock.run(new PrintWriter(out, true), new PrintWriter(err, true), args);
        return new Run(code, out.toString(), err.toString());
    }

    /** The documented exit code, one line on stderr naming the problem, no stack trace; returns the line. */
    private static String refused(Run r, int code, String fragment) {
        List<String> lines = r.err.lines().filter(l -> !l.isBlank()).toList();
        assertEquals(code, r.code, r.err);
        assertEquals(1, lines.size(), "stderr must be one line: " + r.err);
        String line = lines.get(0);
        assertTrue(line.startsWith("airlock: "), line);
        assertTrue(line.contains(fragment), "lacks '" + fragment + "': " + line);
        assertFalse(line.contains("Exception") || line.contains("\tat ") || line.contains("unexpected error"), line);
        clean(r.err);
        return line;
    }

    private static void refusedByImport(Path bundle, String fragment) {
        refused(run("import", bundle.toString(), "--to", registry.host() + "/hostile", "--trust", trust.toString(), "-q"),
                ExitCodes.VERIFICATION, fragment);
        RegistryAudit.assertEmpty(registry);
    }
}
