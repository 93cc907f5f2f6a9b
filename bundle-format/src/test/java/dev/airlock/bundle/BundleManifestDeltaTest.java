package dev.airlock.bundle;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.airlock.error.InvalidContentException;
import dev.airlock.model.Descriptor;
import dev.airlock.model.Digest;
import dev.airlock.model.ImageReference;
import dev.airlock.model.Json;
import dev.airlock.model.MediaType;
import dev.airlock.model.Platform;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import java.util.UUID;
import java.util.function.Consumer;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/** bundle.json format 2 (deltas): {@code requires} and {@code basedOn} parsed strictly; versions 1 and 2 read, higher refused. */
class BundleManifestDeltaTest {
    private static final Descriptor LAYER = Descriptor.ofBytes(MediaType.OCI_LAYER_GZIP, "layer".getBytes(StandardCharsets.UTF_8));
    private static final Descriptor BASE = Descriptor.ofBytes(MediaType.OCI_LAYER_GZIP, "base".getBytes(StandardCharsets.UTF_8));
    private static final Descriptor TOP_A = Descriptor.ofBytes(MediaType.OCI_MANIFEST, "a".getBytes(StandardCharsets.UTF_8));
    private static final Descriptor TOP_B = Descriptor.ofBytes(MediaType.OCI_MANIFEST, "b".getBytes(StandardCharsets.UTF_8));

    /** Image a carried (its layer carried, its base required), image b entirely at the target. */
    private static byte[] valid() {
        List<BundleImage> images = List.of(
                new BundleImage(ImageReference.parse("example.org/a:1"), TOP_A, List.of(Platform.parse("linux/amd64")), Optional.empty()),
                new BundleImage(ImageReference.parse("example.org/b:1"), TOP_B, List.of(Platform.parse("linux/amd64")), Optional.empty()));
        List<BundleManifest.FileEntry> files = List.of(
                new BundleManifest.FileEntry(BundleLayout.OCI_LAYOUT, BundleLayout.OCI_LAYOUT_BYTES.length, Digest.sha256(BundleLayout.OCI_LAYOUT_BYTES), Optional.empty()),
                new BundleManifest.FileEntry(BundleLayout.INDEX_JSON, 2, Digest.sha256("{}".getBytes(StandardCharsets.UTF_8)), Optional.empty()),
                BundleManifest.FileEntry.ofBlob(LAYER).withImages(List.of(0)),
                BundleManifest.FileEntry.ofBlob(TOP_A).withImages(List.of(0)));
        List<BundleManifest.Required> requires = List.of(
                new BundleManifest.Required(BASE.digest(), BASE.size(), BASE.mediaType(), List.of(0), List.of("mirror/b")),
                new BundleManifest.Required(TOP_B.digest(), TOP_B.size(), TOP_B.mediaType(), List.of(1), List.of("mirror/b")));
        List<BundleManifest.BasedOn> basedOn = List.of(new BundleManifest.BasedOn(UUID.fromString("00000000-0000-4000-8000-000000000009"),
                Digest.sha256("r".getBytes(StandardCharsets.UTF_8))));
        return BundleManifest.create(UUID.fromString("00000000-0000-4000-8000-000000000001"), Instant.parse("2026-11-28T00:00:00Z"),
                new BundleManifest.Tool("airlock", "test"), images, files, requires, basedOn).bytes();
    }

    private static byte[] mutate(Consumer<ObjectNode> change) {
        ObjectNode root = (ObjectNode) Json.parse(valid(), "bundle.json");
        change.accept(root);
        return Json.write(root);
    }

    private static ObjectNode required(ObjectNode root, int i) {
        return (ObjectNode) root.get("requires").get(i);
    }

    @Test
    void aDeltaRoundTripsAsFormatTwo() {
        BundleManifest m = BundleManifest.parse(valid(), "bundle t.tar");
        assertEquals(2, m.formatVersion());
        assertTrue(m.isDelta());
        assertEquals(List.of(0), m.requires().get(0).images());
        assertEquals(List.of("mirror/b"), m.requires().get(1).repositories());
        assertEquals(BASE.size() + TOP_B.size(), m.requiredBytes());
        assertEquals(UUID.fromString("00000000-0000-4000-8000-000000000009"), m.basedOn().get(0).receiptId());
    }

    static Stream<Arguments> bad() {
        return Stream.of(
                Arguments.of("a newer format", (Consumer<ObjectNode>) r -> r.put("formatVersion", 4), "has formatVersion 4; this Airlock reads formats 1 to 3"),
                Arguments.of("delta fields in format 1", (Consumer<ObjectNode>) r -> r.put("formatVersion", 1), "unknown field 'requires'"),
                Arguments.of("unknown field in a required item", (Consumer<ObjectNode>) r -> required(r, 0).put("x", 1), "unknown field 'x'"),
                Arguments.of("required item without images", (Consumer<ObjectNode>) r -> required(r, 0).putArray("images"), "empty images list"),
                Arguments.of("required image out of range", (Consumer<ObjectNode>) r -> required(r, 0).putArray("images").add(5), "lists image 5"),
                Arguments.of("required images unsorted", (Consumer<ObjectNode>) r -> required(r, 0).putArray("images").add(1).add(0), "not strictly ascending"),
                Arguments.of("a required item also carried", (Consumer<ObjectNode>) r -> required(r, 0).put("digest", LAYER.digest().toString()),
                        "is also among the bundle's files"),
                Arguments.of("a required item twice", (Consumer<ObjectNode>) r -> ((com.fasterxml.jackson.databind.node.ArrayNode) r.get("requires"))
                        .add(required(r, 0).deepCopy()), "is listed twice"),
                Arguments.of("a bad repository", (Consumer<ObjectNode>) r -> required(r, 0).putArray("repositories").add("../x"), "invalid repository"),
                Arguments.of("a required top of another size", (Consumer<ObjectNode>) r -> required(r, 1).put("size", 99), "requires lists"),
                Arguments.of("a required top not listing its image", (Consumer<ObjectNode>) r -> required(r, 1).putArray("images").add(0),
                        "does not list it"),
                Arguments.of("a bad receipt id", (Consumer<ObjectNode>) r -> ((ObjectNode) r.get("basedOn").get(0)).put("receiptId", "nope"),
                        "invalid receiptId"),
                Arguments.of("a bad receipt sha256", (Consumer<ObjectNode>) r -> ((ObjectNode) r.get("basedOn").get(0)).put("sha256", "ab"),
                        "invalid sha256"));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("bad")
    void isRefusedWithOneLine(String name, Consumer<ObjectNode> change, String expected) {
        InvalidContentException e = assertThrows(InvalidContentException.class, () -> BundleManifest.parse(mutate(change), "bundle t.tar"));
        assertTrue(e.getMessage().startsWith("bundle t.tar: airlock/bundle.json"), e.getMessage());
        assertTrue(e.getMessage().contains(expected), e.getMessage());
        assertTrue(!e.getMessage().contains("\n"), e.getMessage());
    }
}
