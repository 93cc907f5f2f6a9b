package dev.airlock.export.dockerarchive;

import dev.airlock.error.LocalIoException;
import dev.airlock.error.RegistryException;
import dev.airlock.io.VerifyingInputStream;
import dev.airlock.model.Descriptor;
import dev.airlock.model.Digest;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;
import java.util.stream.Stream;

/**
 * A content-addressed scratch directory ({@code sha256/<hex>}) of the blobs the docker-archive
 * source produced: compressed layers and configs. Blobs are written to a temp file, named by the
 * digest computed while writing, and moved into place atomically; readers always get a stream
 * verified against the descriptor. The directory is deleted on {@link #close()}.
 */
final class BlobDir implements AutoCloseable {
    private final Path root;

    BlobDir(Path parent) {
        try {
            Files.createDirectories(parent);
            this.root = dev.airlock.io.TempFiles.register(Files.createTempDirectory(parent, "airlock-docker-archive-"));
            Files.createDirectories(root.resolve("sha256"));
        } catch (IOException e) {
            throw new LocalIoException("creating a scratch directory under " + parent + ": " + TarWalker.oneLine(e), e);
        }
    }

    Path root() {
        return root;
    }

    /** A fresh temp file inside the scratch dir (same file system, so the final move is atomic). */
    Path tempFile() {
        try {
            return Files.createTempFile(root, "part-", ".tmp");
        } catch (IOException e) {
            throw new LocalIoException("creating a temp file in " + root + ": " + TarWalker.oneLine(e), e);
        }
    }

    /** Moves a fully written and hashed temp file to its content address. */
    void commit(Path temp, Digest digest, long size) {
        Path target = path(digest);
        try {
            long actual = Files.size(temp);
            if (actual != size) {
                throw new LocalIoException("scratch file " + temp + " has " + actual + " bytes, " + size + " were written");
            }
            if (Files.exists(target)) {
                Files.delete(temp);
                return;
            }
            try {
                Files.move(temp, target, StandardCopyOption.ATOMIC_MOVE);
            } catch (AtomicMoveNotSupportedException | FileAlreadyExistsException e) {
                Files.move(temp, target, StandardCopyOption.REPLACE_EXISTING);
            }
        } catch (IOException e) {
            throw new LocalIoException("storing blob " + digest + " in " + root + ": " + TarWalker.oneLine(e), e);
        }
    }

    /** Stores small bytes (a config) under their digest. */
    Digest putBytes(byte[] bytes) {
        Digest d = Digest.sha256(bytes);
        if (!Files.exists(path(d))) {
            Path tmp = tempFile();
            try {
                Files.write(tmp, bytes);
            } catch (IOException e) {
                throw new LocalIoException("writing " + tmp + ": " + TarWalker.oneLine(e), e);
            }
            commit(tmp, d, bytes.length);
        }
        return d;
    }

    Optional<Long> size(Digest digest) {
        Path p = path(digest);
        try {
            return Files.isRegularFile(p) ? Optional.of(Files.size(p)) : Optional.empty();
        } catch (IOException e) {
            throw new LocalIoException("reading " + p + ": " + TarWalker.oneLine(e), e);
        }
    }

    /** A stream that checks size and digest while it is read. */
    InputStream open(Descriptor blob, String storeName) {
        Path p = path(blob.digest());
        if (!Files.isRegularFile(p)) {
            throw new RegistryException("reading blob " + blob.digest() + " from " + storeName + ": not there", 404, List.of("BLOB_UNKNOWN"));
        }
        try {
            return new VerifyingInputStream(Files.newInputStream(p), blob.digest(), blob.size(), "blob " + blob.digest() + " from " + storeName);
        } catch (IOException e) {
            throw new LocalIoException("opening " + p + ": " + TarWalker.oneLine(e), e);
        }
    }

    Path path(Digest digest) {
        return root.resolve(digest.algorithm()).resolve(digest.hex());
    }

    @Override
    public void close() {
        if (!Files.exists(root)) {
            return;
        }
        try (Stream<Path> walk = Files.walk(root)) {
            walk.sorted(Comparator.reverseOrder()).forEach(p -> {
                try {
                    Files.deleteIfExists(p);
                } catch (IOException e) {
                    throw new UncheckedIOException(e);
                }
            });
        } catch (IOException | UncheckedIOException e) {
            throw new LocalIoException("deleting scratch directory " + root + ": " + TarWalker.oneLine(e), e);
        }
        dev.airlock.io.TempFiles.release(root);
    }
}
