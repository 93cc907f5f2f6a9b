package dev.airlock.export.dockerarchive;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.airlock.error.LocalIoException;
import dev.airlock.error.VerificationException;
import dev.airlock.model.Platform;
import dev.airlock.testkit.DockerSaveArchives;
import dev.airlock.testkit.DockerSaveArchives.Entry;
import dev.airlock.testkit.DockerSaveArchives.Layout;
import dev.airlock.testkit.DockerSaveArchives.SavedImage;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.function.UnaryOperator;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/** Hostile or broken archives: each gives a one-line VerificationException and leaves no scratch files. */
class HostileDockerArchiveTest {
    private static final byte[] BASE = DockerSaveArchives.layer("base", 1, 20_000);
    private static final byte[] TOP = DockerSaveArchives.layer("top", 2, 30_000);
    private static final SavedImage IMAGE = DockerSaveArchives.image(Platform.parse("linux/amd64"), List.of(BASE, TOP), "app:1");

    @TempDir
    Path dir;

    private DockerArchiveOptions options() {
        return DockerArchiveOptions.defaults().withScratchDir(dir.resolve("scratch")).withThreads(2);
    }

    /** name, layout, tamper, expected message fragment. */
    static Stream<Arguments> tampered() {
        return Stream.of(
                Arguments.of("traversal name", Layout.CLASSIC, add(Entry.file("../../etc/evil", "x")), "escapes the archive"),
                Arguments.of("absolute name", Layout.OCI, add(Entry.file("/etc/evil", "x")), "absolute name"),
                Arguments.of("hard link", Layout.CLASSIC, add(Entry.hardLink("evil", "manifest.json")), "hard link"),
                Arguments.of("layer symlink out of the archive", Layout.CLASSIC,
                        replaceLayerWith(e -> Entry.symlink(e.name(), "../../../../etc/passwd")), "outside the archive"),
                Arguments.of("layer symlink to absolute path", Layout.CLASSIC,
                        replaceLayerWith(e -> Entry.symlink(e.name(), "/etc/passwd")), "absolute path"),
                Arguments.of("symlink loop", Layout.CLASSIC,
                        replaceLayerWith(e -> Entry.symlink(e.name(), "layer.tar")), "longer than 16"),
                Arguments.of("layer missing", Layout.CLASSIC, drop(n -> n.endsWith("/layer.tar")), "lacks"),
                Arguments.of("blob missing", Layout.OCI, drop(n -> n.startsWith("blobs/sha256/") && !n.endsWith("/")), "lacks"),
                Arguments.of("manifest.json missing", Layout.OCI, drop(n -> n.equals("manifest.json")), "no manifest.json"),
                Arguments.of("manifest.json bad JSON", Layout.CLASSIC, replace("manifest.json", "[{\"Config\":"), "not valid JSON"),
                Arguments.of("manifest.json duplicate key", Layout.CLASSIC,
                        replace("manifest.json", "[{\"Config\":\"a.json\",\"Config\":\"b.json\",\"Layers\":[]}]"), "not valid JSON"),
                Arguments.of("manifest.json keys equal ignoring case", Layout.CLASSIC,
                        replace("manifest.json", "[{\"Config\":\"a.json\",\"config\":\"b.json\",\"Layers\":[]}]"),
                        "has keys \"Config\" and \"config\""),
                Arguments.of("manifest.json wrong shape", Layout.OCI, replace("manifest.json", "{\"Config\":\"x\"}"), "not a JSON array"),
                Arguments.of("manifest.json traversal path", Layout.CLASSIC,
                        replace("manifest.json", "[{\"Config\":\"../x.json\",\"RepoTags\":[\"a:1\"],\"Layers\":[]}]"), "escapes"),
                Arguments.of("index.json bad JSON", Layout.OCI, replace("index.json", "{\"schemaVersion\":2,}"), "index.json"),
                Arguments.of("duplicate entry", Layout.OCI, (UnaryOperator<List<Entry>>) l -> {
                    l.add(Entry.file("manifest.json", "[]"));
                    return l;
                }, "twice"),
                Arguments.of("layer content not its diff_id", Layout.CLASSIC, replaceLayerWith(e -> Entry.file(e.name(), TOP.length == e.data().length ? BASE : TOP)),
                        "but its config lists diff_id"),
                Arguments.of("config tampered (name says other digest)", Layout.OCI, (UnaryOperator<List<Entry>>) l -> {
                    List<Entry> out = new ArrayList<>();
                    for (Entry e : l) {
                        out.add(e.data() != null && e.data().length > 0 && e.data()[0] == '{' && new String(e.data(), StandardCharsets.UTF_8).contains("rootfs")
                                ? Entry.file(e.name(), new String(e.data(), StandardCharsets.UTF_8).replace("amd64", "arm64")) : e);
                    }
                    return out;
                }, "its name says"),
                Arguments.of("config without diff_ids", Layout.CLASSIC, (UnaryOperator<List<Entry>>) l -> {
                    List<Entry> out = new ArrayList<>();
                    for (Entry e : l) {
                        boolean config = e.name().endsWith(".json") && !e.name().contains("/") && !e.name().equals("manifest.json");
                        if (config) {
                            byte[] c = "{\"architecture\":\"amd64\",\"os\":\"linux\"}".getBytes(StandardCharsets.UTF_8);
                            String n = dev.airlock.model.Digest.sha256(c).hex() + ".json";
                            out.add(Entry.file(n, c));
                        } else if (e.name().equals("manifest.json")) {
                            String c = "{\"architecture\":\"amd64\",\"os\":\"linux\"}";
                            String n = dev.airlock.model.Digest.sha256(c.getBytes(StandardCharsets.UTF_8)).hex() + ".json";
                            out.add(Entry.file(e.name(), new String(e.data(), StandardCharsets.UTF_8).replaceAll("[a-f0-9]{64}\\.json", n)));
                        } else {
                            out.add(e);
                        }
                    }
                    return out;
                }, "no rootfs.diff_ids")
        );
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("tampered")
    void tamperedArchivesAreRejected(String name, Layout layout, UnaryOperator<List<Entry>> tamper, String fragment) {
        Path f = DockerSaveArchives.write(dir.resolve("hostile-amd64.tar"), layout, List.of(IMAGE), tamper);
        VerificationException e = assertThrows(VerificationException.class, () -> DockerArchiveSource.open(List.of(f), options()));
        assertTrue(e.getMessage().contains(fragment), name + ": " + e.getMessage());
        assertFalse(e.getMessage().contains("\n"), e.getMessage());
        assertNoScratchLeft();
    }

    @Test
    void truncatedTarIsRejected() throws IOException {
        Path good = DockerSaveArchives.write(dir.resolve("good.tar"), Layout.CLASSIC, List.of(IMAGE));
        byte[] all = Files.readAllBytes(good);
        // cut in the middle of the last layer: every prefix long enough to start the archive must fail
        for (int cut : new int[] {all.length / 3, all.length / 2, all.length - 3000, 700}) {
            Path t = Files.write(dir.resolve("cut-" + cut + ".tar"), Arrays.copyOf(all, cut));
            VerificationException e = assertThrows(VerificationException.class, () -> DockerArchiveSource.open(List.of(t), options()), "cut at " + cut);
            assertFalse(e.getMessage().contains("\n"));
        }
        assertNoScratchLeft();
    }

    @Test
    void truncatedGzipIsRejected() throws IOException {
        Path good = DockerSaveArchives.write(dir.resolve("good.tar.gz"), Layout.OCI, List.of(IMAGE));
        byte[] all = Files.readAllBytes(good);
        for (int cut : new int[] {all.length - 4, all.length - 20, all.length / 2, 30}) {
            Path t = Files.write(dir.resolve("cut-" + cut + ".tar.gz"), Arrays.copyOf(all, cut));
            assertThrows(VerificationException.class, () -> DockerArchiveSource.open(List.of(t), options()), "cut at " + cut);
        }
    }

    @Test
    void tarHeaderClaimingMoreThanIsThereIsRejected() throws IOException {
        // a manifest.json header that claims 1 GiB, with the archive ending after a few bytes
        byte[] header = new byte[512];
        byte[] name = "manifest.json".getBytes(StandardCharsets.US_ASCII);
        System.arraycopy(name, 0, header, 0, name.length);
        put(header, 100, "0000644\0");
        put(header, 108, "0000000\0");
        put(header, 116, "0000000\0");
        put(header, 124, "10000000000\0"); // octal 1 GiB
        put(header, 136, "00000000000\0");
        header[156] = '0';
        put(header, 257, "ustar\0");
        put(header, 263, "00");
        Arrays.fill(header, 148, 156, (byte) ' ');
        long sum = 0;
        for (byte b : header) {
            sum += b & 0xff;
        }
        put(header, 148, String.format("%06o\0 ", sum));
        byte[] file = Arrays.copyOf(header, 512 + 100);
        Arrays.fill(file, 512, file.length, (byte) '[');
        Path f = Files.write(dir.resolve("liar.tar"), file);
        VerificationException e = assertThrows(VerificationException.class, () -> DockerArchiveSource.open(List.of(f), options()));
        assertFalse(e.getMessage().contains("\n"));
    }

    @Test
    void notAnArchiveAtAll() throws IOException {
        Path f = Files.write(dir.resolve("random.tar"), "this is not a tar file, just some text".repeat(30).getBytes(StandardCharsets.UTF_8));
        assertThrows(VerificationException.class, () -> DockerArchiveSource.open(List.of(f), options()));
        Path empty = Files.write(dir.resolve("empty.tar"), new byte[0]);
        assertThrows(VerificationException.class, () -> DockerArchiveSource.open(List.of(empty), options()));
        Path gz = Files.write(dir.resolve("bad.tar.gz"), new byte[] {0x1f, (byte) 0x8b, 8, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9});
        assertThrows(VerificationException.class, () -> DockerArchiveSource.open(List.of(gz), options()));
        assertThrows(LocalIoException.class, () -> DockerArchiveSource.open(List.of(dir.resolve("absent.tar")), options()));
    }

    @Test
    void docker24StyleSymlinkedLayersInsideTheArchiveAreFollowed() throws IOException {
        // the same layer under two v1 ids: docker save writes the second as a symlink ../<id>/layer.tar
        SavedImage alone = DockerSaveArchives.image(Platform.parse("linux/amd64"), List.of(BASE), "base:1");
        List<Entry> entries = DockerSaveArchives.entries(Layout.CLASSIC, List.of(alone, IMAGE));
        assertTrue(entries.stream().anyMatch(e -> e.linkTarget() != null && e.linkTarget().startsWith("../")), "generator wrote no symlink");
        Path f = DockerSaveArchives.writeEntries(dir.resolve("links-amd64.tar"), entries);
        try (DockerArchiveSource src = DockerArchiveSource.open(List.of(f), options())) {
            assertEquals(2, src.images().size());
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

    private static void put(byte[] b, int off, String s) {
        byte[] x = s.getBytes(StandardCharsets.US_ASCII);
        System.arraycopy(x, 0, b, off, x.length);
    }

    private static UnaryOperator<List<Entry>> add(Entry extra) {
        return l -> {
            l.add(0, extra);
            return l;
        };
    }

    private static UnaryOperator<List<Entry>> drop(java.util.function.Predicate<String> name) {
        return l -> {
            l.removeIf(e -> name.test(e.name()));
            return l;
        };
    }

    private static UnaryOperator<List<Entry>> replace(String name, String content) {
        return l -> {
            l.replaceAll(e -> e.name().equals(name) ? Entry.file(name, content) : e);
            return l;
        };
    }

    /** Replaces the first regular layer.tar entry. */
    private static UnaryOperator<List<Entry>> replaceLayerWith(UnaryOperator<Entry> f) {
        return l -> {
            for (int i = 0; i < l.size(); i++) {
                if (l.get(i).name().endsWith("/layer.tar") && l.get(i).data() != null) {
                    l.set(i, f.apply(l.get(i)));
                    break;
                }
            }
            return l;
        };
    }
}
