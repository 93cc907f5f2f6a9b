package dev.airlock.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.airlock.model.RawManifest;
import dev.airlock.registry.RegistryOptions;
import dev.airlock.registry.RegistryStore;
import dev.airlock.testkit.RegistryProcess;
import dev.airlock.testkit.SampleImages;
import dev.airlock.testkit.TestImages.Blob;
import dev.airlock.testkit.TestImages.TestImage;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * What k3s and RKE2 do with a bundle dropped into /var/lib/rancher/k3s/agent/images/ (containerd's
 * Import with all platforms, into the k8s.io namespace), done with Debian's containerd started by
 * this test (own config, root, state and socket; stopped by PID) and {@code ctr images import
 * --all-platforms}: every image arrives under its source reference with the source digest, every
 * platform's manifest, config and layers are in the content store byte for byte, and the host's
 * platform is unpacked (layer diff_ids checked by containerd). Needs root (containerd does).
 */
class ContainerdLoadTest {
    static final String NAMESPACE = "k8s.io";

    @TempDir
    static Path tmp;
    static RegistryProcess registry;
    static Process containerd;
    static Path socket;
    static List<TestImage> images;
    static Map<String, TestImage> byReference = new LinkedHashMap<>();
    static Path tar;
    static Path zst;

    record Run(int code, String out, String err) {
    }

    static Run run(List<String> command) throws IOException, InterruptedException {
        Path out = Files.createTempFile(tmp, "out", ".txt");
        Path err = Files.createTempFile(tmp, "err", ".txt");
        Process p = new ProcessBuilder(command).redirectOutput(out.toFile()).redirectError(err.toFile())
                .redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null"))).start();
        if (!p.waitFor(120, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            throw new AssertionError("timed out: " + command);
        }
        return new Run(p.exitValue(), Files.readString(out, StandardCharsets.UTF_8), Files.readString(err, StandardCharsets.UTF_8));
    }

    static List<String> ctr(String... args) {
        List<String> c = new ArrayList<>(List.of("ctr", "--address", socket.toString(), "--namespace", NAMESPACE));
        c.addAll(List.of(args));
        return c;
    }

    @BeforeAll
    static void startContainerdAndExport() throws Exception {
        Assumptions.assumeTrue("root".equals(System.getProperty("user.name")), "containerd needs root");
        Path base = Files.createDirectories(tmp.resolve("containerd"));
        socket = base.resolve("containerd.sock");
        // Only what import needs: no CRI (no networking), no snapshotters that need special filesystems.
        Path config = Files.writeString(base.resolve("config.toml"), String.join("\n",
                "version = 2",
                "root = \"" + base.resolve("root") + "\"",
                "state = \"" + base.resolve("state") + "\"",
                "disabled_plugins = [\"io.containerd.grpc.v1.cri\", \"io.containerd.snapshotter.v1.btrfs\", \"io.containerd.snapshotter.v1.zfs\",",
                "  \"io.containerd.snapshotter.v1.devmapper\", \"io.containerd.snapshotter.v1.aufs\", \"io.containerd.internal.v1.tracing\"]",
                "[grpc]", "  address = \"" + socket + "\"",
                "[ttrpc]", "  address = \"" + socket + ".ttrpc\"",
                "[debug]", "  address = \"\"",
                "[metrics]", "  address = \"\"",
                "[plugins.\"io.containerd.internal.v1.opt\"]", "  path = \"" + base.resolve("opt") + "\"", ""));
        containerd = new ProcessBuilder("containerd", "--config", config.toString()).redirectErrorStream(true)
                .redirectOutput(base.resolve("containerd.log").toFile()).start();
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (run(ctr("version")).code() != 0) {
            assertTrue(containerd.isAlive(), "containerd exited: " + Files.readString(base.resolve("containerd.log")));
            assertTrue(System.nanoTime() < deadline, "containerd did not answer on " + socket);
            Thread.sleep(100);
        }

        registry = RegistryProcess.start();
        images = SampleImages.images();
        List<String> refs = new ArrayList<>();
        try (RegistryStore store = RegistryStore.open(registry.host(), RegistryOptions.anonymous())) {
            for (TestImage i : images) {
                i.pushTo(store, "demo/" + i.name());
                String ref = registry.host() + "/demo/" + i.name() + ":" + i.tag();
                refs.add(ref);
                byReference.put(ref, i);
            }
        }
        tar = tmp.resolve("k3s.tar");
        zst = tmp.resolve("k3s.tar.zst");
        for (Path out : List.of(tar, zst)) {
            List<String> args = new ArrayList<>(List.of("export", "-q", "--cache", tmp.resolve("cache").toString(), "-o", out.toString()));
            args.addAll(refs);
            CliRun r = CliRun.of(args.toArray(String[]::new));
            assertEquals(0, r.code(), r.err());
        }
    }

    @AfterAll
    static void stop() throws Exception {
        if (containerd != null) {
            containerd.destroy(); // SIGTERM to this PID only
            if (!containerd.waitFor(20, TimeUnit.SECONDS)) {
                containerd.destroyForcibly().waitFor();
            }
        }
        if (registry != null) {
            registry.close();
        }
        // containerd leaves read-only dirs and mounts nothing with the native snapshotter; make the tree deletable
        run(List.of("chmod", "-R", "u+w", tmp.toString()));
    }

    @Test
    void ctrImportsATarBundleWithEveryImagePlatformAndDigest() throws Exception {
        Run imported = run(ctr("images", "import", "--all-platforms", "--snapshotter", "native", tar.toString()));
        assertEquals(0, imported.code(), imported.out() + imported.err());

        // ctr images ls: REF TYPE DIGEST SIZE PLATFORMS LABELS
        Run ls = run(ctr("images", "ls"));
        assertEquals(0, ls.code(), ls.err());
        Map<String, String[]> listed = new LinkedHashMap<>();
        ls.out().lines().skip(1).map(l -> l.trim().split("\\s+")).forEach(f -> listed.put(f[0], f));
        assertEquals(new TreeSet<>(byReference.keySet()), new TreeSet<>(listed.keySet()), "image names are the source references: " + ls.out());
        for (Map.Entry<String, TestImage> e : byReference.entrySet()) {
            String[] row = listed.get(e.getKey());
            TestImage image = e.getValue();
            assertEquals(image.top().mediaType().value(), row[1], e.getKey());
            assertEquals(image.top().digest().toString(), row[2], e.getKey());
            TreeSet<String> want = new TreeSet<>();
            image.platforms().forEach(p -> want.add(p.platform().toString()));
            if (image.children().size() > image.platforms().size()) {
                want.add("unknown/unknown"); // attestation manifests (buildkit style) are index entries too
            }
            TreeSet<String> got = new TreeSet<>(List.of(row[row.length - 2].split(",")));
            assertEquals(want, got, e.getKey() + ": " + String.join(" ", row));
            List<String> wrong = new ArrayList<>();
            for (RawManifest m : allManifests(image)) {
                if (!java.util.Arrays.equals(m.bytes(), content(m.digest().toString()))) {
                    wrong.add("manifest " + m.digest());
                }
            }
            for (Blob b : image.blobs()) {
                if (!java.util.Arrays.equals(b.bytes(), content(b.digest().toString()))) {
                    wrong.add("blob " + b.digest());
                }
            }
            assertEquals(List.of(), wrong, e.getKey());
        }
        // ctr images check: REF TYPE DIGEST STATUS SIZE UNPACKED; the host's platform (linux/amd64) was
        // unpacked into the snapshotter, so containerd checked those layers against the config's diff_ids
        Run check = run(ctr("images", "check", "--snapshotter", "native"));
        assertEquals(0, check.code(), check.err());
        for (Map.Entry<String, TestImage> e : byReference.entrySet()) {
            String line = check.out().lines().filter(l -> l.startsWith(e.getKey() + " ")).findFirst().orElse("");
            assertTrue(line.contains("complete"), "all content of every platform present: " + check.out());
            boolean amd64 = e.getValue().platforms().stream().anyMatch(p -> p.platform().toString().equals("linux/amd64"));
            if (amd64) {
                assertTrue(line.trim().endsWith("true"), "unpacked for linux/amd64: " + line);
            }
        }
    }

    private static List<RawManifest> allManifests(TestImage image) {
        List<RawManifest> all = new ArrayList<>(image.children());
        all.add(image.top());
        return all;
    }

    private static byte[] content(String digest) throws Exception {
        Path out = tmp.resolve("content-" + digest.substring("sha256:".length()));
        Run get = run(List.of("bash", "-c", "ctr --address \"$1\" --namespace " + NAMESPACE + " content get \"$2\" > \"$3\"", "bash",
                socket.toString(), digest, out.toString()));
        assertEquals(0, get.code(), digest + ": " + get.err());
        byte[] bytes = Files.readAllBytes(out);
        Files.delete(out);
        return bytes;
    }

    /**
     * containerd 1.6 reads an uncompressed tar only: a .tar.zst bundle fails. k3s/RKE2 decompress
     * .tar.zst themselves before importing (their agent/images loader); for ctr, decompress first.
     */
    @Test
    void ctrRefusesATarZstButReadsItDecompressedOnStdin() throws Exception {
        Run direct = run(ctr("images", "import", "--all-platforms", "--no-unpack", zst.toString()));
        assertNotEquals(0, direct.code(), "ctr import of .tar.zst: " + direct.out() + direct.err());
        Run piped = run(List.of("bash", "-c", "set -o pipefail; zstd -dc \"$1\" | ctr --address \"$2\" --namespace zst images import "
                + "--all-platforms --no-unpack -", "bash", zst.toString(), socket.toString()));
        assertEquals(0, piped.code(), piped.out() + piped.err());
        Run ls = run(List.of("ctr", "--address", socket.toString(), "--namespace", "zst", "images", "ls", "-q"));
        assertEquals(new TreeSet<>(byReference.keySet()), new TreeSet<>(ls.out().lines().toList()));
    }
}
