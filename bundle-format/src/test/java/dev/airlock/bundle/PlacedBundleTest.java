package dev.airlock.bundle;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.airlock.error.AirlockException;
import dev.airlock.io.BlobRegion;
import dev.airlock.model.Descriptor;
import dev.airlock.model.Digest;
import dev.airlock.progress.ProgressListener;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The bundle written in place: the same bytes as the streaming writer for the same input, blobs
 * placed in any order, an interrupted write resumed from its journal (a journalled blob damaged
 * since is written again), another export's partial file discarded, a slice that refuses bytes
 * past its blob.
 */
class PlacedBundleTest {
    @TempDir
    Path dir;
    @TempDir
    static Path keys;
    static dev.airlock.sign.Signer signer;
    static dev.airlock.sign.TrustPolicy trust;

    @org.junit.jupiter.api.BeforeAll
    static void keys() {
        dev.airlock.sign.KeyGen.Result k = dev.airlock.sign.KeyGen.generate(keys.resolve("signer"), java.util.Optional.of("CN=airlock test"));
        signer = dev.airlock.sign.Signer.load(k.privateKey(), java.util.Optional.of(k.certificate()));
        trust = dev.airlock.sign.TrustPolicy.fromFiles(List.of(k.publicKey()), false);
    }

    static WriteOptions options() {
        return WriteOptions.defaults().withSigner(signer).withIdentity(BundleRoundTripTest.ID, BundleRoundTripTest.CREATED);
    }

    private static Map<Digest, byte[]> manifests(TestContent c) {
        Map<Digest, byte[]> known = new LinkedHashMap<>();
        c.descriptors.values().stream().filter(d -> d.mediaType().isManifest()).forEach(d -> known.put(d.digest(), c.bytes.get(d.digest())));
        return known;
    }

    private static void place(PlacedBundle b, TestContent c, Descriptor d) throws IOException {
        BlobRegion r = b.region(d);
        ByteBuffer buf = ByteBuffer.wrap(c.bytes.get(d.digest()));
        long at = 0;
        while (buf.hasRemaining()) {
            at += r.write(buf, at);
        }
        b.placed(d);
    }

    @Test
    void blobsPlacedInAnyOrderGiveTheStreamingWritersBytes() throws Exception {
        TestContent c = TestContent.standard();
        Path streamed = dir.resolve("streamed.tar");
        WriteResult s = BundleWriter.write(streamed, c.images, c.order(), c.opener(), options(), ProgressListener.NONE);

        Path out = dir.resolve("placed.tar");
        List<Descriptor> shuffled = new ArrayList<>(c.order());
        Collections.shuffle(shuffled, new Random(7));
        WriteResult p;
        try (PlacedBundle b = PlacedBundle.open(out, c.images, c.order(), manifests(c), options(), BundleWriter.Delta.NONE)) {
            assertEquals(manifests(c).keySet(), b.present(), "the manifests the caller holds are in place at once");
            assertTrue(b.resumed().isEmpty());
            for (Descriptor d : shuffled) {
                if (!b.isPlaced(d.digest())) {
                    place(b, c, d);
                }
            }
            p = b.finish();
        }
        assertArrayEquals(Files.readAllBytes(streamed), Files.readAllBytes(out));
        assertEquals(s.sha256(), p.sha256());
        assertEquals(Files.readString(s.checksumFile()).replace("streamed.tar", "placed.tar"), Files.readString(p.checksumFile()));
        assertEquals(Files.size(out), p.bytes());
        assertFalse(Files.exists(PlacedBundle.partialOf(out)));
        assertFalse(Files.exists(PlacedBundle.journalOf(out)));
        BundleVerifier.verify(out, trust, ProgressListener.NONE);
    }

    @Test
    void blobsWrittenInPiecesOutOfOrderAndWrittenAgainStillGiveTheRightFileSha256() throws Exception {
        // the hasher follows each slice's written prefix; a piece written twice (a retry over bytes it
        // may have hashed already) makes it hash the file again at the end
        TestContent c = TestContent.standard();
        WriteResult s = BundleWriter.write(dir.resolve("streamed.tar"), c.images, c.order(), c.opener(), options(), ProgressListener.NONE);
        Path out = dir.resolve("pieces.tar");
        WriteResult p;
        List<Descriptor> layers = c.order().stream().filter(d -> !d.mediaType().isManifest()).toList();
        try (PlacedBundle b = PlacedBundle.open(out, c.images, c.order(), manifests(c), options(), BundleWriter.Delta.NONE)) {
            for (int k = 0; k < layers.size(); k++) {
                Descriptor d = layers.get(k);
                byte[] bytes = c.bytes.get(d.digest());
                BlobRegion r = b.region(d);
                int third = bytes.length / 3;
                if (k == 0) {
                    // wrong bytes first, as a broken first attempt would leave, then the right ones
                    r.write(ByteBuffer.wrap(new byte[third]), 0);
                    Thread.sleep(50);
                }
                r.write(ByteBuffer.wrap(bytes, 2 * third, bytes.length - 2 * third), 2 * third);
                r.write(ByteBuffer.wrap(bytes, 0, third), 0);
                r.write(ByteBuffer.wrap(bytes, third, third), third);
                b.placed(d);
            }
            p = b.finish();
        }
        assertEquals(s.sha256(), p.sha256());
        assertArrayEquals(Files.readAllBytes(dir.resolve("streamed.tar")), Files.readAllBytes(out));
    }

    @Test
    void anInterruptedWriteResumesFromItsJournalAndRewritesADamagedBlob() throws Exception {
        TestContent c = TestContent.standard();
        Path out = dir.resolve("r.tar");
        List<Descriptor> layers = c.order().stream().filter(d -> !d.mediaType().isManifest()).toList();
        Descriptor damaged = layers.get(0);
        Descriptor intact = layers.get(1);
        try (PlacedBundle b = PlacedBundle.open(out, c.images, c.order(), manifests(c), WriteOptions.defaults().withSigner(signer),
                BundleWriter.Delta.NONE)) {
            place(b, c, damaged);
            place(b, c, intact);
            // the run stops here (a dead registry): close without finish
        }
        assertFalse(Files.exists(out), "nothing under the final name");
        assertTrue(Files.exists(PlacedBundle.partialOf(out)));
        long at = Files.readAllLines(PlacedBundle.journalOf(out)).size();
        assertEquals(3, at, "the journal's head and one line per placed blob");
        // a byte of one journalled blob changes on disk since
        try (PlacedBundle probe = PlacedBundle.open(out, c.images, c.order(), manifests(c), WriteOptions.defaults().withSigner(signer),
                BundleWriter.Delta.NONE)) {
            assertEquals(Set.of(damaged.digest(), intact.digest()), probe.resumed());
            try (FileChannel ch = FileChannel.open(PlacedBundle.partialOf(out), StandardOpenOption.WRITE)) {
                ByteBuffer one = ByteBuffer.wrap(new byte[] {(byte) ~c.bytes.get(damaged.digest())[10]});
                long offset = findOffset(c, probe, damaged);
                ch.write(one, offset + 10);
            }
        }
        WriteResult r;
        try (PlacedBundle b = PlacedBundle.open(out, c.images, c.order(), manifests(c), WriteOptions.defaults().withSigner(signer),
                BundleWriter.Delta.NONE)) {
            assertEquals(Set.of(intact.digest()), b.resumed(), "the damaged blob is not taken from the journal");
            for (Descriptor d : c.order()) {
                if (!b.isPlaced(d.digest())) {
                    place(b, c, d);
                }
            }
            r = b.finish();
        }
        VerifyResult v = BundleVerifier.verify(out, trust, ProgressListener.NONE);
        assertEquals(r.manifest().bundleId(), v.manifest().bundleId());
    }

    private static long findOffset(TestContent c, PlacedBundle b, Descriptor d) throws IOException {
        // the blob's slice: find its bytes in the partial file
        byte[] all = Files.readAllBytes(b.partialFile());
        byte[] want = c.bytes.get(d.digest());
        outer:
        for (int i = 0; i + want.length <= all.length; i += 512) {
            for (int j = 0; j < want.length; j++) {
                if (all[i + j] != want[j]) {
                    continue outer;
                }
            }
            return i;
        }
        throw new AssertionError("blob not found in the partial file");
    }

    @Test
    void anotherExportsPartialFileIsDiscarded() throws Exception {
        TestContent c = TestContent.standard();
        Path out = dir.resolve("x.tar");
        Descriptor layer = c.order().stream().filter(d -> !d.mediaType().isManifest()).findFirst().orElseThrow();
        try (PlacedBundle b = PlacedBundle.open(out, c.images, c.order(), manifests(c), WriteOptions.defaults(), BundleWriter.Delta.NONE)) {
            place(b, c, layer);
        }
        // the same output name, two layers swapped: another layout
        List<Descriptor> order = new ArrayList<>(c.order());
        Collections.swap(order, 0, 1);
        try (PlacedBundle b = PlacedBundle.open(out, c.images, order, manifests(c), WriteOptions.defaults(), BundleWriter.Delta.NONE)) {
            assertTrue(b.resumed().isEmpty(), "nothing resumed from another export's file");
            assertEquals(1, Files.readAllLines(PlacedBundle.journalOf(out)).size(), "a fresh journal");
        }
    }

    @Test
    void aSecondExportToTheSameOutputIsRefusedWhileTheFirstWrites() throws Exception {
        TestContent c = TestContent.standard();
        Path out = dir.resolve("busy.tar");
        try (PlacedBundle first = PlacedBundle.open(out, c.images, c.order(), manifests(c), WriteOptions.defaults(), BundleWriter.Delta.NONE)) {
            AirlockException e = assertThrows(AirlockException.class,
                    () -> PlacedBundle.open(out, c.images, c.order(), manifests(c), WriteOptions.defaults(), BundleWriter.Delta.NONE));
            assertTrue(e.getMessage().contains("another export is writing"), e.getMessage());
            assertEquals(5, e.exitCode(), e.getMessage());
            for (Descriptor d : c.order()) {
                if (!first.isPlaced(d.digest())) {
                    place(first, c, d);
                }
            }
            first.finish();
        }
        BundleVerifier.verify(out, dev.airlock.sign.TrustPolicy.allowUnsignedOnly(), ProgressListener.NONE);
    }

    @Test
    void aSymlinkPlantedAsThePartialFileIsNotFollowed() throws Exception {
        TestContent c = TestContent.standard();
        Path out = dir.resolve("link.tar");
        Path victim = Files.writeString(dir.resolve("victim.txt"), "keep me");
        Files.createSymbolicLink(PlacedBundle.partialOf(out), victim);
        assertThrows(AirlockException.class,
                () -> PlacedBundle.open(out, c.images, c.order(), manifests(c), WriteOptions.defaults(), BundleWriter.Delta.NONE));
        assertEquals("keep me", Files.readString(victim));
    }

    @Test
    void fileSystemsWithoutSparseFilesAreNotWrittenInPlace() {
        assertTrue(PlacedBundle.holesMissing("vfat"));
        assertTrue(PlacedBundle.holesMissing("exfat"));
        assertFalse(PlacedBundle.holesMissing("ext4"));
        assertFalse(PlacedBundle.holesMissing("tmpfs"));
        assertTrue(PlacedBundle.canWriteInPlace(dir), "the test's own directory (ext4, xfs, tmpfs, overlay) has sparse files");
    }

    @Test
    void aSliceRefusesBytesPastItsBlob() throws Exception {
        TestContent c = TestContent.standard();
        Path out = dir.resolve("s.tar");
        Descriptor layer = c.order().stream().filter(d -> !d.mediaType().isManifest()).findFirst().orElseThrow();
        try (PlacedBundle b = PlacedBundle.open(out, c.images, c.order(), manifests(c), WriteOptions.defaults(), BundleWriter.Delta.NONE)) {
            BlobRegion r = b.region(layer);
            IOException e = assertThrows(IOException.class, () -> r.write(ByteBuffer.allocate(2), layer.size() - 1));
            assertTrue(e.getMessage().contains("passes the end"), e.getMessage());
            AirlockException notPlaced = assertThrows(AirlockException.class, b::finish);
            assertTrue(notPlaced.getMessage().contains("never written"), notPlaced.getMessage());
        }
    }
}
