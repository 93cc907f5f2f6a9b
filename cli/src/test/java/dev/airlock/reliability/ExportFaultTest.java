package dev.airlock.reliability;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.airlock.bundle.BundleVerifier;
import dev.airlock.cli.Airlock;
import dev.airlock.error.ExitCodes;
import dev.airlock.progress.ProgressListener;
import dev.airlock.registry.RegistryOptions;
import dev.airlock.registry.RegistryStore;
import dev.airlock.sign.KeyGen;
import dev.airlock.sign.TrustPolicy;
import dev.airlock.testkit.RegistryProcess;
import dev.airlock.testkit.TestImages;
import dev.airlock.testkit.TestImages.TestImage;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The disk fills up while exporting: the bundle goes to a real, small filesystem (a 24 MiB tmpfs
 * mounted by the test; the images need about 30 MiB), the way a too-small USB disk would. The
 * export must fail with exit 5 and one line, leave neither a bundle nor a temporary file at the
 * output, and a re-run to a disk with room completes (from the cache) and verifies.
 *
 * <p>Mounting needs root (CI containers and this project's sandbox run tests as root); elsewhere
 * the test is skipped with that reason rather than simulated.
 */
class ExportFaultTest {
    @TempDir
    Path dir;

    @Test
    void diskFullWhileWritingTheBundle() throws Exception {
        Path small = Files.createDirectories(dir.resolve("usb"));
        Assumptions.assumeTrue(run("mount", "-t", "tmpfs", "-o", "size=24m", "tmpfs", small.toString()) == 0,
                "cannot mount a small tmpfs here (needs root)");
        try (RegistryProcess source = RegistryProcess.start()) {
            List<String> refs = new ArrayList<>();
            try (RegistryStore s = RegistryStore.open(source.host(), RegistryOptions.anonymous())) {
                for (String name : List.of("big-a", "big-b")) {
                    TestImage img = TestImages.image(name).oci().baseSeed(name.hashCode()).layerSize(3 << 20).build();
                    img.pushTo(s, "team/" + name);
                    refs.add(source.host() + "/team/" + name + ":" + img.tag());
                }
            }
            KeyGen.Result k = KeyGen.generate(dir.resolve("ops"), Optional.empty());
            Path cache = dir.resolve("cache");

            Path out = small.resolve("images.tar");
            StringWriter err = new StringWriter();
            int code = export(refs, out, cache, k.privateKey(), err);
            assertEquals(ExitCodes.IO, code, err.toString());
            List<String> lines = err.toString().lines().filter(l -> !l.isBlank()).toList();
            assertEquals(1, lines.size(), err.toString());
            assertTrue(lines.get(0).startsWith("airlock: ") && lines.get(0).contains("No space left on device"), lines.get(0));
            try (Stream<Path> left = Files.list(small)) {
                assertEquals(List.of(), left.toList(), "nothing may be left on the full disk (no bundle, no temporary file)");
            }

            Path roomy = dir.resolve("images.tar");
            StringWriter err2 = new StringWriter();
            assertEquals(0, export(refs, roomy, cache, k.privateKey(), err2), err2.toString());
            assertFalse(Files.exists(out));
            BundleVerifier.verify(roomy, TrustPolicy.fromFiles(List.of(k.publicKey()), false), ProgressListener.NONE);
            assertTrue(Files.size(roomy) > 24 << 20, "the bundle really is bigger than the small disk: " + Files.size(roomy));
        } finally {
            run("umount", small.toString());
        }
    }

    private static int export(List<String> refs, Path out, Path cache, Path key, StringWriter err) {
        List<String> args = new ArrayList<>(List.of("export"));
        args.addAll(refs);
        args.addAll(List.of("-o", out.toString(), "--cache", cache.toString(), "--sign-key", key.toString(), "-q"));
        return Airlock.run(new PrintWriter(new StringWriter(), true), new PrintWriter(err, true), args.toArray(String[]::new));
    }

    private static int run(String... cmd) throws IOException, InterruptedException {
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
        return p.waitFor(30, TimeUnit.SECONDS) ? p.exitValue() : -1;
    }
}
