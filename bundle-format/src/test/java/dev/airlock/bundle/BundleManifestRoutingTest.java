package dev.airlock.bundle;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.node.ArrayNode;
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

/** The mandatory {@code files[].images} routing lists of bundle.json: parsed strictly, on every blob. */
class BundleManifestRoutingTest {
    private static final Descriptor LAYER = Descriptor.ofBytes(MediaType.OCI_LAYER_GZIP, "layer".getBytes(StandardCharsets.UTF_8));
    private static final Descriptor TOP_A = Descriptor.ofBytes(MediaType.OCI_MANIFEST, "a".getBytes(StandardCharsets.UTF_8));
    private static final Descriptor TOP_B = Descriptor.ofBytes(MediaType.OCI_MANIFEST, "b".getBytes(StandardCharsets.UTF_8));

    /** A routed bundle.json of two images sharing one layer; files[2..4] are blobs. */
    private static byte[] valid() {
        List<BundleImage> images = List.of(
                new BundleImage(ImageReference.parse("example.org/a:1"), TOP_A, List.of(Platform.parse("linux/amd64")), Optional.empty()),
                new BundleImage(ImageReference.parse("example.org/b:1"), TOP_B, List.of(Platform.parse("linux/amd64")), Optional.empty()));
        List<BundleManifest.FileEntry> files = List.of(
                new BundleManifest.FileEntry(BundleLayout.OCI_LAYOUT, BundleLayout.OCI_LAYOUT_BYTES.length, Digest.sha256(BundleLayout.OCI_LAYOUT_BYTES), Optional.empty()),
                new BundleManifest.FileEntry(BundleLayout.INDEX_JSON, 2, Digest.sha256("{}".getBytes(StandardCharsets.UTF_8)), Optional.empty()),
                BundleManifest.FileEntry.ofBlob(LAYER).withImages(List.of(0, 1)),
                BundleManifest.FileEntry.ofBlob(TOP_A).withImages(List.of(0)),
                BundleManifest.FileEntry.ofBlob(TOP_B).withImages(List.of(1)));
        return BundleManifest.create(UUID.fromString("00000000-0000-4000-8000-000000000001"), Instant.parse("2026-11-28T00:00:00Z"),
                new BundleManifest.Tool("airlock", "test"), images, files).bytes();
    }

    private static byte[] mutate(Consumer<ArrayNode> files) {
        ObjectNode root = (ObjectNode) Json.parse(valid(), "bundle.json");
        files.accept((ArrayNode) root.get("files"));
        return Json.write(root);
    }

    @Test
    void aValidRoutedManifestRoundTrips() {
        BundleManifest m = BundleManifest.parse(valid(), "bundle t.tar");
        assertEquals(Optional.of(List.of(0, 1)), m.files().get(2).images());
        assertEquals(Optional.of(List.of(1)), m.files().get(4).images());
    }

    static Stream<Arguments> lies() {
        return Stream.of(
                Arguments.of("index out of range", (Consumer<ArrayNode>) f -> ((ObjectNode) f.get(3)).putArray("images").add(2), "lists image 2 but there are 2 images"),
                Arguments.of("negative index", (Consumer<ArrayNode>) f -> ((ObjectNode) f.get(3)).putArray("images").add(-1), "lists image -1"),
                Arguments.of("unsorted", (Consumer<ArrayNode>) f -> ((ObjectNode) f.get(2)).putArray("images").add(1).add(0), "not strictly ascending"),
                Arguments.of("duplicate", (Consumer<ArrayNode>) f -> ((ObjectNode) f.get(2)).putArray("images").add(0).add(0), "not strictly ascending"),
                Arguments.of("empty list", (Consumer<ArrayNode>) f -> ((ObjectNode) f.get(2)).putArray("images"), "empty images list"),
                Arguments.of("some blobs without a list", (Consumer<ArrayNode>) f -> ((ObjectNode) f.get(3)).remove("images"), "has no images list"),
                Arguments.of("no blob with a list (an older writer)", (Consumer<ArrayNode>) f -> {
                    for (int i = 2; i < f.size(); i++) {
                        ((ObjectNode) f.get(i)).remove("images");
                    }
                }, "has no images list: every blob must name the images that use it (files[].images); this bundle was written by an older Airlock, export it again"),
                Arguments.of("a non-blob with a list", (Consumer<ArrayNode>) f -> ((ObjectNode) f.get(1)).putArray("images").add(0), "is not a blob but has an images list"),
                Arguments.of("a non-integer", (Consumer<ArrayNode>) f -> ((ObjectNode) f.get(2)).putArray("images").add("0"), "non-integer"));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("lies")
    void malformedRoutingIsRefusedWithOneLineNamingTheBundle(String name, Consumer<ArrayNode> lie, String expected) {
        InvalidContentException e = assertThrows(InvalidContentException.class, () -> BundleManifest.parse(mutate(lie), "bundle t.tar"));
        assertTrue(e.getMessage().startsWith("bundle t.tar: airlock/bundle.json"), e.getMessage());
        assertTrue(e.getMessage().contains(expected), e.getMessage());
        assertTrue(!e.getMessage().contains("\n"), e.getMessage());
    }
}
