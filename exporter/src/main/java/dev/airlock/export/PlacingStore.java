package dev.airlock.export;

import dev.airlock.bundle.PlacedBundle;
import dev.airlock.error.DigestMismatchException;
import dev.airlock.error.InternalException;
import dev.airlock.error.LocalIoException;
import dev.airlock.io.BlobRegion;
import dev.airlock.io.VerifyingInputStream;
import dev.airlock.layout.DirectoryStore;
import dev.airlock.model.Descriptor;
import dev.airlock.model.Digest;
import dev.airlock.model.RawManifest;
import dev.airlock.store.ImageStore;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * {@link PlacedBundle}s (one bundle, or the volumes of a set) as the copy engine's target: each
 * blob the engine fetches is written straight into its slice of the bundle file that carries it (a registry's ranged requests too, each at its
 * offset), size and sha256 checked while it streams, then journalled. A blob is "present" when it
 * is in place already (a manifest the plan holds, or an interrupted run's blob that checked out)
 * or when the long-lived cache, if one was given, has it: it is then copied from the cache into
 * place, hashed on the way (a cache file may have been damaged since). Blobs fetched are added to
 * that cache afterwards, read back from the bundle file. Standalone volumes that repeat a blob get
 * a copy of the bytes already checked in the first.
 */
final class PlacingStore implements ImageStore {
    private static final int BUFFER = 1 << 20;

    /** Every bundle being written (one, or the volumes of a set); a blob goes into each that carries it. */
    private final List<PlacedBundle> bundles;
    private final Optional<DirectoryStore> cache;

    PlacingStore(List<PlacedBundle> bundles, Optional<DirectoryStore> cache) {
        this.bundles = List.copyOf(bundles);
        this.cache = cache;
    }

    @Override
    public String describe() {
        return "bundle " + bundles.get(0).partialFile() + (bundles.size() > 1 ? " and " + (bundles.size() - 1) + " more volumes" : "");
    }

    /** The bundles that carry {@code d}. */
    private List<PlacedBundle> carrying(Digest d) {
        List<PlacedBundle> out = new ArrayList<>(1);
        for (PlacedBundle b : bundles) {
            if (b.listed(d).isPresent()) {
                out.add(b);
            }
        }
        return out;
    }

    private static boolean placedInAll(List<PlacedBundle> in, Digest d) {
        return !in.isEmpty() && in.stream().allMatch(b -> b.isPlaced(d));
    }

    @Override
    public Optional<Descriptor> headManifest(String repository, String reference) {
        Digest d = Digest.parse(reference);
        List<PlacedBundle> in = carrying(d);
        return placedInAll(in, d) ? in.get(0).listed(d) : Optional.empty();
    }

    @Override
    public void pushManifest(String repository, String reference, RawManifest manifest) {
        if (!placedInAll(carrying(manifest.digest()), manifest.digest())) {
            // every manifest of the plan is written when its bundles are opened
            throw new InternalException("manifest " + manifest.digest() + " was not written with " + describe(), null);
        }
    }

    @Override
    public Optional<Long> blobSize(String repository, Digest digest) {
        List<PlacedBundle> in = carrying(digest);
        if (in.isEmpty()) {
            return Optional.empty();
        }
        Descriptor d = in.get(0).listed(digest).orElseThrow();
        if (placedInAll(in, digest)) {
            return Optional.of(d.size());
        }
        Optional<PlacedBundle> has = in.stream().filter(b -> b.isPlaced(digest)).findFirst();
        if (has.isPresent()) {
            // an interrupted run placed it in one volume: the others take a copy of those checked bytes
            copyToTheOthers(d, has.get(), in);
            return Optional.of(d.size());
        }
        if (cache.isPresent() && cache.get().blobSize("", digest).filter(s -> s == d.size()).isPresent()) {
            try (InputStream raw = cache.get().openBlob("", d);
                 InputStream in0 = new VerifyingInputStream(raw, d.digest(), d.size(), "blob " + d.digest() + " in cache " + cache.get().root())) {
                place(in.get(0), d, in0);
            } catch (IOException e) {
                throw new LocalIoException("copying blob " + d.digest() + " from cache " + cache.get().root() + ": " + e.getMessage(), e);
            }
            copyToTheOthers(d, in.get(0), in);
            return Optional.of(d.size());
        }
        return Optional.empty();
    }

    @Override
    public void pushBlob(String repository, Descriptor blob, BlobContent content) {
        List<PlacedBundle> in = carrying(blob.digest());
        if (in.isEmpty()) {
            throw new InternalException("blob " + blob.digest() + " is in none of " + describe(), null);
        }
        if (placedInAll(in, blob.digest())) {
            return;
        }
        PlacedBundle first = in.get(0);
        try {
            if (content.writeInto(first.region(blob), n -> { })) {
                first.placed(blob);
            } else {
                InputStream raw = content.open();
                try (InputStream s = content.verifiesItself() ? raw : new VerifyingInputStream(raw, blob.digest(), blob.size(), "blob " + blob.digest())) {
                    place(first, blob, s);
                }
            }
        } catch (IOException e) {
            throw new LocalIoException("writing blob " + blob.digest() + " into " + first.partialFile() + ": " + e.getMessage(), e);
        }
        copyToTheOthers(blob, first, in);
        cache.ifPresent(c -> c.pushBlob("", blob, BlobContent.selfVerifying(() -> new RegionInputStream(first.region(blob), blob.size()))));
    }

    /** Standalone volumes repeat a blob: the bundles still lacking it get a copy of the checked bytes in {@code from}. */
    private void copyToTheOthers(Descriptor d, PlacedBundle from, List<PlacedBundle> in) {
        for (PlacedBundle b : in) {
            if (b == from || b.isPlaced(d.digest())) {
                continue;
            }
            try (InputStream s = new RegionInputStream(from.region(d), d.size())) {
                place(b, d, s);
            } catch (IOException e) {
                throw new LocalIoException("copying blob " + d.digest() + " into " + b.partialFile() + ": " + e.getMessage(), e);
            }
        }
    }

    /** Streams {@code in} (checked bytes, or a stream that checks size and digest at its end) into the blob's slice, then records it placed. */
    private static void place(PlacedBundle bundle, Descriptor d, InputStream in) throws IOException {
        BlobRegion r = bundle.region(d);
        byte[] buf = new byte[BUFFER];
        long at = 0;
        int filled;
        do {
            filled = dev.airlock.io.Blocks.fill(in, buf);
            ByteBuffer b = ByteBuffer.wrap(buf, 0, filled);
            while (b.hasRemaining()) {
                at += r.write(b, at);
            }
        } while (filled == buf.length);
        if (at != d.size()) {
            throw new DigestMismatchException("blob " + d.digest() + ": got " + at + " bytes, expected " + d.size());
        }
        bundle.placed(d);
    }

    @Override
    public RawManifest fetchManifest(String repository, String reference) {
        throw new InternalException("the bundle being written is not read as a source", null);
    }

    @Override
    public InputStream openBlob(String repository, Descriptor blob) {
        throw new InternalException("the bundle being written is not read as a source", null);
    }

    /** A blob's slice of the bundle file read as a stream (to add it to the cache). */
    private static final class RegionInputStream extends dev.airlock.io.BulkInputStream {
        private final BlobRegion region;
        private final long size;
        private long pos;

        RegionInputStream(BlobRegion region, long size) {
            this.region = region;
            this.size = size;
        }

        @Override
        public int read(byte[] b, int off, int len) throws IOException {
            if (pos >= size) {
                return -1;
            }
            int n = region.read(ByteBuffer.wrap(b, off, (int) Math.min(len, size - pos)), pos);
            if (n > 0) {
                pos += n;
            }
            return n;
        }
    }
}
