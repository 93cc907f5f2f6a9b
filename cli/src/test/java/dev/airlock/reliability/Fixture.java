package dev.airlock.reliability;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.airlock.export.ExportRequest;
import dev.airlock.export.Exporter;
import dev.airlock.export.SourceStores;
import dev.airlock.importer.ImportRequest;
import dev.airlock.importer.ImportResult;
import dev.airlock.importer.Importer;
import dev.airlock.model.TargetMapping;
import dev.airlock.model.ImageReference;
import dev.airlock.model.RawManifest;
import dev.airlock.progress.ProgressListener;
import dev.airlock.registry.RegistryOptions;
import dev.airlock.registry.RegistryStore;
import dev.airlock.registry.TransportOptions;
import dev.airlock.sign.KeyGen;
import dev.airlock.sign.Signer;
import dev.airlock.sign.TrustPolicy;
import dev.airlock.store.ImageStore;
import dev.airlock.testkit.RegistryAudit;
import dev.airlock.testkit.RegistryProcess;
import dev.airlock.testkit.TestImages;
import dev.airlock.testkit.TestImages.TestImage;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Optional;

/**
 * A source registry with three images (OCI multi-arch with attestations, Docker 4-arch list, a
 * single-platform manifest), exported through the real {@link Exporter} into a signed .tar and a
 * signed .tar.zst, and helpers to import them and to check a target afterwards.
 */
final class Fixture implements AutoCloseable {
    final Path dir;
    final RegistryProcess source;
    final TestImage oci;
    final TestImage docker;
    final TestImage single;
    final List<String> repos = List.of("team/app", "rancher/pause", "tool");
    final Path publicKey;
    final Path privateKey;
    final TrustPolicy trust;
    final Path tar;
    final Path zst;

    Fixture(Path dir, int layerSize) {
        this.dir = dir;
        source = RegistryProcess.start();
        oci = TestImages.image("app").oci().attestation().baseSeed(11).layerSize(layerSize).ownLayers(2).build();
        docker = TestImages.image("pause").docker().platforms("linux/amd64", "linux/arm64", "linux/arm/v7", "linux/arm/v5")
                .baseSeed(11).layerSize(layerSize).build();
        single = TestImages.image("tool").singlePlatform("linux/arm64").tag("v2").layerSize(layerSize).build();
        try (RegistryStore s = RegistryStore.open(source.host(), RegistryOptions.anonymous())) {
            oci.pushTo(s, "team/app");
            docker.pushTo(s, "rancher/pause");
            single.pushTo(s, "tool");
        }
        KeyGen.Result k = KeyGen.generate(dir.resolve("ops"), Optional.of("CN=reliability"));
        publicKey = k.publicKey();
        privateKey = k.privateKey();
        trust = TrustPolicy.fromFiles(List.of(publicKey), false);
        Signer signer = Signer.load(k.privateKey(), Optional.of(k.certificate()));
        tar = export(dir.resolve("images.tar"), false, signer);
        zst = export(dir.resolve("images.tar.zst"), true, signer);
    }

    List<String> references() {
        return List.of(source.host() + "/team/app:" + oci.tag(), source.host() + "/rancher/pause:" + docker.tag(),
                source.host() + "/tool:" + single.tag());
    }

    private Path export(Path out, boolean zstd, Signer signer) {
        new Exporter(SourceStores.registries(RegistryOptions.anonymous())).export(ExportRequest.to(out).references(references())
                .cacheDir(dir.resolve("cache")).jobs(4).signer(Optional.of(signer)).compress(zstd));
        return out;
    }

    /** Transport that gives up fast, so that a dead registry fails the run instead of retrying for minutes. */
    static RegistryOptions impatient() {
        return RegistryOptions.anonymous().withTransport(TransportOptions.defaults().withMaxAttempts(1)
                .withBackoff(Duration.ofMillis(10), Duration.ofMillis(10)).withTimeouts(Duration.ofSeconds(2), Duration.ofSeconds(3)));
    }

    static ImportResult importInto(ImageStore target, String to, Path bundle, TrustPolicy trust, int jobs, ProgressListener p) {
        return new Importer(target, p).run(new ImportRequest(bundle, TargetMapping.parse(to, false), trust, jobs, false));
    }

    /** The whole fixture arrived under {@code prefix}: every tag, manifest byte-exact, every blob; and the registry is consistent. */
    void assertComplete(RegistryProcess target, String prefix) {
        RegistryAudit.Report r = RegistryAudit.assertConsistent(target);
        try (RegistryStore s = RegistryStore.open(target.host(), RegistryOptions.anonymous())) {
            assertImage(s, oci, prefix + "/team/app");
            assertImage(s, docker, prefix + "/rancher/pause");
            assertImage(s, single, prefix + "/tool");
        }
        assertTrue(r.tagCount() >= 3, r.toString());
    }

    static void assertImage(RegistryStore s, TestImage img, String repo) {
        RawManifest top = s.fetchManifest(repo, img.tag());
        assertArrayEquals(img.top().bytes(), top.bytes(), "top of " + repo);
        for (RawManifest c : img.children()) {
            assertArrayEquals(c.bytes(), s.fetchManifest(repo, c.digest().toString()).bytes(), "child " + c.digest() + " of " + repo);
        }
        for (TestImages.Blob b : img.blobs()) {
            assertEquals(b.bytes().length, s.blobSize(repo, b.digest()).orElseThrow(), "blob " + b.digest() + " in " + repo);
        }
    }

    static ImageReference ref(String s) {
        return ImageReference.parse(s);
    }

    @Override
    public void close() {
        source.close();
    }
}
