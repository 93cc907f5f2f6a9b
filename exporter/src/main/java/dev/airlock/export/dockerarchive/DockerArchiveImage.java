package dev.airlock.export.dockerarchive;

import dev.airlock.model.Descriptor;
import dev.airlock.model.ImageReference;
import dev.airlock.model.Platform;
import java.util.List;

/**
 * One image the docker-archive source offers: the normalised RepoTag, the descriptor of the
 * generated index (always an index, even over one platform), its platforms (as the configs state
 * them, sorted) and the archive files they came from.
 */
public record DockerArchiveImage(ImageReference reference, Descriptor descriptor, List<Platform> platforms, List<String> files) {
    public DockerArchiveImage {
        platforms = List.copyOf(platforms);
        files = List.copyOf(files);
    }
}
