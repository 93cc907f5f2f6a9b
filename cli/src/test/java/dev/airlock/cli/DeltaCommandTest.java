package dev.airlock.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import dev.airlock.error.ExitCodes;
import dev.airlock.model.Digest;
import dev.airlock.model.RawManifest;
import dev.airlock.receipt.Receipt;
import dev.airlock.receipt.ReceiptFiles;
import dev.airlock.registry.RegistryOptions;
import dev.airlock.registry.RegistryStore;
import dev.airlock.sign.KeyGen;
import dev.airlock.sign.TrustPolicy;
import dev.airlock.testkit.RegistryAudit;
import dev.airlock.testkit.RegistryProcess;
import dev.airlock.testkit.TestImages;
import dev.airlock.testkit.TestImages.Blob;
import dev.airlock.testkit.TestImages.TestImage;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Receipts and delta bundles end to end on the command line, against real registries (issue 14's
 * must-show case): a multi-arch set exported and imported with --receipt; then at the source two
 * images get new versions sharing most layers, a new image appears and a tag moves; the delta
 * against the receipt carries exactly the new blobs and manifests, imports byte-exact into the
 * same target, fails before any upload into an empty registry (exit 8), and a receipt made by
 * {@code airlock receipt} of a registry filled by skopeo gives the same delta.
 */
class DeltaCommandTest {
    @TempDir
    static Path tmp;
    static RegistryProcess src;
    static RegistryProcess dst;
    static RegistryProcess empty;
    static RegistryProcess bySkopeo;
    static RegistryProcess second;
    static Path full1;
    static CliRun deltaDryRun;
    static RegistryStore srcStore;
    static RegistryStore dstStore;
    static KeyGen.Result ops;
    static KeyGen.Result site;
    static List<TestImage> before = new ArrayList<>();
    static List<TestImage> after = new ArrayList<>();
    static Map<String, TestImage> byRef = new LinkedHashMap<>();
    static List<String> refsAfter = new ArrayList<>();
    static Path receipt1;
    static Path delta;
    static CliRun deltaExport;
    static CliRun deltaImport;
    static Path receipt2;

    @BeforeAll
    static void scenario() throws Exception {
        src = RegistryProcess.start();
        dst = RegistryProcess.start();
        empty = RegistryProcess.start();
        bySkopeo = RegistryProcess.start();
        second = RegistryProcess.start();
        srcStore = RegistryStore.open(src.host(), RegistryOptions.anonymous());
        dstStore = RegistryStore.open(dst.host(), RegistryOptions.anonymous());
        ops = KeyGen.generate(tmp.resolve("ops"), Optional.empty());
        site = KeyGen.generate(tmp.resolve("site"), Optional.empty());

        // the first crossing: a multi-arch set
        TestImage app1 = TestImages.image("app").oci().baseSeed(7).tag("1.0").build();
        TestImage db1 = TestImages.image("db").docker().baseSeed(7).tag("1.0").build();
        TestImage web1 = TestImages.image("web").oci().attestation().baseSeed(8).tag("1.0").build();
        TestImage cfg1 = TestImages.image("cfg").oci().baseSeed(9).tag("stable").build();
        push(app1, "team/app");
        push(db1, "team/db");
        push(web1, "team/web");
        push(cfg1, "team/cfg");
        before.addAll(List.of(app1, db1, web1, cfg1));
        List<String> refs1 = List.of(ref("team/app:1.0"), ref("team/db:1.0"), ref("team/web:1.0"), ref("team/cfg:stable"));
        full1 = tmp.resolve("first.tar");
        CliRun e1 = export(full1, refs1);
        assertEquals(0, e1.code(), e1.err());
        receipt1 = tmp.resolve("site.receipt");
        CliRun i1 = CliRun.of("import", full1.toString(), "--to", dst.host() + "/mirror", "--trust", ops.publicKey().toString(),
                "--receipt", receipt1.toString(), "--sign-key", site.privateKey().toString(), "-q");
        assertEquals(0, i1.code(), i1.err());

        // the same state copied by skopeo into another registry (before the source changes)
        for (String r : List.of("team/app:1.0", "team/db:1.0", "team/web:1.0", "team/cfg:stable")) {
            skopeo("copy", "--all", "--preserve-digests", "--src-tls-verify=false", "--dest-tls-verify=false",
                    "docker://" + src.host() + "/" + r, "docker://" + bySkopeo.host() + "/mirror/" + r);
        }

        // the source moves on
        TestImage app2 = TestImages.image("app").oci().baseSeed(7).tag("2.0").build();
        TestImage db2 = TestImages.image("db").docker().baseSeed(7).tag("2.0").build();
        TestImage fresh = TestImages.image("fresh").oci().baseSeed(7).tag("1.0").build();
        TestImage cfg2 = TestImages.image("cfg").oci().baseSeed(9).tag("stable").ownLayers(2).build();
        push(app2, "team/app");
        push(db2, "team/db");
        push(fresh, "team/fresh");
        push(cfg2, "team/cfg");
        after.addAll(List.of(app1, app2, db1, db2, web1, cfg2, fresh));
        refsAfter.addAll(List.of(ref("team/app:1.0"), ref("team/app:2.0"), ref("team/db:1.0"), ref("team/db:2.0"), ref("team/web:1.0"),
                ref("team/cfg:stable"), ref("team/fresh:1.0")));
        for (int i = 0; i < after.size(); i++) {
            byRef.put(refsAfter.get(i), after.get(i));
        }
        delta = tmp.resolve("delta.tar");
        deltaExport = export(delta, refsAfter, "--since", receipt1.toString(), "--trust", site.publicKey().toString());
        assertEquals(0, deltaExport.code(), deltaExport.err());
        receipt2 = tmp.resolve("site2.receipt");
        deltaDryRun = CliRun.of("import", delta.toString(), "--to", dst.host() + "/mirror", "--trust", ops.publicKey().toString(), "--dry-run");
        deltaImport = CliRun.of("import", delta.toString(), "--to", dst.host() + "/mirror", "--trust", ops.publicKey().toString(),
                "--receipt", receipt2.toString(), "--sign-key", site.privateKey().toString(), "-q");
    }

    @AfterAll
    static void stop() {
        for (AutoCloseable c : new AutoCloseable[] {srcStore, dstStore, src, dst, empty, bySkopeo, second}) {
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
    void theDeltaCarriesExactlyTheNewBlobsAndManifests() throws Exception {
        Set<Digest> old = new HashSet<>();
        for (TestImage t : before) {
            t.blobs().forEach(b -> old.add(b.digest()));
            old.addAll(t.manifestDigests());
        }
        Map<Digest, Long> expected = new LinkedHashMap<>();
        for (TestImage t : after) {
            for (Blob b : t.blobs()) {
                if (!old.contains(b.digest())) {
                    expected.put(b.digest(), (long) b.bytes().length);
                }
            }
            for (RawManifest m : allManifests(t)) {
                if (!old.contains(m.digest())) {
                    expected.put(m.digest(), (long) m.size());
                }
            }
        }
        JsonNode bj = BundleJsonFiles.bundleJson(delta);
        assertEquals(2, bj.get("formatVersion").intValue());
        Map<Digest, Long> carried = new LinkedHashMap<>();
        for (JsonNode f : bj.get("files")) {
            if (f.get("path").asText().startsWith("blobs/")) {
                carried.put(new Digest("sha256", f.get("sha256").asText()), f.get("size").longValue());
            }
        }
        assertEquals(new TreeSet<>(expected.keySet().stream().map(Digest::toString).toList()),
                new TreeSet<>(carried.keySet().stream().map(Digest::toString).toList()), "carried digests");
        long expectedBytes = expected.values().stream().mapToLong(Long::longValue).sum();
        assertEquals(expectedBytes, carried.values().stream().mapToLong(Long::longValue).sum(), "carried bytes");
        // app 2.0 shares the common and per-platform base layers with app 1.0; they are required, not carried
        TestImage app2 = byRef.get(ref("team/app:2.0"));
        Set<String> required = new HashSet<>();
        bj.get("requires").forEach(r -> required.add(r.get("digest").asText()));
        assertTrue(required.contains(app2.blobs().stream().filter(b -> old.contains(b.digest())).findFirst().orElseThrow().digest().toString()));
        // the three unchanged images are only their tops
        for (String r : List.of("team/app:1.0", "team/db:1.0", "team/web:1.0")) {
            assertTrue(required.contains(byRef.get(ref(r)).top().digest().toString()), r);
            assertTrue(deltaExport.out().lines().anyMatch(l -> l.contains(ref(r)) && l.contains("already present")), deltaExport.out());
        }
        assertEquals(receiptId(receipt1), bj.get("basedOn").get(0).get("receiptId").asText());
        assertEquals(Digest.sha256(Files.readAllBytes(receipt1)).hex(), bj.get("basedOn").get(0).get("sha256").asText());

        Path full = tmp.resolve("full.tar");
        assertEquals(0, export(full, refsAfter).code());
        long fullBytes = Files.size(full);
        long deltaBytes = Files.size(delta);
        System.out.printf("delta figures: full bundle %d bytes, delta %d bytes (new unique content %d bytes, overhead %.2f%%)%n",
                fullBytes, deltaBytes, expectedBytes, 100.0 * (deltaBytes - expectedBytes) / expectedBytes);
        assertTrue(deltaBytes < fullBytes / 2, fullBytes + " vs " + deltaBytes);
    }

    @Test
    void verifyAndInspectSayItIsADelta() {
        CliRun v = CliRun.of("verify", delta.toString(), "--trust", ops.publicKey().toString());
        assertEquals(0, v.code(), v.err());
        assertTrue(v.out().contains("delta      relies on"), v.out());
        assertTrue(v.out().contains(receiptId(receipt1)), v.out());
        CliRun i = CliRun.of("inspect", delta.toString());
        assertEquals(0, i.code(), i.err());
        assertTrue(i.out().contains("delta      relies on") && i.out().contains(receiptId(receipt1)), i.out());
    }

    @Test
    void importIntoTheSameTargetMakesEveryImageByteExactAndTheSecondReceiptListsTheUnion() throws Exception {
        assertEquals(0, deltaImport.code(), deltaImport.out() + deltaImport.err());
        for (var e : byRef.entrySet()) {
            TestImage t = e.getValue();
            String repo = "mirror/" + e.getKey().substring(src.host().length() + 1, e.getKey().lastIndexOf(':'));
            assertEquals(t.top().digest(), dstStore.headManifest(repo, t.tag()).orElseThrow().digest(), e.getKey());
            for (RawManifest m : allManifests(t)) {
                assertArrayEquals(m.bytes(), dstStore.fetchManifest(repo, m.digest().toString()).bytes(), e.getKey() + " " + m.digest());
            }
            for (Blob b : t.blobs()) {
                try (InputStream in = dstStore.openBlob(repo, b.descriptor())) {
                    assertArrayEquals(b.bytes(), in.readAllBytes(), e.getKey() + " " + b.digest());
                }
            }
        }
        RegistryAudit.assertConsistent(dst);
        Receipt r1 = ReceiptFiles.read(receipt1, TrustPolicy.fromFiles(List.of(site.publicKey()), false)).receipt();
        Receipt r2 = ReceiptFiles.read(receipt2, TrustPolicy.fromFiles(List.of(site.publicKey()), false)).receipt();
        assertEquals(7, r2.images().size());
        assertTrue(r2.images().stream().allMatch(Receipt.Image::present));
        Set<String> held1 = held(r1);
        Set<String> held2 = held(r2);
        // the union: everything the first receipt listed, except the graph cfg:stable pointed at before it moved
        // (still stored, but no tag reaches it any more), and everything the delta brought
        TestImage cfg1 = before.get(3);
        Set<String> movedAway = new HashSet<>();
        cfg1.blobs().forEach(b -> movedAway.add(b.digest().toString()));
        cfg1.manifestDigests().forEach(d -> movedAway.add(d.toString()));
        byRef.get(ref("team/cfg:stable")).blobs().forEach(b -> movedAway.remove(b.digest().toString()));
        Set<String> expected1 = new HashSet<>(held1);
        expected1.removeAll(movedAway);
        assertFalse(movedAway.isEmpty());
        assertTrue(held2.containsAll(expected1), "the second receipt lists what the first did");
        assertFalse(held2.contains(cfg1.top().digest().toString()), "the moved tag's old index is not claimed");
        for (TestImage t : after) {
            t.blobs().forEach(b -> assertTrue(held2.contains(b.digest().toString()), b.digest().toString()));
            t.manifestDigests().forEach(d -> assertTrue(held2.contains(d.toString()), d.toString()));
        }
        assertEquals(1, r2.bundles().size());
        // openssl verifies the receipt's signature as written
        Process p = new ProcessBuilder("openssl", "dgst", "-sha256", "-verify", site.publicKey().toString(), "-signature",
                receipt2 + ".sig", receipt2.toString()).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(60, TimeUnit.SECONDS));
        assertEquals(0, p.exitValue(), out);
    }

    @Test
    void againstBothReceiptsEveryImageIsAlreadyPresentAndCostsNoBytes() throws Exception {
        assertEquals(0, deltaImport.code(), deltaImport.err());
        Path none = tmp.resolve("nothing-new.tar");
        CliRun e = export(none, refsAfter, "--since", receipt1.toString(), "--since", receipt2.toString(), "--trust", site.publicKey().toString());
        assertEquals(0, e.code(), e.err());
        assertEquals(refsAfter.size(), e.out().lines().filter(l -> l.contains("already present")).count(), e.out());
        JsonNode bj = BundleJsonFiles.bundleJson(none);
        assertEquals(2, bj.get("files").size(), "only oci-layout and index.json");
        assertEquals(refsAfter.size(), bj.get("requires").size(), "only the tops");
        assertEquals(2, bj.get("basedOn").size());
        // importing it only checks and tags: everything is there already
        CliRun i = CliRun.of("import", none.toString(), "--to", dst.host() + "/mirror", "--trust", ops.publicKey().toString());
        assertEquals(0, i.code(), i.err());
        assertTrue(i.out().contains("already complete, nothing written"), i.out());
    }

    @Test
    void aDryRunIntoTheTargetFindsEverythingItReliesOn() {
        assertEquals(0, deltaDryRun.code(), deltaDryRun.out() + deltaDryRun.err());
        assertTrue(deltaDryRun.out().contains("dry run, nothing written"), deltaDryRun.out());
        assertTrue(deltaDryRun.err().contains("is a delta: the ") && deltaDryRun.err().contains("it relies on are at"), deltaDryRun.err());
    }

    @Test
    void aCompressedDeltaStreamsOnceIntoAnotherRegistryHoldingTheFirstCrossing() throws Exception {
        CliRun base = CliRun.of("import", full1.toString(), "--to", second.host() + "/mirror", "--trust", ops.publicKey().toString(), "-q");
        assertEquals(0, base.code(), base.err());
        Path zst = tmp.resolve("delta.tar.zst");
        CliRun e = export(zst, refsAfter, "--since", receipt1.toString(), "--trust", site.publicKey().toString());
        assertEquals(0, e.code(), e.err());
        CliRun i = CliRun.of("import", zst.toString(), "--to", second.host() + "/mirror", "--trust", ops.publicKey().toString(), "-q");
        assertEquals(0, i.code(), i.out() + i.err());
        try (RegistryStore s = RegistryStore.open(second.host(), RegistryOptions.anonymous())) {
            for (var x : byRef.entrySet()) {
                String repo = "mirror/" + x.getKey().substring(src.host().length() + 1, x.getKey().lastIndexOf(':'));
                assertEquals(x.getValue().top().digest(), s.headManifest(repo, x.getValue().tag()).orElseThrow().digest(), x.getKey());
            }
        }
        RegistryAudit.assertConsistent(second);
    }

    @Test
    void aDeltaIntoAnEmptyRegistryFailsBeforeAnyUpload() {
        for (String dry : new String[] {"--dry-run", "-q"}) {
            CliRun r = CliRun.of("import", delta.toString(), "--to", empty.host() + "/mirror", "--trust", ops.publicKey().toString(), dry);
            assertEquals(ExitCodes.TARGET_LACKS, r.code(), r.out() + r.err());
            String[] lines = r.errLines();
            assertEquals(1, lines.length, r.err());
            assertTrue(lines[0].startsWith("airlock: importing bundle ") && lines[0].contains("lacks") && lines[0].contains("sha256:")
                    && lines[0].contains(receiptId(receipt1)) && lines[0].contains("nothing was pushed"), lines[0]);
            RegistryAudit.assertEmpty(empty);
        }
    }

    @Test
    void aReceiptChangedByOneByteIsRefusedAndAnUnsignedOneNeedsToBeAllowed() throws Exception {
        byte[] bytes = Files.readAllBytes(receipt1);
        String text = new String(bytes, StandardCharsets.UTF_8);
        Path bad = tmp.resolve("bad.receipt");
        // one byte changed, still a well-formed receipt: the first blob size's first digit
        int at = text.indexOf("\"size\":") + "\"size\":".length();
        byte[] changed = bytes.clone();
        changed[at] = (byte) (changed[at] == '9' ? '8' : '9');
        assertEquals(bytes.length, changed.length);
        Files.write(bad, changed);
        Files.copy(Path.of(receipt1 + ".sig"), Path.of(bad + ".sig"));
        CliRun r = export(tmp.resolve("x.tar"), refsAfter, "--since", bad.toString(), "--trust", site.publicKey().toString());
        assertEquals(ExitCodes.VERIFICATION, r.code(), r.err());
        assertEquals(1, r.errLines().length, r.err());
        assertTrue(r.errLines()[0].contains("does not verify"), r.err());
        assertFalse(Files.exists(tmp.resolve("x.tar")));

        Path unsigned = tmp.resolve("unsigned.receipt");
        Files.write(unsigned, bytes);
        CliRun u = export(tmp.resolve("y.tar"), refsAfter, "--since", unsigned.toString(), "--trust", site.publicKey().toString());
        assertEquals(ExitCodes.VERIFICATION, u.code(), u.err());
        assertTrue(u.errLines()[0].contains("is not signed"), u.err());
        CliRun none = export(tmp.resolve("y.tar"), refsAfter, "--since", unsigned.toString());
        assertEquals(ExitCodes.USAGE, none.code(), none.err());
        CliRun ok = export(tmp.resolve("y.tar"), refsAfter, "--since", unsigned.toString(), "--allow-unsigned-receipt");
        assertEquals(0, ok.code(), ok.err());
        assertEquals(BundleJsonFiles.carried(delta), BundleJsonFiles.carried(tmp.resolve("y.tar")));
    }

    @Test
    void aReceiptOfARegistryFilledBySkopeoGivesTheSameDelta() throws Exception {
        Path r = tmp.resolve("skopeo.receipt");
        List<String> args = new ArrayList<>(List.of("receipt", "--from", bySkopeo.host() + "/mirror", "-o", r.toString(), "-q"));
        args.addAll(refsAfter);
        CliRun made = CliRun.of(args.toArray(String[]::new));
        assertEquals(0, made.code(), made.err());
        // the new tags are not there: listed as absent
        assertTrue(made.out().contains("absent  " + bySkopeo.host() + "/mirror/team/app:2.0"), made.out());
        Receipt parsed = ReceiptFiles.read(r, TrustPolicy.allowUnsignedOnly()).receipt();
        assertEquals(4, parsed.images().stream().filter(Receipt.Image::present).count());
        Path d2 = tmp.resolve("delta-skopeo.tar");
        CliRun e = export(d2, refsAfter, "--since", r.toString(), "--allow-unsigned-receipt");
        assertEquals(0, e.code(), e.err());
        assertEquals(BundleJsonFiles.carried(delta), BundleJsonFiles.carried(d2));
        assertEquals(requiredDigests(delta), requiredDigests(d2));
    }

    // ------------------------------------------------------------------ helpers

    private static String ref(String repoAndTag) {
        return src.host() + "/" + repoAndTag;
    }

    private static void push(TestImage t, String repo) {
        t.pushTo(srcStore, repo);
    }

    private static CliRun export(Path out, List<String> refs, String... more) {
        List<String> args = new ArrayList<>(List.of("export", "-o", out.toString(), "--cache", tmp.resolve("cache").toString(),
                "--sign-key", ops.privateKey().toString()));
        args.addAll(refs);
        args.addAll(List.of(more));
        return CliRun.of(args.toArray(String[]::new));
    }

    private static List<RawManifest> allManifests(TestImage t) {
        List<RawManifest> out = new ArrayList<>(t.children());
        out.add(t.top());
        return out;
    }

    private static Set<String> held(Receipt r) {
        Set<String> out = new HashSet<>();
        for (Receipt.Image i : r.images()) {
            i.manifests().forEach(m -> out.add(m.toString()));
            i.blobs().forEach(b -> out.add(b.digest().toString()));
        }
        return out;
    }

    private static String receiptId(Path receipt) {
        return ReceiptFiles.read(receipt, TrustPolicy.allowUnsignedOnly()).receipt().id().toString();
    }



    private static Set<String> requiredDigests(Path bundle) throws IOException {
        Set<String> out = new TreeSet<>();
        for (JsonNode f : BundleJsonFiles.bundleJson(bundle).get("requires")) {
            out.add(f.get("digest").asText() + " " + f.get("images"));
        }
        return out;
    }

    private static void skopeo(String... args) throws IOException, InterruptedException {
        List<String> cmd = new ArrayList<>(List.of("skopeo"));
        cmd.addAll(List.of(args));
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(120, TimeUnit.SECONDS), "skopeo timed out");
        assertEquals(0, p.exitValue(), String.join(" ", cmd) + ": " + out);
    }
}
