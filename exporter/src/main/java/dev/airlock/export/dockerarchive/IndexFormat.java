package dev.airlock.export.dockerarchive;

import dev.airlock.error.UsageException;
import dev.airlock.model.MediaType;
import java.util.Locale;

/** Which family of manifests the docker-archive source generates ({@code --index-format oci|docker}). */
public enum IndexFormat {
    /** OCI image index over OCI image manifests, gzip layers {@code application/vnd.oci.image.layer.v1.tar+gzip}. */
    OCI(MediaType.OCI_INDEX, MediaType.OCI_MANIFEST, MediaType.OCI_CONFIG, MediaType.OCI_LAYER_GZIP),
    /** Docker manifest list over Docker schema 2 manifests, as {@code docker push} writes them. */
    DOCKER(MediaType.DOCKER_MANIFEST_LIST, MediaType.DOCKER_MANIFEST, MediaType.DOCKER_CONFIG, MediaType.DOCKER_LAYER_GZIP);

    private final MediaType index;
    private final MediaType manifest;
    private final MediaType config;
    private final MediaType layer;

    IndexFormat(MediaType index, MediaType manifest, MediaType config, MediaType layer) {
        this.index = index;
        this.manifest = manifest;
        this.config = config;
        this.layer = layer;
    }

    /** Parses {@code oci} or {@code docker} (any case). */
    public static IndexFormat parse(String text) {
        String t = text == null ? "" : text.trim().toLowerCase(Locale.ROOT);
        return switch (t) {
            case "oci" -> OCI;
            case "docker" -> DOCKER;
            default -> throw new UsageException("invalid index format '" + text + "': expected oci or docker");
        };
    }

    public MediaType indexType() {
        return index;
    }

    public MediaType manifestType() {
        return manifest;
    }

    public MediaType configType() {
        return config;
    }

    public MediaType layerType() {
        return layer;
    }
}
