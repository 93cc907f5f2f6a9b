package dev.airlock.nodeconfig;

import dev.airlock.error.LocalIoException;
import dev.airlock.model.ImageReference;
import dev.airlock.model.TargetMapping;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Optional;
import java.util.TreeMap;

/**
 * Node configuration that makes source names resolve to the internal registry, with the mapping
 * import used: {@code docker.io/rancher/pause:3.1} → {@code reg:5000/mirror/rancher/pause:3.1}.
 * One entry per source registry the images come from; the target path for a source registry is
 * what {@link TargetMapping} gives (the prefix, and the host segment with
 * {@code --keep-registry-host}). Files are replaced atomically; they never hold credentials.
 */
public final class MirrorConfig {
    private MirrorConfig() {
    }

    /**
     * Where one source registry's images are at the target.
     *
     * @param source the source registry ({@code docker.io}, {@code quay.io}, {@code host:5000})
     * @param path   the repository path in front of the source path ("" for none), e.g. {@code mirror}
     *               or {@code mirror/docker.io}
     */
    public record Route(String source, String path) {
    }

    /** One route per distinct source registry, sorted; the target registry itself is skipped. */
    public static List<Route> routes(Collection<ImageReference> sources, TargetMapping mapping) {
        TreeMap<String, Route> out = new TreeMap<>();
        for (ImageReference s : sources) {
            if (s.registry().equalsIgnoreCase(mapping.registry())) {
                continue;
            }
            String probe = mapping.map(new ImageReference(s.registry(), "x", "latest", Optional.empty())).repository();
            out.putIfAbsent(s.registry(), new Route(s.registry(), probe.substring(0, probe.length() - 1).replaceAll("/$", "")));
        }
        return List.copyOf(out.values());
    }

    /** Writes every output; returns the files written. */
    public static List<Path> write(Collection<ImageReference> sources, TargetMapping mapping, NodeEndpoint endpoint,
                                   List<NodeConfigOutput> outputs) {
        List<Route> routes = routes(sources, mapping);
        List<Path> written = new ArrayList<>();
        for (NodeConfigOutput o : outputs) {
            switch (o.format()) {
                case K3S -> written.add(replace(o.path(), k3s(routes, mapping, endpoint)));
                case CONTAINERS -> written.add(replace(o.path(), containers(routes, mapping, endpoint)));
                case CONTAINERD -> {
                    for (Route r : routes) {
                        written.add(replace(o.path().resolve(r.source()).resolve("hosts.toml"), containerd(r, mapping, endpoint)));
                    }
                }
            }
        }
        return written;
    }

    private static String header(TargetMapping mapping, String comment) {
        return comment + " Written by airlock mirror-config: images pulled by their source names come from " + mapping + ".\n"
                + comment + " No credentials are written here.\n";
    }

    /** k3s / RKE2 registries.yaml. */
    static String k3s(List<Route> routes, TargetMapping mapping, NodeEndpoint endpoint) {
        StringBuilder b = new StringBuilder(header(mapping, "#"));
        b.append("mirrors:\n");
        for (Route r : routes) {
            b.append("  ").append(yaml(r.source())).append(":\n");
            b.append("    endpoint:\n");
            b.append("      - ").append(yaml(endpoint.scheme() + "://" + mapping.registry())).append('\n');
            if (!r.path().isEmpty()) {
                b.append("    rewrite:\n");
                b.append("      ").append(yaml("^(.*)$")).append(": ").append(yaml(r.path() + "/$1")).append('\n');
            }
        }
        boolean tls = endpoint.scheme().equals("https") && (endpoint.skipVerify() || endpoint.caFile().isPresent());
        if (tls) {
            b.append("configs:\n");
            b.append("  ").append(yaml(mapping.registry())).append(":\n");
            b.append("    # auth: add username/password (or auth / identity_token) on the node if the registry needs them\n");
            b.append("    tls:\n");
            endpoint.caFile().ifPresent(ca -> b.append("      ca_file: ").append(yaml(ca)).append('\n'));
            if (endpoint.skipVerify()) {
                b.append("      insecure_skip_verify: true\n");
            }
        } else {
            b.append("# configs:\n");
            b.append("#   ").append(yaml(mapping.registry())).append(":\n");
            b.append("#     auth: add username/password (or auth / identity_token) on the node if the registry needs them\n");
            if (endpoint.scheme().equals("https")) {
                b.append("#     tls: ca_file / cert_file / key_file when the registry's CA is not in the system store\n");
            }
        }
        return b.toString();
    }

    /** containerd hosts.toml for one source registry. */
    static String containerd(Route r, TargetMapping mapping, NodeEndpoint endpoint) {
        StringBuilder b = new StringBuilder(header(mapping, "#"));
        String url = endpoint.scheme() + "://" + mapping.registry() + (r.path().isEmpty() ? "" : "/v2/" + r.path());
        b.append("# ").append(r.source()).append(" images: ").append(r.source()).append("/NAME → ").append(mapping.registry())
                .append(r.path().isEmpty() ? "" : "/" + r.path()).append("/NAME\n\n");
        b.append("[host.").append(toml(url)).append("]\n");
        b.append("  capabilities = [\"pull\", \"resolve\"]\n");
        if (!r.path().isEmpty()) {
            b.append("  override_path = true\n");
        }
        if (endpoint.skipVerify()) {
            b.append("  skip_verify = true\n");
        }
        endpoint.caFile().ifPresent(ca -> b.append("  ca = ").append(toml(ca)).append('\n'));
        return b.toString();
    }

    /** containers-registries.conf(5) drop-in: one [[registry]] per source registry. */
    static String containers(List<Route> routes, TargetMapping mapping, NodeEndpoint endpoint) {
        StringBuilder b = new StringBuilder(header(mapping, "#"));
        if (endpoint.caFile().isPresent()) {
            b.append("# TLS trust: the registry's CA goes in /etc/containers/certs.d/").append(mapping.registry()).append("/ca.crt\n");
        }
        for (Route r : routes) {
            b.append("\n[[registry]]\n");
            b.append("prefix = ").append(toml(r.source())).append('\n');
            b.append("location = ").append(toml(mapping.registry() + (r.path().isEmpty() ? "" : "/" + r.path()))).append('\n');
            if (endpoint.insecure()) {
                b.append("insecure = true\n");
            }
        }
        return b.toString();
    }

    private static String yaml(String s) {
        return "\"" + s.replace("\\", "\\\\").replace("\"", "\\\"") + "\"";
    }

    private static String toml(String s) {
        return "\"" + s.replace("\\", "\\\\").replace("\"", "\\\"") + "\"";
    }

    /** Writes {@code text} to a temporary file beside {@code file} and moves it into place. */
    private static Path replace(Path file, String text) {
        Path abs = file.toAbsolutePath();
        try {
            Files.createDirectories(abs.getParent());
            Path tmp = Files.createTempFile(abs.getParent(), "." + abs.getFileName(), ".tmp");
            try {
                Files.writeString(tmp, text, StandardCharsets.UTF_8);
                Files.move(tmp, abs, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            } finally {
                Files.deleteIfExists(tmp);
            }
            return file;
        } catch (IOException e) {
            throw new LocalIoException("writing " + file + ": " + e.getMessage(), e);
        }
    }
}
