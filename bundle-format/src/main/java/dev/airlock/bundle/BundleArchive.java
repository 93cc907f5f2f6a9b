package dev.airlock.bundle;

import dev.airlock.error.RegistryException;
import dev.airlock.error.UsageException;
import dev.airlock.error.VerificationException;
import dev.airlock.io.VerifyingInputStream;
import dev.airlock.model.Descriptor;
import dev.airlock.model.Digest;
import dev.airlock.model.RawManifest;
import dev.airlock.progress.ProgressListener;
import dev.airlock.sign.SignatureInfo;
import dev.airlock.sign.TrustPolicy;
import dev.airlock.store.ImageSource;
import java.io.BufferedInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * A bundle opened for reading: an {@link ImageSource} (it has no write methods).
 *
 * <p>{@link #open} reads {@code oci-layout}, {@code bundle.json} and the signature files first and
 * checks the signature against the {@link TrustPolicy} before anything else is read. Then:
 * <ul>
 * <li>uncompressed {@code .tar}: every entry is indexed once and checked against bundle.json (names,
 *     order, sizes, nothing unlisted or missing), and the manifests, indexes and configs are read
 *     and graph-checked (dependency order, platforms). Blobs are served by positional reads, safe
 *     for many threads; each read is verified while it streams. Layers are not hashed at open:
 *     {@link BundleVerifier} does that, and {@link #openBlob} verifies on every read.</li>
 * <li>zstd {@code .tar.zst}: only sequential access, once: {@link #stream} gives each blob in
 *     archive (dependency) order as a verified stream, with the same checks done on the way.
 *     The random-access methods throw {@link UsageException}.</li>
 * </ul>
 * The repository argument of the {@link ImageSource} methods is ignored except to resolve tags:
 * a bundle holds each blob once.
 */
public final class BundleArchive implements ImageSource {
    private final Path path;
    private final String where;
    private final EntrySource source;
    private final BundleReading.Head head;
    private final Map<Digest, Long> offsets;
    private boolean streamed;

    private BundleArchive(Path path, String where, EntrySource source, BundleReading.Head head, Map<Digest, Long> offsets) {
        this.path = path;
        this.where = where;
        this.source = source;
        this.head = head;
        this.offsets = offsets;
    }

    /**
     * Opens a bundle, verifying its signature first.
     *
     * @throws VerificationException bad or untrusted signature, malformed or hostile archive
     * @throws dev.airlock.error.LocalIoException the file cannot be read
     */
    public static BundleArchive open(Path bundle, TrustPolicy trust) {
        String where = "bundle " + bundle;
        boolean zstd;
        try (InputStream in = new BufferedInputStream(Files.newInputStream(bundle), 16)) {
            zstd = SequentialSource.isZstd(in);
        } catch (NoSuchFileException e) {
            throw new dev.airlock.error.LocalIoException(where + ": no such file", e);
        } catch (IOException e) {
            throw new dev.airlock.error.LocalIoException(where + ": cannot open: " + e.getMessage(), e);
        }
        if (zstd) {
            SequentialSource src = new SequentialSource(bundle, where);
            try {
                return new BundleArchive(bundle, where, src, BundleReading.readHead(src, trust), Map.of());
            } catch (RuntimeException e) {
                src.close();
                throw e;
            }
        }
        IndexedSource src = new IndexedSource(bundle, where);
        try {
            BundleReading.Head head = BundleReading.readHead(src, trust);
            Map<Digest, Long> offsets = new HashMap<>();
            BundleReading.streamBlobs(src, head, false, null, f -> offsets.put(f.sha256(), src.offset()), ProgressListener.NONE);
            return new BundleArchive(bundle, where, src, head, Map.copyOf(offsets));
        } catch (RuntimeException e) {
            src.close();
            throw e;
        }
    }

    public Path path() {
        return path;
    }

    public BundleManifest manifest() {
        return head.manifest();
    }

    public List<BundleImage> images() {
        return head.manifest().images();
    }

    /** Whether and by whom the bundle is signed (already checked against the trust policy). */
    public SignatureInfo signature() {
        return head.signature();
    }

    /** The exact bytes of index.json. */
    public byte[] indexJson() {
        return head.indexJson().clone();
    }

    /** True for an uncompressed tar (random access); false for zstd (only {@link #stream}). */
    public boolean randomAccess() {
        return !source.compressed();
    }

    /**
     * Gives every blob, in archive order (dependency order), to {@code visitor} as a verified
     * stream. On a compressed bundle this is the one sequential pass and can be called once; it
     * also completes the structural checks (nothing unlisted, nothing missing, graph, platforms).
     */
    public synchronized void stream(EntryVisitor visitor, ProgressListener progress) {
        progress.begin("reading", head.manifest().totalBytes(), head.manifest().files().size() - 2);
        if (source.compressed()) {
            if (streamed) {
                throw new UsageException(where + ": a compressed bundle can be streamed only once; open it again");
            }
            streamed = true;
            BundleReading.streamBlobs(source, head, true, visitor, null, progress);
        } else {
            for (BundleManifest.FileEntry f : head.manifest().files().subList(2, head.manifest().files().size())) {
                InputStream in = openListed(f);
                try {
                    visitor.visit(f, in);
                    in.transferTo(OutputStreamNull.INSTANCE);
                } catch (IOException e) {
                    throw new dev.airlock.error.LocalIoException(where + ": processing " + f.path() + ": " + e.getMessage(), e);
                }
                progress.itemDone(f.path());
            }
        }
        progress.end();
    }

    @Override
    public String describe() {
        return where;
    }

    @Override
    public RawManifest fetchManifest(String repository, String reference) {
        BundleManifest.FileEntry f = resolve(repository, reference)
                .orElseThrow(() -> new RegistryException(where + ": no manifest " + repository + ":" + reference, 404, List.of("MANIFEST_UNKNOWN")));
        if (f.mediaType().isEmpty() || !f.mediaType().get().isManifest()) {
            throw new RegistryException(where + ": " + f.sha256() + " is a " + f.mediaType().map(Object::toString).orElse("file") + ", not a manifest", 404, List.of("MANIFEST_UNKNOWN"));
        }
        byte[] bytes = BundleReading.readVerified(openRaw(f), f.descriptor(), where + ": manifest " + f.sha256());
        return RawManifest.verified(f.mediaType().get(), bytes, f.sha256(), where + ": manifest " + f.sha256());
    }

    public Optional<Descriptor> headManifest(String repository, String reference) {
        return resolve(repository, reference).filter(f -> f.mediaType().isPresent() && f.mediaType().get().isManifest())
                .map(BundleManifest.FileEntry::descriptor);
    }


    public Optional<Long> blobSize(String repository, Digest digest) {
        return head.manifest().blob(digest).map(BundleManifest.FileEntry::size);
    }

    @Override
    public InputStream openBlob(String repository, Descriptor blob) {
        BundleManifest.FileEntry f = head.manifest().blob(blob.digest())
                .orElseThrow(() -> new RegistryException(where + ": no blob " + blob.digest(), 404, List.of("BLOB_UNKNOWN")));
        if (f.size() != blob.size()) {
            throw new VerificationException(where + ": blob " + blob.digest() + " has " + f.size() + " bytes, but " + blob.size() + " were expected");
        }
        return openListed(f);
    }


    /**
     * {@code length} bytes of a blob from {@code offset}, by positional reads, for HTTP Range
     * answers. Not verified (a part cannot be checked against the blob's digest; the client checks
     * the whole). The caller keeps {@code offset + length} within the blob's listed size.
     */
    public InputStream openBlobRange(Digest digest, long offset, long length) {
        BundleManifest.FileEntry f = head.manifest().blob(digest)
                .orElseThrow(() -> new RegistryException(where + ": no blob " + digest, 404, List.of("BLOB_UNKNOWN")));
        if (offset < 0 || length < 0 || offset + length > f.size()) {
            throw new UsageException(where + ": range " + offset + "+" + length + " is outside blob " + digest + " (" + f.size() + " bytes)");
        }
        return openRaw(f, offset, length);
    }

    /**
     * Writes {@code length} bytes of a blob from {@code offset} to {@code target}: positional reads
     * of the tar into {@code buffer} (a direct buffer the caller owns and reuses), one write per
     * buffer-full. Not {@code FileChannel.transferTo} (sendfile): a loopback client reading a
     * socket fed by sendfile copies straight from page-cache pages that are not in any CPU cache;
     * skopeo spent twice the kernel time per read (39 vs 19 us) and 0.8-1 s more CPU per 1 GiB.
     * Not verified, like {@link #openBlobRange}: for content already verified, or partial reads.
     *
     * @return the bytes written (all of them unless the target failed)
     */
    public long transferBlob(Digest digest, long offset, long length, java.nio.channels.WritableByteChannel target,
                             java.nio.ByteBuffer buffer) throws IOException {
        BundleManifest.FileEntry f = head.manifest().blob(digest)
                .orElseThrow(() -> new RegistryException(where + ": no blob " + digest, 404, List.of("BLOB_UNKNOWN")));
        if (offset < 0 || length < 0 || offset + length > f.size()) {
            throw new UsageException(where + ": range " + offset + "+" + length + " is outside blob " + digest + " (" + f.size() + " bytes)");
        }
        if (source.compressed()) {
            throw new UsageException(where + " is zstd-compressed: it can only be read sequentially (stream); decompress it to a .tar for random access");
        }
        java.nio.channels.FileChannel ch = ((IndexedSource) source).channel();
        long start = offsets.get(f.sha256()) + offset;
        long done = 0;
        while (done < length) {
            buffer.clear();
            if (length - done < buffer.capacity()) {
                buffer.limit((int) (length - done));
            }
            int n = ch.read(buffer, start + done);
            if (n <= 0) {
                throw new VerificationException(where + ": blob " + digest + " ends early (the file was truncated)");
            }
            buffer.flip();
            while (buffer.hasRemaining()) {
                target.write(buffer);
            }
            done += n;
        }
        return done;
    }

    @Override
    public void close() {
        source.close();
    }

    private InputStream openListed(BundleManifest.FileEntry f) {
        return new VerifyingInputStream(openRaw(f), f.sha256(), f.size(), where + ": " + f.path());
    }

    private InputStream openRaw(BundleManifest.FileEntry f) {
        return openRaw(f, 0, f.size());
    }

    private InputStream openRaw(BundleManifest.FileEntry f, long from, long length) {
        if (source.compressed()) {
            throw new UsageException(where + " is zstd-compressed: it can only be read sequentially (stream); decompress it to a .tar for random access");
        }
        Long off = offsets.get(f.sha256());
        if (off == null) {
            throw new RegistryException(where + ": no blob " + f.sha256(), 404, List.of("BLOB_UNKNOWN"));
        }
        IndexedSource src = (IndexedSource) source;
        return src.guarded(new IndexedSource.RangeInputStream(src.channel(), off + from, length), f.path());
    }

    private Optional<BundleManifest.FileEntry> resolve(String repository, String reference) {
        if (reference.contains(":")) {
            Digest d;
            try {
                d = Digest.parse(reference);
            } catch (RuntimeException e) {
                return Optional.empty();
            }
            return head.manifest().blob(d);
        }
        for (BundleImage img : images()) {
            boolean repoMatches = img.source().name().equals(repository) || img.source().repository().equals(repository);
            if (repoMatches && img.source().tag().equals(reference)) {
                return head.manifest().blob(img.digest());
            }
        }
        return Optional.empty();
    }

    private static final class OutputStreamNull extends java.io.OutputStream {
        static final OutputStreamNull INSTANCE = new OutputStreamNull();

        @Override
        public void write(int b) {
        }

        @Override
        public void write(byte[] b, int off, int len) {
        }
    }
}
