package dev.airlock.testkit;

import dev.airlock.model.Descriptor;
import dev.airlock.model.Digest;
import dev.airlock.model.RawManifest;
import dev.airlock.store.ImageStore;
import java.io.InputStream;
import java.util.Optional;

/**
 * Passes every call, mounts included, to a real store; tests override the calls they watch or
 * disturb. {@link #close()} closes the delegate unless a subclass says otherwise.
 */
public abstract class ForwardingStore implements ImageStore {
    protected final ImageStore delegate;

    protected ForwardingStore(ImageStore delegate) {
        this.delegate = delegate;
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
        return delegate.openBlob(repository, blob);
    }

    @Override
    public void pushBlob(String repository, Descriptor blob, BlobContent content) {
        delegate.pushBlob(repository, blob, content);
    }

    @Override
    public boolean mountBlob(String repository, Descriptor blob, String fromRepository) {
        return delegate.mountBlob(repository, blob, fromRepository);
    }

    @Override
    public void close() {
        delegate.close();
    }
}
