package dev.airlock.dist;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.airlock.cli.Airlock;
import dev.airlock.cli.ShellDocs;
import dev.airlock.registry.RegistryOptions;
import dev.airlock.registry.RegistryStore;
import dev.airlock.testkit.RegistryProcess;
import dev.airlock.testkit.TestImages;
import dev.airlock.testkit.TestImages.TestImage;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;
import java.util.jar.JarEntry;
import java.util.jar.JarFile;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/**
 * Unpacks the tarball that {@code package} built (dist/airlock-VERSION-linux-ARCH.tar.gz) and
 * runs it as a user on a host without Java would: PATH holds only bash, readlink and dirname, and
 * JAVA_HOME points at an empty directory, so only the bundled runtime can run it.
 */
class DistributionIT {
    static final Path DIST = Path.of(System.getProperty("basedir", ".")).toAbsolutePath().normalize();
    static final String VERSION = System.getProperty("airlock.version");
    static final String ARCH = System.getProperty("os.arch").equals("amd64") ? "x86_64" : System.getProperty("os.arch");
    static final String NAME = "airlock-" + VERSION + "-linux-" + ARCH + ".tar.gz";

    @TempDir
    static Path tmp;
    static Path home;
    static Path airlock;
    static Map<String, String> noJava;

    record Result(int code, String out, String err) {
    }

    static Result run(Map<String, String> env, String stdin, List<String> command) throws IOException, InterruptedException {
        ProcessBuilder pb = new ProcessBuilder(command).directory(tmp.toFile());
        if (env != null) {
            pb.environment().clear();
            pb.environment().putAll(env);
        }
        Path in = Files.writeString(Files.createTempFile(tmp, "in", ".txt"), stdin == null ? "" : stdin);
        Path out = Files.createTempFile(tmp, "out", ".txt");
        Path err = Files.createTempFile(tmp, "err", ".txt");
        Process p = pb.redirectInput(in.toFile()).redirectOutput(out.toFile()).redirectError(err.toFile()).start();
        if (!p.waitFor(120, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            throw new AssertionError("timed out: " + command);
        }
        return new Result(p.exitValue(), Files.readString(out, StandardCharsets.UTF_8), Files.readString(err, StandardCharsets.UTF_8));
    }

    static Result airlock(String stdin, String... args) throws IOException, InterruptedException {
        List<String> command = new ArrayList<>(List.of(airlock.toString()));
        command.addAll(List.of(args));
        return run(noJava, stdin, command);
    }

    static Result ok(Result r) {
        assertEquals(0, r.code(), r.out() + r.err());
        return r;
    }

    @BeforeAll
    static void unpack() throws Exception {
        Path tarball = DIST.resolve(NAME);
        assertTrue(Files.isRegularFile(tarball), tarball + " (built by mvn package in dist/)");
        Result sum = run(null, null, List.of("bash", "-c", "cd \"$1\" && sha256sum -c \"$2.sha256\"", "bash", DIST.toString(), NAME));
        assertEquals(0, sum.code(), sum.out() + sum.err());
        Path opt = Files.createDirectories(tmp.resolve("opt"));
        assertEquals(0, run(null, null, List.of("tar", "-xzf", tarball.toString(), "-C", opt.toString())).code());
        home = opt.resolve("airlock");
        airlock = home.resolve("bin/airlock");

        Path tools = Files.createDirectories(tmp.resolve("tools"));
        for (String t : List.of("bash", "readlink", "dirname")) {
            Files.copy(Path.of("/usr/bin", t).toRealPath(), tools.resolve(t), java.nio.file.StandardCopyOption.COPY_ATTRIBUTES);
        }
        Path empty = Files.createDirectories(tmp.resolve("no-java-home"));
        noJava = Map.of("PATH", tools.toString(), "JAVA_HOME", empty.toString(), "HOME", tmp.toString(),
                "XDG_CACHE_HOME", tmp.resolve("cache").toString());
        Result which = run(noJava, null, List.of(tools.resolve("bash").toString(), "-c", "command -v java"));
        assertNotEquals(0, which.code(), "the test environment must have no java: " + which.out());
    }

    @Test
    void versionRunsOnTheBundledRuntimeWithItsCdsArchive() throws Exception {
        Result r = ok(airlock(null, "--version"));
        List<String> lines = r.out().lines().toList();
        assertEquals(3, lines.size(), r.out());
        assertEquals("airlock " + VERSION, lines.get(0));
        assertTrue(lines.get(1).matches("commit ([0-9a-f]{12}(-dirty)? \\(.+\\)|unknown)"), lines.get(1));
        assertTrue(lines.get(2).startsWith("runtime Java 17") && lines.get(2).endsWith(" in " + home.resolve("runtime")), lines.get(2));
        assertEquals("", r.err());
        // -Xshare:on refuses to start unless the runtime's CDS archive maps
        Map<String, String> shareOn = new java.util.HashMap<>(noJava);
        shareOn.put("JAVA_OPTS", "-Xshare:on");
        assertEquals(0, run(shareOn, null, List.of(airlock.toString(), "--version")).code());
        // through a symlink from another directory, as after ln -s .../bin/airlock ~/bin/airlock
        Path link = Files.createSymbolicLink(Files.createDirectories(tmp.resolve("elsewhere")).resolve("airlock"), airlock);
        assertEquals(r.out(), ok(run(noJava, null, List.of(link.toString(), "--version"))).out());
    }

    @Test
    void theRuntimeHasOnlyTheModulesAirlockNeeds() throws Exception {
        Result r = ok(run(null, null, List.of(home.resolve("runtime/bin/java").toString(), "--list-modules")));
        TreeSet<String> modules = new TreeSet<>(r.out().lines().map(l -> l.replaceAll("@.*", "")).toList());
        assertTrue(modules.containsAll(List.of("java.base", "java.net.http", "jdk.crypto.ec")), modules.toString());
        assertTrue(!modules.contains("java.desktop") && !modules.contains("jdk.compiler") && modules.size() < 15, modules.toString());
    }

    /**
     * docs/user-guide.md, rebuilding to compare: airlock's own entries in the jar carry one time
     * (the pom's project.build.outputTimestamp; without it, each class its compile time), no entry
     * is newer (the dependencies' entries keep the times their own jars gave them), and every tar
     * entry carries one time and owner 0/0.
     */
    @Test
    void theJarAndTheTarballCarryNoBuildTimes() throws Exception {
        Set<FileTime> own = new HashSet<>();
        FileTime newest = FileTime.fromMillis(0);
        try (JarFile jar = new JarFile(home.resolve("lib/airlock.jar").toFile())) {
            for (JarEntry e : Collections.list(jar.entries())) {
                if (e.getName().startsWith("dev/airlock/") && !e.isDirectory()) {
                    own.add(e.getLastModifiedTime());
                }
                newest = e.getLastModifiedTime().compareTo(newest) > 0 ? e.getLastModifiedTime() : newest;
            }
        }
        assertEquals(1, own.size(), "times of airlock's classes in lib/airlock.jar: " + own);
        assertEquals(own.iterator().next(), newest, "the newest entry time in lib/airlock.jar");
        Result list = ok(run(null, null, List.of("tar", "-tvzf", DIST.resolve(NAME).toString(), "--numeric-owner", "--full-time")));
        Set<String> stamps = new TreeSet<>();
        for (String line : list.out().lines().toList()) {
            String[] f = line.trim().split("\\s+");
            assertEquals("0/0", f[1], line);
            stamps.add(f[3] + " " + f[4]);
        }
        assertEquals(1, stamps.size(), "tar entry times: " + stamps);
    }

    @Test
    void manPagesAndCompletionAreTheOnesOfThisBuildsCommands() throws Exception {
        CommandLine root = new CommandLine(new Airlock());
        for (Map.Entry<String, String> page : ShellDocs.manPages(root).entrySet()) {
            Path file = home.resolve("share/man/man1").resolve(page.getKey());
            assertEquals(page.getValue(), Files.readString(file, StandardCharsets.UTF_8), file.toString());
        }
        try (Stream<Path> pages = Files.list(home.resolve("share/man/man1"))) {
            assertEquals(root.getSubcommands().size() + 1, pages.count());
        }
        assertEquals(ShellDocs.bash(root), Files.readString(home.resolve("share/bash-completion/completions/airlock"), StandardCharsets.UTF_8));
        assertEquals(ShellDocs.zsh(root), Files.readString(home.resolve("share/zsh/site-functions/_airlock"), StandardCharsets.UTF_8));
    }

    @Test
    void licencesOfEveryBundledDependencyAreIncluded() throws Exception {
        Path licenses = home.resolve("share/doc/airlock/licenses");
        List<String> listed = Files.readAllLines(licenses.resolve("README")).stream().filter(l -> l.matches("[a-z0-9.-]+-[0-9][^ ]*")).toList();
        for (String artifact : List.of("picocli", "jackson-databind", "jackson-core", "commons-compress", "zstd-jni", "bcprov-jdk18on", "bcpkix-jdk18on")) {
            assertTrue(listed.stream().anyMatch(l -> l.startsWith(artifact + "-")), artifact + " in " + listed);
        }
        for (String artifact : listed) {
            try (Stream<Path> files = Files.list(licenses.resolve(artifact))) {
                List<Path> texts = files.toList();
                assertTrue(!texts.isEmpty() && texts.stream().allMatch(f -> f.toFile().length() > 100), artifact + ": " + texts);
            }
        }
        assertTrue(Files.isDirectory(home.resolve("runtime/legal/java.base")), "OpenJDK's own notices");
    }

    /**
     * A real job with nothing but the tarball: TLS with Basic auth (EC certificate: needs the SunEC
     * provider), zstd (native code from the jar), signing and verification, import.
     */
    @Test
    void aRoundTripOverTlsWithTheBundledRuntime() throws Exception {
        TestImage app = TestImages.image("app").oci().platforms("linux/amd64", "linux/arm64", "linux/arm/v7").baseSeed(21).build();
        try (RegistryProcess plain = RegistryProcess.start(); RegistryProcess tls = RegistryProcess.startTlsBasic("ops", "s3cret");
             RegistryStore a = RegistryStore.open(plain.host(), RegistryOptions.anonymous())) {
            app.pushTo(a, "team/app");
            String ca = tls.caCertificate().orElseThrow().toString();
            ok(airlock(null, "keygen", "--out", tmp.resolve("ops").toString(), "-q"));
            ok(airlock("s3cret\n", "sync", plain.host() + "/team/app:1.0", "--to", tls.host() + "/m", "--dest-username", "ops",
                    "--dest-password-stdin", "--dest-ca-cert", ca, "-q"));
            Path bundle = tmp.resolve("app.tar.zst");
            ok(airlock("s3cret\n", "export", tls.host() + "/m/team/app:1.0", "-o", bundle.toString(), "--sign-key", tmp.resolve("ops.key").toString(),
                    "--username", "ops", "--password-stdin", "--ca-cert", ca, "-q"));
            Result verify = ok(airlock(null, "verify", bundle.toString(), "--trust", tmp.resolve("ops.pub.pem").toString(), "-q"));
            assertEquals("", verify.out() + verify.err());
            assertEquals(tls.host() + "/m/team/app:1.0@" + app.top().digest() + "\n", ok(airlock(null, "inspect", "-q", bundle.toString())).out());
            Path report = tmp.resolve("import.json");
            ok(airlock(null, "import", bundle.toString(), "--to", plain.host() + "/imported", "--trust", tmp.resolve("ops.crt").toString(), "-q",
                    "--report", report.toString()));
            assertArrayEquals(app.top().bytes(), a.fetchManifest("imported/m/team/app", "1.0").bytes());
            // JSON output (Jackson) works without java.desktop, which the runtime leaves out
            assertEquals(plain.host() + "/imported/m/team/app:1.0",
                    dev.airlock.model.Json.parse(Files.readAllBytes(report), "report").path("images").path(0).path("target").asText());
            Result json = ok(airlock(null, "inspect", bundle.toString(), "--json"));
            assertTrue(json.out().contains(app.top().digest().toString()) && json.out().contains("linux/arm/v7"), json.out());
        }
    }

    /** docs/user-guide.md: sign the tarball with an airlock keygen key, check it with openssl on the other side. */
    @Test
    void theTarballCanBeSignedWithAKeygenKeyAndCheckedWithOpenssl() throws Exception {
        ok(airlock(null, "keygen", "--out", tmp.resolve("release").toString(), "-q"));
        Path tarball = DIST.resolve(NAME);
        Path sig = tmp.resolve(NAME + ".sig");
        ok(run(null, null, List.of("openssl", "dgst", "-sha256", "-sign", tmp.resolve("release.key").toString(), "-out", sig.toString(), tarball.toString())));
        Result good = ok(run(null, null, List.of("openssl", "dgst", "-sha256", "-verify", tmp.resolve("release.pub.pem").toString(),
                "-signature", sig.toString(), tarball.toString())));
        assertEquals("Verified OK", good.out().strip());
        Result bad = run(null, null, List.of("openssl", "dgst", "-sha256", "-verify", tmp.resolve("release.pub.pem").toString(),
                "-signature", sig.toString(), DIST.resolve(NAME + ".sha256").toString()));
        assertNotEquals(0, bad.code(), "another file must not verify: " + bad.out());
    }
}
