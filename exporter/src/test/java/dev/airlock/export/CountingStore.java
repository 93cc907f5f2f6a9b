package dev.airlock.export;

import dev.airlock.model.Descriptor;
import dev.airlock.model.Digest;
import dev.airlock.store.ImageStore;
import java.io.InputStream;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

/** Passes every call to a real store and records which blobs were opened (GETs). */
final class CountingStore extends dev.airlock.testkit.ForwardingStore {
    final List<Descriptor> opened = new CopyOnWriteArrayList<>();
    /** Called with the number of layers (non-config blobs) opened so far, before the delegate is asked. */
    volatile java.util.function.IntConsumer onLayerOpen = n -> { };

    CountingStore(ImageStore delegate) {
        super(delegate);
    }

    /** Blobs opened that are not image configs (the planner reads configs; layers come only in the fetch phase). */
    List<Digest> layersOpened() {
        return opened.stream().filter(d -> !d.mediaType().isImageConfig()).map(Descriptor::digest).toList();
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
    public void close() {
        // the test owns the delegate
    }
}
