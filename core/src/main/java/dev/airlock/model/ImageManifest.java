package dev.airlock.model;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/** View of an OCI image manifest or Docker schema 2 manifest. */
public record ImageManifest(MediaType mediaType, Descriptor config, List<Descriptor> layers,
                            Optional<Descriptor> subject, Map<String, String> annotations,
                            String artifactType) implements ManifestView {
    public ImageManifest {
        layers = List.copyOf(layers);
        annotations = Map.copyOf(annotations);
    }

    @Override
    public List<Descriptor> references() {
        List<Descriptor> out = new ArrayList<>(layers.size() + 2);
        out.add(config);
        out.addAll(layers);
        subject.ifPresent(out::add);
        return out;
    }

    /** Config plus layers: the blobs that must exist before this manifest is pushed. */
    public List<Descriptor> blobs() {
        List<Descriptor> out = new ArrayList<>(layers.size() + 1);
        out.add(config);
        out.addAll(layers);
        return out;
    }

    /** Total bytes of config and layers. */
    public long blobBytes() {
        return blobs().stream().mapToLong(Descriptor::size).sum();
    }
}
