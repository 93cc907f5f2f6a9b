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
import java.util.Optional;

/**
 * A {@link PlacedBundle} as the copy engine's target: each blob the engine fetches is written
 * straight into its slice of the bundle file (a registry's ranged requests too, each at its
 * offset), size and sha256 checked while it streams, then journalled. A blob is "present" when it
 * is in place already (a manifest the plan holds, or an interrupted run's blob that checked out)
 * or when the long-lived cache, if one was given, has it: it is then copied from the cache into
 * place, hashed on the way (a cache file may have been damaged since). Blobs fetched are added to
 * that cache afterwards, read back from the bundle file.
 */
final class PlacingStore implements ImageStore {
    private static final int BUFFER = 1 << 20;

    private final PlacedBundle bundle;
    private final Optional<DirectoryStore> cache;

    PlacingStore(PlacedBundle bundle, Optional<DirectoryStore> cache) {
        this.bundle = bundle;
        this.cache = cache;
    }

    @Override
    public String describe() {
        return "bundle " + bundle.partialFile();
    }

    @Override
    public Optional<Descriptor> headManifest(String repository, String reference) {
        Digest d = Digest.parse(reference);
        return bundle.isPlaced(d) ? bundle.listed(d) : Optional.empty();
    }

    @Override
    public void pushManifest(String repository, String reference, RawManifest manifest) {
        if (!bundle.isPlaced(manifest.digest())) {
            // every manifest of the plan is written when the bundle is opened
            throw new InternalException("manifest " + manifest.digest() + " was not written with bundle " + bundle.partialFile(), null);
        }
    }

    @Override
    public Optional<Long> blobSize(String repository, Digest digest) {
        Optional<Descriptor> listed = bundle.listed(digest);
        if (listed.isEmpty()) {
            return Optional.empty();
        }
        if (bundle.isPlaced(digest)) {
            return Optional.of(listed.get().size());
        }
        if (cache.isPresent() && cache.get().blobSize("", digest).filter(s -> s == listed.get().size()).isPresent()) {
            Descriptor d = listed.get();
            try (InputStream in = new VerifyingInputStream(cache.get().openBlob("", d), d.digest(), d.size(),
                    "blob " + d.digest() + " in cache " + cache.get().root())) {
                place(d, in);
            } catch (IOException e) {
                throw new LocalIoException("copying blob " + d.digest() + " from cache " + cache.get().root() + ": " + e.getMessage(), e);
            }
            return Optional.of(d.size());
        }
        return Optional.empty();
    }

    @Override
    public void pushBlob(String repository, Descriptor blob, BlobContent content) {
        if (bundle.isPlaced(blob.digest())) {
            return;
        }
        try {
            if (!content.writeInto(bundle.region(blob), n -> { })) {
                InputStream raw = content.open();
                try (InputStream in = content.verifiesItself() ? raw : new VerifyingInputStream(raw, blob.digest(), blob.size(), "blob " + blob.digest())) {
                    place(blob, in);
                }
            }
        } catch (IOException e) {
            throw new LocalIoException("writing blob " + blob.digest() + " into " + bundle.partialFile() + ": " + e.getMessage(), e);
        }
        bundle.placed(blob);
        cache.ifPresent(c -> c.pushBlob("", blob, BlobContent.selfVerifying(() -> new RegionInputStream(bundle.region(blob), blob.size()))));
    }

    /** Streams {@code in} (which checks size and digest at its end) into the blob's slice, then records it placed. */
    private void place(Descriptor d, InputStream in) throws IOException {
        BlobRegion r = bundle.region(d);
        byte[] buf = new byte[BUFFER];
        long at = 0;
        boolean end = false;
        while (!end) {
            int filled = 0;
            while (filled < buf.length) {
                int n = in.read(buf, filled, buf.length - filled);
                if (n < 0) {
                    end = true;
                    break;
                }
                filled += n;
            }
            ByteBuffer b = ByteBuffer.wrap(buf, 0, filled);
            while (b.hasRemaining()) {
                at += r.write(b, at);
            }
        }
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
    private static final class RegionInputStream extends InputStream {
        private final BlobRegion region;
        private final long size;
        private long pos;

        RegionInputStream(BlobRegion region, long size) {
            this.region = region;
            this.size = size;
        }

        @Override
        public int read() throws IOException {
            byte[] one = new byte[1];
            return read(one, 0, 1) < 0 ? -1 : one[0] & 0xff;
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
