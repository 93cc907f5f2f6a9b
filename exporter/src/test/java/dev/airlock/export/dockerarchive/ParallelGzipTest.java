package dev.airlock.export.dockerarchive;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.airlock.model.Digest;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.util.Random;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.zip.GZIPInputStream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class ParallelGzipTest {

    @ParameterizedTest
    @ValueSource(ints = {0, 1, 1000, ParallelGzip.CHUNK - 1, ParallelGzip.CHUNK, ParallelGzip.CHUNK + 1, 3 * ParallelGzip.CHUNK + 12345})
    void gunzipsToTheInputAndIsTheSameForAnyThreadCount(int size) throws IOException {
        byte[] input = new byte[size];
        Random r = new Random(size);
        for (int i = 0; i < size; i++) {
            input[i] = (byte) (i % 7 == 0 ? r.nextInt(256) : 'a' + r.nextInt(8));
        }
        byte[] one = compress(input, 1);
        byte[] four = compress(input, 4);
        assertArrayEquals(one, four, "output depends on the thread count");
        try (GZIPInputStream in = new GZIPInputStream(new ByteArrayInputStream(one))) {
            assertArrayEquals(input, in.readAllBytes());
        }
        // fixed header: magic, deflate, no flags, mtime 0, xfl 0, OS 255
        assertArrayEquals(new byte[] {0x1f, (byte) 0x8b, 8, 0, 0, 0, 0, 0, 0, (byte) 0xff}, java.util.Arrays.copyOf(one, 10));
    }

    private static byte[] compress(byte[] input, int threads) throws IOException {
        ExecutorService pool = Executors.newFixedThreadPool(threads);
        try {
            ByteArrayOutputStream out = new ByteArrayOutputStream();
            long[] progress = {0};
            ParallelGzip.Result r = new ParallelGzip(pool, threads).compress(new ByteArrayInputStream(input), out, n -> progress[0] += n);
            byte[] gz = out.toByteArray();
            assertEquals(Digest.sha256(input), r.uncompressedDigest());
            assertEquals(input.length, r.uncompressedSize());
            assertEquals(Digest.sha256(gz), r.compressedDigest());
            assertEquals(gz.length, r.compressedSize());
            assertEquals(input.length, progress[0]);
            return gz;
        } finally {
            pool.shutdownNow();
        }
    }
}
