package dev.airlock.copy;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.airlock.model.Digest;
import dev.airlock.model.ImageReference;
import dev.airlock.model.Json;
import dev.airlock.model.MediaType;
import dev.airlock.model.RawManifest;
import dev.airlock.registry.RegistryOptions;
import dev.airlock.registry.RegistryStore;
import dev.airlock.testkit.RegistryProcess;
import dev.airlock.testkit.TestArtifacts;
import dev.airlock.testkit.TestArtifacts.Artifact;
import dev.airlock.testkit.TestImages;
import dev.airlock.testkit.TestImages.TestImage;
import java.nio.charset.StandardCharsets;
import java.security.KeyPair;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** The planner's artifact discovery against a real Distribution 2.8 (no referrers API: tag schema and cosign tags). */
class ArtifactDiscoveryTest {
    static RegistryProcess reg;
    static RegistryStore store;

    @BeforeAll
    static void start() {
        reg = RegistryProcess.start();
        store = RegistryStore.open(reg.host(), RegistryOptions.anonymous());
    }

    @AfterAll
    static void stop() {
        store.close();
        reg.close();
    }

    private static ImagePlan plan(String repo, ReferrerOptions options) {
        return new GraphPlanner(List.of(), options).planAll(List.of(SourceImage.of(ImageReference.parse(reg.host() + "/" + repo + ":1.0"), store)), 4).get(0);
    }

    @Test
    void signaturesOnSignaturesStopAtTheDepthBound() {
        TestImage img = TestImages.image("deep").oci().singlePlatform("linux/amd64").baseSeed(21).build();
        img.pushTo(store, "deep/app");
        KeyPair key = TestArtifacts.ecKey();
        List<Artifact> chain = new ArrayList<>();
        Digest subject = img.top().digest();
        for (int i = 0; i < ArtifactFinder.MAX_DEPTH + 2; i++) {
            Artifact sig = TestArtifacts.cosignSignature(subject, "deep/app#" + i, key);
            sig.pushTo(store, "deep/app", TestArtifacts.schemaTag(subject) + ".sig");
            chain.add(sig);
            subject = sig.digest();
        }
        ImagePlan p = plan("deep/app", ReferrerOptions.ALL);
        assertEquals(chain.subList(0, ArtifactFinder.MAX_DEPTH).stream().map(Artifact::digest).toList(),
                p.artifacts().stream().map(dev.airlock.copy.Artifact::digest).toList());
        // each artifact's manifest and blobs are planned after the image's, once
        assertEquals(img.top().digest(), p.manifests().get(0).digest());
        assertEquals(1 + ArtifactFinder.MAX_DEPTH, p.manifests().size());
        assertEquals(p.blobs().size(), Set.copyOf(p.blobs()).size());
        assertEquals(List.of(), plan("deep/app", ReferrerOptions.NONE).artifacts());
    }

    @Test
    void theSameRepositoryPathOnTwoRegistriesHasEachItsOwnTagList() {
        // one plan of docker.io/library/x and mirror/library/x: each registry's tags answer for its own images
        TestImage a = TestImages.image("same-a").oci().singlePlatform("linux/amd64").baseSeed(61).build();
        TestImage b = TestImages.image("same-b").oci().singlePlatform("linux/amd64").baseSeed(62).build();
        try (RegistryProcess other = RegistryProcess.start(); RegistryStore otherStore = RegistryStore.open(other.host(), RegistryOptions.anonymous())) {
            a.pushTo(store, "same/app");
            b.pushTo(otherStore, "same/app");
            Artifact sig = TestArtifacts.cosignSignature(b.top().digest(), "same/app on the other registry", TestArtifacts.ecKey());
            sig.pushTo(otherStore, "same/app", TestArtifacts.schemaTag(b.top().digest()) + ".sig");
            List<ImagePlan> plans = new GraphPlanner(List.of(), ReferrerOptions.ALL).planAll(List.of(
                    SourceImage.of(ImageReference.parse(reg.host() + "/same/app:1.0"), store),
                    SourceImage.of(ImageReference.parse(other.host() + "/same/app:1.0"), otherStore)), 1);
            assertEquals(List.of(), plans.get(0).artifacts());
            assertEquals(List.of(sig.digest()), plans.get(1).artifacts().stream().map(dev.airlock.copy.Artifact::digest).toList(),
                    "the other registry's signature, found in its own tag list");
        }
    }

    @Test
    void aLoopOfCosignTagsEndsAndEachManifestIsPlannedOnce() {
        TestImage img = TestImages.image("loop").oci().singlePlatform("linux/amd64").baseSeed(22).build();
        img.pushTo(store, "loop/app");
        KeyPair key = TestArtifacts.ecKey();
        Artifact x = TestArtifacts.cosignSignature(img.top().digest(), "loop/app", key);
        Artifact y = TestArtifacts.cosignSignature(x.digest(), "loop/app", key);
        x.pushTo(store, "loop/app", TestArtifacts.schemaTag(img.top().digest()) + ".sig");
        y.pushTo(store, "loop/app", TestArtifacts.schemaTag(x.digest()) + ".sig");
        // a hostile (or confused) registry tags x again as the signature of y: a loop
        store.pushManifest("loop/app", TestArtifacts.schemaTag(y.digest()) + ".sig", x.manifest());
        ImagePlan p = plan("loop/app", ReferrerOptions.ALL);
        assertEquals(List.of(x.digest(), y.digest(), x.digest()), p.artifacts().stream().map(dev.airlock.copy.Artifact::digest).toList(),
                "x under the image, y under x, x under y (another tag), then nothing more");
        assertEquals(List.of(img.top().digest(), x.digest(), y.digest()), p.manifests().stream().map(RawManifest::digest).toList());
        assertEquals(List.of(), p.warnings());
    }

    @Test
    void aTagSchemaIndexListingAManifestOfAnotherSubjectIsAWarning() {
        TestImage img = TestImages.image("lying").oci().singlePlatform("linux/amd64").baseSeed(23).build();
        TestImage other = TestImages.image("other").oci().tag("2.0").singlePlatform("linux/amd64").baseSeed(24).build();
        img.pushTo(store, "lying/app");
        other.pushTo(store, "lying/app");
        Artifact x = TestArtifacts.sbom(other.top().descriptor(), "not yours");
        x.pushTo(store, "lying/app", null);
        store.pushManifest("lying/app", TestArtifacts.schemaTag(img.top().digest()), TestArtifacts.referrersIndex(List.of(x)));
        ImagePlan p = plan("lying/app", ReferrerOptions.ALL);
        assertEquals(List.of(), p.artifacts());
        assertEquals(1, p.warnings().size(), p.warnings().toString());
        assertTrue(p.warnings().get(0).contains(x.digest() + " attached to " + img.top().digest()) && p.warnings().get(0).contains("another subject"),
                p.warnings().get(0));
        assertTrue(org.junit.jupiter.api.Assertions.assertThrows(dev.airlock.error.AirlockException.class,
                () -> plan("lying/app", ReferrerOptions.REQUIRED)).getMessage().contains(x.digest().toString()));
    }

    @Test
    void theMergedTagSchemaIndexKeepsForeignEntriesAndFieldsAddsOursOnceAndIsDeterministic() {
        String foreign = "{\"schemaVersion\":2,\"mediaType\":\"application/vnd.oci.image.index.v1+json\",\"annotations\":{\"by\":\"other\"},"
                + "\"manifests\":[{\"mediaType\":\"application/vnd.oci.image.manifest.v1+json\",\"digest\":\"sha256:" + "f".repeat(64)
                + "\",\"size\":7,\"artifactType\":\"x/y\",\"annotations\":{\"k\":\"v\"}}]}";
        RawManifest existing = RawManifest.of(MediaType.OCI_INDEX, foreign.getBytes(StandardCharsets.UTF_8));
        ObjectNode a = Json.descriptor(dev.airlock.model.Descriptor.of(MediaType.OCI_MANIFEST, Digest.parse("sha256:" + "a".repeat(64)), 10));
        ObjectNode b = Json.descriptor(dev.airlock.model.Descriptor.of(MediaType.OCI_MANIFEST, Digest.parse("sha256:" + "b".repeat(64)), 11));
        RawManifest one = ReferrersIndex.merge(Optional.of(existing), List.of(b, a)).orElseThrow();
        RawManifest two = ReferrersIndex.merge(Optional.of(existing), List.of(a, b)).orElseThrow();
        assertArrayEquals(one.bytes(), two.bytes());
        String text = one.text();
        assertTrue(text.indexOf("aaaa") < text.indexOf("bbbb") && text.indexOf("bbbb") < text.indexOf("ffff"), text);
        assertTrue(text.contains("\"annotations\":{\"by\":\"other\"}") && text.contains("\"artifactType\":\"x/y\",\"annotations\":{\"k\":\"v\"}"), text);
        assertEquals(Optional.empty(), ReferrersIndex.merge(Optional.of(one), List.of(a)), "nothing new: nothing written");
        assertEquals(3, ((dev.airlock.model.ImageIndex) ReferrersIndex.merge(Optional.of(one), List.of(a, b)).orElse(one).view()).manifests().size());
    }
}
