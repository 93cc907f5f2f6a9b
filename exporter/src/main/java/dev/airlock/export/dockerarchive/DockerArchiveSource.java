package dev.airlock.export.dockerarchive;

import dev.airlock.copy.SourceImage;
import dev.airlock.error.RegistryException;
import dev.airlock.error.UsageException;
import dev.airlock.model.Descriptor;
import dev.airlock.model.Digest;
import dev.airlock.model.ImageReference;
import dev.airlock.model.RawManifest;
import dev.airlock.store.ImageSource;
import java.io.InputStream;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.stream.Collectors;

/**
 * A read-only {@link ImageSource} over per-arch {@code docker save} archives ({@code .tar} or
 * {@code .tar.gz}, classic or Docker 25+ OCI layout). Opening it does all the work: the archives
 * are read without extracting them, images with the same RepoTag become one index over one
 * manifest per platform (the platform comes from each image's config; the file name is only a
 * hint that must agree), layers are checked against their diff_ids and gzip-compressed,
 * deterministically, into a scratch directory. Afterwards the store serves:
 *
 * <ul>
 *   <li>{@link #images()}: one {@link DockerArchiveImage} per normalised RepoTag;</li>
 *   <li>{@link #fetchManifest}: the generated index (by tag or digest) and manifests (by digest),
 *   always the same bytes; {@code repository} is the reference's {@code name()}
 *   ({@code docker.io/rancher/pause}) or its {@code repository()} ({@code rancher/pause});</li>
 *   <li>{@link #openBlob}: configs (exact archive bytes) and compressed layers, verified while read.</li>
 * </ul>
 * Writes are refused. {@link #close()} deletes the scratch directory.
 *
 * <pre>{@code
 * try (DockerArchiveSource src = DockerArchiveSource.open(List.of(amd64, arm64, arm), DockerArchiveOptions.defaults())) {
 *     for (DockerArchiveImage img : src.images()) {
 *         copy(src, img.reference(), img.descriptor(), bundle);
 *     }
 * }
 * }</pre>
 */
public final class DockerArchiveSource implements ImageSource {
    private final String description;
    private final BlobDir blobs;
    private final Map<Digest, RawManifest> manifests;
    private final Map<String, Digest> tags;
    private final Map<Digest, Long> blobSizes;
    private final List<DockerArchiveImage> images;

    private DockerArchiveSource(String description, BlobDir blobs, MultiArchAssembler.Result r) {
        this.description = description;
        this.blobs = blobs;
        this.manifests = Map.copyOf(r.manifests());
        this.tags = Map.copyOf(r.tags());
        this.blobSizes = Map.copyOf(r.blobs());
        this.images = List.copyOf(r.images());
    }

    /**
     * Reads the archives and builds the multi-arch images. Throws
     * {@link dev.airlock.error.VerificationException} for hostile or inconsistent archives (one-line
     * message naming the file, the image and what is wrong), {@link dev.airlock.error.LocalIoException}
     * for unreadable files or a full scratch disk, {@link UsageException} for an empty list.
     */
    public static DockerArchiveSource open(List<Path> archives, DockerArchiveOptions options) {
        BlobDir blobs = new BlobDir(options.scratchDir());
        try {
            MultiArchAssembler.Result r = new MultiArchAssembler(options, blobs).assemble(archives);
            String d = "docker archives " + archives.stream().map(p -> p.getFileName().toString()).collect(Collectors.joining(", "));
            return new DockerArchiveSource(d, blobs, r);
        } catch (RuntimeException e) {
            try {
                blobs.close();
            } catch (RuntimeException suppressed) {
                e.addSuppressed(suppressed);
            }
            throw e;
        }
    }

    /** The images found, sorted by reference; each descriptor names a generated index. */
    public List<DockerArchiveImage> images() {
        return images;
    }

    /**
     * The images as inputs for the copy engine ({@link dev.airlock.copy.GraphPlanner}): named by
     * their normalised RepoTag, read from this store under {@code reference.name()} and the tag.
     */
    public List<SourceImage> sourceImages() {
        return images.stream().map(i -> new SourceImage(i.reference(), this, i.reference().name(), i.reference().tag())).toList();
    }

    @Override
    public String describe() {
        return description;
    }

    @Override
    public RawManifest fetchManifest(String repository, String reference) {
        return find(repository, reference).orElseThrow(() -> new RegistryException(
                "fetching manifest " + repository + ":" + reference + " from " + description + ": not there", 404, List.of("MANIFEST_UNKNOWN")));
    }

    public Optional<Descriptor> headManifest(String repository, String reference) {
        return find(repository, reference).map(RawManifest::descriptor);
    }

    private Optional<RawManifest> find(String repository, String reference) {
        if (reference.contains(":")) {
            Digest d;
            try {
                d = Digest.parse(reference);
            } catch (RuntimeException e) {
                return Optional.empty();
            }
            return Optional.ofNullable(manifests.get(d));
        }
        Digest d = tags.get(repository + ":" + reference);
        if (d == null) {
            List<Digest> matches = images.stream()
                    .filter(i -> i.reference().repository().equals(repository) && i.reference().tag().equals(reference))
                    .map(i -> i.descriptor().digest()).distinct().toList();
            if (matches.size() > 1) {
                throw new UsageException("repository " + repository + " is ambiguous in " + description + "; name it with its registry, e.g. "
                        + images.stream().filter(i -> i.reference().repository().equals(repository)).findFirst().orElseThrow().reference().name());
            }
            d = matches.isEmpty() ? null : matches.get(0);
        }
        return Optional.ofNullable(d).map(manifests::get);
    }

    public Optional<Long> blobSize(String repository, Digest digest) {
        return Optional.ofNullable(blobSizes.get(digest));
    }

    @Override
    public InputStream openBlob(String repository, Descriptor blob) {
        if (!blobSizes.containsKey(blob.digest())) {
            throw new RegistryException("reading blob " + blob.digest() + " from " + description + ": not there", 404, List.of("BLOB_UNKNOWN"));
        }
        return blobs.open(blob, description);
    }



    /** Where the compressed layers and configs are kept until {@link #close()} (content-addressed {@code sha256/<hex>}). */
    public Path scratchDirectory() {
        return blobs.root();
    }

    /** Deletes the scratch directory. */
    @Override
    public void close() {
        blobs.close();
    }
}
