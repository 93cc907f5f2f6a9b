package dev.airlock.export;

import dev.airlock.registry.RegistryOptions;
import dev.airlock.registry.RegistryStore;
import dev.airlock.store.ImageStore;

/**
 * Opens the store images of one registry host are read from. The export opens each registry
 * once and closes the stores it opened when it ends.
 */
@FunctionalInterface
public interface SourceStores {
    /** A store for {@code registry} ({@code host[:port]}, {@code docker.io} for Docker Hub). */
    ImageStore open(String registry);

    /** Registries reached with {@code options} (TLS, credentials, retries). */
    static SourceStores registries(RegistryOptions options) {
        return host -> RegistryStore.open(host, options);
    }
}
