package dev.airlock.bundle;

import dev.airlock.concurrent.Workers;
import dev.airlock.error.AirlockException;
import dev.airlock.error.InternalException;
import dev.airlock.error.LocalIoException;
import dev.airlock.error.Printable;
import dev.airlock.io.VerifyingInputStream;
import dev.airlock.progress.ProgressListener;
import dev.airlock.sign.TrustPolicy;
import java.io.BufferedInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * Verifies a bundle offline, with memory independent of its size (only manifests, indexes and
 * configs, each at most 4 MiB, are held, one at a time, plus one copy buffer per thread).
 *
 * <p>Checks, failing with a one-line {@link dev.airlock.error.VerificationException} (exit code 3)
 * at the first problem: the signature against the trust policy (before anything else is parsed);
 * every entry a regular file with a layout name (no links, devices, directories, absolute or
 * {@code ..} paths), none duplicated; entries in bundle.json's order, none unlisted, none missing;
 * every file's size and sha256; index.json naming exactly the listed images; every descriptor
 * reachable from index.json present before its user with the right size and digest; every index
 * entry's platform equal to its child's config; each image's listed platforms equal to its graph;
 * only zero padding after the end of the archive. Local I/O problems throw
 * {@link dev.airlock.error.LocalIoException}.
 *
 * <p>A zstd bundle is verified in one sequential pass. An uncompressed {@code .tar} is indexed
 * first (headers only) and checked for everything but the layers' content, then the layers are
 * hashed by several threads at once with positional reads (sha256 of one blob is sequential, so
 * the threads share the work blob by blob, largest first).
 */
public final class BundleVerifier {
    private static final int BUFFER = 1 << 20;

    private BundleVerifier() {
    }

    public static VerifyResult verify(Path bundle, TrustPolicy trust, ProgressListener progress) {
        return verify(bundle, trust, progress, Math.min(4, Runtime.getRuntime().availableProcessors()));
    }

    /** As {@link #verify(Path, TrustPolicy, ProgressListener)}, hashing an uncompressed bundle's blobs on {@code threads} threads. */
    public static VerifyResult verify(Path bundle, TrustPolicy trust, ProgressListener progress, int threads) {
        String where = "bundle " + bundle;
        if (threads > 1 && !isZstd(bundle, where)) {
            return verifyIndexed(bundle, where, trust, progress, threads);
        }
        try (SequentialSource src = new SequentialSource(bundle, where)) {
            BundleReading.Head head = BundleReading.readHead(src, trust);
            BundleManifest m = head.manifest();
            progress.begin("verifying", m.totalBytes(), m.files().size());
            BundleReading.streamBlobs(src, head, true, null, null, progress);
            progress.end();
            return new VerifyResult(bundle, m, head.signature(), src.compressed(), m.files().size(), m.totalBytes());
        }
    }

    private static boolean isZstd(Path bundle, String where) {
        try (InputStream in = new BufferedInputStream(Files.newInputStream(bundle), 16)) {
            return SequentialSource.isZstd(in);
        } catch (NoSuchFileException e) {
            throw new LocalIoException(where + ": no such file", e);
        } catch (IOException e) {
            throw new LocalIoException(where + ": cannot open: " + e.getMessage(), e);
        }
    }

    /** A layer (content not needed by the graph checks) and where its data starts in the file. */
    private record Placed(BundleManifest.FileEntry file, long offset) {
    }

    private static VerifyResult verifyIndexed(Path bundle, String where, TrustPolicy trust, ProgressListener progress, int threads) {
        try (IndexedSource src = new IndexedSource(bundle, where)) {
            BundleReading.Head head = BundleReading.readHead(src, trust);
            BundleManifest m = head.manifest();
            progress.begin("verifying", m.totalBytes(), m.files().size());
            List<Placed> layers = new ArrayList<>();
            Set<String> deferred = new HashSet<>();
            // Structure first: names, order, sizes, nothing unlisted or missing, manifests/indexes/
            // configs read, verified and graph-checked, the end of the archive; layers only placed.
            BundleReading.streamBlobs(src, head, false, null, f -> {
                if (!GraphChecker.needsContent(f.descriptor().mediaType())) {
                    layers.add(new Placed(f, src.offset()));
                    deferred.add(f.path());
                }
            }, new ProgressListener() {
                @Override
                public void bytes(long delta) {
                    progress.bytes(delta);
                }

                @Override
                public void itemDone(String item) {
                    if (!deferred.contains(item)) {
                        progress.itemDone(item);
                    }
                }
            });
            hashAll(bundle, src, layers, progress, threads);
            progress.end();
            return new VerifyResult(bundle, m, head.signature(), false, m.files().size(), m.totalBytes());
        }
    }

    /** Hashes every layer on {@code threads} threads; throws the failure of the first failing layer in archive order. */
    private static void hashAll(Path bundle, IndexedSource src, List<Placed> layers, ProgressListener progress, int threads) {
        List<Placed> bySize = new ArrayList<>(layers);
        bySize.sort(Comparator.comparingLong((Placed p) -> p.file().size()).reversed());
        AtomicBoolean stop = new AtomicBoolean();
        ExecutorService pool = Executors.newFixedThreadPool(Math.max(1, Math.min(threads, layers.size())), Workers.named("verify"));
        List<Future<?>> futures = new ArrayList<>();
        try {
            for (Placed p : bySize) {
                futures.add(pool.submit(() -> {
                    if (!stop.get()) {
                        try {
                            hash(bundle, src, p, progress);
                        } catch (RuntimeException e) {
                            stop.set(true);
                            throw e;
                        }
                    }
                    return null;
                }));
            }
            AirlockException first = null;
            int firstIndex = Integer.MAX_VALUE;
            for (int i = 0; i < bySize.size(); i++) {
                try {
                    futures.get(i).get();
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    throw new LocalIoException(src.where + ": interrupted while verifying");
                } catch (ExecutionException e) {
                    int at = layers.indexOf(bySize.get(i));
                    if (at < firstIndex) {
                        firstIndex = at;
                        first = e.getCause() instanceof AirlockException a ? a : new InternalException(String.valueOf(e.getCause()), e.getCause());
                    }
                }
            }
            if (first != null) {
                throw first;
            }
        } finally {
            pool.shutdownNow();
        }
    }

    /** Reads one layer with positional reads on its own channel (own read-ahead) and checks size and sha256. */
    private static void hash(Path bundle, IndexedSource src, Placed p, ProgressListener progress) {
        BundleManifest.FileEntry f = p.file();
        String what = src.where + ": " + f.path();
        try (FileChannel ch = FileChannel.open(bundle, StandardOpenOption.READ)) {
            InputStream raw = src.guarded(new IndexedSource.RangeInputStream(ch, p.offset(), f.size()), Printable.of(f.path()));
            try (VerifyingInputStream in = new VerifyingInputStream(raw, f.sha256(), f.size(), what)) {
                byte[] buf = new byte[BUFFER];
                int n;
                // the range stream ends at the listed size; the verifying stream checks count and digest at that end
                while ((n = in.read(buf, 0, buf.length)) >= 0) {
                    progress.bytes(n);
                }
            }
        } catch (IOException e) {
            throw new LocalIoException(what + ": " + e.getMessage(), e);
        }
        progress.itemDone(f.path());
    }
}
