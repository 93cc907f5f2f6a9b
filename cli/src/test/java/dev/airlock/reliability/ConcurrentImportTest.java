package dev.airlock.reliability;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.airlock.cli.Airlock;
import dev.airlock.model.Descriptor;
import dev.airlock.registry.RegistryOptions;
import dev.airlock.registry.RegistryStore;
import dev.airlock.sign.KeyGen;
import dev.airlock.sign.Signer;
import dev.airlock.testkit.RegistryAudit;
import dev.airlock.testkit.RegistryProcess;
import dev.airlock.testkit.TestImages;
import dev.airlock.testkit.TestImages.TestImage;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * 200 small images (every tenth a 3-platform OCI index; base layers shared between many) in one
 * signed bundle, imported with {@code --jobs 16} into a real registry: every image arrives under
 * its tag with the identical digest, nothing is lost, the registry is consistent, and a second
 * run finds everything up to date.
 */
class ConcurrentImportTest {
    @TempDir
    Path dir;

    @Test
    void twoHundredImagesWithSixteenJobs() {
        KeyGen.Result k = KeyGen.generate(dir.resolve("ops"), Optional.empty());
        Signer signer = Signer.load(k.privateKey(), Optional.of(k.certificate()));
        BundleForge forge = new BundleForge();
        List<TestImage> images = new ArrayList<>();
        for (int i = 0; i < 200; i++) {
            TestImages.Builder b = TestImages.image("img" + i).baseSeed(i % 7).layerSize(512 + i);
            TestImage img = (i % 10 == 0 ? b.oci() : b.singlePlatform(i % 2 == 0 ? "linux/amd64" : "linux/arm64")).build();
            images.add(img);
            forge.image("example.com/c/img" + i + ":" + img.tag(), img);
        }
        Path bundle = forge.write(dir.resolve("many.tar"), signer);
        try (RegistryProcess reg = RegistryProcess.start()) {
            StringWriter out = new StringWriter();
            StringWriter err = new StringWriter();
            int code = Airlock.run(new PrintWriter(out, true), new PrintWriter(err, true), "import", bundle.toString(),
                    "--to", reg.host() + "/m", "--trust", k.publicKey().toString(), "--jobs", "16");
            assertEquals(0, code, err.toString());
            assertEquals(201, out.toString().lines().count(), out.toString());
            try (RegistryStore s = RegistryStore.open(reg.host(), RegistryOptions.anonymous())) {
                for (int i = 0; i < 200; i++) {
                    TestImage img = images.get(i);
                    String repo = "m/c/img" + i;
                    Descriptor d = s.headManifest(repo, img.tag()).orElseThrow(() -> new AssertionError("lost: image " + img.name()));
                    assertEquals(img.top().digest(), d.digest(), "digest of " + repo);
                    Fixture.assertImage(s, img, repo);
                }
            }
            RegistryAudit.Report r = RegistryAudit.assertConsistent(reg);
            assertEquals(200, r.tagCount(), r.toString());
            // the repositories: the 200 images and import's preflight scratch repository (untagged, its probes deleted)
            assertEquals(200, r.tags().keySet().stream().filter(repo -> !repo.equals("m/airlock-preflight")).count(), r.toString());
            assertEquals(List.of(), r.tags().getOrDefault("m/airlock-preflight", List.of()), r.toString());

            StringWriter again = new StringWriter();
            assertEquals(0, Airlock.run(new PrintWriter(again, true), new PrintWriter(new StringWriter(), true), "import", bundle.toString(),
                    "--to", reg.host() + "/m", "--trust", k.publicKey().toString(), "--jobs", "16"));
            assertTrue(again.toString().contains("already complete"), again.toString());
        }
    }
}
