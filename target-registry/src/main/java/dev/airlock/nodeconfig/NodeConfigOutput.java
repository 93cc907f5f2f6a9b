package dev.airlock.nodeconfig;

import dev.airlock.error.UsageException;
import java.nio.file.Path;
import java.util.Locale;

/**
 * One configuration to write: {@code k3s:FILE}, {@code containerd:DIR} or {@code containers:FILE}.
 *
 * @param format what to write
 * @param path   the file (k3s, containers) or the hosts directory (containerd)
 */
public record NodeConfigOutput(Format format, Path path) {
    /** The node configuration formats. */
    public enum Format {
        /** k3s / RKE2 {@code registries.yaml}: mirrors with rewrites, configs with TLS. */
        K3S,
        /** containerd hosts directory: {@code DIR/<source-registry>/hosts.toml}. */
        CONTAINERD,
        /** containers-registries.conf drop-in (podman, CRI-O, skopeo, buildah). */
        CONTAINERS
    }

    /** Parses {@code FORMAT:PATH}. */
    public static NodeConfigOutput parse(String spec) {
        int colon = spec == null ? -1 : spec.indexOf(':');
        if (colon <= 0 || colon == spec.length() - 1) {
            throw new UsageException("mirror config '" + spec + "': give FORMAT:PATH, FORMAT one of k3s, containerd, containers");
        }
        String f = spec.substring(0, colon).toLowerCase(Locale.ROOT);
        Format format = switch (f) {
            case "k3s", "rke2" -> Format.K3S;
            case "containerd" -> Format.CONTAINERD;
            case "containers", "podman", "cri-o", "crio" -> Format.CONTAINERS;
            default -> throw new UsageException("mirror config '" + spec + "': unknown format '" + f + "' (k3s, containerd or containers)");
        };
        return new NodeConfigOutput(format, Path.of(spec.substring(colon + 1)));
    }
}
