package dev.airlock.export;

import dev.airlock.model.Descriptor;
import dev.airlock.model.Digest;
import dev.airlock.model.RawManifest;
import dev.airlock.store.ImageStore;
import java.io.InputStream;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CopyOnWriteArrayList;

/** Passes every call to a real store and records which blobs were opened (GETs). */
final class CountingStore implements ImageStore {
    final ImageStore delegate;
    final List<Descriptor> opened = new CopyOnWriteArrayList<>();
    /** Called with the number of layers (non-config blobs) opened so far, before the delegate is asked. */
    volatile java.util.function.IntConsumer onLayerOpen = n -> { };

    CountingStore(ImageStore delegate) {
        this.delegate = delegate;
    }

    /** Blobs opened that are not image configs (the planner reads configs; layers come only in the fetch phase). */
    List<Digest> layersOpened() {
        return opened.stream().filter(d -> !d.mediaType().isImageConfig()).map(Descriptor::digest).toList();
    }

    @Override
    public String describe() {
        return delegate.describe();
    }

    @Override
    public RawManifest fetchManifest(String repository, String reference) {
        return delegate.fetchManifest(repository, reference);
    }

    @Override
    public Optional<Descriptor> headManifest(String repository, String reference) {
        return delegate.headManifest(repository, reference);
    }

    @Override
    public void pushManifest(String repository, String reference, RawManifest manifest) {
        delegate.pushManifest(repository, reference, manifest);
    }

    @Override
    public Optional<Long> blobSize(String repository, Digest digest) {
        return delegate.blobSize(repository, digest);
    }

    @Override
    public InputStream openBlob(String repository, Descriptor blob) {
        opened.add(blob);
        if (!blob.mediaType().isImageConfig()) {
            onLayerOpen.accept(layersOpened().size());
        }
        return delegate.openBlob(repository, blob);
    }

    @Override
    public void pushBlob(String repository, Descriptor blob, BlobContent content) {
        delegate.pushBlob(repository, blob, content);
    }

    @Override
    public void close() {
        // the test owns the delegate
    }
}
