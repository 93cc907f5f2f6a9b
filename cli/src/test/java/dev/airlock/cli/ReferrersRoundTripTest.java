package dev.airlock.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import dev.airlock.bundle.BundleArchive;
import dev.airlock.error.RegistryException;
import dev.airlock.model.Descriptor;
import dev.airlock.model.Digest;
import dev.airlock.model.ImageIndex;
import dev.airlock.model.ImageManifest;
import dev.airlock.model.Json;
import dev.airlock.model.RawManifest;
import dev.airlock.progress.ProgressListener;
import dev.airlock.registry.RegistryOptions;
import dev.airlock.registry.RegistryStore;
import dev.airlock.serve.BundleServer;
import dev.airlock.serve.ServeRequest;
import dev.airlock.sign.KeyGen;
import dev.airlock.sign.TrustPolicy;
import dev.airlock.testkit.RegistryProcess;
import dev.airlock.testkit.TestArtifacts;
import dev.airlock.testkit.TestArtifacts.Artifact;
import dev.airlock.testkit.TestImages;
import dev.airlock.testkit.TestImages.TestImage;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyPair;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Signatures, attestations and SBOMs cross with the images, against real Distribution 2.8
 * registries (no referrers API: the tag schema is read at the source and written at the target).
 * The source holds a multi-arch image with (a) a cosign signature of its index made with a real
 * ECDSA P-256 key, (b) an SBOM referrer of the index listed in the tag-schema index, beside an
 * artifactType manifest with the empty config, (c) an in-toto attestation referrer of one child
 * manifest, (d) a cosign signature of the SBOM; and a Helm chart stored as an OCI artifact.
 */
class ReferrersRoundTripTest {
    @TempDir
    static Path tmp;
    static RegistryProcess regA;
    static RegistryProcess regB;
    static RegistryStore a;
    static RegistryStore b;
    static TestImage app;
    static KeyPair cosignKey;
    static Path cosignPub;
    static Artifact sig;
    static Artifact sbom;
    static Artifact readme;
    static Artifact att;
    static Artifact sbomSig;
    static Artifact helm;
    static KeyGen.Result key;
    static Path bundle;
    static CliRun exported;

    @BeforeAll
    static void start() throws Exception {
        regA = RegistryProcess.start();
        regB = RegistryProcess.start();
        a = RegistryStore.open(regA.host(), RegistryOptions.anonymous());
        b = RegistryStore.open(regB.host(), RegistryOptions.anonymous());
        app = TestImages.image("signed").oci().platforms("linux/amd64", "linux/arm64/v8", "linux/arm/v7").baseSeed(9).build();
        app.pushTo(a, "team/app");
        Digest top = app.top().digest();
        cosignKey = TestArtifacts.ecKey();
        cosignPub = tmp.resolve("cosign.pub");
        Files.writeString(cosignPub, TestArtifacts.publicKeyPem(cosignKey));
        sig = TestArtifacts.cosignSignature(top, regA.host() + "/team/app", cosignKey);
        sig.pushTo(a, "team/app", TestArtifacts.schemaTag(top) + ".sig");
        sbom = TestArtifacts.sbom(app.top().descriptor(), "app");
        sbom.pushTo(a, "team/app", null);
        readme = TestArtifacts.referrer(app.top().descriptor(), "application/vnd.example.readme.v1", "text/markdown",
                "# read me\n".getBytes(StandardCharsets.UTF_8));
        readme.pushTo(a, "team/app", null);
        a.pushManifest("team/app", TestArtifacts.schemaTag(top), TestArtifacts.referrersIndex(List.of(sbom, readme)));
        RawManifest child = app.children().get(0);
        att = TestArtifacts.attestation(child.descriptor());
        att.pushTo(a, "team/app", null);
        a.pushManifest("team/app", TestArtifacts.schemaTag(child.digest()), TestArtifacts.referrersIndex(List.of(att)));
        sbomSig = TestArtifacts.cosignSignature(sbom.digest(), regA.host() + "/team/app", cosignKey);
        sbomSig.pushTo(a, "team/app", TestArtifacts.schemaTag(sbom.digest()) + ".sig");
        helm = TestArtifacts.helmChart("demo", "0.1.0");
        helm.pushTo(a, "charts/demo", "0.1.0");

        key = KeyGen.generate(tmp.resolve("ops"), Optional.empty());
        bundle = tmp.resolve("signed.tar");
        exported = export(bundle);
        assertEquals(0, exported.code(), exported.err());
    }

    @AfterAll
    static void stop() {
        for (AutoCloseable c : new AutoCloseable[] {a, b, regA, regB}) {
            try {
                if (c != null) {
                    c.close();
                }
            } catch (Exception ignored) {
                // best effort
            }
        }
    }

    static CliRun export(Path out, String... extra) {
        List<String> args = new ArrayList<>(List.of("export", regA.host() + "/team/app:1.0", regA.host() + "/charts/demo:0.1.0",
                "-o", out.toString(), "--sign-key", key.privateKey().toString(), "--cache", tmp.resolve("cache").toString(), "-q"));
        args.addAll(List.of(extra));
        return CliRun.of(args.toArray(String[]::new));
    }

    static CliRun importInto(Path bundle, String target, String... extra) {
        List<String> args = new ArrayList<>(List.of("import", bundle.toString(), "--to", target, "--trust", key.publicKey().toString(), "-q"));
        args.addAll(List.of(extra));
        return CliRun.of(args.toArray(String[]::new));
    }

    static List<Artifact> all() {
        return List.of(sig, sbom, readme, att, sbomSig);
    }

    static Set<String> listed(RegistryStore s, String repo, Digest subject) {
        RawManifest index = s.fetchManifest(repo, TestArtifacts.schemaTag(subject));
        Set<String> out = new TreeSet<>();
        ((ImageIndex) index.view()).manifests().forEach(d -> out.add(d.digest().toString()));
        return out;
    }

    static boolean hasTag(RegistryStore s, String repo, String tag) {
        return s.headManifest(repo, tag).isPresent();
    }

    @Test
    void exportRecordsEveryArtifactAndVerifyAndInspectShowThem() throws Exception {
        try (BundleArchive archive = BundleArchive.open(bundle, TrustPolicy.allowUnsignedOnly())) {
            var artifacts = archive.images().get(0).artifacts();
            Set<String> digests = new TreeSet<>();
            artifacts.forEach(x -> digests.add(x.digest().toString()));
            Set<String> expected = new TreeSet<>();
            all().forEach(x -> expected.add(x.digest().toString()));
            assertEquals(expected, digests);
            assertTrue(artifacts.stream().anyMatch(x -> x.digest().equals(sig.digest())
                    && x.foundBy().equals("cosign-tag:" + TestArtifacts.schemaTag(app.top().digest()) + ".sig")));
            assertTrue(artifacts.stream().anyMatch(x -> x.digest().equals(sbom.digest()) && x.foundBy().equals("referrers-tag")
                    && x.artifactType().equals(TestArtifacts.SPDX) && x.subject().equals(app.top().digest())));
            assertTrue(artifacts.stream().anyMatch(x -> x.digest().equals(sbomSig.digest()) && x.subject().equals(sbom.digest())));
            assertTrue(artifacts.stream().anyMatch(x -> x.digest().equals(att.digest()) && x.subject().equals(app.children().get(0).digest())));
            assertEquals(List.of(), archive.images().get(1).artifacts());
            String json = new String(archive.manifest().bytes(), StandardCharsets.UTF_8);
            assertTrue(json.startsWith("{\"formatVersion\":2,"), json);
        }
        // without -q the export names what it attached (under -q it prints nothing)
        CliRun loud = CliRun.of("export", regA.host() + "/team/app:1.0", regA.host() + "/charts/demo:0.1.0",
                "-o", tmp.resolve("loud.tar").toString(), "--sign-key", key.privateKey().toString(), "--cache", tmp.resolve("cache").toString());
        assertEquals(0, loud.code(), loud.err());
        assertTrue(loud.out().contains("5 attached artifact(s)"), loud.out());

        CliRun verify = CliRun.of("verify", bundle.toString(), "--trust", key.publicKey().toString());
        assertEquals(0, verify.code(), verify.err());
        CliRun inspect = CliRun.of("inspect", bundle.toString());
        assertEquals(0, inspect.code(), inspect.err());
        assertTrue(inspect.out().contains("artifacts  2 × " + TestArtifacts.SIMPLE_SIGNING + ", signed by key"), inspect.out());
        assertTrue(inspect.out().contains("artifacts  1 × " + TestArtifacts.SPDX), inspect.out());
        assertTrue(inspect.out().contains("artifacts  1 × application/vnd.in-toto+json"), inspect.out());
        assertTrue(inspect.out().contains("artifacts  1 × application/vnd.example.readme.v1"), inspect.out());
    }

    /**
     * A source WITH the referrers API: Distribution 2.8 has none, so the bundle is served by
     * {@code airlock serve} (which answers {@code GET /v2/<name>/referrers/<digest>}) and exported
     * again from it. The referrers now come from the API (recorded as such), the cosign tags from
     * their tags, and the set is the same, byte-exact.
     */
    @Test
    void aSourceWithTheReferrersApiIsAskedThroughItAndGivesTheSameSet() throws Exception {
        Path again = tmp.resolve("from-serve.tar");
        try (BundleServer server = BundleServer.start(new ServeRequest(List.of(bundle),
                TrustPolicy.fromFiles(List.of(key.publicKey()), false), false, false, new ServeRequest.Listen("127.0.0.1", 0),
                Optional.empty(), Optional.empty(), line -> { }), ProgressListener.NONE)) {
            String host = "127.0.0.1:" + server.address().getPort();
            CliRun r = CliRun.of("export", host + "/team/app:1.0", "-o", again.toString(), "-q");
            assertEquals(0, r.code(), r.err());
        }
        try (BundleArchive original = BundleArchive.open(bundle, TrustPolicy.allowUnsignedOnly());
             BundleArchive fromServe = BundleArchive.open(again, TrustPolicy.allowUnsignedOnly())) {
            assertEquals(original.images().get(0).digest(), fromServe.images().get(0).digest());
            var artifacts = fromServe.images().get(0).artifacts();
            Set<String> digests = new TreeSet<>();
            artifacts.forEach(x -> digests.add(x.digest().toString()));
            Set<String> expected = new TreeSet<>();
            all().forEach(x -> expected.add(x.digest().toString()));
            assertEquals(expected, digests, "sig " + sig.digest() + " sbom " + sbom.digest() + " readme " + readme.digest() + " att "
                    + att.digest() + " sbomSig " + sbomSig.digest() + ": " + artifacts);
            for (Artifact x : List.of(sbom, readme, att)) {
                assertTrue(artifacts.stream().anyMatch(y -> y.digest().equals(x.digest()) && y.foundBy().equals("referrers-api")),
                        x.digest() + " " + artifacts);
            }
            assertTrue(artifacts.stream().anyMatch(y -> y.digest().equals(sig.digest())
                    && y.foundBy().equals("cosign-tag:" + TestArtifacts.schemaTag(app.top().digest()) + ".sig")), artifacts.toString());
            for (Artifact x : all()) {
                try (InputStream in = fromServe.openBlob("", x.manifest().descriptor())) {
                    assertArrayEquals(x.manifest().bytes(), in.readAllBytes(), x.digest().toString());
                }
            }
        }
    }

    @Test
    void importCarriesEveryArtifactByteExactWritesTheTagSchemaAndTheSignatureStillVerifies() throws Exception {
        String repo = "mirror/team/app";
        CliRun r = importInto(bundle, regB.host() + "/mirror", "--report", tmp.resolve("import.json").toString());
        assertEquals(0, r.code(), r.err());
        for (Artifact x : all()) {
            assertArrayEquals(x.manifest().bytes(), b.fetchManifest(repo, x.digest().toString()).bytes(), x.digest().toString());
            for (TestImages.Blob blob : x.blobs()) {
                try (InputStream in = b.openBlob(repo, blob.descriptor())) {
                    assertArrayEquals(blob.bytes(), in.readAllBytes());
                }
            }
        }
        Digest top = app.top().digest();
        assertArrayEquals(sig.manifest().bytes(), b.fetchManifest(repo, TestArtifacts.schemaTag(top) + ".sig").bytes());
        assertArrayEquals(sbomSig.manifest().bytes(), b.fetchManifest(repo, TestArtifacts.schemaTag(sbom.digest()) + ".sig").bytes());
        assertEquals(new TreeSet<>(List.of(sbom.digest().toString(), readme.digest().toString())), listed(b, repo, top));
        assertEquals(Set.of(att.digest().toString()), listed(b, repo, app.children().get(0).digest()));
        assertArrayEquals(helm.manifest().bytes(), b.fetchManifest("mirror/charts/demo", "0.1.0").bytes());
        JsonNode report = Json.parse(Files.readAllBytes(tmp.resolve("import.json")), "report");
        assertEquals(5, report.get("images").get(0).get("artifacts").asInt());

        // the cosign signature verifies with openssl against the public key, and names the imported digest
        RawManifest imported = b.fetchManifest(repo, TestArtifacts.schemaTag(top) + ".sig");
        Descriptor layer = ((ImageManifest) imported.view()).layers().get(0);
        byte[] payload;
        try (InputStream in = b.openBlob(repo, layer)) {
            payload = in.readAllBytes();
        }
        Path payloadFile = Files.write(tmp.resolve("payload.json"), payload);
        Path sigFile = Files.write(tmp.resolve("payload.sig"), Base64.getDecoder().decode(layer.annotations().get("dev.cosignproject.cosign/signature")));
        Process p = new ProcessBuilder("openssl", "dgst", "-sha256", "-verify", cosignPub.toString(), "-signature", sigFile.toString(),
                payloadFile.toString()).redirectErrorStream(true).start();
        String said = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertEquals(0, p.waitFor(), said);
        assertTrue(said.contains("Verified OK"), said);
        JsonNode pj = Json.parse(payload, "payload");
        assertEquals(b.headManifest(repo, "1.0").orElseThrow().digest().toString(),
                pj.get("critical").get("image").get("docker-manifest-digest").asText());
        // a signature over other bytes does not verify (the check can fail)
        Files.write(payloadFile, new String(payload, StandardCharsets.UTF_8).replace("sha256:", "sha256:0").getBytes(StandardCharsets.UTF_8));
        Process bad = new ProcessBuilder("openssl", "dgst", "-sha256", "-verify", cosignPub.toString(), "-signature", sigFile.toString(),
                payloadFile.toString()).redirectErrorStream(true).start();
        bad.getInputStream().readAllBytes();
        assertNotEquals(0, bad.waitFor());

        // re-import: idempotent, the tag-schema index keeps the same bytes (no duplicate entries)
        Digest indexBefore = b.headManifest(repo, TestArtifacts.schemaTag(top)).orElseThrow().digest();
        CliRun again = importInto(bundle, regB.host() + "/mirror");
        assertEquals(0, again.code(), again.err());
        assertEquals(indexBefore, b.headManifest(repo, TestArtifacts.schemaTag(top)).orElseThrow().digest());
        assertEquals(2, ((ImageIndex) b.fetchManifest(repo, TestArtifacts.schemaTag(top)).view()).manifests().size());

        // a cosign tag moved away at the target (a crash before the tag phase, or another tool): a re-import puts it back
        b.pushManifest(repo, TestArtifacts.schemaTag(top) + ".sig", sbomSig.manifest());
        CliRun third = importInto(bundle, regB.host() + "/mirror");
        assertEquals(0, third.code(), third.err());
        assertArrayEquals(sig.manifest().bytes(), b.fetchManifest(repo, TestArtifacts.schemaTag(top) + ".sig").bytes());
    }

    @Test
    void aTagSchemaIndexAlreadyAtTheTargetKeepsAnotherToolsEntry() {
        String repo = "kept/team/app";
        Artifact other = TestArtifacts.referrer(app.top().descriptor(), "application/vnd.other.tool", "text/plain",
                "made by another tool".getBytes(StandardCharsets.UTF_8));
        app.pushTo(b, repo);
        other.pushTo(b, repo, null);
        sbom.pushTo(b, repo, null);
        // another tool listed its own artifact and our SBOM already: ours must not appear twice
        b.pushManifest(repo, TestArtifacts.schemaTag(app.top().digest()), TestArtifacts.referrersIndex(List.of(other, sbom)));
        CliRun r = importInto(bundle, regB.host() + "/kept");
        assertEquals(0, r.code(), r.err());
        assertEquals(new TreeSet<>(List.of(other.digest().toString(), sbom.digest().toString(), readme.digest().toString())),
                listed(b, repo, app.top().digest()));
        RawManifest index = b.fetchManifest(repo, TestArtifacts.schemaTag(app.top().digest()));
        List<String> order = ((ImageIndex) index.view()).manifests().stream().map(d -> d.digest().toString()).toList();
        assertEquals(3, order.size(), order.toString());
        assertEquals(order.stream().sorted().toList(), order, "entries sorted by digest: deterministic bytes");
    }

    @Test
    void aCompressedBundleStreamedOnceCarriesTheSameSet() {
        Path zst = tmp.resolve("signed.tar.zst");
        CliRun r = export(zst);
        assertEquals(0, r.code(), r.err());
        CliRun in = importInto(zst, regB.host() + "/zst");
        assertEquals(0, in.code(), in.err());
        String repo = "zst/team/app";
        for (Artifact x : all()) {
            assertArrayEquals(x.manifest().bytes(), b.fetchManifest(repo, x.digest().toString()).bytes(), x.digest().toString());
        }
        assertArrayEquals(sig.manifest().bytes(), b.fetchManifest(repo, TestArtifacts.schemaTag(app.top().digest()) + ".sig").bytes());
        assertEquals(new TreeSet<>(List.of(sbom.digest().toString(), readme.digest().toString())), listed(b, repo, app.top().digest()));
        assertEquals(Set.of(att.digest().toString()), listed(b, repo, app.children().get(0).digest()));
    }

    @Test
    void referrersNoneCarriesNone() throws Exception {
        Path none = tmp.resolve("none.tar");
        CliRun r = export(none, "--referrers", "none");
        assertEquals(0, r.code(), r.err());
        try (BundleArchive archive = BundleArchive.open(none, TrustPolicy.allowUnsignedOnly())) {
            assertEquals(List.of(), archive.images().get(0).artifacts());
            assertFalse(archive.manifest().blob(sig.digest()).isPresent());
        }
        CliRun in = importInto(none, regB.host() + "/none");
        assertEquals(0, in.code(), in.err());
        assertFalse(hasTag(b, "none/team/app", TestArtifacts.schemaTag(app.top().digest()) + ".sig"));
        assertFalse(hasTag(b, "none/team/app", TestArtifacts.schemaTag(app.top().digest())));
    }

    @Test
    void syncCarriesTheSameSet() {
        CliRun r = CliRun.of("sync", regA.host() + "/team/app:1.0", "--to", regB.host() + "/synced", "-q");
        assertEquals(0, r.code(), r.err());
        String repo = "synced/team/app";
        for (Artifact x : all()) {
            assertArrayEquals(x.manifest().bytes(), b.fetchManifest(repo, x.digest().toString()).bytes(), x.digest().toString());
        }
        assertArrayEquals(sig.manifest().bytes(), b.fetchManifest(repo, TestArtifacts.schemaTag(app.top().digest()) + ".sig").bytes());
        assertEquals(new TreeSet<>(List.of(sbom.digest().toString(), readme.digest().toString())), listed(b, repo, app.top().digest()));
        assertEquals(Set.of(att.digest().toString()), listed(b, repo, app.children().get(0).digest()));
    }

    @Test
    void aPlatformFilterReportsTheArtifactsOfTheRewrittenIndex() throws Exception {
        Path amd = tmp.resolve("amd64.tar");
        Path report = tmp.resolve("amd64.json");
        CliRun r = export(amd, "--platform", "linux/amd64", "--report", report.toString());
        assertEquals(0, r.code(), r.err());
        for (Artifact x : List.of(sig, sbom, readme)) {
            assertTrue((r.out() + r.err()).contains("artifact " + x.digest()) , r.out() + r.err());
        }
        JsonNode notes = Json.parse(Files.readAllBytes(report), "report").get("images").get(0).get("artifactNotes");
        assertEquals(3, notes.size(), notes.toString());
        notes.forEach(n -> assertTrue(n.asText().contains("without its subject"), n.asText()));
        CliRun in = importInto(amd, regB.host() + "/amd", "--report", tmp.resolve("amd-import.json").toString());
        assertEquals(0, in.code(), in.err());
        JsonNode importNotes = Json.parse(Files.readAllBytes(tmp.resolve("amd-import.json")), "report").get("images").get(0).get("artifactNotes");
        assertEquals(3, importNotes.size(), importNotes.toString());
        // the attestation of the kept child keeps its subject
        assertEquals(Set.of(att.digest().toString()), listed(b, "amd/team/app", app.children().get(0).digest()));
    }

    @Test
    void aListedReferrerThatCannotBeReadIsAWarningOrWithRequiredAFailureBeforeAnyLayer() throws Exception {
        String repo = "broken/app";
        TestImage img = TestImages.image("broken").oci().platforms("linux/amd64", "linux/arm64/v8").baseSeed(11).build();
        img.pushTo(a, repo);
        Artifact s = TestArtifacts.sbom(img.top().descriptor(), "broken");
        s.pushTo(a, repo, null);
        // the tag-schema index claims a size the source does not serve for that digest
        RawManifest good = TestArtifacts.referrersIndex(List.of(s));
        String lie = good.text().replace("\"size\":" + s.manifest().size(), "\"size\":" + (s.manifest().size() + 1));
        a.pushManifest(repo, TestArtifacts.schemaTag(img.top().digest()), RawManifest.of(good.mediaType(), lie.getBytes(StandardCharsets.UTF_8)));
        Path out = tmp.resolve("broken.tar");
        Path report = tmp.resolve("broken.json");
        CliRun warned = CliRun.of("export", regA.host() + "/" + repo + ":1.0", "-o", out.toString(), "--cache", tmp.resolve("cache2").toString(),
                "--report", report.toString());
        assertEquals(0, warned.code(), warned.err());
        assertTrue(warned.err().contains("warning: " + regA.host() + "/" + repo + ":1.0: artifact " + s.digest() + " attached to " + img.top().digest()),
                warned.err());
        assertTrue(Json.parse(Files.readAllBytes(report), "r").get("images").get(0).get("artifactNotes").get(0).asText().contains(s.digest().toString()));

        Path cache = tmp.resolve("cache3");
        CliRun failed = CliRun.of("export", regA.host() + "/" + repo + ":1.0", "-o", tmp.resolve("broken2.tar").toString(),
                "--cache", cache.toString(), "--referrers", "required");
        assertEquals(3, failed.code(), failed.err());
        assertEquals(1, failed.errLines().length, failed.err());
        assertTrue(failed.err().contains(s.digest().toString()) && failed.err().contains(img.top().digest().toString()), failed.err());
        assertFalse(Files.exists(tmp.resolve("broken2.tar")));
        try (var files = Files.walk(cache)) {
            assertTrue(files.noneMatch(f -> f.getFileName().toString().equals(img.blobs().get(img.blobs().size() - 1).digest().hex())),
                    "no layer was downloaded");
        } catch (java.io.UncheckedIOException | java.nio.file.NoSuchFileException e) {
            // no cache directory at all: nothing downloaded
        }
    }

    @Test
    void artifactTypeKeepsOnlyThoseTypes() throws Exception {
        Path only = tmp.resolve("sboms.tar");
        CliRun r = export(only, "--artifact-type", TestArtifacts.SPDX);
        assertEquals(0, r.code(), r.err());
        try (BundleArchive archive = BundleArchive.open(only, TrustPolicy.allowUnsignedOnly())) {
            assertEquals(List.of(sbom.digest()), archive.images().get(0).artifacts().stream().map(x -> x.digest()).toList());
        }
    }

    @Test
    void theHelmChartRoundTripsByteExact() throws Exception {
        CliRun r = importInto(bundle, regB.host() + "/helm");
        assertEquals(0, r.code(), r.err());
        assertArrayEquals(helm.manifest().bytes(), b.fetchManifest("helm/charts/demo", "0.1.0").bytes());
        for (TestImages.Blob blob : helm.blobs()) {
            try (InputStream in = b.openBlob("helm/charts/demo", blob.descriptor())) {
                assertArrayEquals(blob.bytes(), in.readAllBytes());
            }
        }
        try {
            b.fetchManifest("helm/charts/demo", TestArtifacts.schemaTag(helm.digest()));
            throw new AssertionError("no referrers index for an image without referrers");
        } catch (RegistryException e) {
            assertTrue(e.isNotFound());
        }
    }
}
