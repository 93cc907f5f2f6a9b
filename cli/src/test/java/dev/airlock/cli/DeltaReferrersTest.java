package dev.airlock.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import dev.airlock.error.ExitCodes;
import dev.airlock.model.Digest;
import dev.airlock.model.ImageIndex;
import dev.airlock.model.RawManifest;
import dev.airlock.receipt.Receipt;
import dev.airlock.receipt.ReceiptFiles;
import dev.airlock.registry.RegistryOptions;
import dev.airlock.registry.RegistryStore;
import dev.airlock.sign.KeyGen;
import dev.airlock.sign.TrustPolicy;
import dev.airlock.testkit.RegistryAudit;
import dev.airlock.testkit.RegistryProcess;
import dev.airlock.testkit.TestArtifacts;
import dev.airlock.testkit.TestArtifacts.Artifact;
import dev.airlock.testkit.TestImages;
import dev.airlock.testkit.TestImages.Blob;
import dev.airlock.testkit.TestImages.TestImage;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyPair;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Issue 14's must-show case with referrers (issue 13), against real Distribution 2.8 registries
 * (no referrers API: the tag schema at both ends). The first crossing: a multi-arch image with a
 * cosign signature of its index, an SBOM referrer of its index and an attestation of one child
 * manifest (both listed in tag-schema indexes), beside an unsigned image; imported with
 * {@code --receipt}. Then at the source: a new version of the image, signed; a new signature on
 * the image that had none; a second SBOM on the first image. {@code export --since} the receipt
 * carries exactly the new artifacts and the new content; the import into the same target gives
 * every artifact byte-exact with its cosign tag and the tag-schema index merged; into an empty
 * registry it fails before any upload; {@code airlock receipt --from} of the target gives the same delta.
 */
class DeltaReferrersTest {
    @TempDir
    static Path tmp;
    static RegistryProcess src;
    static RegistryProcess dst;
    static RegistryProcess empty;
    static RegistryStore srcStore;
    static RegistryStore dstStore;
    static KeyGen.Result ops;
    static KeyGen.Result site;
    static KeyPair cosignKey;
    static TestImage app1;
    static TestImage app2;
    static TestImage db1;
    static Artifact app1Sig;
    static Artifact sbom;
    static Artifact att;
    static Artifact sbom2;
    static Artifact app2Sig;
    static Artifact dbSig;
    static List<String> refs;
    static Path receipt1;
    static Path fromTarget;
    static Path delta;
    static CliRun deltaExport;
    static CliRun deltaImport;
    static Set<Digest> held = new HashSet<>();

    @BeforeAll
    static void scenario() throws Exception {
        src = RegistryProcess.start();
        dst = RegistryProcess.start();
        empty = RegistryProcess.start();
        srcStore = RegistryStore.open(src.host(), RegistryOptions.anonymous());
        dstStore = RegistryStore.open(dst.host(), RegistryOptions.anonymous());
        ops = KeyGen.generate(tmp.resolve("ops"), Optional.empty());
        site = KeyGen.generate(tmp.resolve("site"), Optional.empty());
        cosignKey = TestArtifacts.ecKey();

        // the first crossing: app 1.0 signed, with an SBOM and an attestation; db 1.0 without anything attached
        app1 = TestImages.image("app").oci().baseSeed(7).tag("1.0").build();
        db1 = TestImages.image("db").oci().baseSeed(8).tag("1.0").build();
        app1.pushTo(srcStore, "team/app");
        db1.pushTo(srcStore, "team/db");
        app1Sig = TestArtifacts.cosignSignature(app1.top().digest(), src.host() + "/team/app", cosignKey);
        app1Sig.pushTo(srcStore, "team/app", TestArtifacts.schemaTag(app1.top().digest()) + ".sig");
        sbom = TestArtifacts.sbom(app1.top().descriptor(), "app-1");
        sbom.pushTo(srcStore, "team/app", null);
        srcStore.pushManifest("team/app", TestArtifacts.schemaTag(app1.top().digest()), TestArtifacts.referrersIndex(List.of(sbom)));
        RawManifest child = app1.children().get(0);
        att = TestArtifacts.attestation(child.descriptor());
        att.pushTo(srcStore, "team/app", null);
        srcStore.pushManifest("team/app", TestArtifacts.schemaTag(child.digest()), TestArtifacts.referrersIndex(List.of(att)));
        refs = List.of(ref("team/app:1.0"), ref("team/db:1.0"), ref("team/app:2.0"));
        Path full = tmp.resolve("first.tar");
        CliRun e1 = export(full, refs.subList(0, 2));
        assertEquals(0, e1.code(), e1.err());
        receipt1 = tmp.resolve("site.receipt");
        CliRun i1 = CliRun.of("import", full.toString(), "--to", dst.host() + "/mirror", "--trust", ops.publicKey().toString(),
                "--receipt", receipt1.toString(), "--sign-key", site.privateKey().toString(), "-q");
        assertEquals(0, i1.code(), i1.err());
        for (TestImage t : List.of(app1, db1)) {
            t.blobs().forEach(b -> held.add(b.digest()));
            held.addAll(t.manifestDigests());
        }
        for (Artifact a : List.of(app1Sig, sbom, att)) {
            held.add(a.digest());
            a.blobs().forEach(b -> held.add(b.digest()));
        }
        // the receipt of the same target made by `airlock receipt` (before the delta arrives)
        fromTarget = tmp.resolve("from-target.receipt");
        List<String> args = new ArrayList<>(List.of("receipt", "--from", dst.host() + "/mirror", "-o", fromTarget.toString(),
                "--sign-key", site.privateKey().toString(), "-q"));
        args.addAll(refs);
        CliRun made = CliRun.of(args.toArray(String[]::new));
        assertEquals(0, made.code(), made.err());

        // the source moves on: app 2.0 (sharing the base layers) signed; db 1.0 signed now; a second SBOM on app 1.0
        app2 = TestImages.image("app").oci().baseSeed(7).tag("2.0").build();
        app2.pushTo(srcStore, "team/app");
        app2Sig = TestArtifacts.cosignSignature(app2.top().digest(), src.host() + "/team/app", cosignKey);
        app2Sig.pushTo(srcStore, "team/app", TestArtifacts.schemaTag(app2.top().digest()) + ".sig");
        dbSig = TestArtifacts.cosignSignature(db1.top().digest(), src.host() + "/team/db", cosignKey);
        dbSig.pushTo(srcStore, "team/db", TestArtifacts.schemaTag(db1.top().digest()) + ".sig");
        sbom2 = TestArtifacts.sbom(app1.top().descriptor(), "app-1-rescanned");
        sbom2.pushTo(srcStore, "team/app", null);
        srcStore.pushManifest("team/app", TestArtifacts.schemaTag(app1.top().digest()), TestArtifacts.referrersIndex(List.of(sbom, sbom2)));

        delta = tmp.resolve("delta.tar");
        deltaExport = export(delta, refs, "--since", receipt1.toString(), "--trust", site.publicKey().toString());
        assertEquals(0, deltaExport.code(), deltaExport.err());
        deltaImport = CliRun.of("import", delta.toString(), "--to", dst.host() + "/mirror", "--trust", ops.publicKey().toString(), "-q");
    }

    @AfterAll
    static void stop() {
        for (AutoCloseable c : new AutoCloseable[] {srcStore, dstStore, src, dst, empty}) {
            try {
                if (c != null) {
                    c.close();
                }
            } catch (Exception ignored) {
                // best effort
            }
        }
    }

    @Test
    void theImportReceiptRecordsTheArtifactsTheTargetHolds() {
        Receipt r = ReceiptFiles.read(receipt1, TrustPolicy.fromFiles(List.of(site.publicKey()), false)).receipt();
        assertTrue(new String(r.bytes(), java.nio.charset.StandardCharsets.UTF_8).startsWith("{\"receiptVersion\":2,"));
        Receipt.Image app = r.images().get(0);
        Set<String> attached = new TreeSet<>();
        app.artifacts().forEach(a -> attached.add(a.subject().shortForm() + " " + a.digest() + " " + a.foundBy()));
        assertEquals(new TreeSet<>(List.of(
                app1.top().digest().shortForm() + " " + app1Sig.digest() + " cosign-tag:" + TestArtifacts.schemaTag(app1.top().digest()) + ".sig",
                app1.top().digest().shortForm() + " " + sbom.digest() + " referrers-tag",
                app1.children().get(0).digest().shortForm() + " " + att.digest() + " referrers-tag")), attached);
        for (Artifact a : List.of(app1Sig, sbom, att)) {
            assertTrue(app.manifests().contains(a.digest()), a.digest().toString());
            a.blobs().forEach(b -> assertTrue(app.blobs().contains(new Receipt.Blob(b.digest(), b.bytes().length)), b.digest().toString()));
        }
        assertEquals(List.of(), r.images().get(1).artifacts());
    }

    @Test
    void theDeltaCarriesOnlyTheNewArtifactsAndTheNewContent() throws Exception {
        Set<String> expected = new TreeSet<>();
        long expectedBytes = 0;
        List<Blob> newBlobs = new ArrayList<>(app2.blobs());
        List<RawManifest> newManifests = new ArrayList<>(app2.children());
        newManifests.add(app2.top());
        for (Artifact a : List.of(app2Sig, dbSig, sbom2)) {
            newBlobs.addAll(a.blobs());
            newManifests.add(a.manifest());
        }
        for (Blob b : newBlobs) {
            if (!held.contains(b.digest()) && expected.add(b.digest().toString())) {
                expectedBytes += b.bytes().length;
            }
        }
        for (RawManifest m : newManifests) {
            if (!held.contains(m.digest()) && expected.add(m.digest().toString())) {
                expectedBytes += m.size();
            }
        }
        JsonNode bj = BundleJsonFiles.bundleJson(delta);
        assertEquals(3, bj.get("formatVersion").asInt(), "a delta relying on held artifacts is format 3");
        Set<String> carried = new TreeSet<>();
        long carriedBytes = 0;
        for (JsonNode f : bj.get("files")) {
            if (f.get("path").asText().startsWith("blobs/")) {
                carried.add("sha256:" + f.get("sha256").asText());
                carriedBytes += f.get("size").longValue();
            }
        }
        assertEquals(expected, carried, "carried digests");
        assertEquals(expectedBytes, carriedBytes, "carried bytes");
        // the held artifacts are required (checked at the target), with the child manifest the attestation is attached to
        Set<String> required = new TreeSet<>();
        bj.get("requires").forEach(r -> required.add(r.get("digest").asText()));
        for (Digest d : List.of(app1Sig.digest(), sbom.digest(), att.digest(), app1.children().get(0).digest(), app1.top().digest(),
                db1.top().digest())) {
            assertTrue(required.contains(d.toString()), d + " in " + required);
        }
        // every artifact stays listed with its image, carried or not: the import writes their tags
        Set<String> listed = new TreeSet<>();
        bj.get("images").get(0).get("artifacts").forEach(a -> listed.add(a.get("digest").asText()));
        assertEquals(new TreeSet<>(List.of(app1Sig.digest().toString(), sbom.digest().toString(), att.digest().toString(),
                sbom2.digest().toString())), listed);
        assertEquals(dbSig.digest().toString(), bj.get("images").get(1).get("artifacts").get(0).get("digest").asText());
        assertEquals(app2Sig.digest().toString(), bj.get("images").get(2).get("artifacts").get(0).get("digest").asText());
        CliRun v = CliRun.of("verify", delta.toString(), "--trust", ops.publicKey().toString());
        assertEquals(0, v.code(), v.err());
        CliRun i = CliRun.of("inspect", delta.toString());
        assertEquals(0, i.code(), i.err());
        assertTrue(i.out().contains("artifacts  1 × " + TestArtifacts.SPDX) || i.out().contains("artifacts  2 × " + TestArtifacts.SPDX), i.out());

        Path fullAfter = tmp.resolve("full-after.tar");
        assertEquals(0, export(fullAfter, refs).code());
        long fullBytes = Files.size(fullAfter);
        long deltaBytes = Files.size(delta);
        System.out.printf("delta figures (referrers): full bundle %d bytes, delta %d bytes (new unique content %d bytes, overhead %.2f%%)%n",
                fullBytes, deltaBytes, expectedBytes, 100.0 * (deltaBytes - expectedBytes) / expectedBytes);
        assertTrue(deltaBytes < fullBytes / 2, fullBytes + " vs " + deltaBytes);
    }

    @Test
    void importIntoTheSameTargetGivesEveryArtifactByteExactAndMergesTheTagSchemaIndex() throws Exception {
        assertEquals(0, deltaImport.code(), deltaImport.out() + deltaImport.err());
        for (Artifact a : List.of(app1Sig, sbom, att, sbom2, app2Sig)) {
            assertArrayEquals(a.manifest().bytes(), dstStore.fetchManifest("mirror/team/app", a.digest().toString()).bytes(), a.digest().toString());
            for (Blob b : a.blobs()) {
                try (InputStream in = dstStore.openBlob("mirror/team/app", b.descriptor())) {
                    assertArrayEquals(b.bytes(), in.readAllBytes());
                }
            }
        }
        assertArrayEquals(dbSig.manifest().bytes(), dstStore.fetchManifest("mirror/team/db", TestArtifacts.schemaTag(db1.top().digest()) + ".sig").bytes());
        assertArrayEquals(app2Sig.manifest().bytes(),
                dstStore.fetchManifest("mirror/team/app", TestArtifacts.schemaTag(app2.top().digest()) + ".sig").bytes());
        assertArrayEquals(app1Sig.manifest().bytes(),
                dstStore.fetchManifest("mirror/team/app", TestArtifacts.schemaTag(app1.top().digest()) + ".sig").bytes());
        assertEquals(new TreeSet<>(List.of(sbom.digest().toString(), sbom2.digest().toString())), listed(dstStore, "mirror/team/app", app1.top().digest()));
        assertEquals(Set.of(att.digest().toString()), listed(dstStore, "mirror/team/app", app1.children().get(0).digest()));
        assertEquals(app2.top().digest(), dstStore.headManifest("mirror/team/app", "2.0").orElseThrow().digest());
        RegistryAudit.assertConsistent(dst);
        // a re-import writes nothing new and duplicates no entry
        CliRun again = CliRun.of("import", delta.toString(), "--to", dst.host() + "/mirror", "--trust", ops.publicKey().toString());
        assertEquals(0, again.code(), again.err());
        assertEquals(2, listed(dstStore, "mirror/team/app", app1.top().digest()).size());
    }

    @Test
    void theSameDeltaIntoAnEmptyRegistryFailsBeforeAnyUpload() {
        CliRun r = CliRun.of("import", delta.toString(), "--to", empty.host() + "/mirror", "--trust", ops.publicKey().toString(), "-q");
        assertEquals(ExitCodes.TARGET_LACKS, r.code(), r.out() + r.err());
        assertEquals(1, r.errLines().length, r.err());
        assertTrue(r.errLines()[0].contains("lacks") && r.errLines()[0].contains("nothing was pushed"), r.err());
        RegistryAudit.assertEmpty(empty);
    }

    @Test
    void aReceiptMadeFromTheTargetGivesTheSameDelta() throws Exception {
        Receipt r = ReceiptFiles.read(fromTarget, TrustPolicy.fromFiles(List.of(site.publicKey()), false)).receipt();
        assertFalse(r.images().get(2).present(), "app 2.0 was not there yet");
        assertEquals(3, r.images().get(0).artifacts().size());
        Path d2 = tmp.resolve("delta-from-target.tar");
        CliRun e = export(d2, refs, "--since", fromTarget.toString(), "--trust", site.publicKey().toString());
        assertEquals(0, e.code(), e.err());
        assertEquals(BundleJsonFiles.carried(delta), BundleJsonFiles.carried(d2));
        assertEquals(requires(delta), requires(d2));
        assertEquals(BundleJsonFiles.bundleJson(delta).get("images").toString(), BundleJsonFiles.bundleJson(d2).get("images").toString());
    }

    // ------------------------------------------------------------------ helpers

    private static String ref(String repoAndTag) {
        return src.host() + "/" + repoAndTag;
    }

    private static CliRun export(Path out, List<String> refs, String... more) {
        List<String> args = new ArrayList<>(List.of("export", "-o", out.toString(), "--cache", tmp.resolve("cache").toString(),
                "--sign-key", ops.privateKey().toString(), "-q"));
        args.addAll(refs);
        args.addAll(List.of(more));
        return CliRun.of(args.toArray(String[]::new));
    }

    private static Set<String> listed(RegistryStore s, String repo, Digest subject) {
        RawManifest index = s.fetchManifest(repo, TestArtifacts.schemaTag(subject));
        Set<String> out = new TreeSet<>();
        ((ImageIndex) index.view()).manifests().forEach(d -> out.add(d.digest().toString()));
        return out;
    }



    private static Set<String> requires(Path bundle) throws IOException {
        Set<String> out = new TreeSet<>();
        for (JsonNode f : BundleJsonFiles.bundleJson(bundle).get("requires")) {
            out.add(f.get("digest").asText() + " " + f.get("images") + " " + f.get("repositories"));
        }
        return out;
    }
}
