package dev.airlock.bundle;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import dev.airlock.model.Descriptor;
import dev.airlock.model.Digest;
import dev.airlock.model.ImageManifest;
import dev.airlock.model.ImageReference;
import dev.airlock.model.Json;
import dev.airlock.model.ManifestView;
import dev.airlock.model.MediaType;
import dev.airlock.model.Platform;
import dev.airlock.model.RawManifest;
import dev.airlock.progress.ProgressListener;
import dev.airlock.sign.KeyGen;
import dev.airlock.sign.Signer;
import dev.airlock.sign.TrustPolicy;
import java.io.ByteArrayInputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.UUID;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Volumes (format 3) in the bundle format: docs/bundle-format.md's volume example is what the
 * writer writes, {@link BundleWriter#tarSize} is the exact size of the file written (signed or not),
 * and a volume object that is not exactly consistent is refused with one line.
 */
class BundleVolumeTest {
    static final UUID SET = UUID.fromString("7d1e5c9a-2b4f-4e8a-9c3d-1a2b3c4d5e6f");

    @TempDir
    Path tmp;

    /** The two images of the spec's examples, split into two volumes as the exporter's packer does. */
    record Split(TestContent content, List<BundleImage> images, List<Descriptor> order, List<Set<Digest>> graphs,
                 List<BundleManifest.Required> requires, BundleVolume volume) {
    }

    /**
     * Volume 2 of 2: the pause image's config and manifest; the base layer it shares with busybox
     * went into volume 1 (with all of busybox, which volume 1 therefore lists with pause).
     */
    static Split volumeTwo() {
        TestContent c = BundleFormatDocTest.plainGolden();
        Descriptor index = c.images.get(0).descriptor();
        BundleImage pause = c.images.get(1);
        Descriptor tool = pause.descriptor();
        ImageManifest pm = (ImageManifest) ManifestView.parse(RawManifest.of(tool.mediaType(), c.bytes.get(tool.digest())));
        Descriptor base = pm.layers().get(0);
        List<Descriptor> order = List.of(Descriptor.of(pm.config().mediaType(), pm.config().digest(), pm.config().size()), tool);
        List<Set<Digest>> graphs = List.of(new LinkedHashSet<>(order.stream().map(Descriptor::digest).toList()));
        List<BundleManifest.Required> requires = List.of(new BundleManifest.Required(base.digest(), base.size(), base.mediaType(), List.of(0),
                List.of(), 1));
        BundleVolume v = new BundleVolume(SET, 2, 2, false, List.of(
                new BundleVolume.SetImage(c.images.get(0).source(), index.digest(), List.of(1)),
                new BundleVolume.SetImage(pause.source(), tool.digest(), List.of(1, 2))));
        return new Split(c, List.of(pause), order, graphs, requires, v);
    }

    private static WriteOptions goldenOptions(Split s) {
        return WriteOptions.defaults().withIdentity(UUID.fromString("0b7c6a3e-9a53-4b59-8f2c-6e1f4b0d2a13"), Instant.parse("2026-12-15T12:00:00Z"))
                .withTool(new BundleManifest.Tool("airlock", "0.1.0")).withImageGraphs(s.graphs());
    }

    private static WriteResult write(Path out, Split s, WriteOptions options) {
        return BundleWriter.write(out, s.images(), s.order(), d -> new ByteArrayInputStream(s.content().bytes.get(d.digest())), options,
                ProgressListener.NONE, new BundleWriter.Delta(s.requires(), List.of()), Optional.of(s.volume()));
    }

    @Test
    void theVolumeExampleIsWhatTheWriterWritesAndItsSizeIsKnownBeforehand() throws Exception {
        Split s = volumeTwo();
        Path out = tmp.resolve("golden.vol002.tar");
        WriteOptions options = goldenOptions(s);
        WriteResult w = write(out, s, options);
        byte[] bundleJson = Forge.named(Forge.read(out), BundleLayout.BUNDLE_JSON).data();
        String spec = Files.readString(Path.of(System.getProperty("basedir", ".")).resolve("../docs/bundle-format.md"), StandardCharsets.UTF_8);
        JsonNode written = Json.parse(bundleJson, "written bundle.json");
        assertEquals(written, Json.parse(jsonBlockAfter(spec, "### A volume's bundle.json").getBytes(StandardCharsets.UTF_8), "spec volume"),
                () -> "docs/bundle-format.md volume example; the writer gives:\n" + written.toPrettyString());
        BundleManifest m = BundleManifest.parse(bundleJson, "golden volume");
        assertEquals(3, m.formatVersion());
        assertEquals(2, m.volume().orElseThrow().index());
        assertEquals(1, m.requires().get(0).volume());
        assertTrue(!m.isDelta());
        VerifyResult v = BundleVerifier.verify(out, TrustPolicy.allowUnsignedOnly(), ProgressListener.NONE);
        assertEquals(SET, v.manifest().volume().orElseThrow().setId());
        assertEquals(Files.size(out), BundleWriter.tarSize(s.images(), s.order(), options, new BundleWriter.Delta(s.requires(), List.of()),
                Optional.of(s.volume())));
        assertEquals(Files.size(out), w.bytes());
    }

    @Test
    void theExactSizeHoldsForASignedVolumeToo() throws Exception {
        Split s = volumeTwo();
        KeyGen.Result k = KeyGen.generate(tmp.resolve("k"), Optional.empty());
        WriteOptions options = goldenOptions(s).withSigner(Signer.load(k.privateKey(), Optional.of(k.certificate())));
        Path out = tmp.resolve("signed.vol002.tar");
        write(out, s, options);
        assertEquals(Files.size(out), BundleWriter.tarSize(s.images(), s.order(), options, new BundleWriter.Delta(s.requires(), List.of()),
                Optional.of(s.volume())));
    }

    static Stream<Arguments> inconsistent() {
        return Stream.of(
                Arguments.of("index 0", "\"index\":2,", "\"index\":0,", "index 0 is not between 1 and its count 2"),
                Arguments.of("index over count", "\"index\":2,\"count\":2", "\"index\":3,\"count\":2", "index 3 is not between 1 and its count 2"),
                Arguments.of("an unknown key", "\"standalone\":false,", "\"standalone\":false,\"split\":1,", "split"),
                Arguments.of("standalone not a boolean", "\"standalone\":false,", "\"standalone\":0,", "must be true or false"),
                Arguments.of("volumes unsorted", "\"volumes\":[1,2]", "\"volumes\":[2,1]", "not strictly ascending"),
                Arguments.of("a volume outside the set", "\"volumes\":[1,2]", "\"volumes\":[1,2,3]", "lists volume 3 of a set of 2"),
                Arguments.of("this volume not listing its image", "\"volumes\":[1,2]", "\"volumes\":[1]", "lists 0 image(s) as held by volume 2"),
                Arguments.of("a required item in this volume", "\"repositories\":[],\"volume\":1", "\"repositories\":[],\"volume\":2",
                        "names volume 2, not another volume"),
                Arguments.of("a required item in no volume", "\"repositories\":[],\"volume\":1", "\"repositories\":[]",
                        "names volume 0, not another volume"),
                Arguments.of("a standalone volume requiring", "\"standalone\":false,", "\"standalone\":true,", "a standalone volume requires nothing"),
                Arguments.of("a volume that is also a delta", "\"basedOn\":[]", "\"basedOn\":[{\"receiptId\":\"5f0e2b1c-3d4a-4e6f-8a9b-0c1d2e3f4a5b\","
                        + "\"sha256\":\"" + "a".repeat(64) + "\"}]", "a volume is not built against receipts"),
                Arguments.of("format 2 with a volume", "{\"formatVersion\":3,", "{\"formatVersion\":2,", "volume"),
                Arguments.of("format 3 without one", null, null, "has formatVersion 3 but neither a 'volume' nor an artifact required at the target"));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("inconsistent")
    void anInconsistentVolumeIsRefusedInOneLine(String name, String from, String to, String expected) throws Exception {
        Split s = volumeTwo();
        Path out = tmp.resolve("v.tar");
        write(out, s, goldenOptions(s));
        String json = new String(Forge.named(Forge.read(out), BundleLayout.BUNDLE_JSON).data(), StandardCharsets.UTF_8);
        String bad;
        if (from == null) {
            int at = json.indexOf(",\"volume\":{");
            bad = json.substring(0, at) + "}";
        } else {
            assertTrue(json.contains(from), json);
            bad = json.replace(from, to);
        }
        try {
            BundleManifest.parse(bad.getBytes(StandardCharsets.UTF_8), "b");
            throw new AssertionError("accepted: " + bad);
        } catch (dev.airlock.error.InvalidContentException e) {
            assertTrue(e.getMessage().contains(expected), e.getMessage());
            assertTrue(!e.getMessage().contains("\n"), e.getMessage());
        }
    }

    @Test
    void aBundleThatIsNoVolumeCannotNameOne() {
        Split s = volumeTwo();
        try {
            BundleManifest.create(UUID.randomUUID(), Instant.now(), new BundleManifest.Tool("airlock", "0"), s.images(),
                    List.of(new BundleManifest.FileEntry(BundleLayout.OCI_LAYOUT, 30, Digest.sha256(BundleLayout.OCI_LAYOUT_BYTES), Optional.empty()),
                            new BundleManifest.FileEntry(BundleLayout.INDEX_JSON, 2, Digest.sha256(new byte[2]), Optional.of(MediaType.OCI_INDEX))),
                    s.requires(), List.of());
            throw new AssertionError("accepted");
        } catch (dev.airlock.error.InvalidContentException e) {
            assertTrue(e.getMessage().contains("names volume 1 but the bundle is not a volume"), e.getMessage());
        }
    }

    private static String jsonBlockAfter(String text, String anchor) {
        int at = text.indexOf(anchor);
        assertTrue(at >= 0, "docs/bundle-format.md has no '" + anchor + "'");
        Matcher m = Pattern.compile("```json\\n(.*?)\\n```", Pattern.DOTALL).matcher(text);
        assertTrue(m.find(at), "no json block after '" + anchor + "'");
        return m.group(1);
    }
}
