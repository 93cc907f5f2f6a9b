package dev.airlock.bundle;

import dev.airlock.concurrent.Workers;
import dev.airlock.model.RawManifest;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.github.luben.zstd.ZstdOutputStream;
import dev.airlock.error.LocalIoException;
import dev.airlock.error.UsageException;
import dev.airlock.io.VerifyingInputStream;
import dev.airlock.model.Descriptor;
import dev.airlock.model.Digest;
import dev.airlock.model.Json;
import dev.airlock.model.MediaType;
import dev.airlock.progress.ProgressListener;
import dev.airlock.sign.Signer;
import java.io.BufferedOutputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.security.MessageDigest;
import java.security.SecureRandom;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HexFormat;
import dev.airlock.io.TempFiles;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.UUID;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveOutputStream;

/**
 * Writes a bundle (format v1, see docs/bundle-format.md): a POSIX tar, zstd-compressed when the
 * output name ends in {@code .zst} or {@link WriteOptions#compress()} says so.
 *
 * <p>Entry order: {@code oci-layout}, {@code airlock/bundle.json}, the signature files
 * ({@code .sig}, {@code .p7s}, {@code signer.pub.pem}), {@code index.json}, then
 * {@code blobs/sha256/<hex>} in exactly the order given. That order must be a dependency order:
 * a manifest's config and layers, and an index's child manifests, come before it; the writer
 * checks this (and every index entry's platform against its child's config) while writing and
 * refuses a violation. Every blob is streamed from {@link BlobOpener} once and verified against
 * its descriptor while copied.
 *
 * <p>Entries carry mtime 0, uid/gid 0, mode 0644 and no user/group names, and bundle.json and
 * the signatures are deterministic, so the same input and {@link WriteOptions#withIdentity} give
 * byte-identical output. The archive is written to a temporary file beside the target, synced
 * and renamed atomically; {@code OUT.sha256} (sha256sum format) is written next to it from a hash
 * computed while writing.
 */
public final class BundleWriter {
    private static final int COPY_BUFFER = 1 << 20;

    private BundleWriter() {
    }

    /**
     * @param out          the bundle file to create or replace
     * @param images       the exported images; each one's descriptor must be among the blobs
     * @param blobsInOrder every blob once, in dependency order
     * @param opener       opens each blob's content
     * @throws UsageException        a bad request: duplicate blobs or images, order violation
     * @throws LocalIoException      reading a blob or writing the bundle failed
     * @throws dev.airlock.error.VerificationException a blob's content differs from its descriptor,
     *                               or an index's platform disagrees with its child's config
     */
    public static WriteResult write(Path out, List<BundleImage> images, List<Descriptor> blobsInOrder, BlobOpener opener,
                                    WriteOptions options, ProgressListener progress) {
        return write(out, images, blobsInOrder, opener, options, progress, Delta.NONE);
    }

    /**
     * What a delta bundle relies on at the target and the receipts it was built against (format
     * v2, see docs/bundle-format.md); {@link #NONE} for a full bundle.
     */
    public record Delta(List<BundleManifest.Required> requires, List<BundleManifest.BasedOn> basedOn) {
        public static final Delta NONE = new Delta(List.of(), List.of());

        public Delta {
            requires = List.copyOf(requires);
            basedOn = List.copyOf(basedOn);
        }
    }

    /**
     * As {@link #write(Path, List, List, BlobOpener, WriteOptions, ProgressListener)}, writing a
     * delta: {@code blobsInOrder} are only the carried blobs, and every carried manifest may
     * reference an item of {@code delta.requires()} instead of an earlier blob. The caller must
     * give {@link WriteOptions#imageGraphs} (each image's carried digests).
     */
    public static WriteResult write(Path out, List<BundleImage> images, List<Descriptor> blobsInOrder, BlobOpener opener,
                                    WriteOptions options, ProgressListener progress, Delta delta) {
        return write(out, images, blobsInOrder, opener, options, progress, delta, Optional.empty());
    }

    /**
     * As {@link #write(Path, List, List, BlobOpener, WriteOptions, ProgressListener, Delta)}, writing
     * one volume of a set (format 3) when {@code volume} is present: {@code delta.requires()} are
     * then what this volume's images need from the other volumes, each naming its volume.
     */
    public static WriteResult write(Path out, List<BundleImage> images, List<Descriptor> blobsInOrder, BlobOpener opener,
                                    WriteOptions options, ProgressListener progress, Delta delta, Optional<BundleVolume> volume) {
        Prepared prepared = prepare(out, images, blobsInOrder, opener, options, delta, volume);
        return write(out, images, prepared, opener, options, progress);
    }

    /** bundle.json, the entries before the blobs, and the blobs: everything known before a blob is read. */
    record Prepared(BundleManifest manifest, Map<String, byte[]> head, Map<Digest, Descriptor> blobs) {
    }

    /**
     * The exact size of the uncompressed tar {@link #write} would write for this input, computed
     * before any blob is read (bundle.json and the signatures are made as they would be, so give
     * {@link WriteOptions#withIdentity} and {@link WriteOptions#imageGraphs}).
     */
    public static long tarSize(List<BundleImage> images, List<Descriptor> blobsInOrder, WriteOptions options, Delta delta,
                               Optional<BundleVolume> volume) {
        if (options.imageGraphs().isEmpty() || options.bundleId().isEmpty() || options.created().isEmpty()) {
            throw new UsageException("sizing a bundle needs each image's graph and a fixed identity (WriteOptions.imageGraphs, withIdentity)");
        }
        Prepared p = prepare(Path.of("bundle.tar"), images, blobsInOrder, null, options, delta, volume);
        long size = 0;
        for (byte[] b : p.head().values()) {
            size += entrySize(b.length);
        }
        for (Descriptor d : p.blobs().values()) {
            size += entrySize(d.size());
        }
        return size + END_RECORDS;
    }

    /** The two zero records that end a tar. */
    static final int END_RECORDS = 1024;
    /** Largest entry size a ustar header holds (octal 11 digits); larger ones get a PAX 'size' header. */
    private static final long USTAR_MAX_SIZE = 077777777777L;

    /** One regular file in the tar: its header, its content padded to 512, and a PAX header when its size needs one. */
    public static long entrySize(long size) {
        long padded = (size + 511) / 512 * 512;
        return 512 + padded + (size > USTAR_MAX_SIZE ? 1024 : 0);
    }

    static Prepared prepare(Path out, List<BundleImage> images, List<Descriptor> blobsInOrder, BlobOpener opener,
                                    WriteOptions options, Delta delta, Optional<BundleVolume> volume) {
        if (images.isEmpty()) {
            throw new UsageException("writing bundle " + out + ": no images given");
        }
        Map<Digest, Descriptor> blobs = new LinkedHashMap<>();
        for (Descriptor d : blobsInOrder) {
            if (!d.digest().algorithm().equals("sha256")) {
                throw new UsageException("writing bundle " + out + ": blob " + d.digest() + " is not sha256");
            }
            Descriptor prev = blobs.putIfAbsent(d.digest(), d);
            if (prev != null) {
                throw new UsageException("writing bundle " + out + ": blob " + d.digest() + " is given twice; give each blob once");
            }
        }
        byte[] indexJson = indexJson(images);
        List<BundleManifest.FileEntry> files = new ArrayList<>(blobs.size() + 2);
        files.add(new BundleManifest.FileEntry(BundleLayout.OCI_LAYOUT, BundleLayout.OCI_LAYOUT_BYTES.length,
                Digest.sha256(BundleLayout.OCI_LAYOUT_BYTES), Optional.empty()));
        files.add(new BundleManifest.FileEntry(BundleLayout.INDEX_JSON, indexJson.length, Digest.sha256(indexJson),
                Optional.of(MediaType.OCI_INDEX)));
        // Every blob lists the images that use it (files[].images, mandatory): given by the caller
        // (the exporter knows its plans), else read from the manifests themselves.
        if (!delta.requires().isEmpty() && options.imageGraphs().isEmpty()) {
            throw new UsageException("writing bundle " + out + ": a delta needs each image's graph (WriteOptions.imageGraphs)");
        }
        Optional<List<Set<Digest>>> graphs = Optional.of(options.imageGraphs().orElseGet(() -> graphsOf(out, images, blobs, opener)));
        if (graphs.get().size() != images.size()) {
            throw new UsageException("writing bundle " + out + ": " + graphs.get().size() + " image graphs given for " + images.size() + " images");
        }
        for (Descriptor d : blobs.values()) {
            List<Integer> users = new ArrayList<>();
            for (int i = 0; i < images.size(); i++) {
                if (graphs.get().get(i).contains(d.digest())) {
                    users.add(i);
                }
            }
            if (users.isEmpty()) {
                throw new UsageException("writing bundle " + out + ": blob " + d.digest() + " is in no image's graph");
            }
            files.add(BundleManifest.FileEntry.ofBlob(d).withImages(users));
        }
        BundleManifest manifest;
        try {
            manifest = BundleManifest.create(options.bundleId().orElseGet(UUID::randomUUID),
                    options.created().orElseGet(Instant::now), options.tool(), images, files, delta.requires(), delta.basedOn(), volume);
        } catch (dev.airlock.error.InvalidContentException e) {
            throw new UsageException("writing bundle " + out + ": " + e.getMessage(), e);
        }
        byte[] bundleJson = manifest.bytes();

        Map<String, byte[]> head = new LinkedHashMap<>();
        head.put(BundleLayout.OCI_LAYOUT, BundleLayout.OCI_LAYOUT_BYTES);
        head.put(BundleLayout.BUNDLE_JSON, bundleJson);
        if (options.signer().isPresent()) {
            Signer s = options.signer().get();
            head.put(BundleLayout.SIGNATURE, s.sign(bundleJson));
            s.cms(bundleJson).ifPresent(p7s -> head.put(BundleLayout.CMS_SIGNATURE, p7s));
            head.put(BundleLayout.SIGNER_KEY, s.publicKeyPem().getBytes(StandardCharsets.US_ASCII));
        }
        head.put(BundleLayout.INDEX_JSON, indexJson);
        return new Prepared(manifest, head, blobs);
    }

    private static WriteResult write(Path out, List<BundleImage> images, Prepared prepared, BlobOpener opener, WriteOptions options,
                                     ProgressListener progress) {
        BundleManifest manifest = prepared.manifest();
        Map<String, byte[]> head = prepared.head();
        Map<Digest, Descriptor> blobs = prepared.blobs();
        Path target = out.toAbsolutePath();
        dev.airlock.io.OutputFiles.requireReplaceable(out, "output");
        dev.airlock.io.OutputFiles.requireReplaceable(target.resolveSibling(target.getFileName() + ".sha256"), "checksum file");
        Path dir = target.getParent();
        boolean zstd = options.compress() || target.getFileName().toString().endsWith(".zst");
        Path tmp = TempFiles.register(dir.resolve("." + target.getFileName() + ".tmp-" + HexFormat.of().formatHex(new SecureRandom().generateSeed(6))));
        long total = manifest.totalBytes();
        progress.begin("writing", total, blobs.size());
        Digest fileSha;
        long fileBytes;
        boolean done = false;
        try (FileChannel ch = FileChannel.open(tmp, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
            HashingChannelStream sink = new HashingChannelStream(ch, HashingChannelStream.flushEvery(total));
            OutputStream body = zstd ? zstdStream(sink, options) : sink;
            TarArchiveOutputStream tar = new TarArchiveOutputStream(new BufferedOutputStream(body, COPY_BUFFER), StandardCharsets.UTF_8.name());
            tar.setLongFileMode(TarArchiveOutputStream.LONGFILE_POSIX);
            tar.setBigNumberMode(TarArchiveOutputStream.BIGNUMBER_POSIX);
            try {
                for (Map.Entry<String, byte[]> e : head.entrySet()) {
                    tar.putArchiveEntry(entry(e.getKey(), e.getValue().length));
                    tar.write(e.getValue());
                    tar.closeArchiveEntry();
                }
                GraphChecker graph = new GraphChecker("writing bundle " + out, blobs::containsKey, manifest);
                byte[] buf = new byte[COPY_BUFFER];
                for (Descriptor d : blobs.values()) {
                    copyBlob(tar, d, opener, graph, buf, progress, out);
                    progress.itemDone(d.digest().shortForm());
                }
                graph.finish(images);
                tar.finish();
                tar.close();
            } catch (IOException e) {
                throw new LocalIoException("writing bundle " + tmp + ": " + e.getMessage(), e);
            }
            sink.awaitFlush();
            ch.force(true);
            fileSha = Digest.ofSha256(sink.sha.digest());
            fileBytes = sink.count;
            done = true;
        } catch (IOException e) {
            throw new LocalIoException("writing bundle " + tmp + ": " + e.getMessage(), e);
        } finally {
            if (!done) {
                TempFiles.delete(tmp); // a failure to delete: the shutdown hook tries again; the original failure matters more
            }
        }
        moveAtomically(tmp, target);
        TempFiles.release(tmp);
        Path sumFile = writeChecksumFile(target, fileSha);
        progress.end();
        return new WriteResult(target, sumFile, fileSha, fileBytes, manifest);
    }

    /** Writes {@code BUNDLE.sha256} (sha256sum format) beside {@code target} through a temporary file, then syncs the directory. */
    static Path writeChecksumFile(Path target, Digest fileSha) {
        Path dir = target.getParent();
        Path sumFile = dir.resolve(target.getFileName() + ".sha256");
        byte[] line = (fileSha.hex() + "  " + target.getFileName() + "\n").getBytes(StandardCharsets.UTF_8);
        Path sumTmp = TempFiles.register(dir.resolve("." + sumFile.getFileName() + ".tmp-" + HexFormat.of().formatHex(new SecureRandom().generateSeed(6))));
        try (FileChannel ch = FileChannel.open(sumTmp, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
            ch.write(ByteBuffer.wrap(line));
            ch.force(true);
        } catch (IOException e) {
            TempFiles.delete(sumTmp);
            throw new LocalIoException("writing " + sumTmp + ": " + e.getMessage(), e);
        }
        moveAtomically(sumTmp, sumFile);
        TempFiles.release(sumTmp);
        syncDirectory(dir);
        return sumFile;
    }

    /** The OCI {@code index.json}: one descriptor per image, annotated with its full source reference. */
    static byte[] indexJson(List<BundleImage> images) {
        ObjectNode root = JsonNodeFactory.instance.objectNode();
        root.put("schemaVersion", 2);
        root.put("mediaType", MediaType.OCI_INDEX.value());
        ArrayNode ms = root.putArray("manifests");
        for (BundleImage i : images) {
            ObjectNode d = Json.descriptor(i.descriptor());
            ms.add(d);
            d.putObject("annotations").put(BundleLayout.REF_NAME, i.source().toString());
        }
        return Json.write(root);
    }

    private static void copyBlob(TarArchiveOutputStream tar, Descriptor d, BlobOpener opener, GraphChecker graph, byte[] buf,
                                 ProgressListener progress, Path out) {
        String what = "blob " + d.digest() + " for bundle " + out;
        boolean keep = GraphChecker.needsContent(d.mediaType()) && d.size() <= Json.MAX_DOCUMENT_BYTES;
        ByteArrayOutputStream kept = keep ? new ByteArrayOutputStream((int) d.size()) : null;
        InputStream raw;
        try {
            raw = opener.open(d);
        } catch (IOException e) {
            throw new LocalIoException("opening " + what + ": " + e.getMessage(), e);
        }
        try (InputStream in = checked(raw, d, keep, opener, what)) {
            try {
                tar.putArchiveEntry(entry(BundleLayout.blobPath(d.digest()), d.size()));
            } catch (IOException e) {
                throw new LocalIoException("writing bundle " + out + ": " + e.getMessage(), e);
            }
            while (true) {
                int n;
                try {
                    n = in.read(buf, 0, buf.length);
                } catch (IOException e) {
                    throw new LocalIoException("reading " + what + ": " + e.getMessage(), e);
                }
                if (n < 0) {
                    break;
                }
                try {
                    tar.write(buf, 0, n);
                } catch (IOException e) {
                    throw new LocalIoException("writing bundle " + out + ": " + e.getMessage(), e);
                }
                if (kept != null) {
                    kept.write(buf, 0, n);
                }
                progress.bytes(n);
            }
            try {
                tar.closeArchiveEntry();
            } catch (IOException e) {
                throw new LocalIoException("writing bundle " + out + ": " + e.getMessage(), e);
            }
        } catch (IOException e) {
            throw new LocalIoException("closing " + what + ": " + e.getMessage(), e);
        }
        if (kept != null) {
            graph.json(d, kept.toByteArray());
        } else if (GraphChecker.needsContent(d.mediaType())) {
            throw new UsageException("writing bundle " + out + ": " + d.mediaType() + " " + d.digest() + " is " + d.size()
                    + " bytes, over the " + Json.MAX_DOCUMENT_BYTES + "-byte limit for manifests and configs");
        } else {
            graph.blob(d);
        }
    }

    /**
     * The blob's content, verified exactly once: manifests and configs (kept, small) and every blob
     * the opener has not verified are hashed, but not a second time when the opener's stream is
     * already a {@link VerifyingInputStream} for the same digest and size; a blob the opener
     * verified in this run ({@link BlobOpener#alreadyVerified}) is only size-checked.
     */
    private static InputStream checked(InputStream raw, Descriptor d, boolean keep, BlobOpener opener, String what) {
        if (raw instanceof VerifyingInputStream v && v.checks(d.digest(), d.size())) {
            return raw;
        }
        if (!keep && opener.alreadyVerified(d)) {
            return VerifyingInputStream.sizeOnly(raw, d.size(), what);
        }
        return new VerifyingInputStream(raw, d.digest(), d.size(), what);
    }

    static TarArchiveEntry entry(String name, long size) {
        TarArchiveEntry e = new TarArchiveEntry(name, TarArchiveEntry.LF_NORMAL, true);
        e.setSize(size);
        e.setModTime(0L);
        e.setMode(0100644);
        e.setUserId(0);
        e.setGroupId(0);
        e.setUserName("");
        e.setGroupName("");
        return e;
    }

    private static OutputStream zstdStream(OutputStream sink, WriteOptions options) throws IOException {
        try {
            ZstdOutputStream z = new ZstdOutputStream(sink, options.zstdLevel());
            if (options.workers() > 0) {
                z.setWorkers(options.workers());
            }
            z.setChecksum(true);
            return z;
        } catch (UnsatisfiedLinkError | NoClassDefFoundError e) {
            throw new LocalIoException("zstd native library could not be loaded (" + e.getMessage()
                    + "); on hosts with a noexec /tmp set -DZstdTempFolder=/some/exec/dir");
        }
    }

    static void moveAtomically(Path from, Path to) {
        try {
            Files.move(from, to, StandardCopyOption.ATOMIC_MOVE);
        } catch (AtomicMoveNotSupportedException e) {
            throw new LocalIoException("renaming " + from + " to " + to + ": atomic rename not supported here", e);
        } catch (IOException e) {
            throw new LocalIoException("renaming " + from + " to " + to + ": " + e.getMessage(), e);
        }
    }

    static void syncDirectory(Path dir) {
        try (FileChannel d = FileChannel.open(dir, StandardOpenOption.READ)) {
            d.force(true);
        } catch (IOException | RuntimeException e) {
            // some file systems cannot open or sync directories; the files themselves were synced
        }
    }

    /**
     * Writes to a channel, hashing and counting every byte; close() leaves the channel open. Every
     * {@link #FLUSH_EVERY} bytes it starts writing the data so far to the disk on a background
     * thread (at most one at a time), so the final fsync does not wait for the whole bundle.
     */
    private static final class HashingChannelStream extends OutputStream {
        static final long FLUSH_EVERY = 64L << 20;
        private final FileChannel ch;
        /**
         * {@link #FLUSH_EVERY}, or an eighth of a smaller bundle (at least 4 MiB): a volume of a
         * set is synced mostly behind the writing too, not all at its end.
         */
        private final long flushEvery;
        private final MessageDigest sha = Digest.newSha256();
        private long count;
        private long flushedAt;
        private java.util.concurrent.CompletableFuture<Void> flush = java.util.concurrent.CompletableFuture.completedFuture(null);

        HashingChannelStream(FileChannel ch, long flushEvery) {
            this.ch = ch;
            this.flushEvery = flushEvery;
        }

        static long flushEvery(long total) {
            return Math.max(4L << 20, Math.min(FLUSH_EVERY, total / 8));
        }

        private void maybeFlush() {
            if (count - flushedAt >= flushEvery && flush.isDone()) {
                flushedAt = count;
                flush = java.util.concurrent.CompletableFuture.runAsync(() -> {
                    try {
                        ch.force(false);
                    } catch (IOException e) {
                        throw new java.io.UncheckedIOException(e);
                    }
                }, r -> Workers.named("bundle-flush").newThread(r).start());
            }
        }

        /** Waits for a background flush; its failure is the write's failure. */
        void awaitFlush() throws IOException {
            try {
                flush.join();
            } catch (java.util.concurrent.CompletionException e) {
                if (e.getCause() instanceof java.io.UncheckedIOException u) {
                    throw u.getCause();
                }
                throw new IOException(String.valueOf(e.getCause()), e.getCause());
            }
        }

        @Override
        public void write(int b) throws IOException {
            write(new byte[] {(byte) b}, 0, 1);
        }

        @Override
        public void write(byte[] b, int off, int len) throws IOException {
            sha.update(b, off, len);
            ByteBuffer buf = ByteBuffer.wrap(b, off, len);
            while (buf.hasRemaining()) {
                ch.write(buf);
            }
            count += len;
            maybeFlush();
        }
    }

    /**
     * Each image's graph (every digest reachable from its top descriptor) read from the manifests
     * and indexes among {@code blobs}. Manifests are small; configs and layers are not opened.
     */
    private static List<Set<Digest>> graphsOf(Path out, List<BundleImage> images, Map<Digest, Descriptor> blobs, BlobOpener opener) {
        List<Set<Digest>> graphs = new ArrayList<>(images.size());
        for (BundleImage img : images) {
            Set<Digest> seen = new java.util.LinkedHashSet<>();
            java.util.ArrayDeque<Descriptor> todo = new java.util.ArrayDeque<>(List.of(img.descriptor()));
            for (BundleArtifact a : img.artifacts()) {
                Descriptor listed = blobs.get(a.digest());
                todo.add(listed != null ? listed : Descriptor.of(a.mediaType(), a.digest(), 0));
            }
            while (!todo.isEmpty()) {
                Descriptor d = todo.pop();
                if (!seen.add(d.digest()) || !d.mediaType().isManifest()) {
                    continue;
                }
                Descriptor listed = blobs.get(d.digest());
                if (listed == null) {
                    throw new UsageException("writing bundle " + out + ": " + img.source() + " references " + d.digest() + ", which is not among the blobs");
                }
                byte[] bytes;
                try (InputStream in = opener.open(listed)) {
                    bytes = in.readNBytes(dev.airlock.model.Json.MAX_DOCUMENT_BYTES + 1);
                } catch (IOException e) {
                    throw new LocalIoException("writing bundle " + out + ": reading manifest " + d.digest() + ": " + e.getMessage(), e);
                }
                RawManifest raw = RawManifest.verified(listed.mediaType(), bytes, d.digest(), "writing bundle " + out + ": manifest " + d.digest());
                // what it references, its subject excepted (an artifact's subject is the image's, or not in the bundle)
                dev.airlock.model.ManifestView view = dev.airlock.model.ManifestView.parse(raw);
                todo.addAll(view instanceof dev.airlock.model.ImageManifest m ? m.blobs() : ((dev.airlock.model.ImageIndex) view).manifests());
            }
            graphs.add(seen);
        }
        return graphs;
    }
}
