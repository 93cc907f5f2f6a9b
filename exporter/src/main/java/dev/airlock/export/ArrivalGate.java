package dev.airlock.export;

import dev.airlock.error.AirlockException;
import dev.airlock.error.InternalException;
import dev.airlock.error.LocalIoException;
import dev.airlock.model.Descriptor;
import dev.airlock.model.Digest;
import dev.airlock.model.RawManifest;
import dev.airlock.layout.DirectoryStore;
import dev.airlock.store.ImageStore;
import java.io.InputStream;
import java.util.Collection;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;

/**
 * The cache as the copy engine's target, telling the bundle writer when each blob has arrived, so
 * that the bundle is written while the fetch still runs (network and disk overlap; the writer
 * trails the fetch in dependency order). A blob counts as arrived when the engine found it in the
 * cache or finished storing it (stores rename complete files into place, so both mean complete).
 * {@link #abort} makes every later engine call fail, to stop the fetch when writing failed.
 */
final class ArrivalGate implements ImageStore {
    private final DirectoryStore cache;
    private final Map<Digest, CompletableFuture<Void>> arrivals = new ConcurrentHashMap<>();
    /** Blobs this run fetched, verified and renamed into the cache (not found there from earlier runs). */
    private final Set<Digest> fetchedNow = ConcurrentHashMap.newKeySet();
    private volatile AirlockException aborted;

    ArrivalGate(DirectoryStore cache, Collection<Descriptor> expected) {
        this.cache = cache;
        expected.forEach(d -> arrivals.put(d.digest(), new CompletableFuture<>()));
    }

    /** Blocks until {@code d} is in the cache, then opens it; rethrows the failure that kept it away. */
    InputStream open(Descriptor d) {
        CompletableFuture<Void> f = arrivals.get(d.digest());
        if (f == null) {
            throw new InternalException("blob " + d.digest() + " is not part of the export plan", null);
        }
        try {
            f.get();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new LocalIoException("interrupted while waiting for blob " + d.digest());
        } catch (ExecutionException e) {
            throw e.getCause() instanceof AirlockException a ? a : new InternalException(String.valueOf(e.getCause()), e.getCause());
        }
        if (fetchedAndVerified(d)) {
            try {
                return java.nio.file.Files.newInputStream(cache.blobPath(d.digest()));
            } catch (java.io.IOException e) {
                throw new LocalIoException("opening " + cache.blobPath(d.digest()) + ": " + e.getMessage(), e);
            }
        }
        return cache.openBlob("", d);
    }

    /**
     * True when this run stored {@code d} in the cache itself, from a stream that verified size
     * and sha256 before the cache renamed the file into place: the writer need not hash it again.
     * Blobs found in the cache (earlier runs) answer false and are verified while written.
     */
    boolean fetchedAndVerified(Descriptor d) {
        return fetchedNow.contains(d.digest());
    }

    /**
     * The writer's opener: waits for each blob, then reads the cache file (plain for blobs this run
     * verified, see {@link #fetchedAndVerified}; verifying for cache hits).
     */
    dev.airlock.bundle.BlobOpener opener() {
        return new dev.airlock.bundle.BlobOpener() {
            @Override
            public InputStream open(Descriptor blob) throws java.io.IOException {
                return ArrivalGate.this.open(blob);
            }

            @Override
            public boolean alreadyVerified(Descriptor blob) {
                return fetchedAndVerified(blob);
            }
        };
    }

    /** Fails every blob that has not arrived with {@code why} (the fetch ended without it). */
    void failMissing(AirlockException why) {
        arrivals.values().forEach(f -> f.completeExceptionally(why));
    }

    /** Makes the engine's further calls fail with {@code why}. */
    void abort(AirlockException why) {
        aborted = why;
    }

    private void arrived(Digest d) {
        CompletableFuture<Void> f = arrivals.get(d);
        if (f != null) {
            f.complete(null);
        }
    }

    private void checkAborted() {
        AirlockException a = aborted;
        if (a != null) {
            throw new LocalIoException("fetch stopped: " + a.getMessage(), a);
        }
    }

    @Override
    public String describe() {
        return cache.describe();
    }

    @Override
    public RawManifest fetchManifest(String repository, String reference) {
        checkAborted();
        return cache.fetchManifest(repository, reference);
    }

    @Override
    public Optional<Descriptor> headManifest(String repository, String reference) {
        checkAborted();
        Optional<Descriptor> d = cache.headManifest(repository, reference);
        d.ifPresent(x -> arrived(x.digest()));
        return d;
    }

    @Override
    public void pushManifest(String repository, String reference, RawManifest manifest) {
        checkAborted();
        cache.pushManifest(repository, reference, manifest);
        arrived(manifest.digest());
    }

    @Override
    public Optional<Long> blobSize(String repository, Digest digest) {
        checkAborted();
        Optional<Long> size = cache.blobSize(repository, digest);
        size.ifPresent(s -> arrived(digest));
        return size;
    }

    @Override
    public InputStream openBlob(String repository, Descriptor blob) {
        checkAborted();
        return cache.openBlob(repository, blob);
    }

    @Override
    public void pushBlob(String repository, Descriptor blob, BlobContent content) {
        checkAborted();
        // DirectoryStore.pushBlob returns at once when the file exists (an earlier run's blob, to be
        // verified by the writer); otherwise it renames the file into place only after the content
        // verified size and digest (its own check, or the self-verifying source stream's).
        boolean present = java.nio.file.Files.exists(cache.blobPath(blob.digest()));
        cache.pushBlob(repository, blob, content);
        if (!present) {
            fetchedNow.add(blob.digest());
        }
        arrived(blob.digest());
    }
}
