package dev.airlock.importer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.airlock.copy.GraphPlanner;
import dev.airlock.copy.ImagePlan;
import dev.airlock.copy.ReferrerOptions;
import dev.airlock.copy.SourceImage;
import dev.airlock.error.AirlockException;
import dev.airlock.model.Digest;
import dev.airlock.model.ImageReference;
import dev.airlock.model.RawManifest;
import dev.airlock.model.TargetMapping;
import dev.airlock.progress.ProgressListener;
import dev.airlock.receipt.Receipt;
import dev.airlock.registry.RegistryOptions;
import dev.airlock.registry.RegistryStore;
import dev.airlock.testkit.RegistryProcess;
import dev.airlock.testkit.TestArtifacts;
import dev.airlock.testkit.TestArtifacts.Artifact;
import dev.airlock.testkit.TestImages;
import dev.airlock.testkit.TestImages.TestImage;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * {@link ReceiptMaker} against a real registry: a receipt reads manifests only (no config), and
 * lists what the planner that reads and checks every config (export's, import's) finds at the same
 * registry: the same manifests, blobs (configs included) and attached artifacts. What it no longer
 * checks is pinned too: a config deleted at the target after its manifest was accepted is still
 * listed (the import of a delta relying on it HEADs it first and fails before any upload).
 */
class ReceiptMakerTest {
    static RegistryProcess reg;
    static RegistryStore store;
    static TargetMapping mapping;
    static TestImage app;
    static TestImage pause;
    static TestImage tool;
    static List<Artifact> attached;

    @BeforeAll
    static void start() {
        reg = RegistryProcess.start();
        store = RegistryStore.open(reg.host(), RegistryOptions.anonymous());
        mapping = TargetMapping.parse(reg.host() + "/mirror", false);
        app = TestImages.image("app").oci().attestation().baseSeed(5).build();
        pause = TestImages.image("pause").docker().platforms("linux/amd64", "linux/arm64", "linux/arm/v7").baseSeed(5).build();
        tool = TestImages.image("tool").singlePlatform("linux/arm64").tag("v2").build();
        app.pushTo(store, "mirror/team/app");
        pause.pushTo(store, "mirror/rancher/pause");
        tool.pushTo(store, "mirror/tool");
        // attached to app: a cosign signature (tag), an SBOM (referrers tag schema), an attestation on a child
        Artifact sig = TestArtifacts.cosignSignature(app.top().digest(), reg.host() + "/mirror/team/app", TestArtifacts.ecKey());
        sig.pushTo(store, "mirror/team/app", TestArtifacts.schemaTag(app.top().digest()) + ".sig");
        Artifact sbom = TestArtifacts.sbom(app.top().descriptor(), "app");
        sbom.pushTo(store, "mirror/team/app", null);
        store.pushManifest("mirror/team/app", TestArtifacts.schemaTag(app.top().digest()), TestArtifacts.referrersIndex(List.of(sbom)));
        RawManifest child = app.children().get(0);
        Artifact att = TestArtifacts.attestation(child.descriptor());
        att.pushTo(store, "mirror/team/app", null);
        store.pushManifest("mirror/team/app", TestArtifacts.schemaTag(child.digest()), TestArtifacts.referrersIndex(List.of(att)));
        attached = List.of(sig, sbom, att);
    }

    @AfterAll
    static void stop() {
        store.close();
        reg.close();
    }

    static ImageReference source(String path) {
        return ImageReference.parse("example.org/" + path);
    }

    static Receipt receipt(List<ImageReference> sources) {
        return new ReceiptMaker(store, mapping, 4, ProgressListener.NONE).make(sources, List.of(), "test");
    }

    /** The plan that reads and platform-checks every config (what export and import use), at the target. */
    static ImagePlan readingPlan(ImageReference src) {
        ImageReference dst = mapping.map(src);
        return new GraphPlanner(List.of(), ReferrerOptions.ALL).plan(new SourceImage(dst, store, dst.repository(), dst.reference()));
    }

    @Test
    void listsWhatThePlannerThatReadsEveryConfigFinds() {
        List<ImageReference> sources = List.of(source("team/app:1.0"), source("rancher/pause:1.0"), source("tool:v2"), source("team/none:1.0"));
        Receipt r = receipt(sources);
        assertEquals(4, r.images().size());
        for (int i = 0; i < 3; i++) {
            Receipt.Image got = r.images().get(i);
            ImagePlan p = readingPlan(sources.get(i));
            assertEquals(p.digest(), got.digest().orElseThrow());
            assertEquals(p.manifests().stream().map(RawManifest::digest).toList(), got.manifests(), "manifests of " + got.target());
            assertEquals(p.blobs().stream().map(b -> new Receipt.Blob(b.digest(), b.size())).toList(), got.blobs(), "blobs of " + got.target());
            assertEquals(p.artifacts().stream().map(a -> new Receipt.Attached(a.subject(), a.digest(), a.foundBy())).distinct().toList(),
                    got.artifacts(), "artifacts of " + got.target());
        }
        assertTrue(!r.images().get(3).present(), "a tag that does not exist is absent");

        // and that is the whole graph as pushed: every config and layer, every manifest, every artifact
        Receipt.Image a = r.images().get(0);
        Set<Digest> blobs = new HashSet<>();
        app.blobs().forEach(b -> blobs.add(b.digest()));
        attached.forEach(x -> x.blobs().forEach(b -> blobs.add(b.digest())));
        assertEquals(blobs, Set.copyOf(a.blobs().stream().map(Receipt.Blob::digest).toList()));
        Set<Digest> manifests = new HashSet<>(app.manifestDigests());
        attached.forEach(x -> manifests.add(x.digest()));
        assertEquals(manifests, Set.copyOf(a.manifests()));
        assertEquals(Set.of(attached.get(0).digest(), attached.get(1).digest(), attached.get(2).digest()),
                Set.copyOf(a.artifacts().stream().map(Receipt.Attached::digest).toList()));
        Receipt.Image t = r.images().get(2);
        assertEquals(Set.copyOf(tool.blobs().stream().map(TestImages.Blob::digest).toList()),
                Set.copyOf(t.blobs().stream().map(Receipt.Blob::digest).toList()), "a single-platform image's config is listed");
    }

    @Test
    void aConfigDeletedAtTheTargetIsStillListedButThePlannerThatReadsConfigsRefuses() {
        TestImage gone = TestImages.image("gone").singlePlatform("linux/amd64").tag("1.0").build();
        gone.pushTo(store, "mirror/gone");
        Digest config = gone.platforms().get(0).config().digest();
        store.deleteBlob("mirror/gone", config);
        assertTrue(store.blobSize("mirror/gone", config).isEmpty(), "the registry no longer serves it");

        Receipt.Image got = receipt(List.of(source("gone:1.0"))).images().get(0);
        assertTrue(got.present());
        assertTrue(got.blobs().stream().anyMatch(b -> b.digest().equals(config)),
                "a receipt lists the config from its manifest without reading it (docs/user-guide.md says so)");
        assertThrows(AirlockException.class, () -> readingPlan(source("gone:1.0")), "export or sync from this registry would refuse");
    }
}
