package dev.airlock.export.dockerarchive;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.airlock.error.RegistryException;
import dev.airlock.error.UsageException;
import dev.airlock.error.VerificationException;
import dev.airlock.model.Descriptor;
import dev.airlock.model.Digest;
import dev.airlock.model.ImageConfig;
import dev.airlock.model.ImageIndex;
import dev.airlock.model.ImageManifest;
import dev.airlock.model.ImageReference;
import dev.airlock.model.MediaType;
import dev.airlock.model.Platform;
import dev.airlock.model.RawManifest;
import dev.airlock.progress.ProgressListener;
import dev.airlock.testkit.DockerSaveArchives;
import dev.airlock.testkit.DockerSaveArchives.Layout;
import dev.airlock.testkit.DockerSaveArchives.SavedImage;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Stream;
import java.util.zip.GZIPInputStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

class DockerArchiveSourceTest {
    private static final String PAUSE = "rancher/mirrored-pause:3.6";
    private static final String COREDNS = "rancher/mirrored-coredns-coredns:1.10.1";
    private static final Map<String, Platform> ARCHES = Map.of(
            "amd64", Platform.parse("linux/amd64"), "arm64", Platform.parse("linux/arm64/v8"), "arm", Platform.parse("linux/arm/v7"));

    @TempDir
    Path dir;

    /** The k3s case, with the images kept so the test can compare bytes. */
    private final Map<String, List<SavedImage>> saved = new HashMap<>();
    private final byte[] base = DockerSaveArchives.layer("base", 42, 48 * 1024);
    // one layer over a chunk, to exercise multi-chunk parallel gzip
    private final byte[] big = DockerSaveArchives.layer("big", 9, ParallelGzip.CHUNK + 300_000);

    private List<SavedImage> imagesFor(String arch) {
        Platform p = ARCHES.get(arch);
        return saved.computeIfAbsent(arch, a -> List.of(
                DockerSaveArchives.image(p, List.of(base, DockerSaveArchives.layer("pause-" + a, a.hashCode(), 8 * 1024)), PAUSE),
                DockerSaveArchives.image(p, List.of(base, DockerSaveArchives.layer("coredns-" + a, a.hashCode() + 1, 96 * 1024), big), COREDNS)));
    }

    private List<Path> writeK3s(Layout layout, boolean gzip, String prefix) {
        List<Path> files = new ArrayList<>();
        for (String arch : List.of("amd64", "arm64", "arm")) {
            files.add(DockerSaveArchives.write(dir.resolve(prefix + "-" + arch + (gzip ? ".tar.gz" : ".tar")), layout, imagesFor(arch)));
        }
        return files;
    }

    private DockerArchiveOptions options() {
        return DockerArchiveOptions.defaults().withScratchDir(dir.resolve("scratch")).withThreads(2);
    }

    static Stream<Arguments> layouts() {
        return Stream.of(Arguments.of(Layout.CLASSIC, false), Arguments.of(Layout.CLASSIC, true),
                Arguments.of(Layout.OCI, false), Arguments.of(Layout.OCI, true));
    }

    @ParameterizedTest(name = "{0} gzip={1}")
    @MethodSource("layouts")
    void perArchArchivesBecomeVerifiedMultiArchImages(Layout layout, boolean gzip) throws IOException {
        List<Path> files = writeK3s(layout, gzip, "k3s-airgap-images");
        try (DockerArchiveSource src = DockerArchiveSource.open(files, options())) {
            assertEquals(List.of("docker.io/rancher/mirrored-coredns-coredns:1.10.1", "docker.io/rancher/mirrored-pause:3.6"),
                    src.images().stream().map(i -> i.reference().toString()).toList());
            Set<Digest> layerDigests = new HashSet<>();
            Map<Digest, Digest> compressedByDiffId = new HashMap<>();
            for (DockerArchiveImage img : src.images()) {
                String tag = img.reference().repository().substring("rancher/".length()) + ":" + img.reference().tag();
                RawManifest top = src.fetchManifest(img.reference().name(), img.reference().tag());
                assertEquals(img.descriptor(), top.descriptor());
                assertEquals(MediaType.OCI_INDEX, top.mediaType());
                ImageIndex index = (ImageIndex) top.view();
                // exactly the platforms present
                assertEquals(Set.of("linux/amd64", "linux/arm64/v8", "linux/arm/v7"),
                        index.manifests().stream().map(d -> d.platform().orElseThrow().toString()).collect(java.util.stream.Collectors.toSet()));
                assertEquals(3, index.manifests().size());
                for (Descriptor entry : index.manifests()) {
                    RawManifest child = src.fetchManifest(img.reference().name(), entry.digest().toString());
                    assertEquals(entry.digest(), child.digest());
                    assertEquals(entry.size(), child.size());
                    ImageManifest m = (ImageManifest) child.view();
                    byte[] config = read(src, m.config());
                    // platform of the entry = platform of its config
                    Platform fromConfig = ImageConfig.parse(config, "config").platform();
                    assertEquals(fromConfig, entry.platform().orElseThrow());
                    // config bytes exactly those of the archive
                    String arch = ARCHES.entrySet().stream().filter(e -> e.getValue().equals(fromConfig)).findFirst().orElseThrow().getKey();
                    SavedImage original = imagesFor(arch).stream().filter(s -> s.repoTags().get(0).endsWith(tag)).findFirst().orElseThrow();
                    assertArrayEquals(original.config(), config);
                    assertEquals(original.configDigest(), m.config().digest());
                    // layers gunzip to the original tars and match diff_ids
                    assertEquals(original.layers().size(), m.layers().size());
                    for (int i = 0; i < m.layers().size(); i++) {
                        Descriptor layer = m.layers().get(i);
                        assertEquals(MediaType.OCI_LAYER_GZIP, layer.mediaType());
                        byte[] gz = read(src, layer);
                        byte[] plain;
                        try (InputStream in = new GZIPInputStream(new ByteArrayInputStream(gz))) {
                            plain = in.readAllBytes();
                        }
                        assertArrayEquals(original.layers().get(i), plain);
                        Digest diff = original.diffIds().get(i);
                        assertEquals(diff, Digest.sha256(plain));
                        Digest prev = compressedByDiffId.putIfAbsent(diff, layer.digest());
                        assertTrue(prev == null || prev.equals(layer.digest()), "one diff_id, two compressed blobs");
                        layerDigests.add(layer.digest());
                    }
                }
            }
            // shared base layer stored once: distinct layers = base + 3 pause + 3 coredns + big
            assertEquals(8, layerDigests.size());
            try (Stream<Path> stored = Files.list(src.scratchDirectory().resolve("sha256"))) {
                assertEquals(8 + 6, stored.count(), "8 layers and 6 configs, each once");
            }
        }
    }

    @Test
    void sameInputGivesSameDigestsWhateverTheThreadCountOrArchiveOrder() {
        List<Path> files = writeK3s(Layout.OCI, true, "k3s");
        List<Descriptor> first;
        try (DockerArchiveSource a = DockerArchiveSource.open(files, options().withThreads(1))) {
            first = a.images().stream().map(DockerArchiveImage::descriptor).toList();
        }
        List<Path> reversed = new ArrayList<>(files);
        Collections.reverse(reversed);
        try (DockerArchiveSource b = DockerArchiveSource.open(reversed, options().withThreads(3))) {
            assertEquals(first, b.images().stream().map(DockerArchiveImage::descriptor).toList());
        }
    }

    @Test
    void bothLayoutsGiveTheSameImages() {
        List<Descriptor> classic;
        try (DockerArchiveSource a = DockerArchiveSource.open(writeK3s(Layout.CLASSIC, false, "c"), options())) {
            classic = a.images().stream().map(DockerArchiveImage::descriptor).toList();
        }
        try (DockerArchiveSource b = DockerArchiveSource.open(writeK3s(Layout.OCI, true, "o"), options())) {
            assertEquals(classic, b.images().stream().map(DockerArchiveImage::descriptor).toList());
        }
    }

    @Test
    void dockerIndexFormatWritesAManifestListOverSchema2Manifests() {
        try (DockerArchiveSource src = DockerArchiveSource.open(writeK3s(Layout.CLASSIC, true, "d"), options().withIndexFormat(IndexFormat.DOCKER))) {
            DockerArchiveImage img = src.images().get(0);
            RawManifest top = src.fetchManifest("rancher/mirrored-coredns-coredns", "1.10.1");
            assertEquals(MediaType.DOCKER_MANIFEST_LIST, top.mediaType());
            assertEquals(img.descriptor(), top.descriptor());
            for (Descriptor d : ((ImageIndex) top.view()).manifests()) {
                assertEquals(MediaType.DOCKER_MANIFEST, d.mediaType());
                ImageManifest m = (ImageManifest) src.fetchManifest("x", d.digest().toString()).view();
                assertEquals(MediaType.DOCKER_CONFIG, m.config().mediaType());
                m.layers().forEach(l -> assertEquals(MediaType.DOCKER_LAYER_GZIP, l.mediaType()));
            }
        }
    }

    @Test
    void imagesOnlyInSomeArchivesListOnlyTheirPlatforms() {
        Path amd = DockerSaveArchives.write(dir.resolve("a-amd64.tar"), Layout.CLASSIC, imagesFor("amd64"));
        Path arm = DockerSaveArchives.write(dir.resolve("a-arm.tar"), Layout.OCI,
                List.of(DockerSaveArchives.image(ARCHES.get("arm"), List.of(base), "busybox:1.36")));
        try (DockerArchiveSource src = DockerArchiveSource.open(List.of(amd, arm), options())) {
            Map<String, List<Platform>> platforms = new HashMap<>();
            src.images().forEach(i -> platforms.put(i.reference().toString(), i.platforms()));
            assertEquals(Map.of("docker.io/library/busybox:1.36", List.of(ARCHES.get("arm")),
                    "docker.io/" + PAUSE, List.of(ARCHES.get("amd64")),
                    "docker.io/" + COREDNS, List.of(ARCHES.get("amd64"))), platforms);
            assertEquals(src.images().get(0).descriptor(), src.headManifest("library/busybox", "1.36").orElseThrow());
            assertTrue(src.headManifest("library/busybox", "latest").isEmpty());
            RegistryException e = assertThrows(RegistryException.class, () -> src.fetchManifest("library/busybox", "latest"));
            assertTrue(e.isNotFound());
            assertTrue(!dev.airlock.store.ImageDestination.class.isAssignableFrom(DockerArchiveSource.class), "a docker archive has no write methods");
        }
    }

    @Test
    void mislabelledArchiveNamesImageFileAndBothArchitectures() {
        // arm64 content in a file named -arm
        Path amd = DockerSaveArchives.write(dir.resolve("k3s-airgap-images-amd64.tar.gz"), Layout.OCI, imagesFor("amd64"));
        Path wrong = DockerSaveArchives.write(dir.resolve("k3s-airgap-images-arm.tar.gz"), Layout.OCI, imagesFor("arm64"));
        VerificationException e = assertThrows(VerificationException.class, () -> DockerArchiveSource.open(List.of(amd, wrong), options()));
        String m = e.getMessage();
        assertTrue(m.contains(PAUSE), m);
        assertTrue(m.contains("k3s-airgap-images-arm.tar.gz"), m);
        assertTrue(m.contains("linux/arm64"), m);
        assertTrue(m.contains("says arm;"), m);
        assertFalse(m.contains("\n"));
        assertNoScratchLeft();
    }

    @Test
    void twoArchivesWithTheSamePlatformForOneTagAreAnError() {
        Path a = DockerSaveArchives.write(dir.resolve("first.tar"), Layout.CLASSIC, imagesFor("amd64"));
        Path b = DockerSaveArchives.write(dir.resolve("second.tar"), Layout.OCI,
                List.of(DockerSaveArchives.image(ARCHES.get("amd64"), List.of(base), PAUSE)));
        VerificationException e = assertThrows(VerificationException.class, () -> DockerArchiveSource.open(List.of(a, b), options()));
        assertTrue(e.getMessage().contains("docker.io/" + PAUSE) && e.getMessage().contains("first.tar")
                && e.getMessage().contains("second.tar") && e.getMessage().contains("linux/amd64"), e.getMessage());
    }

    @Test
    void armWithoutVariantWarnsAndStaysArm() {
        Platform bare = Platform.of("linux", "arm", "");
        Path f = DockerSaveArchives.write(dir.resolve("images-arm.tar"), Layout.CLASSIC,
                List.of(DockerSaveArchives.image(bare, List.of(base), "busybox:1.36")));
        List<String> notes = Collections.synchronizedList(new ArrayList<>());
        ProgressListener listener = new ProgressListener() {
            @Override
            public void note(String line) {
                notes.add(line);
            }
        };
        try (DockerArchiveSource src = DockerArchiveSource.open(List.of(f), options().withProgress(listener))) {
            ImageIndex index = (ImageIndex) src.fetchManifest("docker.io/library/busybox", "1.36").view();
            assertEquals(bare, index.manifests().get(0).platform().orElseThrow());
            assertTrue(index.manifests().get(0).platform().orElseThrow().variant().isEmpty());
        }
        assertEquals(1, notes.size(), notes.toString());
        assertTrue(notes.get(0).contains("busybox:1.36") && notes.get(0).contains("without a variant"), notes.get(0));
    }

    @Test
    void untaggedImagesAreSkippedWithANote() {
        Path f = DockerSaveArchives.write(dir.resolve("mixed.tar"), Layout.OCI, List.of(
                DockerSaveArchives.image(ARCHES.get("amd64"), List.of(base)),
                DockerSaveArchives.image(ARCHES.get("amd64"), List.of(base, big), "app:1")));
        List<String> notes = new ArrayList<>();
        try (DockerArchiveSource src = DockerArchiveSource.open(List.of(f), options().withProgress(new ProgressListener() {
            @Override
            public void note(String line) {
                notes.add(line);
            }
        }))) {
            assertEquals(List.of("docker.io/library/app:1"), src.images().stream().map(i -> i.reference().toString()).toList());
        }
        assertEquals(1, notes.size());
        assertTrue(notes.get(0).contains("no RepoTags"));
    }

    private byte[] read(DockerArchiveSource src, Descriptor d) throws IOException {
        try (InputStream in = src.openBlob("any", d)) {
            return in.readAllBytes();
        }
    }

    private void assertNoScratchLeft() {
        Path scratch = dir.resolve("scratch");
        if (Files.exists(scratch)) {
            try (Stream<Path> s = Files.list(scratch)) {
                assertEquals(0, s.count(), "scratch directory left behind");
            } catch (IOException e) {
                throw new java.io.UncheckedIOException(e);
            }
        }
    }
}
