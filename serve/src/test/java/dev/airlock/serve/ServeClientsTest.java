package dev.airlock.serve;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.airlock.model.Digest;
import dev.airlock.model.RawManifest;
import dev.airlock.progress.ProgressListener;
import dev.airlock.sign.TrustPolicy;
import dev.airlock.testkit.RegistryProcess;
import dev.airlock.testkit.TestImages;
import dev.airlock.testkit.TestImages.TestImage;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Real clients pull from {@link BundleServer}: skopeo, podman, containerd's ctr and dockerd, each
 * with its own throw-away state directories (daemons on their own sockets, stopped by PID).
 */
class ServeClientsTest {
    @TempDir
    static Path dir;

    static TestImage web;
    static TestImage api;
    static BundleServer server;
    static String host;
    static final ObjectMapper JSON = new ObjectMapper();

    @BeforeAll
    static void start() {
        web = ServeBundles.multiArch();
        api = ServeBundles.ociWithAttestations();
        Path bundle = ServeBundles.write(dir.resolve("clients.tar"), List.of(
                new ServeBundles.Entry("docker.io/library/web:1.0", web),
                new ServeBundles.Entry("registry.example:5000/team/api:2.1", api)), Optional.empty());
        server = BundleServer.start(ServeRequest.of(List.of(bundle), TrustPolicy.allowUnsignedOnly(), new ServeRequest.Listen("127.0.0.1", 0)),
                ProgressListener.NONE);
        host = "127.0.0.1:" + server.address().getPort();
    }

    @AfterAll
    static void stop() {
        if (server != null) {
            server.close();
        }
    }

    record Run(int code, String output) {
    }

    static Run run(Path cwd, List<String> command) throws IOException, InterruptedException {
        Path out = Files.createTempFile(dir, "out", ".txt");
        Process p = new ProcessBuilder(command).directory(cwd.toFile()).redirectErrorStream(true).redirectOutput(out.toFile())
                .redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null"))).start();
        if (!p.waitFor(120, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            throw new AssertionError("timed out: " + command + "\n" + Files.readString(out));
        }
        return new Run(p.exitValue(), Files.readString(out, StandardCharsets.UTF_8));
    }

    static String ok(List<String> command) throws Exception {
        Run r = run(dir, command);
        assertEquals(0, r.code(), String.join(" ", command) + "\n" + r.output());
        return r.output();
    }

    /** Every digest of an image's graph as the bundle holds it. */
    static Set<String> graph(TestImage img) {
        Set<String> out = new TreeSet<>();
        img.blobs().forEach(b -> out.add(b.digest().toString()));
        img.children().forEach(c -> out.add(c.digest().toString()));
        out.add(img.top().digest().toString());
        return out;
    }

    @Test
    void skopeoCopyAllGivesEveryDigestOfTheBundle() throws Exception {
        for (TestImage img : List.of(api)) {
            String repo = "team/api";
            Path layout = dir.resolve("skopeo-" + img.name());
            ok(List.of("skopeo", "copy", "--all", "--preserve-digests", "--src-tls-verify=false",
                    "docker://" + host + "/" + repo + ":" + img.tag(), "oci:" + layout + ":" + img.tag()));
            JsonNode index = JSON.readTree(layout.resolve("index.json").toFile());
            assertEquals(img.top().digest().toString(), index.get("manifests").get(0).get("digest").asText());
            Set<String> got = new TreeSet<>();
            try (Stream<Path> files = Files.list(layout.resolve("blobs/sha256"))) {
                for (Path f : files.toList()) {
                    got.add("sha256:" + f.getFileName());
                    assertEquals("sha256:" + f.getFileName(), Digest.sha256(Files.readAllBytes(f)).toString());
                }
            }
            assertEquals(graph(img), got, repo);
        }
        // a Docker manifest list cannot go into an OCI layout unchanged; dir: keeps it, byte for byte
        Path copy = dir.resolve("skopeo-dir-web");
        ok(List.of("skopeo", "copy", "--all", "--preserve-digests", "--src-tls-verify=false",
                "docker://" + host + "/library/web:1.0", "dir:" + copy));
        assertEquals(web.top().digest(), Digest.sha256(Files.readAllBytes(copy.resolve("manifest.json"))));
        Set<String> got = new TreeSet<>();
        try (Stream<Path> files = Files.list(copy)) {
            for (Path f : files.toList()) {
                String n = f.getFileName().toString();
                if (n.matches("[0-9a-f]{64}")) {
                    got.add("sha256:" + n);
                } else if (n.matches("[0-9a-f]{64}\\.manifest\\.json")) {
                    got.add("sha256:" + n.substring(0, 64));
                    assertEquals("sha256:" + n.substring(0, 64), Digest.sha256(Files.readAllBytes(f)).toString());
                }
            }
        }
        got.add(web.top().digest().toString());
        assertEquals(graph(web), got);
    }

    @Test
    void podmanPullsTheArm64Entry() throws Exception {
        Path root = dir.resolve("podman-root");
        Path runroot = dir.resolve("podman-run");
        List<String> podman = List.of("podman", "--root", root.toString(), "--runroot", runroot.toString(), "--storage-driver", "vfs",
                "--cgroup-manager", "cgroupfs", "--events-backend", "none");
        List<String> pull = new ArrayList<>(podman);
        pull.addAll(List.of("pull", "--arch", "arm64", "--tls-verify=false", host + "/library/web:1.0"));
        ok(pull);
        List<String> inspect = new ArrayList<>(podman);
        inspect.addAll(List.of("image", "inspect", "--format", "{{.Architecture}} {{.Digest}} {{.Id}}", host + "/library/web:1.0"));
        String[] got = ok(inspect).strip().split(" ");
        assertEquals("arm64", got[0], String.join(" ", got) + " top " + web.top().digest() + " arm64 " + child(web, "arm64").digest()
                + " config " + config(web, "arm64"));
        assertEquals(web.top().digest().toString(), got[1], String.join(" ", got) + " top " + web.top().digest() + " arm64 " + child(web, "arm64").digest()
                + " config " + config(web, "arm64"));
        assertEquals(config(web, "arm64").hex(), got[2]);
    }

    /** containerd and dockerd need root for their own state directories, mounts and sockets. */
    static void requireRoot(String daemon) throws Exception {
        org.junit.jupiter.api.Assumptions.assumeTrue(ok(List.of("id", "-u")).strip().equals("0"), daemon + " needs root; run the tests as root");
    }

    @Test
    void containerdPullsTheArmV7Entry() throws Exception {
        requireRoot("containerd");
        Path base = Files.createDirectories(dir.resolve("containerd"));
        Path sock = base.resolve("c.sock");
        Path config = base.resolve("config.toml");
        Files.writeString(config, String.join("\n",
                "version = 2",
                "root = \"" + base.resolve("root") + "\"",
                "state = \"" + base.resolve("state") + "\"",
                "disabled_plugins = [\"io.containerd.grpc.v1.cri\"]",
                "[grpc]",
                "  address = \"" + sock + "\"",
                "[ttrpc]",
                "  address = \"" + base.resolve("t.sock") + "\"",
                "[debug]",
                "  address = \"\"",
                "[metrics]",
                "  address = \"\"",
                ""));
        Path log = base.resolve("containerd.log");
        Process daemon = new ProcessBuilder("containerd", "--config", config.toString()).redirectErrorStream(true)
                .redirectOutput(log.toFile()).start();
        try {
            waitFor(sock, daemon, log);
            List<String> ctr = List.of("ctr", "--address", sock.toString(), "--namespace", "airlock-serve-test");
            List<String> pull = new ArrayList<>(ctr);
            pull.addAll(List.of("images", "pull", "--plain-http", "--snapshotter", "native", "--platform", "linux/arm/v7", host + "/library/web:1.0"));
            ok(pull);
            List<String> ls = new ArrayList<>(ctr);
            ls.addAll(List.of("images", "ls"));
            String images = ok(ls);
            assertTrue(images.contains(host + "/library/web:1.0") && images.contains(web.top().digest().toString()), images);
            List<String> content = new ArrayList<>(ctr);
            content.addAll(List.of("content", "ls", "-q"));
            String digests = ok(content);
            TestImages.PlatformImage arm = web.platforms().stream().filter(p -> p.platform().toString().equals("linux/arm/v7")).findFirst().orElseThrow();
            assertTrue(digests.contains(arm.manifest().digest().toString()), digests);
            for (TestImages.Blob l : arm.layers()) {
                assertTrue(digests.contains(l.digest().toString()), digests);
            }
        } finally {
            stopByPid(daemon);
        }
    }

    @Test
    void dockerdPullsTheAmd64AndTheArm64Entry() throws Exception {
        requireRoot("dockerd");
        Path base = Files.createDirectories(dir.resolve("dockerd"));
        Path sock = base.resolve("d.sock");
        Path log = base.resolve("dockerd.log");
        Process daemon = new ProcessBuilder("dockerd", "--data-root", base.resolve("data").toString(), "--exec-root", base.resolve("exec").toString(),
                "--pidfile", base.resolve("dockerd.pid").toString(), "-H", "unix://" + sock, "--storage-driver", "vfs", "--bridge=none",
                "--iptables=false", "--ip6tables=false", "--ip-masq=false", "--shutdown-timeout", "2", "--insecure-registry", host, "--config-file", writeEmpty(base))
                .redirectErrorStream(true).redirectOutput(log.toFile()).start();
        try {
            waitFor(sock, daemon, log);
            String docker = "/usr/bin/docker";
            for (String arch : List.of("amd64", "arm64")) {
                String pulled = ok(List.of(docker, "-H", "unix://" + sock, "pull", "--platform", "linux/" + arch, host + "/library/web:1.0"));
                String[] got = ok(List.of(docker, "-H", "unix://" + sock, "image", "inspect", "--format",
                        "{{.Architecture}} {{.Id}}", host + "/library/web:1.0")).strip().split(" ");
                assertEquals(arch, got[0], String.join(" ", got));
                // docker names the list digest it pulled by (RepoDigests keeps only the first image per digest)
                assertTrue(pulled.contains("Digest: " + web.top().digest()), pulled);
                // the image id is the digest of the config of that platform's manifest
                RawManifest m = child(web, arch);
                TestImages.PlatformImage p = web.platforms().stream().filter(x -> x.manifest().equals(m)).findFirst().orElseThrow();
                assertEquals(p.config().digest().toString(), got[1]);
            }
        } finally {
            stopByPid(daemon);
        }
    }

    static String writeEmpty(Path base) throws IOException {
        return Files.writeString(base.resolve("daemon.json"), "{}").toString();
    }

    static Digest config(TestImage img, String arch) {
        return img.platforms().stream().filter(p -> p.platform().architecture().equals(arch)).findFirst().orElseThrow().config().digest();
    }

    static RawManifest child(TestImage img, String arch) {
        return img.platforms().stream().filter(p -> p.platform().architecture().equals(arch)).findFirst().orElseThrow().manifest();
    }

    static void waitFor(Path sock, Process daemon, Path log) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (!Files.exists(sock)) {
            if (!daemon.isAlive()) {
                throw new AssertionError(daemon.info().command().orElse("daemon") + " exited " + daemon.exitValue() + ":\n" + Files.readString(log));
            }
            if (System.nanoTime() > deadline) {
                throw new AssertionError("no socket " + sock + " after 30 s:\n" + Files.readString(log));
            }
            Thread.sleep(100);
        }
        Thread.sleep(300);
    }

    /** SIGTERM to the daemon's PID, then SIGKILL after 20 s; its children (dockerd's containerd) stop with it. */
    static void stopByPid(Process daemon) throws InterruptedException {
        List<ProcessHandle> children = daemon.descendants().toList();
        daemon.destroy();
        if (!daemon.waitFor(20, TimeUnit.SECONDS)) {
            daemon.destroyForcibly();
            daemon.waitFor(10, TimeUnit.SECONDS);
        }
        for (ProcessHandle c : children) {
            if (c.isAlive()) {
                c.destroy();
            }
        }
    }
}
