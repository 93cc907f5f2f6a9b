import java.io.BufferedOutputStream;
import java.io.FilterOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.zip.Deflater;
import java.util.zip.GZIPOutputStream;

/**
 * Benchmark data generator: writes a reproducible multi-arch data set as an OCI image layout.
 *
 * <p>Usage: {@code java -cp DIR BenchData OUT_DIR TOTAL_MIB SEED [REPOS]}. Writes {@code OUT_DIR} (an OCI
 * layout: {@code oci-layout}, {@code index.json}, {@code blobs/sha256/...}) holding REPOS (default 4) repositories
 * ({@code app0..app3}, one index each, ref name = repository name) x 3 platforms (linux/amd64,
 * linux/arm64/v8, linux/arm/v7) x 3 layers of incompressible seeded pseudo-random bytes:
 * <ul>
 *   <li>layer 0 "base": one per platform, shared by all repositories (3 unique, 18% of bytes);</li>
 *   <li>layer 1 "shared": one per repository, shared by its 3 platforms (REPOS unique, 16%);</li>
 *   <li>layer 2 "own": one per repository and platform (3 x REPOS unique, 66%).</li>
 * </ul>
 * The default (4 repositories) gives the same bytes as before REPOS could be given.
 * Layers are gzip'd tars with one file each; gzip runs with stored (level 0) deflate blocks,
 * since the data is incompressible anyway. Everything streams through a 1 MiB buffer: no layer is
 * ever held in memory. The same arguments give the same bytes (and digests) on any machine.
 * Prints one line per repository: {@code REPO INDEX_DIGEST} and a final {@code unique_bytes N};
 * writes {@code bench-blobs.tsv} (not part of the layout): {@code REPO KIND DIGEST SIZE} for every
 * blob each repository references (layers are listed once per platform that uses them).
 */
public final class BenchData {
    static final String[][] PLATFORMS = {{"amd64", null}, {"arm64", "v8"}, {"arm", "v7"}};
    static final int DEFAULT_REPOS = 4;
    static final String LAYER_TYPE = "application/vnd.oci.image.layer.v1.tar+gzip";
    static final String CONFIG_TYPE = "application/vnd.oci.image.config.v1+json";
    static final String MANIFEST_TYPE = "application/vnd.oci.image.manifest.v1+json";
    static final String INDEX_TYPE = "application/vnd.oci.image.index.v1+json";

    record Blob(String digest, long size, String diffId) {
    }

    private final Path out;
    private final Path blobs;
    private final long totalBytes;
    private final long seed;
    private final int repos;
    private final Map<String, Blob> layers = new LinkedHashMap<>();
    private final Set<String> seen = new HashSet<>();
    private final List<String> listing = new ArrayList<>();
    private long uniqueBytes;

    BenchData(Path out, long totalBytes, long seed, int repos) throws IOException {
        this.out = out;
        this.repos = repos;
        this.blobs = Files.createDirectories(out.resolve("blobs/sha256"));
        this.totalBytes = totalBytes;
        this.seed = seed;
    }

    public static void main(String[] args) throws Exception {
        if (args.length != 3 && args.length != 4) {
            System.err.println("usage: BenchData OUT_DIR TOTAL_MIB SEED [REPOS]");
            System.exit(2);
        }
        Path out = Path.of(args[0]);
        long mib = Long.parseLong(args[1]);
        long seed = Long.parseLong(args[2]);
        if (mib < 1) {
            throw new IllegalArgumentException("TOTAL_MIB must be >= 1");
        }
        int repos = args.length == 4 ? Integer.parseInt(args[3]) : DEFAULT_REPOS;
        if (repos < 1) {
            throw new IllegalArgumentException("REPOS must be >= 1");
        }
        new BenchData(out, mib * 1024 * 1024, seed, repos).run();
    }

    void run() throws IOException {
        Files.writeString(out.resolve("oci-layout"), "{\"imageLayoutVersion\":\"1.0.0\"}", StandardCharsets.UTF_8);
        List<String> refs = new ArrayList<>();
        List<String> lines = new ArrayList<>();
        // the default's fractions are kept as written before REPOS could be given (same bytes)
        double shareOfShared = repos == DEFAULT_REPOS ? 0.04 : 0.16 / repos;
        double shareOfOwn = repos == DEFAULT_REPOS ? 0.055 : 0.66 / (3.0 * repos);
        for (int r = 0; r < repos; r++) {
            String repo = "app" + r;
            StringBuilder idx = new StringBuilder();
            idx.append("{\"schemaVersion\":2,\"mediaType\":\"").append(INDEX_TYPE).append("\",\"manifests\":[");
            for (int p = 0; p < PLATFORMS.length; p++) {
                Blob base = layer("base-" + p, (long) (totalBytes * 0.06));
                Blob shared = layer("shared-" + r, (long) (totalBytes * shareOfShared));
                Blob own = layer("own-" + r + "-" + p, (long) (totalBytes * shareOfOwn));
                Blob manifest = image(repo, p, List.of(base, shared, own));
                listing.add(repo + "\tmanifest\t" + manifest.digest + "\t" + manifest.size);
                if (p > 0) {
                    idx.append(',');
                }
                idx.append("{\"mediaType\":\"").append(MANIFEST_TYPE).append("\",\"digest\":\"").append(manifest.digest)
                        .append("\",\"size\":").append(manifest.size).append(",\"platform\":").append(platformJson(p)).append('}');
            }
            idx.append("]}");
            Blob index = json(idx.toString());
            refs.add("{\"mediaType\":\"" + INDEX_TYPE + "\",\"digest\":\"" + index.digest + "\",\"size\":" + index.size
                    + ",\"annotations\":{\"org.opencontainers.image.ref.name\":\"" + repo + "\"}}");
            lines.add(repo + " " + index.digest);
            listing.add(repo + "\tindex\t" + index.digest + "\t" + index.size);
        }
        Files.writeString(out.resolve("index.json"),
                "{\"schemaVersion\":2,\"mediaType\":\"" + INDEX_TYPE + "\",\"manifests\":[" + String.join(",", refs) + "]}",
                StandardCharsets.UTF_8);
        Files.write(out.resolve("bench-blobs.tsv"), listing, StandardCharsets.UTF_8);
        lines.forEach(System.out::println);
        System.out.println("unique_bytes " + uniqueBytes);
    }

    private static String platformJson(int p) {
        String arch = PLATFORMS[p][0];
        String variant = PLATFORMS[p][1];
        return "{\"architecture\":\"" + arch + "\",\"os\":\"linux\"" + (variant == null ? "" : ",\"variant\":\"" + variant + "\"") + "}";
    }

    private Blob image(String repo, int p, List<Blob> ls) throws IOException {
        StringBuilder diffIds = new StringBuilder();
        StringBuilder layerDescs = new StringBuilder();
        for (int i = 0; i < ls.size(); i++) {
            if (i > 0) {
                diffIds.append(',');
                layerDescs.append(',');
            }
            diffIds.append('"').append(ls.get(i).diffId).append('"');
            layerDescs.append("{\"mediaType\":\"").append(LAYER_TYPE).append("\",\"digest\":\"").append(ls.get(i).digest)
                    .append("\",\"size\":").append(ls.get(i).size).append('}');
        }
        String arch = PLATFORMS[p][0];
        String variant = PLATFORMS[p][1];
        Blob config = json("{\"created\":\"2024-01-01T00:00:00Z\",\"architecture\":\"" + arch + "\",\"os\":\"linux\""
                + (variant == null ? "" : ",\"variant\":\"" + variant + "\"")
                + ",\"config\":{\"Labels\":{\"bench.repo\":\"" + repo + "\"}},\"rootfs\":{\"type\":\"layers\",\"diff_ids\":["
                + diffIds + "]},\"history\":[]}");
        listing.add(repo + "\tconfig\t" + config.digest + "\t" + config.size);
        for (Blob l : ls) {
            listing.add(repo + "\tlayer\t" + l.digest + "\t" + l.size);
        }
        return json("{\"schemaVersion\":2,\"mediaType\":\"" + MANIFEST_TYPE + "\",\"config\":{\"mediaType\":\"" + CONFIG_TYPE
                + "\",\"digest\":\"" + config.digest + "\",\"size\":" + config.size + "},\"layers\":[" + layerDescs + "]}");
    }

    private Blob json(String text) throws IOException {
        byte[] bytes = text.getBytes(StandardCharsets.UTF_8);
        String digest = "sha256:" + HexFormat.of().formatHex(sha256().digest(bytes));
        Path target = blobs.resolve(digest.substring(7));
        if (seen.add(digest)) {
            Files.write(target, bytes);
            uniqueBytes += bytes.length;
        }
        return new Blob(digest, bytes.length, null);
    }

    /** A gzip'd tar holding one file of {@code size} pseudo-random bytes; written once per name. */
    private Blob layer(String name, long size) throws IOException {
        Blob known = layers.get(name);
        if (known != null) {
            return known;
        }
        Path tmp = blobs.resolve(".tmp-" + name);
        MessageDigest compressed = sha256();
        MessageDigest uncompressed = sha256();
        long[] compressedSize = {0};
        try (OutputStream file = Files.newOutputStream(tmp);
             OutputStream counting = new HashingStream(new BufferedOutputStream(file, 1 << 20), compressed, compressedSize);
             GZIPOutputStream gz = new GZIPOutputStream(counting, 1 << 20) {
                 {
                     def.setLevel(Deflater.NO_COMPRESSION);
                 }
             };
             OutputStream tar = new HashingStream(gz, uncompressed, new long[1])) {
            writeTar(tar, "data/" + name + ".bin", size, new SplittableRandom(seed * 1_000_003L + name.hashCode()));
        }
        String digest = "sha256:" + HexFormat.of().formatHex(compressed.digest());
        Files.move(tmp, blobs.resolve(digest.substring(7)), StandardCopyOption.REPLACE_EXISTING);
        uniqueBytes += compressedSize[0];
        Blob b = new Blob(digest, compressedSize[0], "sha256:" + HexFormat.of().formatHex(uncompressed.digest()));
        layers.put(name, b);
        return b;
    }

    private static void writeTar(OutputStream tar, String path, long size, SplittableRandom random) throws IOException {
        byte[] header = new byte[512];
        put(header, 0, 100, path);
        put(header, 100, 8, "0000644");
        put(header, 108, 8, "0000000");
        put(header, 116, 8, "0000000");
        put(header, 124, 12, String.format("%011o", size));
        put(header, 136, 12, String.format("%011o", 1704067200L));
        for (int i = 148; i < 156; i++) {
            header[i] = ' ';
        }
        header[156] = '0';
        put(header, 257, 6, "ustar");
        put(header, 263, 2, "00");
        long sum = 0;
        for (byte b : header) {
            sum += b & 0xff;
        }
        put(header, 148, 7, String.format("%06o", sum));
        tar.write(header);
        byte[] buf = new byte[1 << 20];
        long left = size;
        while (left > 0) {
            int n = (int) Math.min(buf.length, left);
            for (int i = 0; i < n; i += 8) {
                long v = random.nextLong();
                for (int k = 0; k < 8 && i + k < n; k++) {
                    buf[i + k] = (byte) (v >>> (8 * k));
                }
            }
            tar.write(buf, 0, n);
            left -= n;
        }
        int pad = (int) ((512 - size % 512) % 512);
        tar.write(new byte[pad + 1024]);
    }

    private static void put(byte[] header, int offset, int length, String value) {
        byte[] v = value.getBytes(StandardCharsets.US_ASCII);
        if (v.length > length) {
            throw new IllegalArgumentException("tar header field too long: " + value);
        }
        System.arraycopy(v, 0, header, offset, v.length);
    }

    private static MessageDigest sha256() {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    /** Passes bytes through while hashing and counting them. */
    private static final class HashingStream extends FilterOutputStream {
        private final MessageDigest md;
        private final long[] count;

        HashingStream(OutputStream out, MessageDigest md, long[] count) {
            super(out);
            this.md = md;
            this.count = count;
        }

        @Override
        public void write(int b) throws IOException {
            out.write(b);
            md.update((byte) b);
            count[0]++;
        }

        @Override
        public void write(byte[] b, int off, int len) throws IOException {
            out.write(b, off, len);
            md.update(b, off, len);
            count[0] += len;
        }
    }
}
