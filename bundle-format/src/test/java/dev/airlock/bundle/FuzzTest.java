package dev.airlock.bundle;

import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.airlock.error.AirlockException;
import dev.airlock.model.Descriptor;
import dev.airlock.model.ImageConfig;
import dev.airlock.model.ImageReference;
import dev.airlock.model.ManifestView;
import dev.airlock.model.MediaType;
import dev.airlock.model.Platform;
import dev.airlock.model.RawManifest;
import dev.airlock.progress.ProgressListener;
import dev.airlock.sign.KeyGen;
import dev.airlock.sign.Signer;
import dev.airlock.sign.TrustPolicy;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Random;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A seeded mutation fuzzer (no extra dependency): valid inputs get bytes flipped, inserted,
 * deleted, duplicated, truncated, tar header fields and JSON values replaced, and are fed to the
 * bundle reader ({@link BundleArchive}, {@link BundleVerifier}) and the parsers
 * ({@link ManifestView}, {@link ImageConfig}, {@link BundleManifest}, {@link ImageReference},
 * {@link Platform}). The only failures allowed are Airlock's own {@link AirlockException}s: a
 * NullPointerException, IndexOutOfBounds, IllegalArgumentException, OutOfMemoryError or
 * StackOverflowError is a leak and fails the test with the seed that reproduces it.
 *
 * <p>Bounded by iteration count (deterministic, not timed); {@code -Dairlock.fuzz.scale=10} runs
 * ten times as many. Seed base: {@code -Dairlock.fuzz.seed=N}.
 */
class FuzzTest {
    static final int SCALE = Integer.getInteger("airlock.fuzz.scale", 1);
    static final long SEED = Long.getLong("airlock.fuzz.seed", 20240601L);
    static final byte[][] JSON_VALUES = bytes("null", "-1", "0", "1e999", "18446744073709551616", "[]", "{}", "\"\"", "\"x\"", "true",
            "[[[[[[[[", "\"sha256:\"", "\"linux/arm/v7\"", "\"application/vnd.oci.image.index.v1+json\"", "{\"a\":1,\"a\":2}", "\"\\u0000\"");

    @TempDir
    static Path shared;
    static TrustPolicy signedTrust;
    static TrustPolicy unsigned;
    static List<byte[]> bundleSeeds = new ArrayList<>();
    static List<RawManifest> manifestSeeds = new ArrayList<>();
    static List<byte[]> configSeeds = new ArrayList<>();
    static List<byte[]> bundleJsonSeeds = new ArrayList<>();

    @TempDir
    Path dir;

    @BeforeAll
    static void seeds() throws IOException {
        KeyGen.Result k = KeyGen.generate(shared.resolve("k"), Optional.empty());
        Signer signer = Signer.load(k.privateKey(), Optional.of(k.certificate()));
        signedTrust = TrustPolicy.fromFiles(List.of(k.certificate()), false);
        unsigned = TrustPolicy.fromFiles(List.of(), true);
        TestContent c = TestContent.standard();
        for (boolean zstd : new boolean[] {false, true}) {
            for (boolean sign : new boolean[] {false, true}) {
                Path p = shared.resolve("seed-" + zstd + "-" + sign + (zstd ? ".tar.zst" : ".tar"));
                WriteOptions o = WriteOptions.defaults().withCompression(zstd, 3, 1);
                BundleWriter.write(p, c.images, c.order(), c.opener(), sign ? o.withSigner(signer) : o, ProgressListener.NONE);
                bundleSeeds.add(Files.readAllBytes(p));
                if (!zstd && !sign) {
                    try (BundleArchive a = BundleArchive.open(p, unsigned)) {
                        bundleJsonSeeds.add(a.manifest().bytes());
                    }
                }
            }
        }
        for (Descriptor d : c.descriptors.values()) {
            if (d.mediaType().isManifest()) {
                manifestSeeds.add(RawManifest.of(d.mediaType(), c.bytes.get(d.digest())));
            } else if (d.mediaType().isImageConfig()) {
                configSeeds.add(c.bytes.get(d.digest()));
            }
        }
    }

    @Test
    void bundleReaderLeaksNothingButAirlockExceptions() throws IOException {
        Leaks leaks = new Leaks();
        int n = 1000 * SCALE;
        Path p = dir.resolve("fuzz.tar");
        for (int i = 0; i < n; i++) {
            long seed = SEED + i;
            Random r = new Random(seed);
            int which = r.nextInt(bundleSeeds.size());
            byte[] input = mutateTar(bundleSeeds.get(which), r);
            Files.write(p, input);
            TrustPolicy trust = (which & 1) == 0 ? unsigned : signedTrust;
            leaks.run("BundleVerifier.verify", seed, () -> BundleVerifier.verify(p, trust, ProgressListener.NONE));
            leaks.run("BundleArchive", seed, () -> {
                try (BundleArchive a = BundleArchive.open(p, trust)) {
                    if (a.randomAccess()) {
                        for (BundleImage img : a.images()) {
                            a.fetchManifest(img.source().repository(), img.digest().toString());
                            a.headManifest(img.source().repository(), img.source().tag());
                        }
                        for (BundleManifest.FileEntry f : a.manifest().files()) {
                            if (f.isBlob()) {
                                try (InputStream in = a.openBlob("x", f.descriptor())) {
                                    in.transferTo(OutputStream.nullOutputStream());
                                }
                            }
                        }
                    }
                    a.stream((f, in) -> in.transferTo(OutputStream.nullOutputStream()), ProgressListener.NONE);
                }
            });
        }
        leaks.assertNone(n + " mutated bundles");
    }

    @Test
    void manifestParsersLeakNothingButAirlockExceptions() {
        Leaks leaks = new Leaks();
        int n = 20_000 * SCALE;
        for (int i = 0; i < n; i++) {
            long seed = SEED + i;
            Random r = new Random(seed);
            RawManifest m = manifestSeeds.get(r.nextInt(manifestSeeds.size()));
            byte[] b = mutateJson(m.bytes(), r);
            MediaType mt = r.nextInt(4) == 0 ? manifestSeeds.get(r.nextInt(manifestSeeds.size())).mediaType() : m.mediaType();
            leaks.run("ManifestView.parse", seed, () -> {
                ManifestView v = ManifestView.parse(RawManifest.of(mt, b));
                v.references().forEach(d -> d.platform().ifPresent(pl -> pl.normalized().toString()));
            });
            leaks.run("RawManifest.sniff", seed, () -> RawManifest.sniff(b, "fuzz").view());
            byte[] cfg = mutateJson(configSeeds.get(r.nextInt(configSeeds.size())), r);
            leaks.run("ImageConfig.parse", seed, () -> ImageConfig.parse(cfg, "fuzz").platform().normalized());
        }
        leaks.assertNone(n + " mutated manifests, indexes and configs");
    }

    @Test
    void bundleJsonParserLeaksNothingButAirlockExceptions() {
        Leaks leaks = new Leaks();
        int n = 5_000 * SCALE;
        for (int i = 0; i < n; i++) {
            long seed = SEED + i;
            Random r = new Random(seed);
            byte[] b = mutateJson(bundleJsonSeeds.get(0), r);
            leaks.run("BundleManifest.parse", seed, () -> {
                BundleManifest m = BundleManifest.parse(b, "fuzz");
                m.images().forEach(img -> img.platforms().forEach(Platform::normalized));
                m.totalBytes();
            });
        }
        leaks.assertNone(n + " mutated bundle.json files");
    }

    @Test
    void referenceAndPlatformParsersLeakNothingButAirlockExceptions() {
        Leaks leaks = new Leaks();
        List<String> refs = List.of("docker.io/rancher/pause:3.1", "127.0.0.1:5000/a/b@sha256:" + "ab".repeat(32), "busybox",
                "reg.local:5000/mirror/team/app:1.0@sha256:" + "cd".repeat(32), "linux/arm/v7", "localhost/x");
        int n = 20_000 * SCALE;
        for (int i = 0; i < n; i++) {
            long seed = SEED + i;
            Random r = new Random(seed);
            String s = new String(mutateBytes(refs.get(r.nextInt(refs.size())).getBytes(StandardCharsets.UTF_8), r, 3), StandardCharsets.UTF_8);
            leaks.run("ImageReference.parse", seed, () -> {
                ImageReference ref = ImageReference.parse(s);
                ImageReference.parse(ref.toString());
            });
            leaks.run("Platform.parse", seed, () -> Platform.parse(s).normalized());
        }
        leaks.assertNone(n + " mutated references and platforms");
    }

    // ---- mutators

    /** Bundle mutations, biased towards what the reader interprets: tar headers and the JSON entries. */
    static byte[] mutateTar(byte[] in, Random r) {
        boolean zstd = (in[0] & 0xff) == 0x28;
        int rounds = 1 + r.nextInt(3);
        byte[] b = in;
        for (int k = 0; k < rounds; k++) {
            int headers = b.length / 512;
            switch (r.nextInt(zstd ? 3 : 6)) {
                case 0 -> b = mutateBytes(b, r, 1);
                case 1 -> b = java.util.Arrays.copyOf(b, r.nextInt(b.length + 1));
                case 2 -> { // one random byte anywhere
                    b = b.clone();
                    b[r.nextInt(b.length)] = (byte) r.nextInt(256);
                }
                case 3 -> { // a header field: name, mode, size, checksum, type flag, magic
                    b = b.clone();
                    int block = 512 * r.nextInt(Math.max(1, headers));
                    int[] fields = {0, 100, 124, 148, 156, 257};
                    int off = block + fields[r.nextInt(fields.length)] + r.nextInt(12);
                    if (off < b.length) {
                        b[off] = (byte) "0123456789 \0\377xL5g/.".charAt(r.nextInt(18));
                    }
                }
                case 4 -> { // delete or duplicate a 512-byte record
                    int at = 512 * r.nextInt(Math.max(1, headers));
                    byte[] c = new byte[Math.max(0, b.length + (r.nextBoolean() ? 512 : -512))];
                    if (c.length > b.length) {
                        System.arraycopy(b, 0, c, 0, Math.min(b.length, at + 512));
                        System.arraycopy(b, at, c, Math.min(b.length, at + 512), b.length - at);
                    } else if (at + 512 <= b.length && c.length >= 0) {
                        System.arraycopy(b, 0, c, 0, at);
                        System.arraycopy(b, at + 512, c, at, b.length - at - 512);
                    } else {
                        c = b;
                    }
                    b = c;
                }
                default -> { // a JSON value inside the archive (bundle.json, index.json, manifests)
                    b = mutateJson(b, r);
                }
            }
        }
        return b;
    }

    /** Byte-level: flip, set, insert, delete, duplicate, truncate. */
    static byte[] mutateBytes(byte[] in, Random r, int maxRounds) {
        byte[] b = in.clone();
        int rounds = 1 + r.nextInt(maxRounds);
        for (int k = 0; k < rounds && b.length > 0; k++) {
            int at = r.nextInt(b.length);
            switch (r.nextInt(6)) {
                case 0 -> b[at] ^= (byte) (1 << r.nextInt(8));
                case 1 -> b[at] = (byte) r.nextInt(256);
                case 2 -> {
                    byte[] ins = new byte[1 + r.nextInt(8)];
                    r.nextBytes(ins);
                    b = splice(b, at, 0, ins);
                }
                case 3 -> b = splice(b, at, Math.min(b.length - at, 1 + r.nextInt(16)), new byte[0]);
                case 4 -> {
                    int len = Math.min(b.length - at, 1 + r.nextInt(64));
                    b = splice(b, at, 0, java.util.Arrays.copyOfRange(b, at, at + len));
                }
                default -> b = java.util.Arrays.copyOf(b, at);
            }
        }
        return b;
    }

    /** JSON-aware: replaces the value after a random ':' or ',' with a hostile one; else byte-level. */
    static byte[] mutateJson(byte[] in, Random r) {
        if (r.nextInt(3) == 0) {
            return mutateBytes(in, r, 2);
        }
        List<Integer> colons = new ArrayList<>();
        for (int i = 0; i < in.length; i++) {
            if (in[i] == ':' || in[i] == ',' || in[i] == '[') {
                colons.add(i);
            }
        }
        if (colons.isEmpty()) {
            return mutateBytes(in, r, 2);
        }
        int start = colons.get(r.nextInt(colons.size())) + 1;
        int end = start;
        int depth = 0;
        boolean str = false;
        while (end < in.length) {
            byte c = in[end];
            if (str) {
                if (c == '\\') {
                    end++;
                } else if (c == '"') {
                    str = false;
                }
            } else if (c == '"') {
                str = true;
            } else if (c == '{' || c == '[') {
                depth++;
            } else if (c == '}' || c == ']') {
                if (depth == 0) {
                    break;
                }
                depth--;
            } else if (c == ',' && depth == 0) {
                break;
            }
            end++;
        }
        byte[] value = JSON_VALUES[r.nextInt(JSON_VALUES.length)];
        return splice(in, start, end - start, value);
    }

    static byte[] splice(byte[] b, int at, int remove, byte[] insert) {
        byte[] c = new byte[b.length - remove + insert.length];
        System.arraycopy(b, 0, c, 0, at);
        System.arraycopy(insert, 0, c, at, insert.length);
        System.arraycopy(b, at + remove, c, at + insert.length, b.length - at - remove);
        return c;
    }

    private static byte[][] bytes(String... s) {
        byte[][] out = new byte[s.length][];
        for (int i = 0; i < s.length; i++) {
            out[i] = s[i].getBytes(StandardCharsets.UTF_8);
        }
        return out;
    }

    /** Collects every throwable that is not an AirlockException, one example per kind and place. */
    static final class Leaks {
        private final Map<String, String> found = new LinkedHashMap<>();
        private int rejected;
        private int accepted;

        interface Body {
            void run() throws Exception;
        }

        void run(String target, long seed, Body body) {
            try {
                body.run();
                accepted++;
            } catch (AirlockException e) {
                rejected++;
                if (e.getMessage() == null || e.getMessage().contains("\n")) {
                    found.putIfAbsent(target + " multi-line message", "seed " + seed + ": " + e.getMessage());
                }
            } catch (Throwable t) {
                StackTraceElement top = t.getStackTrace().length > 0 ? t.getStackTrace()[0] : null;
                found.putIfAbsent(target + " " + t.getClass().getName() + " at " + top, "seed " + seed + ": " + t);
            }
        }

        void assertNone(String what) {
            System.out.println("fuzz: " + what + ": " + rejected + " rejected cleanly, " + accepted + " accepted, " + found.size() + " leaks");
            assertTrue(found.isEmpty(), () -> what + " leaked non-Airlock exceptions:\n" + String.join("\n",
                    found.entrySet().stream().map(e -> e.getKey() + " (" + e.getValue() + ")").toList()));
            assertTrue(rejected > 0, "the mutations never reached a rejection: the fuzzer is not fuzzing");
        }
    }
}
