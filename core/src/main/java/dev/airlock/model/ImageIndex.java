package dev.airlock.model;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/** View of an OCI image index or Docker manifest list. */
public record ImageIndex(MediaType mediaType, List<Descriptor> manifests, Optional<Descriptor> subject,
                         Map<String, String> annotations) implements ManifestView {
    public ImageIndex {
        manifests = List.copyOf(manifests);
        annotations = Map.copyOf(annotations);
    }

    @Override
    public List<Descriptor> references() {
        List<Descriptor> out = new ArrayList<>(manifests);
        subject.ifPresent(out::add);
        return out;
    }
}
