package dev.airlock.bundle;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.airlock.error.AirlockException;
import dev.airlock.error.ExitCodes;
import dev.airlock.model.Descriptor;
import dev.airlock.model.Digest;
import dev.airlock.model.ImageReference;
import dev.airlock.model.MediaType;
import dev.airlock.model.Platform;
import dev.airlock.progress.ProgressListener;
import dev.airlock.sign.TrustPolicy;
import java.io.ByteArrayInputStream;
import java.nio.file.Path;
import java.util.List;
import java.util.Set;
import java.util.UUID;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The graph rules of a delta, as the writer and every reader apply them: a carried manifest may
 * reference a required item (same size) instead of an earlier blob; requires[].images must be
 * exactly the images whose reader-visible graph reaches the item.
 */
class BundleDeltaGraphTest {
    @TempDir
    Path tmp;

    /** Two single-platform images sharing a base layer; the base is at the target. */
    private record Fixture(TestContent c, Descriptor base, List<Descriptor> carried, List<Set<Digest>> graphs) {
    }

    private static Fixture fixture() {
        TestContent c = new TestContent(11);
        Descriptor base = c.layer(MediaType.OCI_LAYER_GZIP, 500);
        for (String name : List.of("a", "b")) {
            Descriptor own = c.layer(MediaType.OCI_LAYER_GZIP, 300);
            Descriptor m = c.manifest(MediaType.OCI_MANIFEST, c.config(MediaType.OCI_CONFIG, Platform.parse("linux/amd64"), List.of(base, own)),
                    List.of(base, own));
            c.images.add(BundleImage.of(ImageReference.parse("example.org/" + name + ":1"), m, List.of(Platform.parse("linux/amd64"))));
        }
        List<Descriptor> carried = c.order().stream().filter(d -> !d.digest().equals(base.digest())).toList();
        // each image's graph without the base: its own layer, config and manifest (manifest digests are their image's top)
        List<Set<Digest>> graphs = new java.util.ArrayList<>();
        for (BundleImage img : c.images) {
            dev.airlock.model.ImageManifest v = (dev.airlock.model.ImageManifest) dev.airlock.model.ManifestView.parse(
                    dev.airlock.model.RawManifest.of(img.descriptor().mediaType(), c.bytes.get(img.digest())));
            graphs.add(Set.of(img.digest(), v.config().digest(), v.layers().get(1).digest()));
        }
        return new Fixture(c, base, carried, graphs);
    }

    private Path write(Fixture f, BundleManifest.Required base) {
        Path out = tmp.resolve("d-" + UUID.randomUUID() + ".tar");
        BundleWriter.write(out, f.c().images, f.carried(), d -> new ByteArrayInputStream(f.c().bytes.get(d.digest())),
                WriteOptions.defaults().withImageGraphs(f.graphs()), ProgressListener.NONE,
                new BundleWriter.Delta(List.of(base), List.of(new BundleManifest.BasedOn(UUID.randomUUID(), Digest.sha256(new byte[1])))));
        return out;
    }

    @Test
    void aDeltaReferencingARequiredLayerVerifies() {
        Fixture f = fixture();
        Path out = write(f, new BundleManifest.Required(f.base().digest(), f.base().size(), f.base().mediaType(), List.of(0, 1), List.of("m/a")));
        VerifyResult v = BundleVerifier.verify(out, TrustPolicy.allowUnsignedOnly(), ProgressListener.NONE);
        assertEquals(1, v.manifest().requires().size());
        assertEquals(f.base().size(), v.manifest().requiredBytes());
        try (BundleArchive a = BundleArchive.open(out, TrustPolicy.allowUnsignedOnly())) {
            assertTrue(a.manifest().isDelta());
        }
    }

    @Test
    void aRequiredItemOfAnotherSizeIsRefused() {
        Fixture f = fixture();
        AirlockException e = assertThrows(AirlockException.class, () -> write(f,
                new BundleManifest.Required(f.base().digest(), f.base().size() + 1, f.base().mediaType(), List.of(0, 1), List.of())));
        assertEquals(ExitCodes.VERIFICATION, e.exitCode());
        assertTrue(e.getMessage().contains("required item has " + (f.base().size() + 1) + " bytes"), e.getMessage());
    }

    @Test
    void aRequiredItemNotNamingEveryImageThatNeedsItIsRefused() {
        Fixture f = fixture();
        AirlockException e = assertThrows(AirlockException.class, () -> write(f,
                new BundleManifest.Required(f.base().digest(), f.base().size(), f.base().mediaType(), List.of(0), List.of())));
        assertEquals(ExitCodes.VERIFICATION, e.exitCode());
        assertTrue(e.getMessage().contains("does not list image example.org/b:1 for " + f.base().digest()), e.getMessage());
    }

    @Test
    void aRequiredItemNamingAnImageThatDoesNotReachItIsRefused() {
        Fixture f = fixture();
        Descriptor other = new TestContent(99).layer(MediaType.OCI_LAYER_GZIP, 10);
        Path out = tmp.resolve("x.tar");
        AirlockException e = assertThrows(AirlockException.class, () -> BundleWriter.write(out, f.c().images, f.carried(),
                d -> new ByteArrayInputStream(f.c().bytes.get(d.digest())), WriteOptions.defaults().withImageGraphs(f.graphs()),
                ProgressListener.NONE, new BundleWriter.Delta(List.of(
                        new BundleManifest.Required(f.base().digest(), f.base().size(), f.base().mediaType(), List.of(0, 1), List.of()),
                        new BundleManifest.Required(other.digest(), other.size(), other.mediaType(), List.of(0), List.of())), List.of())));
        assertEquals(ExitCodes.VERIFICATION, e.exitCode());
        assertTrue(e.getMessage().contains("which its graph does not reference"), e.getMessage());
    }

    /** An OCI 1.1 SBOM referrer of {@code subject}: the empty config, one layer of its own. */
    private static Descriptor sbom(TestContent c, Descriptor empty, Descriptor subject, String name) {
        Descriptor layer = c.add(MediaType.of("application/spdx+json"), ("{\"name\":\"" + name + "\"}").getBytes(java.nio.charset.StandardCharsets.UTF_8));
        com.fasterxml.jackson.databind.node.ObjectNode o = dev.airlock.model.Json.mapper().createObjectNode();
        o.put("schemaVersion", 2);
        o.put("mediaType", MediaType.OCI_MANIFEST.value());
        o.put("artifactType", "application/spdx+json");
        o.set("config", TestContent.desc(empty));
        o.putArray("layers").add(TestContent.desc(layer));
        o.set("subject", TestContent.desc(subject));
        return c.add(MediaType.OCI_MANIFEST, dev.airlock.model.Json.write(o));
    }

    /**
     * A delta for an image the target holds (its top required) with a held SBOM (required) and a
     * new one (carried, its empty config required): written, verified, both listed; without the
     * held one among requires it is refused.
     */
    @Test
    void aNewArtifactOnAnImageTheTargetHoldsIsCarriedBesideARequiredOne() {
        TestContent c = new TestContent(21);
        Descriptor layer = c.layer(MediaType.OCI_LAYER_GZIP, 200);
        Descriptor top = c.manifest(MediaType.OCI_MANIFEST, c.config(MediaType.OCI_CONFIG, Platform.parse("linux/amd64"), List.of(layer)), List.of(layer));
        Descriptor empty = c.add(MediaType.OCI_EMPTY, "{}".getBytes(java.nio.charset.StandardCharsets.UTF_8));
        Descriptor held = sbom(c, empty, top, "held");
        Descriptor fresh = sbom(c, empty, top, "fresh");
        // carried: the new SBOM's layer and manifest (the last two blobs added)
        List<Descriptor> carried = c.order().subList(c.order().size() - 2, c.order().size());
        BundleImage img = new BundleImage(ImageReference.parse("example.org/a:1"), top, List.of(Platform.parse("linux/amd64")), java.util.Optional.empty(),
                List.of(new BundleArtifact(top.digest(), held.digest(), MediaType.OCI_MANIFEST, "application/spdx+json", "referrers-tag", false),
                        new BundleArtifact(top.digest(), fresh.digest(), MediaType.OCI_MANIFEST, "application/spdx+json", "referrers-tag", false)));
        Set<Digest> graph = Set.of(fresh.digest(), carried.get(0).digest());
        List<BundleManifest.Required> requires = new java.util.ArrayList<>(List.of(
                new BundleManifest.Required(top.digest(), top.size(), top.mediaType(), List.of(0), List.of("m/a")),
                new BundleManifest.Required(held.digest(), held.size(), held.mediaType(), List.of(0), List.of("m/a")),
                new BundleManifest.Required(empty.digest(), empty.size(), empty.mediaType(), List.of(0), List.of("m/a"))));
        List<Descriptor> files = carried;
        java.util.function.Function<List<BundleManifest.Required>, Path> write = r -> {
            Path out = tmp.resolve("a-" + UUID.randomUUID() + ".tar");
            BundleWriter.write(out, List.of(img), files, d -> new ByteArrayInputStream(c.bytes.get(d.digest())),
                    WriteOptions.defaults().withImageGraphs(List.of(graph)), ProgressListener.NONE,
                    new BundleWriter.Delta(r, List.of(new BundleManifest.BasedOn(UUID.randomUUID(), Digest.sha256(new byte[1])))));
            return out;
        };
        VerifyResult v = BundleVerifier.verify(write.apply(requires), TrustPolicy.allowUnsignedOnly(), ProgressListener.NONE);
        assertEquals(2, v.manifest().images().get(0).artifacts().size());
        // an artifact required at the target is format 3: a format 2 reader refuses it by its version, not by a guess
        assertEquals(3, v.manifest().formatVersion());
        String json = new String(v.manifest().bytes(), java.nio.charset.StandardCharsets.UTF_8);
        AirlockException two = assertThrows(AirlockException.class, () -> BundleManifest.parse(
                json.replace("{\"formatVersion\":3,", "{\"formatVersion\":2,").getBytes(java.nio.charset.StandardCharsets.UTF_8), "b.tar"));
        assertTrue(two.getMessage().contains("has formatVersion 2 but relies on an attached artifact at the target, which needs format 3"),
                two.getMessage());
        assertEquals(2, v.manifest().files().stream().filter(BundleManifest.FileEntry::isBlob).count());
        requires.remove(1);
        AirlockException e = assertThrows(AirlockException.class, () -> write.apply(requires));
        assertTrue(e.getMessage().contains("artifact " + held.digest() + " is not among the bundle's files"), e.getMessage());
    }
}
