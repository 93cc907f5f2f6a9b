package dev.airlock.bundle;

import dev.airlock.error.InternalException;
import dev.airlock.error.LocalIoException;
import dev.airlock.error.UsageException;
import dev.airlock.io.BlobRegion;
import dev.airlock.model.Descriptor;
import dev.airlock.model.Digest;
import dev.airlock.model.Json;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.security.MessageDigest;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import org.apache.commons.compress.archivers.tar.TarArchiveOutputStream;

/**
 * A bundle written in place: its whole tar layout (every header, every offset, the padding, the
 * end records) is computed from the descriptors before any blob is read, the headers, bundle.json,
 * the signatures, index.json and the known manifests are written first, and each blob is then
 * written straight into its own slice of the file ({@link #region}), in any order and in
 * parallel, by whoever fetches it. The result is byte for byte the file {@link BundleWriter}
 * streams for the same input; every exported byte is written once.
 *
 * <p>The file is {@code .NAME.partial} beside the output, with a journal {@code
 * .NAME.partial.journal}: its first line names the bundle's identity and layout, then one line per
 * blob that is in place. An export that stops (a dead registry, Ctrl-C, a full disk) leaves both;
 * the same export run again finds them, re-checks each journalled blob's sha256 in the file and
 * fetches only the others. A journal of another layout (other images, another signer) is
 * discarded with its file. {@link #finish} checks the graph (as the streaming writer does), waits
 * for the file's sha256 (computed by a thread trailing the writes in file order), syncs, renames
 * the file to its final name, writes {@code NAME.sha256} and removes the journal.
 */
public final class PlacedBundle implements AutoCloseable {
    static final String JOURNAL_MAGIC = "airlock-export-journal 1";
    private static final int BUFFER = 1 << 20;

    private final Path target;
    private final Path partial;
    private final Path journal;
    private final List<BundleImage> images;
    private final BundleManifest manifest;
    private final Map<Digest, Descriptor> blobs;
    private final Map<Digest, Long> offsets;
    private final long total;
    private final FileChannel file;
    private final FileChannel journalOut;
    private final Set<Digest> placed = ConcurrentHashMap.newKeySet();
    private final Set<Digest> resumed;
    private final OrderedHasher hasher;

    private PlacedBundle(Path target, List<BundleImage> images, BundleWriter.Prepared prepared, Map<Digest, Long> offsets, long total,
                         FileChannel file, FileChannel journalOut, Set<Digest> resumed, Set<Digest> inPlace) {
        this.target = target;
        this.partial = partialOf(target);
        this.journal = journalOf(target);
        this.images = List.copyOf(images);
        this.manifest = prepared.manifest();
        this.blobs = prepared.blobs();
        this.offsets = offsets;
        this.total = total;
        this.file = file;
        this.journalOut = journalOut;
        this.resumed = Set.copyOf(resumed);
        this.placed.addAll(inPlace);
        this.hasher = new OrderedHasher();
    }

    /** File systems without sparse files: extending a file there writes zeros up to the new end (a second write of every byte). */
    private static final Set<String> NO_HOLES = Set.of("vfat", "msdos", "fat", "umsdos", "exfat");

    /**
     * True when a bundle can be written in place in {@code dir}: its file system has sparse files,
     * so laying out the whole file first costs nothing. FAT and exFAT (USB sticks, SD cards) fill
     * the gap with zeros instead; there a bundle is better streamed once, in order.
     */
    public static boolean canWriteInPlace(Path dir) {
        try {
            return !holesMissing(Files.getFileStore(dir).type());
        } catch (IOException e) {
            return true; // the write itself will say what is wrong with the directory
        }
    }

    static boolean holesMissing(String fileSystemType) {
        return NO_HOLES.contains(fileSystemType.toLowerCase(java.util.Locale.ROOT));
    }

    /** {@code .NAME.partial} beside {@code out}. */
    public static Path partialOf(Path out) {
        Path abs = out.toAbsolutePath();
        return abs.resolveSibling("." + abs.getFileName() + ".partial");
    }

    /** {@code .NAME.partial.journal} beside {@code out}. */
    public static Path journalOf(Path out) {
        Path abs = out.toAbsolutePath();
        return abs.resolveSibling("." + abs.getFileName() + ".partial.journal");
    }

    /**
     * Creates {@code out}'s partial file with everything but the blobs, or resumes the one an
     * earlier run of the same export left. {@code known} are blobs whose bytes the caller holds
     * (the manifests it planned with): they are written now and count as placed; when {@code
     * options} has no image graphs, they are read from these manifests.
     *
     * @throws UsageException   a bad request (as {@link BundleWriter#write})
     * @throws LocalIoException the file cannot be created, or the disk lacks room for it
     */
    public static PlacedBundle open(Path out, List<BundleImage> images, List<Descriptor> blobsInOrder, Map<Digest, byte[]> known,
                                    WriteOptions options, BundleWriter.Delta delta) {
        return open(out, images, blobsInOrder, known, options, delta, Optional.empty());
    }

    /**
     * As {@link #open(Path, List, List, Map, WriteOptions, BundleWriter.Delta)}, for one volume of
     * a set when {@code volume} is present (see {@link BundleWriter#write(Path, List, List,
     * BlobOpener, WriteOptions, dev.airlock.progress.ProgressListener, BundleWriter.Delta, Optional)}).
     * {@code known} may hold more than this bundle carries; the rest is ignored.
     */
    public static PlacedBundle open(Path out, List<BundleImage> images, List<Descriptor> blobsInOrder, Map<Digest, byte[]> known,
                                    WriteOptions options, BundleWriter.Delta delta, Optional<BundleVolume> volume) {
        Path target = out.toAbsolutePath();
        dev.airlock.io.OutputFiles.requireReplaceable(out, "output");
        dev.airlock.io.OutputFiles.requireReplaceable(target.resolveSibling(target.getFileName() + ".sha256"), "checksum file");
        if (options.compress() || target.getFileName().toString().endsWith(".zst")) {
            throw new UsageException("writing bundle " + out + ": a compressed bundle cannot be written in place");
        }
        // the same export resumed: the journal's identity gives the same bundle.json and so the same layout
        Path partial = partialOf(target);
        Path journal = journalOf(target);
        Optional<Journal> earlier = Journal.read(journal).filter(j -> Files.isRegularFile(partial));
        // each image's graph, when not given, is read from the manifests the caller holds
        BlobOpener manifests = d -> {
            byte[] b = known.get(d.digest());
            if (b == null) {
                throw new java.io.IOException("manifest " + d.digest() + " is not among the known content");
            }
            return new java.io.ByteArrayInputStream(b);
        };
        WriteOptions opts = options.bundleId().isPresent() || earlier.isEmpty() ? options
                : options.withIdentity(earlier.get().bundleId(), earlier.get().created());
        if (opts.bundleId().isEmpty()) {
            opts = opts.withIdentity(UUID.randomUUID(), Instant.now());
        }
        BundleWriter.Prepared prepared = BundleWriter.prepare(out, images, blobsInOrder, manifests, opts, delta, volume);
        Layout layout = Layout.of(prepared);
        boolean resume = earlier.isPresent() && earlier.get().layout().equals(layout.key());
        if (!resume && earlier.isPresent() && options.bundleId().isEmpty()) {
            // another export's partial file: this one starts afresh, with an identity of its own
            opts = options.withIdentity(UUID.randomUUID(), Instant.now());
            prepared = BundleWriter.prepare(out, images, blobsInOrder, manifests, opts, delta, volume);
            layout = Layout.of(prepared);
        }
        try {
            // one export per output at a time: the partial file is locked while it is written
            FileChannel ch = FileChannel.open(partial, StandardOpenOption.CREATE, StandardOpenOption.READ, StandardOpenOption.WRITE,
                    java.nio.file.LinkOption.NOFOLLOW_LINKS);
            java.nio.channels.FileLock lock;
            try {
                lock = ch.tryLock();
            } catch (java.nio.channels.OverlappingFileLockException e) {
                lock = null;
            }
            if (lock == null) {
                ch.close();
                throw new LocalIoException("writing bundle " + out + ": another export is writing " + partial + " right now");
            }
            if (!resume) {
                Files.deleteIfExists(journal);
                ch.truncate(0);
            }
            long needed = layout.total();
            if (resume) {
                for (Digest d : Set.copyOf(earlier.get().placed())) {
                    Descriptor b = prepared.blobs().get(d);
                    needed -= b != null ? b.size() : 0;
                }
            }
            long free = Files.getFileStore(target.getParent()).getUsableSpace();
            if (free < needed) {
                ch.close();
                if (!resume) {
                    Files.deleteIfExists(partial); // nothing left behind on a disk that is too small
                }
                throw new LocalIoException("writing bundle " + out + ": No space left on device: the bundle needs " + needed + " more bytes, "
                        + free + " are free in " + target.getParent());
            }
            FileChannel jr = null;
            try {
                layout.writeSkeleton(ch);
                Set<Digest> resumed = new java.util.HashSet<>();
                Set<Digest> inPlace = new java.util.HashSet<>();
                if (resume) {
                    for (Digest d : earlier.get().placed()) {
                        Descriptor b = prepared.blobs().get(d);
                        if (b != null && !known.containsKey(d) && holds(ch, layout.offsets().get(d), b)) {
                            resumed.add(d);
                        }
                    }
                }
                for (Map.Entry<Digest, byte[]> k : known.entrySet()) {
                    Long at = layout.offsets().get(k.getKey());
                    if (at == null) {
                        continue;
                    }
                    Descriptor b = prepared.blobs().get(k.getKey());
                    if (b.size() != k.getValue().length || !Digest.sha256(k.getValue()).equals(b.digest())) {
                        throw new InternalException("known content of " + b.digest() + " does not match its descriptor", null);
                    }
                    writeFully(ch, ByteBuffer.wrap(k.getValue()), at);
                    inPlace.add(k.getKey());
                }
                jr = FileChannel.open(journal, StandardOpenOption.CREATE, StandardOpenOption.WRITE, StandardOpenOption.APPEND,
                        java.nio.file.LinkOption.NOFOLLOW_LINKS);
                if (!resume) {
                    String head = JOURNAL_MAGIC + " " + opts.bundleId().get() + " " + opts.created().get() + " " + layout.key() + "\n";
                    writeFully(jr, ByteBuffer.wrap(head.getBytes(StandardCharsets.US_ASCII)), -1);
                }
                inPlace.addAll(resumed);
                PlacedBundle b = new PlacedBundle(target, images, prepared, layout.offsets(), layout.total(), ch, jr, resumed, inPlace);
                b.hasher.start();
                return b;
            } catch (RuntimeException | IOException e) {
                ch.close();
                if (jr != null) {
                    jr.close();
                }
                throw e;
            }
        } catch (IOException e) {
            throw new LocalIoException("writing bundle " + partial + ": " + e.getMessage(), e);
        }
    }

    /** True when the file holds {@code b} at {@code offset} (a journalled blob of an earlier run, checked again). */
    private static boolean holds(FileChannel ch, long offset, Descriptor b) throws IOException {
        MessageDigest md = Digest.newSha256();
        long end = hashRange(ch, md, ByteBuffer.allocate(BUFFER), offset, offset + b.size(), () -> false);
        return end == offset + b.size() && Digest.ofSha256(md.digest()).equals(b.digest());
    }

    /**
     * Feeds {@code ch}'s bytes from {@code from} to {@code to} into {@code md} through {@code buf};
     * returns where it stopped: {@code to}, or earlier at the end of the file or when {@code stop} says so.
     */
    private static long hashRange(FileChannel ch, MessageDigest md, ByteBuffer buf, long from, long to,
                                  java.util.function.BooleanSupplier stop) throws IOException {
        long pos = from;
        while (pos < to && !stop.getAsBoolean()) {
            buf.clear().limit((int) Math.min(buf.capacity(), to - pos));
            int n = ch.read(buf, pos);
            if (n <= 0) {
                break;
            }
            md.update(buf.array(), 0, n);
            pos += n;
        }
        return pos;
    }

    /** The blobs already in place: known content, and journalled blobs of an earlier run that checked out. */
    public Set<Digest> present() {
        return Set.copyOf(placed);
    }

    /** Blobs an earlier run of this export had placed, found intact (not the known content). */
    public Set<Digest> resumed() {
        return resumed;
    }

    /** True when {@code d} is in place. */
    public boolean isPlaced(Digest d) {
        return placed.contains(d);
    }

    /** The bundle's descriptor of blob {@code d}; empty when the bundle does not carry it. */
    public Optional<Descriptor> listed(Digest d) {
        return Optional.ofNullable(blobs.get(d));
    }

    /** The size of the whole bundle file. */
    public long size() {
        return total;
    }

    /** The file being written (for messages). */
    public Path partialFile() {
        return partial;
    }

    /** Where {@code d}'s bytes go: its slice of the file; writes past its size are refused. */
    public BlobRegion region(Descriptor d) {
        Descriptor listed = listed(d);
        BlobRegion slice = BlobRegion.slice(file, offsets.get(listed.digest()), listed.size());
        Filled filled = this.filled.computeIfAbsent(listed.digest(), x -> new Filled());
        return new BlobRegion() {
            @Override
            public int write(ByteBuffer src, long position) throws IOException {
                int n = slice.write(src, position);
                filled.wrote(position, n);
                return n;
            }

            @Override
            public int read(ByteBuffer dst, long position) throws IOException {
                return slice.read(dst, position);
            }

            @Override
            public void clear() throws IOException {
                slice.clear();
                filled.rewritten();
            }
        };
    }

    /** How far each blob's slice is written from its start, for the hasher to follow inside a blob. */
    private final Map<Digest, Filled> filled = new ConcurrentHashMap<>();
    /** Set when bytes the hasher may have read were written again: the file is then hashed again at the end. */
    private volatile boolean rehash;

    /** The contiguous written prefix of one slice; writes past it are held as intervals until the gap closes. */
    private final class Filled {
        private long prefix;
        private final java.util.TreeMap<Long, Long> ahead = new java.util.TreeMap<>();

        synchronized void wrote(long position, int n) {
            if (position < prefix || ahead.floorKey(position) != null && ahead.floorEntry(position).getValue() > position) {
                rehash = true; // written again (a retry): what was hashed may be stale
            }
            if (position > prefix) {
                ahead.merge(position, position + n, Math::max);
                return;
            }
            prefix = Math.max(prefix, position + n);
            while (!ahead.isEmpty() && ahead.firstKey() <= prefix) {
                prefix = Math.max(prefix, ahead.pollFirstEntry().getValue());
            }
        }

        synchronized void rewritten() {
            rehash = true;
            prefix = 0;
            ahead.clear();
        }

        synchronized long prefix() {
            return prefix;
        }
    }

    /**
     * Records that {@code d}'s slice holds its bytes, size and sha256 checked by the caller while
     * they streamed (the file's own sha256 still covers them).
     */
    public void placed(Descriptor d) {
        Descriptor listed = listed(d);
        if (!placed.add(listed.digest())) {
            return;
        }
        String line = listed.digest() + "\n";
        synchronized (journalOut) {
            try {
                writeFully(journalOut, ByteBuffer.wrap(line.getBytes(StandardCharsets.US_ASCII)), -1);
            } catch (IOException e) {
                throw new LocalIoException("writing " + journal + ": " + e.getMessage(), e);
            }
        }
        hasher.advance();
        maybeFlush(listed.size());
    }

    /** Bytes placed since the last background flush started. */
    private long unflushed;
    private java.util.concurrent.CompletableFuture<Void> flush = java.util.concurrent.CompletableFuture.completedFuture(null);

    /**
     * Every {@link #flushEvery} bytes placed, starts writing what is in the file so far to the
     * disk on a background thread (one at a time), so that the sync in {@link #finish} does not
     * wait for the whole bundle (a 1 GiB bundle synced at its end alone took seconds).
     */
    private synchronized void maybeFlush(long bytes) {
        unflushed += bytes;
        if (unflushed >= flushEvery() && flush.isDone()) {
            unflushed = 0;
            flush = java.util.concurrent.CompletableFuture.runAsync(() -> {
                try {
                    file.force(false);
                } catch (IOException e) {
                    throw new java.io.UncheckedIOException(e);
                }
            }, r -> dev.airlock.concurrent.Workers.named("bundle-flush").newThread(r).start());
        }
    }

    /** 64 MiB, or an eighth of a smaller bundle (at least 4 MiB). */
    private long flushEvery() {
        return Math.max(4L << 20, Math.min(64L << 20, total / 8));
    }

    /** Waits for a background flush; its failure is the write's failure. */
    private void awaitFlush() {
        java.util.concurrent.CompletableFuture<Void> f;
        synchronized (this) {
            f = flush;
        }
        try {
            f.join();
        } catch (java.util.concurrent.CompletionException e) {
            Throwable cause = e.getCause() instanceof java.io.UncheckedIOException u ? u.getCause() : e.getCause();
            throw new LocalIoException("writing bundle " + partial + ": " + cause.getMessage(), cause);
        }
    }

    private Descriptor listed(Descriptor d) {
        Descriptor listed = blobs.get(d.digest());
        if (listed == null || listed.size() != d.size()) {
            throw new InternalException("blob " + d.digest() + " (" + d.size() + " bytes) is not part of bundle " + target, null);
        }
        return listed;
    }

    /**
     * Completes the bundle: every blob must be placed; checks the graph as the streaming writer
     * does (configs and manifests read back from the file), waits for the file's sha256, syncs,
     * renames it to its final name, writes {@code NAME.sha256} and removes the journal.
     */
    public WriteResult finish() {
        for (Descriptor d : blobs.values()) {
            if (!placed.contains(d.digest())) {
                throw new InternalException("bundle " + target + ": blob " + d.digest() + " was never written", null);
            }
        }
        GraphChecker graph = new GraphChecker("writing bundle " + target, blobs::containsKey, manifest);
        for (Descriptor d : blobs.values()) {
            if (!GraphChecker.needsContent(d.mediaType())) {
                graph.blob(d);
                continue;
            }
            if (d.size() > Json.MAX_DOCUMENT_BYTES) {
                throw new UsageException("writing bundle " + target + ": " + d.mediaType() + " " + d.digest() + " is " + d.size()
                        + " bytes, over the " + Json.MAX_DOCUMENT_BYTES + "-byte limit for manifests and configs");
            }
            ByteBuffer buf = ByteBuffer.allocate((int) d.size());
            try {
                BlobRegion r = region(d);
                while (buf.hasRemaining() && r.read(buf, buf.position()) > 0) {
                    // reads to the end of the slice
                }
            } catch (IOException e) {
                throw new LocalIoException("reading back " + d.digest() + " from " + partial + ": " + e.getMessage(), e);
            }
            graph.json(d, buf.array());
        }
        graph.finish(images);
        Digest sha = hasher.await();
        if (rehash) {
            sha = hashWhole();
        }
        awaitFlush();
        try {
            file.force(true);
            file.close();
            journalOut.close();
        } catch (IOException e) {
            throw new LocalIoException("writing bundle " + partial + ": " + e.getMessage(), e);
        }
        BundleWriter.moveAtomically(partial, target);
        try {
            Files.deleteIfExists(journal);
        } catch (IOException e) {
            throw new LocalIoException("removing " + journal + ": " + e.getMessage(), e);
        }
        Path sum = BundleWriter.writeChecksumFile(target, sha);
        return new WriteResult(target, sum, sha, total, manifest);
    }

    /** The whole file's sha256, read again from the start (after a blob was written twice). */
    private Digest hashWhole() {
        MessageDigest md = Digest.newSha256();
        try {
            long end = hashRange(file, md, ByteBuffer.allocate(BUFFER), 0, total, () -> false);
            if (end < total) {
                throw new IOException("end of file at " + end + " of " + total);
            }
        } catch (IOException e) {
            throw new LocalIoException("hashing " + partial + ": " + e.getMessage(), e);
        }
        return Digest.ofSha256(md.digest());
    }

    /** Stops: the partial file and its journal stay for a later run (nothing happens after {@link #finish}). */
    @Override
    public void close() {
        hasher.stop();
        try {
            if (file.isOpen()) {
                file.close();
            }
            if (journalOut.isOpen()) {
                journalOut.close();
            }
        } catch (IOException e) {
            // the partial file stays as it is; the journal lists only blobs that were complete
        }
    }

    private static void writeFully(FileChannel ch, ByteBuffer b, long at) throws IOException {
        long pos = at;
        while (b.hasRemaining()) {
            int n = pos < 0 ? ch.write(b) : ch.write(b, pos);
            if (pos >= 0) {
                pos += n;
            }
        }
    }

    /** Where every entry goes: headers and their content before the blobs, each blob's data offset, the total. */
    record Layout(byte[] skeletonHead, Map<Digest, Long> offsets, Map<Long, byte[]> blobHeaders, long total, String key) {

        static Layout of(BundleWriter.Prepared p) {
            ByteArrayOutputStream head = new ByteArrayOutputStream();
            for (Map.Entry<String, byte[]> e : p.head().entrySet()) {
                head.writeBytes(header(e.getKey(), e.getValue().length));
                head.writeBytes(e.getValue());
                head.writeBytes(new byte[pad(e.getValue().length)]);
            }
            long pos = head.size();
            Map<Digest, Long> offsets = new LinkedHashMap<>();
            Map<Long, byte[]> headers = new LinkedHashMap<>();
            MessageDigest key = Digest.newSha256();
            for (Descriptor d : p.blobs().values()) {
                byte[] h = header(BundleLayout.blobPath(d.digest()), d.size());
                headers.put(pos, h);
                pos += h.length;
                offsets.put(d.digest(), pos);
                key.update((d.digest() + " " + d.size() + " " + pos + "\n").getBytes(StandardCharsets.US_ASCII));
                pos += d.size() + pad(d.size());
            }
            pos += BundleWriter.END_RECORDS;
            key.update(Long.toString(pos).getBytes(StandardCharsets.US_ASCII));
            return new Layout(head.toByteArray(), offsets, headers, pos, "sha256:" + HexFormat.of().formatHex(key.digest()));
        }

        /** Writes the head, every blob header and the end records (the blobs' slices and padding stay zero until written). */
        void writeSkeleton(FileChannel ch) throws IOException {
            writeFully(ch, ByteBuffer.wrap(skeletonHead), 0);
            for (Map.Entry<Long, byte[]> h : blobHeaders.entrySet()) {
                writeFully(ch, ByteBuffer.wrap(h.getValue()), h.getKey());
            }
            writeFully(ch, ByteBuffer.allocate(BundleWriter.END_RECORDS), total - BundleWriter.END_RECORDS);
            if (ch.size() > total) {
                ch.truncate(total);
            }
        }

        private static int pad(long size) {
            return (int) ((512 - size % 512) % 512);
        }

        /** The header records (a PAX header first when the size needs one) the streaming writer writes for this entry. */
        static byte[] header(String name, long size) {
            ByteArrayOutputStream b = new ByteArrayOutputStream(1536);
            try {
                TarArchiveOutputStream t = new TarArchiveOutputStream(b, StandardCharsets.UTF_8.name());
                t.setLongFileMode(TarArchiveOutputStream.LONGFILE_POSIX);
                t.setBigNumberMode(TarArchiveOutputStream.BIGNUMBER_POSIX);
                t.putArchiveEntry(BundleWriter.entry(name, size));
                t.flush();
            } catch (IOException e) {
                throw new InternalException("tar header for " + name + ": " + e.getMessage(), e);
            }
            if (b.size() == 0 || b.size() % 512 != 0) {
                throw new InternalException("tar header for " + name + " came out as " + b.size() + " bytes", null);
            }
            return b.toByteArray();
        }
    }

    /** An earlier run's journal: identity, layout key, blobs placed. Unreadable or foreign journals are ignored. */
    record Journal(UUID bundleId, Instant created, String layout, List<Digest> placed) {
        static Optional<Journal> read(Path p) {
            if (!Files.isRegularFile(p)) {
                return Optional.empty();
            }
            try {
                if (Files.size(p) > 64L << 20) {
                    return Optional.empty();
                }
                List<String> lines = Files.readAllLines(p, StandardCharsets.US_ASCII);
                if (lines.isEmpty() || !lines.get(0).startsWith(JOURNAL_MAGIC + " ")) {
                    return Optional.empty();
                }
                String[] f = lines.get(0).substring(JOURNAL_MAGIC.length() + 1).split(" ");
                if (f.length != 3) {
                    return Optional.empty();
                }
                List<Digest> placed = new ArrayList<>();
                for (String line : lines.subList(1, lines.size())) {
                    try {
                        placed.add(Digest.parse(line.trim()));
                    } catch (RuntimeException torn) {
                        // a line cut short by a crash: that blob is fetched again
                    }
                }
                return Optional.of(new Journal(UUID.fromString(f[0]), Instant.parse(f[1]), f[2], placed));
            } catch (IOException | RuntimeException e) {
                return Optional.empty();
            }
        }
    }

    /**
     * Hashes the file from its first byte to its last, in order, on its own thread, as far as the
     * placed blobs allow: the file's sha256 is ready soon after the last blob lands.
     */
    private final class OrderedHasher {
        private final List<Descriptor> order = new ArrayList<>(blobs.values());
        private final Object lock = new Object();
        private final MessageDigest md = Digest.newSha256();
        private Thread thread;
        private volatile boolean stopped;
        private Digest result;
        private Throwable failure;

        void start() {
            thread = dev.airlock.concurrent.Workers.named("bundle-hash").newThread(this::run);
            thread.start();
        }

        void advance() {
            synchronized (lock) {
                lock.notifyAll();
            }
        }

        void stop() {
            stopped = true;
            advance();
        }

        private void run() {
            try {
                ByteBuffer buf = ByteBuffer.allocate(BUFFER);
                long pos = 0;
                for (Descriptor d : order) {
                    long start = offsets.get(d.digest());
                    pos = hash(buf, pos, start);
                    // inside the blob, as far as its slice is written from the start (a big blob is hashed while it arrives)
                    while (!placed.contains(d.digest()) && !stopped) {
                        Filled f = filled.get(d.digest());
                        long upTo = start + (f == null ? 0 : f.prefix());
                        if (upTo > pos) {
                            pos = hash(buf, pos, upTo);
                            continue;
                        }
                        synchronized (lock) {
                            if (!placed.contains(d.digest()) && !stopped) {
                                lock.wait(20);
                            }
                        }
                    }
                    if (stopped) {
                        return;
                    }
                }
                hash(buf, pos, total);
                synchronized (lock) {
                    result = Digest.ofSha256(md.digest());
                    lock.notifyAll();
                }
            } catch (Throwable t) {
                synchronized (lock) {
                    failure = t;
                    lock.notifyAll();
                }
            }
        }

        private long hash(ByteBuffer buf, long from, long to) throws IOException {
            long pos = hashRange(file, md, buf, from, to, () -> stopped);
            if (pos < to && !stopped) {
                throw new IOException("end of file at " + pos + " of " + total);
            }
            return pos;
        }

        Digest await() {
            synchronized (lock) {
                while (result == null && failure == null) {
                    try {
                        lock.wait();
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                        throw new LocalIoException("interrupted while hashing " + partial);
                    }
                }
            }
            if (failure != null) {
                throw new LocalIoException("hashing " + partial + ": " + failure.getMessage(), failure);
            }
            return result;
        }
    }
}
