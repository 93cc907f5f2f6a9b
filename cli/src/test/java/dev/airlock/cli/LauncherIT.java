package dev.airlock.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.net.URL;
import java.net.URLClassLoader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.Provider;
import java.security.Signature;
import java.security.spec.ECGenParameterSpec;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.jar.JarEntry;
import java.util.jar.JarFile;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Runs the packaged artefacts: bin/airlock and the shaded cli/target/airlock.jar (after `package`). */
class LauncherIT {
    static final Path ROOT = Path.of(System.getProperty("basedir", ".")).toAbsolutePath().normalize().getParent();
    static final Path LAUNCHER = ROOT.resolve("bin/airlock");
    static final Path JAR = ROOT.resolve("cli/target/airlock.jar");

    @TempDir
    Path tmp;

    record Result(int code, String out, String err) {
    }

    static Result run(Path cwd, Map<String, String> env, List<String> command) throws IOException, InterruptedException {
        ProcessBuilder pb = new ProcessBuilder(command).directory(cwd.toFile());
        pb.environment().putAll(env);
        Path out = Files.createTempFile("airlock-out", ".txt");
        Path err = Files.createTempFile("airlock-err", ".txt");
        pb.redirectOutput(out.toFile()).redirectError(err.toFile()).redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null")));
        Process p = pb.start();
        if (!p.waitFor(60, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            throw new AssertionError("timed out: " + command);
        }
        Result r = new Result(p.exitValue(), Files.readString(out, StandardCharsets.UTF_8), Files.readString(err, StandardCharsets.UTF_8));
        Files.delete(out);
        Files.delete(err);
        return r;
    }

    @Test
    void launcherIsExecutableAndRunsThroughASymlinkFromAnotherDirectory() throws Exception {
        assertTrue(Files.isExecutable(LAUNCHER), LAUNCHER + " must be executable");
        Path linkDir = Files.createDirectories(tmp.resolve("elsewhere/bin"));
        Path link = Files.createSymbolicLink(linkDir.resolve("airlock"), LAUNCHER);
        Result r = run(tmp, Map.of(), List.of(link.toString(), "--version"));
        assertEquals(0, r.code(), r.err());
        assertEquals("airlock " + System.getProperty("airlock.version"), r.out().lines().findFirst().orElse(""));

        Result help = run(tmp, Map.of(), List.of(link.toString(), "--help"));
        assertEquals(0, help.code(), help.err());
        assertTrue(help.out().startsWith("Usage: airlock"), help.out());
        Files.delete(link);
    }

    @Test
    void usageErrorExitsTwoWithOneLine() throws Exception {
        Result r = run(tmp, Map.of(), List.of(LAUNCHER.toString(), "--bogus"));
        assertEquals(2, r.code());
        assertEquals(1, r.err().lines().count(), r.err());
    }

    @Test
    void javaOptsReachTheJvm() throws Exception {
        Result r = run(tmp, Map.of("JAVA_OPTS", "-Xmx1x"), List.of(LAUNCHER.toString(), "--version"));
        assertNotEquals(0, r.code());
        assertTrue(r.err().contains("Invalid maximum heap size"), r.err());
    }

    @Test
    void theLauncherCapsTheHeapUnlessJavaOptsSetsIt() throws Exception {
        Result dflt = run(tmp, Map.of("JAVA_OPTS", "-XX:+PrintFlagsFinal"), List.of(LAUNCHER.toString(), "--version"));
        assertEquals(0, dflt.code(), dflt.err());
        assertTrue(dflt.out().lines().anyMatch(l -> l.matches("\\s*size_t MaxHeapSize\\s+= 201326592 .*")), "default -Xmx192m");
        Result own = run(tmp, Map.of("JAVA_OPTS", "-Xmx256m -XX:+PrintFlagsFinal"), List.of(LAUNCHER.toString(), "--version"));
        assertEquals(0, own.code(), own.err());
        assertTrue(own.out().lines().anyMatch(l -> l.matches("\\s*size_t MaxHeapSize\\s+= 268435456 .*")), "JAVA_OPTS -Xmx wins");
    }

    @Test
    void theLaunchersJitDirectivesLoadWithoutAWordOnStdoutOrStderr() throws Exception {
        assertTrue(Files.isRegularFile(LAUNCHER.resolveSibling("airlock-jit.json")), "bin/airlock-jit.json ships beside the launcher");
        Result r = run(tmp, Map.of(), List.of(LAUNCHER.toString(), "--version"));
        assertEquals(0, r.code(), r.err());
        assertEquals("", r.err());
        assertEquals(List.of("airlock " + System.getProperty("airlock.version")), r.out().lines().limit(1).toList());
        assertEquals(3, r.out().lines().count(), "only the version lines (HotSpot announces loaded directives on the tty): " + r.out());
        assertTrue(r.out().lines().skip(1).findFirst().orElse("").matches("commit ([0-9a-f]{12}(-dirty)? \\(.+\\)|unknown)"), r.out());
        assertTrue(r.out().lines().skip(2).findFirst().orElse("").startsWith("runtime Java 17"), r.out());
    }

    @Test
    void theLauncherReadsHttpResponsesInLargerBuffersUnlessJavaOptsSaysOtherwise() throws Exception {
        Result dflt = run(tmp, Map.of("JAVA_OPTS", "-XshowSettings:properties"), List.of(LAUNCHER.toString(), "--version"));
        assertEquals(0, dflt.code(), dflt.err());
        assertTrue(dflt.err().lines().anyMatch(l -> l.trim().equals("jdk.httpclient.bufsize = 1048576")), dflt.err());
        Result own = run(tmp, Map.of("JAVA_OPTS", "-Djdk.httpclient.bufsize=65536 -XshowSettings:properties"), List.of(LAUNCHER.toString(), "--version"));
        assertEquals(0, own.code(), own.err());
        assertTrue(own.err().lines().anyMatch(l -> l.trim().equals("jdk.httpclient.bufsize = 65536")), own.err());
        assertTrue(own.err().lines().noneMatch(l -> l.contains("1048576")), own.err());
    }

    private static List<String> files(Path dir, String glob) throws IOException {
        List<String> names = new ArrayList<>();
        try (var s = Files.newDirectoryStream(dir, glob)) {
            s.forEach(p -> names.add(p.getFileName().toString()));
        }
        return names;
    }

    private static long fromArchive(Result r) {
        return r.out().lines().filter(l -> l.contains(" dev.airlock.") && l.contains("source: shared objects file (top)")).count();
    }

    @Test
    void aClassDataArchiveIsMadeBesideTheJarAndAStaleOrBrokenOneIsSkippedWithoutAWord() throws Exception {
        Path lib = Files.createDirectories(tmp.resolve("lib"));
        Path jar = Files.copy(JAR, lib.resolve("airlock.jar"), java.nio.file.StandardCopyOption.COPY_ATTRIBUTES);
        Map<String, String> env = Map.of("AIRLOCK_JAR", jar.toString());
        Map<String, String> traced = Map.of("AIRLOCK_JAR", jar.toString(), "JAVA_OPTS", "-Xlog:class+load=info");
        Path bundle = dev.airlock.testkit.NamedBundles.write(tmp.resolve("small.tar"), dev.airlock.testkit.NamedBundles.mixed());
        List<String> version = List.of(LAUNCHER.toString(), "verify", "-q", "--allow-unsigned", bundle.toString());

        // --version, --help and keygen make no archive (their classes are a small part of a command's)
        for (List<String> light : List.of(List.of("--version"), List.of("verify", "--help"), List.of("export", "-h"),
                List.of("keygen", "-o", tmp.resolve("k").toString()))) {
            List<String> cmd = new java.util.ArrayList<>(List.of(LAUNCHER.toString()));
            cmd.addAll(light);
            Result plain = run(tmp, env, cmd);
            assertEquals(0, plain.code(), light + ": " + plain.err());
            assertEquals(List.of("airlock.jar"), files(lib, "*"), light.toString());
        }
        // first run of a command: its classes are written at exit under a temporary name
        Result first = run(tmp, env, version);
        assertEquals(0, first.code(), first.err());
        assertEquals("", first.err());
        assertEquals(1, files(lib, "airlock.jsa.tmp-*").size(), files(lib, "*").toString());
        // second run: that file is checked, renamed to airlock.SIZE.jsa and used
        Result second = run(tmp, traced, version);
        assertEquals(0, second.code(), second.err());
        assertEquals("", second.err());
        List<String> archives = files(lib, "airlock.*.jsa");
        assertEquals(1, archives.size(), files(lib, "*").toString());
        assertEquals(List.of(), files(lib, "airlock.jsa.tmp-*"));
        Path archive = lib.resolve(archives.get(0));
        assertEquals(archives.get(0), "airlock." + Files.size(archive) + ".jsa");
        assertTrue(fromArchive(second) > 50, "airlock's classes come from the archive: " + fromArchive(second));

        // the jar is rebuilt (newer): the old archive is not used, a new one is made and replaces it
        Files.setLastModifiedTime(jar, java.nio.file.attribute.FileTime.fromMillis(System.currentTimeMillis() + 5000));
        Result stale = run(tmp, traced, version);
        assertEquals(0, stale.code(), stale.err());
        assertEquals("", stale.err());
        assertEquals(0, fromArchive(stale), "a stale archive is not used");
        Files.setLastModifiedTime(archive, java.nio.file.attribute.FileTime.fromMillis(System.currentTimeMillis() + 4000));
        String tmpName = files(lib, "airlock.jsa.tmp-*").get(0);
        Files.setLastModifiedTime(lib.resolve(tmpName), java.nio.file.attribute.FileTime.fromMillis(System.currentTimeMillis() + 6000));
        Result renewed = run(tmp, traced, version);
        assertEquals("", renewed.err());
        assertTrue(fromArchive(renewed) > 50, "the new archive is used");
        assertEquals(1, files(lib, "airlock.*.jsa").size(), files(lib, "*").toString());

        // a truncated archive (it could abort the JVM) is deleted unused; one of garbage is skipped by the JVM
        archive = lib.resolve(files(lib, "airlock.*.jsa").get(0));
        byte[] bytes = Files.readAllBytes(archive);
        Files.write(archive, java.util.Arrays.copyOf(bytes, bytes.length / 3));
        Files.setLastModifiedTime(archive, java.nio.file.attribute.FileTime.fromMillis(System.currentTimeMillis() + 10000));
        Result truncated = run(tmp, env, version);
        assertEquals(0, truncated.code(), truncated.err());
        assertEquals("", truncated.err());
        assertTrue(Files.notExists(archive));
        byte[] garbage = new byte[bytes.length];
        new java.util.Random(7).nextBytes(garbage);
        Files.write(archive, garbage);
        Files.setLastModifiedTime(archive, java.nio.file.attribute.FileTime.fromMillis(System.currentTimeMillis() + 10000));
        Result broken = run(tmp, env, version);
        assertEquals(0, broken.code(), broken.err());
        assertEquals("", broken.err());
        assertEquals(first.out(), broken.out());

        // AIRLOCK_CDS=0: nothing is written
        Path other = Files.createDirectories(tmp.resolve("other"));
        Path jar2 = Files.copy(JAR, other.resolve("airlock.jar"));
        Result off = run(tmp, Map.of("AIRLOCK_JAR", jar2.toString(), "AIRLOCK_CDS", "0"), version);
        assertEquals(0, off.code(), off.err());
        assertEquals(List.of("airlock.jar"), files(other, "*"));
    }

    @Test
    void theLauncherPicksTheSerialCollectorUnlessJavaOptsPicksOne() throws Exception {
        Result dflt = run(tmp, Map.of("JAVA_OPTS", "-XX:+PrintFlagsFinal"), List.of(LAUNCHER.toString(), "--version"));
        assertEquals(0, dflt.code(), dflt.err());
        assertTrue(dflt.out().lines().anyMatch(l -> l.matches("\\s*bool UseSerialGC\\s+= true .*")), "default serial GC");
        Result own = run(tmp, Map.of("JAVA_OPTS", "-XX:+UseG1GC -XX:+PrintFlagsFinal"), List.of(LAUNCHER.toString(), "--version"));
        assertEquals(0, own.code(), own.err());
        assertTrue(own.out().lines().anyMatch(l -> l.matches("\\s*bool UseG1GC\\s+= true .*")), "JAVA_OPTS GC wins");
        assertTrue(own.out().lines().anyMatch(l -> l.matches("\\s*bool UseSerialGC\\s+= false .*")), "only one collector");
    }

    @Test
    void shadedJarCarriesNoSignatureFilesAndBouncyCastleSigns() throws Exception {
        List<String> signatureFiles = new ArrayList<>();
        try (JarFile jar = new JarFile(JAR.toFile())) {
            for (JarEntry e : java.util.Collections.list(jar.entries())) {
                if (e.getName().matches("META-INF/[^/]+\\.(SF|DSA|RSA|EC)")) {
                    signatureFiles.add(e.getName());
                }
            }
            assertEquals("dev.airlock.cli.Airlock", jar.getManifest().getMainAttributes().getValue("Main-Class"));
        }
        assertEquals(List.of(), signatureFiles);
        // Load BouncyCastle from the shaded jar alone and sign/verify with it as a JCA provider.
        try (URLClassLoader loader = new URLClassLoader(new URL[] {JAR.toUri().toURL()}, ClassLoader.getPlatformClassLoader())) {
            Provider bc = (Provider) loader.loadClass("org.bouncycastle.jce.provider.BouncyCastleProvider")
                    .getDeclaredConstructor().newInstance();
            KeyPairGenerator gen = KeyPairGenerator.getInstance("EC", bc);
            gen.initialize(new ECGenParameterSpec("secp256r1"));
            KeyPair pair = gen.generateKeyPair();
            byte[] data = "bundle bytes".getBytes(StandardCharsets.UTF_8);
            Signature signer = Signature.getInstance("SHA256withECDSA", bc);
            signer.initSign(pair.getPrivate());
            signer.update(data);
            byte[] sig = signer.sign();
            Signature verifier = Signature.getInstance("SHA256withECDSA", bc);
            verifier.initVerify(pair.getPublic());
            verifier.update(data);
            assertTrue(verifier.verify(sig));
            data[0] ^= 1;
            verifier.initVerify(pair.getPublic());
            verifier.update(data);
            assertTrue(!verifier.verify(sig), "a changed byte must not verify");
        }
    }

    @Test
    void shadedJarSignsCertificatesAndVerifiesBundles() throws Exception {
        Result k = run(tmp, Map.of(), List.of(LAUNCHER.toString(), "keygen", "--out", "ops", "--subject", "CN=launcher test"));
        assertEquals(0, k.code(), k.err());
        // the self-signed certificate was signed by BouncyCastle inside the shaded jar; openssl checks that signature
        Result ossl = run(tmp, Map.of(), List.of("openssl", "verify", "-CAfile", "ops.crt", "ops.crt"));
        assertEquals(0, ossl.code(), ossl.out() + ossl.err());
        Path bundle = TestBundles.write(tmp, "b.tar", tmp.resolve("ops.key"), tmp.resolve("ops.crt"));
        Result v = run(tmp, Map.of(), List.of(LAUNCHER.toString(), "verify", "-q", "b.tar", "--trust", "ops.crt"));
        assertEquals(0, v.code(), v.err());
        assertEquals("", v.out() + v.err(), "verify -q prints nothing on success");
        Result loud = run(tmp, Map.of(), List.of(LAUNCHER.toString(), "verify", "b.tar", "--trust", "ops.crt"));
        assertEquals(0, loud.code(), loud.err());
        assertTrue(loud.out().startsWith("OK"), loud.out());
        Result wrong = run(tmp, Map.of(), List.of(LAUNCHER.toString(), "verify", "-q", bundle.toString(), "--allow-unsigned",
                "--trust", LAUNCHER.toString()));
        assertNotEquals(0, wrong.code(), "a trust file that is no PEM must not be accepted");
        assertEquals(1, wrong.err().lines().count(), wrong.err());
    }
}
