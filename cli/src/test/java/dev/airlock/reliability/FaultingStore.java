package dev.airlock.reliability;

import dev.airlock.model.Descriptor;
import dev.airlock.model.RawManifest;
import dev.airlock.store.ImageStore;
import java.io.FilterInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A real registry store with a trigger at one chosen point of the write sequence (a byte count of
 * blob uploads, the n-th manifest pushed by digest, the n-th tag), where a test kills or damages
 * something. The trigger fires once; everything else is passed through unchanged.
 */
final class FaultingStore extends dev.airlock.testkit.ForwardingStore {
    enum Point { BLOB_BYTES, MANIFEST, TAG }

    private final Point point;
    private final long at;
    private final Runnable action;
    private final AtomicLong blobBytes = new AtomicLong();
    private final AtomicInteger manifests = new AtomicInteger();
    private final AtomicInteger tags = new AtomicInteger();
    private final AtomicBoolean fired = new AtomicBoolean();

    /**
     * @param at for BLOB_BYTES: fire once this many bytes of uploads have been read; for MANIFEST
     *           and TAG: fire just before the at-th (1-based) push of that kind is sent
     */
    FaultingStore(ImageStore delegate, Point point, long at, Runnable action) {
        super(delegate);
        this.point = point;
        this.at = at;
        this.action = action;
    }

    boolean fired() {
        return fired.get();
    }

    private void maybeFire(Point p, long value) {
        if (p == point && value >= at && !fired.getAndSet(true)) {
            action.run();
        }
    }

    @Override
    public void pushManifest(String repository, String reference, RawManifest manifest) {
        if (reference.startsWith("sha256:")) {
            maybeFire(Point.MANIFEST, manifests.incrementAndGet());
        } else {
            maybeFire(Point.TAG, tags.incrementAndGet());
        }
        delegate.pushManifest(repository, reference, manifest);
    }

    @Override
    public void pushBlob(String repository, Descriptor blob, BlobContent content) {
        delegate.pushBlob(repository, blob, () -> new FilterInputStream(content.open()) {
            @Override
            public int read() throws IOException {
                int c = super.read();
                if (c >= 0) {
                    maybeFire(Point.BLOB_BYTES, blobBytes.incrementAndGet());
                }
                return c;
            }

            @Override
            public int read(byte[] b, int off, int len) throws IOException {
                int n = super.read(b, off, len);
                if (n > 0) {
                    maybeFire(Point.BLOB_BYTES, blobBytes.addAndGet(n));
                }
                return n;
            }
        });
    }

}
