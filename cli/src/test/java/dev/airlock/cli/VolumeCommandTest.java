package dev.airlock.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import dev.airlock.error.ExitCodes;
import dev.airlock.model.Json;
import dev.airlock.model.RawManifest;
import dev.airlock.registry.RegistryOptions;
import dev.airlock.registry.RegistryStore;
import dev.airlock.progress.ProgressListener;
import dev.airlock.serve.BundleServer;
import dev.airlock.serve.ServeRequest;
import dev.airlock.sign.TrustPolicy;
import dev.airlock.sign.KeyGen;
import dev.airlock.testkit.FaultProxy;
import dev.airlock.testkit.RegistryAudit;
import dev.airlock.testkit.RegistryProcess;
import dev.airlock.testkit.TestImages;
import dev.airlock.testkit.TestImages.Blob;
import dev.airlock.testkit.TestImages.TestImage;
import java.io.IOException;
import java.io.InputStream;
import java.io.RandomAccessFile;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.stream.Stream;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveInputStream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Volumes for removable media end to end on the command line, against real registries (issue 17's
 * must-show cases): a multi-image multi-arch set split at a size forcing at least three volumes,
 * each within the size, each verifying alone, the set checked whole, imported in reverse order
 * into an empty registry with no tag on an incomplete image after any volume and every image
 * byte-exact at the end; standalone volumes; a missing, flipped or foreign volume; a blob larger
 * than a volume refused before any layer download.
 */
class VolumeCommandTest {
    /** The volume size: a little over four layers. */
    static final long SIZE = 4_500_000;
    static final int LAYER = 1024 * 1024;

    @TempDir
    static Path tmp;
    static RegistryProcess src;
    static RegistryProcess dst;
    static RegistryStore dstStore;
    static KeyGen.Result ops;
    static Map<String, TestImage> byRef = new LinkedHashMap<>();
    static List<Path> volumes;
    static CliRun exported;
    static long uniqueBytes;

    @BeforeAll
    static void scenario() throws Exception {
        src = RegistryProcess.start();
        dst = RegistryProcess.start();
        dstStore = RegistryStore.open(dst.host(), RegistryOptions.anonymous());
        ops = KeyGen.generate(tmp.resolve("ops"), Optional.empty());
        try (RegistryStore s = RegistryStore.open(src.host(), RegistryOptions.anonymous())) {
            // app and db share their base layers (seed 7); web has attestations; cfg is on its own
            add(s, TestImages.image("app").oci().baseSeed(7).layerSize(LAYER).ownLayers(1).tag("1.0").build(), "team/app");
            add(s, TestImages.image("db").docker().baseSeed(7).layerSize(LAYER).ownLayers(1).tag("1.0").build(), "team/db");
            add(s, TestImages.image("web").oci().attestation().baseSeed(8).layerSize(LAYER).tag("1.0").build(), "team/web");
            add(s, TestImages.image("cfg").oci().baseSeed(9).layerSize(LAYER).tag("stable").build(), "team/cfg");
        }
        Set<String> seen = new HashSet<>();
        for (TestImage t : byRef.values()) {
            for (Blob b : t.blobs()) {
                if (seen.add(b.digest().toString())) {
                    uniqueBytes += b.bytes().length;
                }
            }
            for (RawManifest m : manifests(t)) {
                if (seen.add(m.digest().toString())) {
                    uniqueBytes += m.size();
                }
            }
        }
        exported = export(tmp.resolve("set.tar"), "--volume-size", String.valueOf(SIZE));
        assertEquals(0, exported.code(), exported.out() + exported.err());
        volumes = volumesOf(tmp, "set.vol");
    }

    @AfterAll
    static void stop() {
        for (AutoCloseable c : new AutoCloseable[] {dstStore, src, dst}) {
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
    void everyVolumeFitsVerifiesAloneAndTheSetCarriesEachBlobOnce() throws Exception {
        assertTrue(volumes.size() >= 3, volumes.toString());
        long total = 0;
        for (int k = 0; k < volumes.size(); k++) {
            Path v = volumes.get(k);
            long size = Files.size(v);
            total += size;
            assertTrue(size <= SIZE, v + " has " + size + " bytes");
            assertTrue(Files.exists(Path.of(v + ".sha256")), v + ".sha256");
            CliRun r = CliRun.of("verify", v.toString(), "--trust", ops.publicKey().toString());
            assertEquals(0, r.code(), r.err());
            assertTrue(r.out().contains("volume " + (k + 1) + " of " + volumes.size() + " of set "), r.out());
            JsonNode bj = bundleJson(v);
            assertEquals(3, bj.get("formatVersion").intValue());
            assertEquals(k + 1, bj.get("volume").get("index").intValue());
        }
        System.out.printf("volume figures: %d volumes of at most %d bytes, %d bytes in all, unique content %d bytes (%.4fx)%n",
                volumes.size(), SIZE, total, uniqueBytes, (double) total / uniqueBytes);
        assertTrue(total <= 1.02 * uniqueBytes, total + " bytes for " + uniqueBytes + " unique");
        // every config and layer in exactly one volume
        Map<String, Integer> layerCount = new LinkedHashMap<>();
        for (Path v : volumes) {
            for (JsonNode f : bundleJson(v).get("files")) {
                String mt = f.has("mediaType") ? f.get("mediaType").asText() : "";
                if (f.get("path").asText().startsWith("blobs/") && !mt.contains("manifest") && !mt.contains("index")) {
                    layerCount.merge(f.get("sha256").asText(), 1, Integer::sum);
                }
            }
        }
        assertTrue(layerCount.values().stream().allMatch(c -> c == 1), layerCount.toString());
        Set<String> all = new TreeSet<>();
        byRef.values().forEach(t -> t.blobs().forEach(b -> all.add(b.digest().hex())));
        assertEquals(all, new TreeSet<>(layerCount.keySet()));

        CliRun set = CliRun.of(Stream.concat(Stream.of("verify"), Stream.concat(volumes.stream().map(Path::toString),
                Stream.of("--trust", ops.publicKey().toString()))).toArray(String[]::new));
        assertEquals(0, set.code(), set.err());
        assertTrue(set.out().contains("OK: the " + volumes.size() + " volumes of set "), set.out());

        CliRun inspect = CliRun.of("inspect", volumes.get(0).toString(), "--json");
        assertEquals(0, inspect.code(), inspect.err());
        JsonNode ij = Json.parse(inspect.out().getBytes(StandardCharsets.UTF_8), "inspect", 1 << 20);
        assertEquals(1, ij.get("volume").get("index").intValue());
        assertEquals(volumes.size(), ij.get("volume").get("count").intValue());
        assertEquals(4, ij.get("volume").get("setImages").size());
    }

    @Test
    void importedInReverseOrderNoTagEverPointsAtAnIncompleteImageAndAllArriveByteExact() throws Exception {
        importInReverse(volumes, "rev");
        // a re-run of any volume changes nothing and says all is done
        CliRun again = importVolumes(dst.host() + "/rev", volumes.get(1));
        assertEquals(0, again.code(), again.out() + again.err());
        assertByteExact("rev");
        RegistryAudit.assertConsistent(dst);
    }

    @Test
    void compressedVolumesFitAndStreamInReverseOrderToo() throws Exception {
        CliRun e = export(tmp.resolve("z.tar.zst"), "--volume-size", String.valueOf(SIZE));
        assertEquals(0, e.code(), e.out() + e.err());
        List<Path> z;
        try (Stream<Path> s = Files.list(tmp)) {
            z = s.filter(p -> p.getFileName().toString().matches("z\\.vol[0-9]{3}\\.tar\\.zst")).sorted().toList();
        }
        assertTrue(z.size() >= 3, z.toString());
        for (Path v : z) {
            assertTrue(Files.size(v) <= SIZE, v + " has " + Files.size(v) + " bytes");
        }
        importInReverse(z, "zst");
    }

    /**
     * Imports {@code set} last volume first into {@code dst/prefix}; after each volume, exactly the
     * images all of whose volumes are in are tagged (with their digest), the rest have no tag, and
     * the registry is consistent; at the end every image is byte-exact.
     */
    private static void importInReverse(List<Path> set, String prefix) throws Exception {
        JsonNode setImages = volumeObject(set.get(0)).get("images");
        List<Path> reverse = new ArrayList<>(set);
        Collections.reverse(reverse);
        Set<Integer> imported = new HashSet<>();
        for (int k = 0; k < reverse.size(); k++) {
            Path v = reverse.get(k);
            int index = volumeObject(v).get("index").intValue();
            imported.add(index);
            CliRun r = importVolumes(dst.host() + "/" + prefix, v);
            boolean last = k == reverse.size() - 1;
            assertEquals(last ? 0 : ExitCodes.WAITING, r.code(), r.out() + r.err());
            int complete = 0;
            for (JsonNode i : setImages) {
                Set<Integer> needs = new HashSet<>();
                i.get("volumes").forEach(n -> needs.add(n.intValue()));
                String source = i.get("source").asText();
                TestImage t = byRef.get(source);
                String repo = prefix + "/" + source.substring(src.host().length() + 1, source.lastIndexOf(':'));
                Optional<dev.airlock.model.Descriptor> tag = dstStore.headManifest(repo, t.tag());
                if (imported.containsAll(needs)) {
                    complete++;
                    assertEquals(t.top().digest(), tag.orElseThrow(() -> new AssertionError(source + " complete but not tagged")).digest());
                } else {
                    assertTrue(tag.isEmpty(), source + " tagged after volumes " + imported + " but it needs " + needs);
                    if (needs.contains(index)) {
                        assertTrue(r.out().lines().anyMatch(l -> l.contains(source) && l.contains("waiting for volume")), r.out());
                    }
                }
            }
            assertTrue(complete < setImages.size() || last, "all complete before the last volume");
            RegistryAudit.assertConsistent(dst);
        }
        assertByteExact(prefix);
    }

    static JsonNode volumeObject(Path v) throws IOException {
        return bundleJson(v).get("volume");
    }

    @Test
    void severalVolumesInOneCommandGiveTheSameResultAsOneByOne() throws Exception {
        List<Path> shuffled = new ArrayList<>(volumes);
        Collections.swap(shuffled, 0, shuffled.size() - 1);
        CliRun r = importVolumes(dst.host() + "/all", shuffled.toArray(Path[]::new));
        assertEquals(0, r.code(), r.out() + r.err());
        assertTrue(r.out().contains(byRef.size() + " images from"), r.out());
        assertByteExact("all");
        RegistryAudit.assertConsistent(dst);
    }

    @Test
    void standaloneVolumesEachTagExactlyTheirImagesAlone() throws Exception {
        CliRun e = export(tmp.resolve("alone.tar"), "--volume-size", String.valueOf(SIZE * 3), "--standalone-volumes");
        assertEquals(0, e.code(), e.out() + e.err());
        assertTrue(e.out().contains("Standalone volumes repeat shared blobs:"), e.out());
        List<Path> alone = volumesOf(tmp, "alone.vol");
        assertTrue(alone.size() >= 2, alone.toString());
        for (int k = 0; k < alone.size(); k++) {
            Path v = alone.get(k);
            assertTrue(Files.size(v) <= SIZE * 3);
            JsonNode bj = bundleJson(v);
            assertFalse(bj.has("requires"), v.toString());
            try (RegistryProcess empty = RegistryProcess.start()) {
                CliRun r = CliRun.of("import", v.toString(), "--to", empty.host() + "/x", "--trust", ops.publicKey().toString(),
                        "--no-preflight");
                assertEquals(0, r.code(), r.out() + r.err());
                RegistryAudit.Report audit = RegistryAudit.assertConsistent(empty);
                Set<String> expected = new TreeSet<>();
                for (JsonNode i : bj.get("images")) {
                    String s = i.get("source").asText();
                    expected.add("x/" + s.substring(src.host().length() + 1, s.lastIndexOf(':')));
                }
                assertEquals(expected, new TreeSet<>(audit.tags().keySet()), v.toString());
                assertEquals(expected.size(), audit.tagCount());
            }
        }
    }

    @Test
    void aFlippedVolumeFailsInOneLineAndTagsNothing() throws Exception {
        Path flipped = tmp.resolve("flipped.vol001.tar");
        Files.copy(volumes.get(0), flipped);
        try (RandomAccessFile f = new RandomAccessFile(flipped.toFile(), "rw")) {
            long at = Files.size(flipped) - 4096; // inside the last blob
            f.seek(at);
            int b = f.read();
            f.seek(at);
            f.write(b ^ 0x01);
        }
        CliRun r = CliRun.of("import", flipped.toString(), "--to", dst.host() + "/flip", "--trust", ops.publicKey().toString(), "-q");
        assertEquals(ExitCodes.VERIFICATION, r.code(), r.out() + r.err());
        assertEquals(1, r.errLines().length, r.err());
        assertTrue(RegistryAudit.of(dst).tags().keySet().stream().noneMatch(t -> t.startsWith("flip/")));
        CliRun v = CliRun.of("verify", flipped.toString(), "--trust", ops.publicKey().toString());
        assertEquals(ExitCodes.VERIFICATION, v.code(), v.err());

        Path truncated = tmp.resolve("truncated.vol001.tar");
        Files.write(truncated, java.util.Arrays.copyOf(Files.readAllBytes(volumes.get(0)), (int) Files.size(volumes.get(0)) / 2));
        CliRun t = CliRun.of("import", truncated.toString(), "--to", dst.host() + "/cut", "--trust", ops.publicKey().toString(), "-q");
        assertEquals(ExitCodes.VERIFICATION, t.code(), t.out() + t.err());
        assertEquals(1, t.errLines().length, t.err());
        assertTrue(RegistryAudit.of(dst).tags().keySet().stream().noneMatch(x -> x.startsWith("cut/")));
    }

    @Test
    void aMissingVolumeOrOneFromAnotherSetFailsTheSetCheck() throws Exception {
        List<String> args = new ArrayList<>(List.of("verify"));
        for (int k = 0; k < volumes.size(); k++) {
            if (k != 1) {
                args.add(volumes.get(k).toString());
            }
        }
        args.addAll(List.of("--trust", ops.publicKey().toString(), "-q"));
        CliRun missing = CliRun.of(args.toArray(String[]::new));
        assertEquals(ExitCodes.VERIFICATION, missing.code(), missing.err());
        assertEquals(1, missing.errLines().length, missing.err());
        assertTrue(missing.err().contains("volume 2 missing"), missing.err());

        // the same images exported again: another set
        CliRun e = export(tmp.resolve("other.tar"), "--volume-size", String.valueOf(SIZE));
        assertEquals(0, e.code(), e.err());
        List<Path> other = volumesOf(tmp, "other.vol");
        CliRun mixed = CliRun.of("verify", volumes.get(0).toString(), other.get(1).toString(), "--trust", ops.publicKey().toString(), "-q");
        assertEquals(ExitCodes.VERIFICATION, mixed.code(), mixed.err());
        assertTrue(mixed.err().contains("of another set"), mixed.err());
        CliRun imp = CliRun.of("import", volumes.get(0).toString(), other.get(1).toString(), "--to", dst.host() + "/mixed", "--trust",
                ops.publicKey().toString(), "-q");
        assertEquals(ExitCodes.VERIFICATION, imp.code(), imp.out() + imp.err());
        assertEquals(1, imp.errLines().length, imp.err());
        assertTrue(imp.err().contains("not of set"), imp.err());
        assertTrue(RegistryAudit.of(dst).tags().keySet().stream().noneMatch(t -> t.startsWith("mixed/")));
    }

    @Test
    void aBlobLargerThanAVolumeFailsBeforeAnyLayerDownload() throws Exception {
        try (RegistryProcess big = RegistryProcess.start(); RegistryStore s = RegistryStore.open(big.host(), RegistryOptions.anonymous())) {
            TestImage huge = TestImages.image("huge").oci().layerSize(1_500_000).singlePlatform("linux/amd64").build();
            huge.pushTo(s, "team/huge");
            try (FaultProxy proxy = FaultProxy.in(big)) {
                List<String> requests = new CopyOnWriteArrayList<>();
                proxy.rejectRequests(head -> {
                    requests.add(head.lines().findFirst().orElse(""));
                    return false;
                }, 500);
                CliRun r = CliRun.of("export", proxy.host() + "/team/huge:1.0", "-o", tmp.resolve("huge.tar").toString(), "--volume-size",
                        "1MiB", "--cache", tmp.resolve("huge-cache").toString(), "--sign-key", ops.privateKey().toString(), "-q");
                assertEquals(ExitCodes.USAGE, r.code(), r.out() + r.err());
                assertEquals(1, r.errLines().length, r.err());
                String layer = huge.platforms().get(0).layers().stream().filter(l -> l.bytes().length > 1_000_000).findFirst().orElseThrow()
                        .digest().toString();
                assertTrue(r.err().contains(layer) && r.err().contains(proxy.host() + "/team/huge:1.0"), r.err());
                assertFalse(requests.isEmpty(), "the proxy saw the planning requests");
                for (Blob b : huge.platforms().get(0).layers()) {
                    assertTrue(requests.stream().noneMatch(q -> q.startsWith("GET") && q.contains(b.digest().toString())), requests.toString());
                }
                assertFalse(volumesOf(tmp, "huge.vol").iterator().hasNext());
            }
        }
    }

    @Test
    void aVolumeIsServedOnlyWithTheVolumesItNeeds() throws Exception {
        Path needy = null;
        for (Path v : volumes) {
            if (bundleJson(v).has("requires")) {
                needy = v;
            }
        }
        assertTrue(needy != null, "some volume needs another");
        CliRun r = CliRun.of("serve", needy.toString(), "--trust", ops.publicKey().toString(), "--listen", "127.0.0.1:0", "-q");
        assertEquals(ExitCodes.USAGE, r.code(), r.out() + r.err());
        assertEquals(1, r.errLines().length, r.err());
        assertTrue(r.err().contains("serve every volume of the set together"), r.err());
    }

    /** Every volume of the set served together is one registry holding every image complete: a sync from it is byte-exact. */
    @Test
    void theWholeSetServedTogetherServesEveryImageComplete() throws Exception {
        try (BundleServer server = BundleServer.start(new ServeRequest(volumes,
                TrustPolicy.fromFiles(List.of(ops.publicKey()), false), false, false, new ServeRequest.Listen("127.0.0.1", 0),
                Optional.empty(), Optional.empty(), line -> { }), ProgressListener.NONE)) {
            assertEquals(byRef.size(), server.images().size(), server.images().toString());
            String served = "127.0.0.1:" + server.address().getPort();
            List<String> args = new ArrayList<>(List.of("sync"));
            for (String ref : byRef.keySet()) {
                args.add(served + ref.substring(src.host().length()));
            }
            args.addAll(List.of("--to", dst.host() + "/served", "-q"));
            CliRun r = CliRun.of(args.toArray(String[]::new));
            assertEquals(0, r.code(), r.out() + r.err());
        }
        assertByteExact("served");
    }

    // ---------------------------------------------------------------- helpers

    private static void add(RegistryStore s, TestImage t, String repo) {
        t.pushTo(s, repo);
        byRef.put(src.host() + "/" + repo + ":" + t.tag(), t);
    }

    private static CliRun export(Path out, String... more) {
        List<String> args = new ArrayList<>(List.of("export"));
        args.addAll(byRef.keySet());
        args.addAll(List.of("-o", out.toString(), "--sign-key", ops.privateKey().toString(), "--cache", tmp.resolve("cache").toString()));
        args.addAll(List.of(more));
        return CliRun.of(args.toArray(String[]::new));
    }

    private static CliRun importVolumes(String to, Path... files) {
        List<String> args = new ArrayList<>(List.of("import"));
        for (Path f : files) {
            args.add(f.toString());
        }
        args.addAll(List.of("--to", to, "--trust", ops.publicKey().toString()));
        return CliRun.of(args.toArray(String[]::new));
    }

    static List<Path> volumesOf(Path dir, String prefix) throws IOException {
        try (Stream<Path> s = Files.list(dir)) {
            return s.filter(p -> p.getFileName().toString().startsWith(prefix) && p.getFileName().toString().endsWith(".tar")).sorted().toList();
        }
    }

    private static List<RawManifest> manifests(TestImage t) {
        List<RawManifest> out = new ArrayList<>(t.children());
        out.add(t.top());
        return out;
    }

    private static void assertByteExact(String prefix) throws Exception {
        for (var e : byRef.entrySet()) {
            TestImage t = e.getValue();
            String repo = prefix + "/" + e.getKey().substring(src.host().length() + 1, e.getKey().lastIndexOf(':'));
            assertEquals(t.top().digest(), dstStore.headManifest(repo, t.tag()).orElseThrow().digest(), e.getKey());
            for (RawManifest m : manifests(t)) {
                assertArrayEquals(m.bytes(), dstStore.fetchManifest(repo, m.digest().toString()).bytes(), e.getKey() + " " + m.digest());
            }
            for (Blob b : t.blobs()) {
                try (InputStream in = dstStore.openBlob(repo, b.descriptor())) {
                    assertArrayEquals(b.bytes(), in.readAllBytes(), e.getKey() + " " + b.digest());
                }
            }
        }
    }

    static JsonNode bundleJson(Path bundle) throws IOException {
        InputStream raw = Files.newInputStream(bundle);
        if (bundle.toString().endsWith(".zst")) {
            raw = new com.github.luben.zstd.ZstdInputStream(raw);
        }
        try (TarArchiveInputStream tar = new TarArchiveInputStream(raw)) {
            TarArchiveEntry e;
            while ((e = tar.getNextEntry()) != null) {
                if (e.getName().equals("airlock/bundle.json")) {
                    return Json.parse(tar.readAllBytes(), "bundle.json", 32 << 20);
                }
            }
        }
        throw new AssertionError("no bundle.json in " + bundle);
    }
}
