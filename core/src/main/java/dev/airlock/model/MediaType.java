package dev.airlock.model;

import java.util.Set;

/**
 * A media type string with the well-known ones named. Unknown types are allowed for blobs
 * (artifacts carry their own), never for manifests: only the four manifest/index types below
 * can be pushed as manifests.
 */
public record MediaType(String value) {
    public static final MediaType OCI_MANIFEST = new MediaType("application/vnd.oci.image.manifest.v1+json");
    public static final MediaType OCI_INDEX = new MediaType("application/vnd.oci.image.index.v1+json");
    public static final MediaType OCI_CONFIG = new MediaType("application/vnd.oci.image.config.v1+json");
    public static final MediaType OCI_EMPTY = new MediaType("application/vnd.oci.empty.v1+json");
    public static final MediaType OCI_LAYER = new MediaType("application/vnd.oci.image.layer.v1.tar");
    public static final MediaType OCI_LAYER_GZIP = new MediaType("application/vnd.oci.image.layer.v1.tar+gzip");
    public static final MediaType OCI_LAYER_ZSTD = new MediaType("application/vnd.oci.image.layer.v1.tar+zstd");
    public static final MediaType OCI_LAYER_NONDIST_GZIP = new MediaType("application/vnd.oci.image.layer.nondistributable.v1.tar+gzip");
    public static final MediaType DOCKER_MANIFEST = new MediaType("application/vnd.docker.distribution.manifest.v2+json");
    public static final MediaType DOCKER_MANIFEST_LIST = new MediaType("application/vnd.docker.distribution.manifest.list.v2+json");
    public static final MediaType DOCKER_CONFIG = new MediaType("application/vnd.docker.container.image.v1+json");
    public static final MediaType DOCKER_LAYER_GZIP = new MediaType("application/vnd.docker.image.rootfs.diff.tar.gzip");
    public static final MediaType DOCKER_LAYER_FOREIGN = new MediaType("application/vnd.docker.image.rootfs.foreign.diff.tar.gzip");
    public static final MediaType DOCKER_SCHEMA1_SIGNED = new MediaType("application/vnd.docker.distribution.manifest.v1+prettyjws");
    public static final MediaType IN_TOTO = new MediaType("application/vnd.in-toto+json");

    private static final Set<MediaType> MANIFESTS = Set.of(OCI_MANIFEST, DOCKER_MANIFEST);
    private static final Set<MediaType> INDEXES = Set.of(OCI_INDEX, DOCKER_MANIFEST_LIST);
    private static final Set<MediaType> CONFIGS = Set.of(OCI_CONFIG, DOCKER_CONFIG);

    public MediaType {
        if (value == null || value.isBlank() || value.length() > 255 || !value.matches("[A-Za-z0-9][A-Za-z0-9!#$&^_.+-]*/[A-Za-z0-9][A-Za-z0-9!#$&^_.+-]*")) {
            throw new dev.airlock.error.InvalidContentException("invalid media type " + (value == null ? "null" : "'" + value + "'"));
        }
    }

    public static MediaType of(String value) {
        return new MediaType(value);
    }

    /** An image manifest (OCI or Docker schema 2). */
    public boolean isImageManifest() {
        return MANIFESTS.contains(this);
    }

    /** An index or Docker manifest list. */
    public boolean isIndex() {
        return INDEXES.contains(this);
    }

    /** Anything pushed to /manifests/: image manifest or index. */
    public boolean isManifest() {
        return isImageManifest() || isIndex();
    }

    /** An image config whose os/architecture can be checked. */
    public boolean isImageConfig() {
        return CONFIGS.contains(this);
    }

    /** True for the Docker (not OCI) family. */
    public boolean isDocker() {
        return value.startsWith("application/vnd.docker.");
    }

    @Override
    public String toString() {
        return value;
    }
}
