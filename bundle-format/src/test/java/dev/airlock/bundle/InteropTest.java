package dev.airlock.bundle;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.airlock.model.Digest;
import dev.airlock.progress.ProgressListener;
import dev.airlock.sign.KeyGen;
import dev.airlock.sign.Signer;
import dev.airlock.sign.TrustPolicy;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Our bundles and signatures read by real tools: GNU tar, sha256sum, openssl, skopeo. */
class InteropTest {
    @TempDir
    static Path dir;
    static Path bundle;
    static KeyGen.Result keys;
    static TestContent content;

    @BeforeAll
    static void write() {
        keys = KeyGen.generate(dir.resolve("ops"), Optional.of("CN=ops,O=Example"));
        content = TestContent.standard();
        bundle = dir.resolve("images.tar");
        BundleWriter.write(bundle, content.images, content.order(), content.opener(),
                WriteOptions.defaults().withSigner(Signer.load(keys.privateKey(), Optional.of(keys.certificate()))), ProgressListener.NONE);
    }

    @Test
    void gnuTarListsEntriesInOrderWithFixedMetadata() throws Exception {
        String out = run(dir, "tar", "--numeric-owner", "--full-time", "-tvf", bundle.toString());
        List<String> lines = out.lines().toList();
        assertEquals("oci-layout", name(lines.get(0)));
        assertEquals("airlock/bundle.json", name(lines.get(1)));
        assertEquals("airlock/bundle.json.sig", name(lines.get(2)));
        assertEquals("airlock/bundle.json.p7s", name(lines.get(3)));
        assertEquals("airlock/signer.pub.pem", name(lines.get(4)));
        assertEquals("index.json", name(lines.get(5)));
        assertEquals(content.bytes.size() + 6, lines.size());
        for (String l : lines) {
            assertTrue(l.startsWith("-rw-r--r-- 0/0 "), l);
            assertTrue(l.contains("1970-01-01 00:00:00"), l);
        }
    }

    @Test
    void operatorChecksWithTarSha256sumAndOpenssl() throws Exception {
        assertTrue(run(dir, "sha256sum", "-c", bundle.getFileName() + ".sha256").contains("OK"));
        Path x = Files.createDirectory(dir.resolve("x"));
        run(x, "tar", "-xf", bundle.toString());
        // openssl dgst with the operator's own copy of the public key
        String ok = run(x, "openssl", "dgst", "-sha256", "-verify", keys.publicKey().toString(),
                "-signature", "airlock/bundle.json.sig", "airlock/bundle.json");
        assertTrue(ok.contains("Verified OK"), ok);
        String cms = run(x, "openssl", "cms", "-verify", "-binary", "-inform", "DER", "-content", "airlock/bundle.json",
                "-in", "airlock/bundle.json.p7s", "-CAfile", keys.certificate().toString(), "-purpose", "any", "-out", "/dev/null");
        assertTrue(cms.contains("Verification successful"), cms);
        // every listed file against bundle.json, as docs/bundle-format.md tells operators
        String listing = run(x, "sh", "-c", "jq -r '.files[] | \"\\(.sha256)  \\(.path)\"' airlock/bundle.json 2>/dev/null"
                + " || python3 -c 'import json;[print(f[\"sha256\"]+\"  \"+f[\"path\"]) for f in json.load(open(\"airlock/bundle.json\"))[\"files\"]]'");
        Files.writeString(x.resolve("SUMS"), listing);
        String sums = run(x, "sha256sum", "-c", "SUMS");
        assertEquals(content.bytes.size() + 2, sums.lines().filter(l -> l.endsWith(": OK")).count(), sums);

        // one changed byte in bundle.json: both signatures refuse it
        byte[] json = Files.readAllBytes(x.resolve("airlock/bundle.json"));
        json[20] ^= 1;
        Files.write(x.resolve("airlock/bundle.json"), json);
        assertNotEquals(0, exit(x, "openssl", "dgst", "-sha256", "-verify", keys.publicKey().toString(),
                "-signature", "airlock/bundle.json.sig", "airlock/bundle.json"));
        assertNotEquals(0, exit(x, "openssl", "cms", "-verify", "-binary", "-inform", "DER", "-content", "airlock/bundle.json",
                "-in", "airlock/bundle.json.p7s", "-CAfile", keys.certificate().toString(), "-purpose", "any", "-out", "/dev/null"));
    }

    @Test
    void openSslAcceptsOriginalAndRejectsChangedSignature() throws Exception {
        Path x = Files.createDirectory(dir.resolve("y"));
        run(x, "tar", "-xf", bundle.toString());
        byte[] sig = Files.readAllBytes(x.resolve("airlock/bundle.json.sig"));
        sig[sig.length - 1] ^= 1;
        Files.write(x.resolve("airlock/bundle.json.sig"), sig);
        assertNotEquals(0, exit(x, "openssl", "dgst", "-sha256", "-verify", keys.publicKey().toString(),
                "-signature", "airlock/bundle.json.sig", "airlock/bundle.json"));
        byte[] p7s = Files.readAllBytes(x.resolve("airlock/bundle.json.p7s"));
        p7s[p7s.length - 2] ^= 1;
        Files.write(x.resolve("airlock/bundle.json.p7s"), p7s);
        assertNotEquals(0, exit(x, "openssl", "cms", "-verify", "-binary", "-inform", "DER", "-content", "airlock/bundle.json",
                "-in", "airlock/bundle.json.p7s", "-CAfile", keys.certificate().toString(), "-purpose", "any", "-out", "/dev/null"));
    }

    @Test
    void opensslMadeKeysAreAccepted() throws Exception {
        Path sec1 = dir.resolve("sec1.pem");
        run(dir, "openssl", "ecparam", "-name", "prime256v1", "-genkey", "-out", sec1.toString());
        Path pkcs8 = dir.resolve("pkcs8.pem");
        run(dir, "openssl", "genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256", "-out", pkcs8.toString());
        for (Path key : List.of(sec1, pkcs8)) {
            Path pub = dir.resolve(key.getFileName() + ".pub");
            run(dir, "openssl", "pkey", "-in", key.toString(), "-pubout", "-out", pub.toString());
            Signer s = Signer.load(key, Optional.empty());
            Path out = dir.resolve(key.getFileName() + ".tar");
            BundleWriter.write(out, content.images, content.order(), content.opener(), WriteOptions.defaults().withSigner(s), ProgressListener.NONE);
            assertEquals(dev.airlock.sign.SignatureInfo.Status.TRUSTED,
                    BundleVerifier.verify(out, TrustPolicy.fromFiles(List.of(pub), false), ProgressListener.NONE).signature().status());
            Path sig = dir.resolve(key.getFileName() + ".sig");
            Path data = dir.resolve(key.getFileName() + ".data");
            Files.writeString(data, "hello", StandardCharsets.UTF_8);
            Files.write(sig, s.sign("hello".getBytes(StandardCharsets.UTF_8)));
            assertTrue(run(dir, "openssl", "dgst", "-sha256", "-verify", pub.toString(), "-signature", sig.toString(), data.toString()).contains("Verified OK"));
        }
    }

    @Test
    void keygenWritesPrivateKeyWithMode0600() throws Exception {
        assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(keys.privateKey())));
        assertTrue(Files.readString(keys.privateKey()).startsWith("-----BEGIN PRIVATE KEY-----\n"));
        String text = run(dir, "openssl", "x509", "-in", keys.certificate().toString(), "-noout", "-subject");
        assertTrue(text.contains("CN = ops") || text.contains("CN=ops"), text);
        String pk = run(dir, "openssl", "pkey", "-in", keys.privateKey().toString(), "-pubout");
        assertEquals(Files.readString(keys.publicKey()).strip(), pk.strip());
    }

    @Test
    void skopeoReadsImagesOutOfTheBundle() throws Exception {
        // skopeo 1.9 (containers/image) only looks at OCI-typed index.json entries; Docker-typed
        // images are in the bundle byte-exact but not addressable through oci-archive: there
        for (BundleImage img : content.images.stream().filter(i -> !i.descriptor().mediaType().isDocker()).toList()) {
            String ref = "oci-archive:" + bundle + ":" + img.source();
            String raw = run(dir, "skopeo", "inspect", "--raw", ref);
            assertEquals(img.digest(), Digest.sha256(raw.getBytes(StandardCharsets.UTF_8)), img.source().toString());
        }
        // copy a whole multi-arch OCI index out, byte-exact
        Path oci = dir.resolve("copied");
        BundleImage multi = content.images.get(0);
        run(dir, "skopeo", "copy", "--all", "--preserve-digests", "oci-archive:" + bundle + ":" + multi.source(), "oci:" + oci + ":copied");
        String index = Files.readString(oci.resolve("index.json"));
        assertTrue(index.contains(multi.digest().toString()), index);
        for (Digest d : content.bytes.keySet()) {
            Path blob = oci.resolve("blobs/sha256/" + d.hex());
            if (Files.exists(blob)) {
                assertEquals(d, Digest.sha256(Files.readAllBytes(blob)));
            }
        }
    }

    private static String name(String tarLine) {
        String[] p = tarLine.trim().split("\\s+");
        return p[p.length - 1];
    }

    static String run(Path cwd, String... cmd) throws IOException, InterruptedException {
        Process p = new ProcessBuilder(new ArrayList<>(List.of(cmd))).directory(cwd.toFile()).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(120, TimeUnit.SECONDS), String.join(" ", cmd) + " timed out");
        assertEquals(0, p.exitValue(), String.join(" ", cmd) + " failed: " + out);
        return out;
    }

    static int exit(Path cwd, String... cmd) throws IOException, InterruptedException {
        Process p = new ProcessBuilder(cmd).directory(cwd.toFile()).redirectErrorStream(true).start();
        p.getInputStream().readAllBytes();
        assertTrue(p.waitFor(120, TimeUnit.SECONDS));
        return p.exitValue();
    }
}
