package dev.airlock.layout;

import dev.airlock.store.ImageStore;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.airlock.error.LocalIoException;
import dev.airlock.error.RegistryException;
import dev.airlock.io.VerifyingInputStream;
import dev.airlock.model.Descriptor;
import dev.airlock.model.Digest;
import dev.airlock.model.Json;
import dev.airlock.model.RawManifest;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.List;
import java.util.Optional;
import java.util.UUID;

/**
 * An OCI image layout directory used as a content-addressed store (the export cache): blobs and
 * manifests live in {@code blobs/sha256/<hex>}, written to a temporary name, verified, then
 * renamed, so a file under its digest name is always complete. Tags go to {@code index.json}
 * with {@code org.opencontainers.image.ref.name} = {@code repository:tag}. Blobs and manifests
 * ignore the repository: one directory holds one content-addressed pool. Safe for concurrent writers (rename is atomic;
 * the same content under the same name is harmless).
 */
public final class DirectoryStore implements ImageStore {
    private static final String REF_NAME = "org.opencontainers.image.ref.name";
    private static final int COPY_BUFFER = 256 * 1024;
    private final Path root;
    private final Path blobs;

    private DirectoryStore(Path root) {
        this.root = root;
        this.blobs = root.resolve("blobs").resolve("sha256");
    }

    /** Opens or creates a layout directory. */
    public static DirectoryStore open(Path root) {
        DirectoryStore s = new DirectoryStore(root.toAbsolutePath());
        try {
            Files.createDirectories(s.blobs);
            Path layout = root.resolve("oci-layout");
            if (!Files.exists(layout)) {
                Files.writeString(layout, "{\"imageLayoutVersion\":\"1.0.0\"}", StandardCharsets.UTF_8);
            }
        } catch (IOException e) {
            throw new LocalIoException("creating cache directory " + root + ": " + e.getMessage(), e);
        }
        return s;
    }

    public Path root() {
        return root;
    }

    /** The file that holds (or would hold) a blob. */
    public Path blobPath(Digest digest) {
        return blobs.resolve(digest.hex());
    }

    @Override
    public String describe() {
        return "directory " + root;
    }

    @Override
    public RawManifest fetchManifest(String repository, String reference) {
        Digest digest = reference.contains(":") ? Digest.parse(reference) : tagged(refName(repository, reference))
                .orElseThrow(() -> notFound("manifest " + reference)).digest();
        try {
            byte[] bytes = Files.readAllBytes(blobPath(digest));
            RawManifest m = RawManifest.sniff(bytes, "manifest " + digest + " in " + describe());
            if (!m.digest().equals(digest)) {
                throw new dev.airlock.error.DigestMismatchException("manifest " + digest + " in " + describe()
                        + " has digest " + m.digest() + ": the file is damaged, delete it and re-run");
            }
            return m;
        } catch (NoSuchFileException e) {
            throw notFound("manifest " + digest);
        } catch (IOException e) {
            throw new LocalIoException("reading manifest " + digest + " in " + describe() + ": " + e.getMessage(), e);
        }
    }

    @Override
    public Optional<Descriptor> headManifest(String repository, String reference) {
        if (!reference.contains(":")) {
            return tagged(refName(repository, reference));
        }
        Digest d = Digest.parse(reference);
        Path p = blobPath(d);
        if (!Files.isRegularFile(p)) {
            return Optional.empty();
        }
        return Optional.of(fetchManifest(repository, reference).descriptor());
    }

    @Override
    public void pushManifest(String repository, String reference, RawManifest manifest) {
        Path p = blobPath(manifest.digest());
        if (!Files.exists(p)) {
            writeAtomically(p, out -> out.write(manifest.bytes()));
        }
        if (!reference.contains(":")) {
            tag(refName(repository, reference), manifest.descriptor());
        } else if (!Digest.parse(reference).equals(manifest.digest())) {
            throw new dev.airlock.error.DigestMismatchException("storing manifest " + manifest.digest() + " under digest " + reference);
        }
    }

    @Override
    public Optional<Long> blobSize(String repository, Digest digest) {
        try {
            return Optional.of(Files.size(blobPath(digest)));
        } catch (NoSuchFileException e) {
            return Optional.empty();
        } catch (IOException e) {
            throw new LocalIoException("reading " + blobPath(digest) + ": " + e.getMessage(), e);
        }
    }

    @Override
    public InputStream openBlob(String repository, Descriptor blob) {
        Path p = blobPath(blob.digest());
        try {
            return new VerifyingInputStream(Files.newInputStream(p), blob.digest(), blob.size(), "blob " + blob.digest() + " in " + describe());
        } catch (NoSuchFileException e) {
            throw notFound("blob " + blob.digest());
        } catch (IOException e) {
            throw new LocalIoException("opening " + p + ": " + e.getMessage(), e);
        }
    }

    @Override
    public void pushBlob(String repository, Descriptor blob, BlobContent content) {
        Path p = blobPath(blob.digest());
        if (Files.exists(p)) {
            return;
        }
        writeFileAtomically(p, file -> {
            // A source that writes the file itself (a registry's ranged requests in parallel) checks
            // size and sha256 before it returns, as a self-verifying stream does at its end.
            if (content.writeInto(dev.airlock.io.BlobRegion.of(file), n -> { })) {
                return;
            }
            OutputStream out = java.nio.channels.Channels.newOutputStream(file);
            // A self-verifying stream (ImageStore.openBlob) fails at its end before the rename below
            // when size or digest differ: hashing it here again would only cost a second pass.
            InputStream raw = content.open();
            try (InputStream in = content.verifiesItself() ? raw : new VerifyingInputStream(raw, blob.digest(), blob.size(), "blob " + blob.digest())) {
                long n = copy(in, out);
                if (n != blob.size()) {
                    throw new dev.airlock.error.DigestMismatchException("blob " + blob.digest() + ": got " + n + " bytes, expected " + blob.size());
                }
            }
        });
    }

    /**
     * Copies to the end, writing in large blocks (network streams return small pieces; one write
     * call per piece would cost many more system calls).
     */
    private static long copy(InputStream in, OutputStream out) throws IOException {
        byte[] buf = new byte[COPY_BUFFER];
        long total = 0;
        int filled;
        do {
            filled = dev.airlock.io.Blocks.fill(in, buf);
            out.write(buf, 0, filled);
            total += filled;
        } while (filled == buf.length);
        return total;
    }

    /**
     * Removes temporary files that an interrupted run left (they never carry a digest name), when
     * older than {@code age}: a younger one may belong to another process writing right now.
     * Files that cannot be removed are left; they are not ours to fail on.
     */
    public void removeLeftovers(java.time.Duration age) {
        java.time.Instant limit = java.time.Instant.now().minus(age);
        try (var s = Files.list(blobs)) {
            s.filter(p -> p.getFileName().toString().startsWith(".tmp-")).forEach(p -> {
                try {
                    if (Files.getLastModifiedTime(p).toInstant().isBefore(limit)) {
                        Files.deleteIfExists(p);
                    }
                } catch (IOException ignored) {
                    // another run may be finishing it
                }
            });
        } catch (IOException e) {
            throw new LocalIoException("cleaning " + blobs + ": " + e.getMessage(), e);
        }
    }

    private interface Writer {
        void write(OutputStream out) throws IOException;
    }

    private interface FileWriter {
        void write(java.nio.channels.FileChannel file) throws IOException;
    }

    private void writeAtomically(Path target, Writer writer) {
        writeFileAtomically(target, file -> writer.write(java.nio.channels.Channels.newOutputStream(file)));
    }

    private void writeFileAtomically(Path target, FileWriter writer) {
        Path tmp = dev.airlock.io.TempFiles.register(target.resolveSibling(".tmp-" + target.getFileName() + "-" + UUID.randomUUID()));
        try {
            try (java.nio.channels.FileChannel file = java.nio.channels.FileChannel.open(tmp, java.nio.file.StandardOpenOption.CREATE,
                    java.nio.file.StandardOpenOption.TRUNCATE_EXISTING, java.nio.file.StandardOpenOption.WRITE, java.nio.file.StandardOpenOption.READ)) {
                writer.write(file);
            }
            try {
                Files.move(tmp, target, StandardCopyOption.ATOMIC_MOVE);
            } catch (FileAlreadyExistsException | AtomicMoveNotSupportedException e) {
                Files.move(tmp, target, StandardCopyOption.REPLACE_EXISTING);
            }
        } catch (IOException e) {
            throw new LocalIoException("writing " + target + ": " + e.getMessage(), e);
        } finally {
            dev.airlock.io.TempFiles.delete(tmp);
        }
    }

    private synchronized Optional<Descriptor> tagged(String tag) {
        Path index = root.resolve("index.json");
        if (!Files.exists(index)) {
            return Optional.empty();
        }
        try {
            JsonNode root = Json.parse(Files.readAllBytes(index), "index.json in " + describe());
            for (JsonNode e : root.path("manifests")) {
                if (tag.equals(e.path("annotations").path(REF_NAME).asText(null))) {
                    return Optional.of(Descriptor.of(dev.airlock.model.MediaType.of(e.get("mediaType").asText()),
                            Digest.parse(e.get("digest").asText()), e.get("size").asLong()));
                }
            }
            return Optional.empty();
        } catch (IOException e) {
            throw new LocalIoException("reading " + index + ": " + e.getMessage(), e);
        }
    }

    private synchronized void tag(String tag, Descriptor d) {
        Path index = root.resolve("index.json");
        try {
            ObjectNode doc = Files.exists(index)
                    ? (ObjectNode) Json.parse(Files.readAllBytes(index), "index.json in " + describe())
                    : Json.mapper().createObjectNode().put("schemaVersion", 2).put("mediaType", dev.airlock.model.MediaType.OCI_INDEX.value());
            ArrayNode old = doc.withArray("manifests");
            ArrayNode kept = Json.mapper().createArrayNode();
            for (JsonNode e : old) {
                if (!tag.equals(e.path("annotations").path(REF_NAME).asText(null))) {
                    kept.add(e);
                }
            }
            ObjectNode entry = Json.descriptor(d);
            kept.add(entry);
            entry.putObject("annotations").put(REF_NAME, tag);
            doc.set("manifests", kept);
            writeAtomically(index, out -> out.write(Json.write(doc)));
        } catch (IOException e) {
            throw new LocalIoException("updating " + index + ": " + e.getMessage(), e);
        }
    }

    private static String refName(String repository, String tag) {
        return repository.isEmpty() ? tag : repository + ":" + tag;
    }

    private RegistryException notFound(String what) {
        return new RegistryException(what + " not found in " + describe(), 404, List.of("NOT_FOUND"));
    }
}
