package dev.airlock.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.airlock.testkit.NamedBundles;
import dev.airlock.testkit.RegistryProcess;
import dev.airlock.testkit.TestImages;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The node configuration written by {@code import --mirror-config} works with real clients and no
 * internet: containerd's ctr and podman pull the source name {@code docker.io/rancher/pause:3.1}
 * and get it from a loopback registry under a prefix, filled by an Airlock import.
 */
class MirrorConfigClientsTest {
    static final String SOURCE = "docker.io/rancher/pause:3.1";
    static Path tmp;
    static RegistryProcess registry;
    static TestImages.TestImage pause;
    static Path hostsDir;
    static Path dropIn;
    static Path registriesYaml;

    @BeforeAll
    static void importWithMirrorConfig() throws IOException {
        tmp = Files.createTempDirectory("mcfg");
        registry = RegistryProcess.start();
        pause = TestImages.image("pause").oci().tag("3.1").platforms("linux/amd64", "linux/arm64").baseSeed(11).build();
        Path bundle = NamedBundles.write(tmp.resolve("pause.tar"), List.of(NamedBundles.named(SOURCE, pause)));
        hostsDir = tmp.resolve("hosts");
        dropIn = tmp.resolve("50-airlock.conf");
        registriesYaml = tmp.resolve("registries.yaml");
        CliRun r = CliRun.of("import", bundle.toString(), "--to", registry.host() + "/mirror", "--allow-unsigned", "-q",
                "--mirror-config", "containerd:" + hostsDir, "--mirror-config", "containers:" + dropIn, "--mirror-config", "k3s:" + registriesYaml);
        assertEquals(0, r.code(), r.out() + r.err());
        assertTrue(r.out().contains("wrote " + hostsDir.resolve("docker.io/hosts.toml")), r.out());
        assertTrue(r.out().contains("wrote " + dropIn), r.out());
    }

    @AfterAll
    static void stop() {
        if (registry != null) {
            registry.close();
        }
        RegistryProcess.deleteTree(tmp);
    }

    @Test
    void generatedFilesNameOnlyTheSourceRegistryAndNoCredentials() throws IOException {
        try (var s = Files.list(hostsDir)) {
            assertEquals(List.of("docker.io"), s.map(p -> p.getFileName().toString()).toList());
        }
        String toml = Files.readString(hostsDir.resolve("docker.io/hosts.toml"), StandardCharsets.UTF_8);
        assertTrue(toml.contains("[host.\"http://" + registry.host() + "/v2/mirror\"]"), toml);
        String yaml = Files.readString(registriesYaml, StandardCharsets.UTF_8);
        assertTrue(yaml.contains("  \"docker.io\":\n    endpoint:\n      - \"http://" + registry.host() + "\"\n    rewrite:\n      \"^(.*)$\": \"mirror/$1\"\n"), yaml);
    }

    @Test
    void ctrPullsTheSourceNameThroughTheHostsDirectory() throws Exception {
        assumeTrue(Files.isExecutable(Path.of("/usr/bin/containerd")) && Files.isExecutable(Path.of("/usr/bin/ctr")), "containerd not installed");
        assumeTrue(isRoot(), "containerd needs root");
        Path d = Files.createTempDirectory("ctrd");
        Path sock = d.resolve("c.sock");
        Path config = Files.writeString(d.resolve("config.toml"), String.join("\n",
                "version = 2",
                "root = \"" + d.resolve("root") + "\"",
                "state = \"" + d.resolve("state") + "\"",
                "disabled_plugins = [\"io.containerd.grpc.v1.cri\"]",
                "[grpc]",
                "  address = \"" + sock + "\"",
                "[ttrpc]",
                "  address = \"" + d.resolve("t.sock") + "\"",
                "[debug]",
                "  address = \"" + d.resolve("d.sock") + "\"",
                "[plugins.\"io.containerd.internal.v1.opt\"]",
                "  path = \"" + d.resolve("opt") + "\"",
                ""));
        Process containerd = new ProcessBuilder("/usr/bin/containerd", "--config", config.toString())
                .redirectErrorStream(true).redirectOutput(d.resolve("containerd.log").toFile()).start();
        try {
            waitFor(() -> run(Map.of(), "ctr", "--address", sock.toString(), "version").code == 0, containerd, d.resolve("containerd.log"));
            Result pull = run(Map.of(), "ctr", "--address", sock.toString(), "--namespace", "airlock", "images", "pull",
                    "--hosts-dir", hostsDir.toString(), "--snapshotter", "native", SOURCE);
            assertEquals(0, pull.code, pull.output);
            Result ls = run(Map.of(), "ctr", "--address", sock.toString(), "--namespace", "airlock", "images", "ls");
            assertTrue(ls.output.contains(SOURCE), ls.output);
            assertTrue(ls.output.contains(pause.top().digest().toString()), "the digest of the bundle's index: " + ls.output);
        } finally {
            containerd.destroy();
            if (!containerd.waitFor(20, TimeUnit.SECONDS)) {
                containerd.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
            }
            RegistryProcess.deleteTree(d);
        }
    }

    @Test
    void podmanPullsTheSourceNameThroughTheDropIn() throws Exception {
        assumeTrue(Files.isExecutable(Path.of("/usr/bin/podman")), "podman not installed");
        assumeTrue(isRoot(), "the throw-away podman storage is set up for root");
        Path d = Files.createTempDirectory("podman");
        try {
            Result pull = run(Map.of("CONTAINERS_REGISTRIES_CONF", dropIn.toString()), "podman", "--root", d.resolve("root").toString(),
                    "--runroot", d.resolve("run").toString(), "--storage-driver", "vfs", "--events-backend", "none",
                    "pull", "--quiet", SOURCE);
            assertEquals(0, pull.code, pull.output);
            Result inspect = run(Map.of("CONTAINERS_REGISTRIES_CONF", dropIn.toString()), "podman", "--root", d.resolve("root").toString(),
                    "--runroot", d.resolve("run").toString(), "--storage-driver", "vfs", "--events-backend", "none",
                    "image", "inspect", "--format", "{{.Digest}} {{.RepoTags}}", SOURCE);
            assertEquals(0, inspect.code, inspect.output);
            assertTrue(inspect.output.contains(pause.top().digest().toString()), inspect.output);
        } finally {
            RegistryProcess.deleteTree(d);
        }
    }

    static boolean isRoot() {
        try {
            return Integer.valueOf(0).equals(Files.getAttribute(Path.of("/proc/self"), "unix:uid"));
        } catch (IOException | UnsupportedOperationException | IllegalArgumentException e) {
            return false;
        }
    }

    record Result(int code, String output) {
    }

    static Result run(Map<String, String> env, String... cmd) {
        try {
            ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true);
            pb.environment().putAll(env);
            Process p = pb.start();
            p.getOutputStream().close();
            byte[] out = p.getInputStream().readAllBytes();
            if (!p.waitFor(120, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                return new Result(-1, "timed out: " + new String(out, StandardCharsets.UTF_8));
            }
            return new Result(p.exitValue(), new String(out, StandardCharsets.UTF_8));
        } catch (IOException e) {
            return new Result(-1, e.toString());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return new Result(-1, "interrupted");
        }
    }

    static void waitFor(java.util.function.BooleanSupplier ready, Process p, Path log) throws Exception {
        List<String> seen = new ArrayList<>();
        for (int i = 0; i < 200; i++) {
            if (!p.isAlive()) {
                throw new IllegalStateException("containerd exited: " + Files.readString(log));
            }
            if (ready.getAsBoolean()) {
                return;
            }
            Thread.sleep(100);
        }
        seen.add(Files.readString(log));
        throw new IllegalStateException("containerd did not answer within 20 s: " + seen);
    }
}
