package dev.airlock.store;

/**
 * A place that is both read and written: a registry, an OCI layout directory. The copy engine's
 * targets are stores, because every manifest pushed is read back by digest before anything is
 * tagged (a registry may keep an old, damaged file under that digest).
 */
public interface ImageStore extends ImageSource, ImageDestination {

    @Override
    String describe();

    @Override
    default void close() {
    }
}
