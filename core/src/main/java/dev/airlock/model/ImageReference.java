package dev.airlock.model;

import dev.airlock.error.Printable;
import dev.airlock.error.UsageException;
import java.util.Objects;
import java.util.Optional;
import java.util.regex.Pattern;

/**
 * A normalised image reference, parsed with docker's rules: {@code busybox} →
 * {@code docker.io/library/busybox:latest}, {@code rancher/pause:3.1} →
 * {@code docker.io/rancher/pause:3.1}, {@code localhost:5000/app@sha256:…}.
 *
 * @param registry   host[:port], {@code docker.io} for Docker Hub
 * @param repository path inside the registry, e.g. {@code library/busybox}
 * @param tag        the tag, empty when only a digest was given
 * @param digest     the digest when one was given
 */
public record ImageReference(String registry, String repository, String tag, Optional<Digest> digest) {
    public static final String DOCKER_HUB = "docker.io";
    private static final Pattern COMPONENT = Pattern.compile("[a-z0-9]+(?:(?:\\.|_|__|-+)[a-z0-9]+)*");
    private static final Pattern TAG = Pattern.compile("[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}");
    private static final Pattern HOST = Pattern.compile(
            "(?:[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)*|\\[[0-9A-Fa-f:.]+\\])(?::[0-9]{1,5})?");

    public ImageReference {
        Objects.requireNonNull(registry, "registry");
        Objects.requireNonNull(repository, "repository");
        tag = tag == null ? "" : tag;
        digest = digest == null ? Optional.empty() : digest;
        if (!HOST.matcher(registry).matches()) {
            throw new UsageException("invalid registry host '" + Printable.of(registry) + "'");
        }
        if (port(registry) > 65535 || port(registry) == 0) {
            throw new UsageException("invalid registry host '" + registry + "': port " + port(registry) + " is not between 1 and 65535");
        }
        if (repository.isEmpty() || repository.length() > 255) {
            throw new UsageException("invalid repository '" + Printable.of(repository) + "'");
        }
        for (String c : repository.split("/", -1)) {
            if (!COMPONENT.matcher(c).matches()) {
                throw new UsageException("invalid repository '" + Printable.of(repository) + "': path components are lowercase letters, digits and . _ -");
            }
        }
        if (!tag.isEmpty() && !TAG.matcher(tag).matches()) {
            throw new UsageException("invalid tag '" + Printable.of(tag) + "'");
        }
        if (tag.isEmpty() && digest.isEmpty()) {
            throw new UsageException("reference " + Printable.of(registry + "/" + repository) + " has neither tag nor digest");
        }
    }

    /** The port of a {@code host:port} or {@code [v6]:port} that matched HOST, -1 when none is given. */
    private static int port(String hostPort) {
        int colon = hostPort.lastIndexOf(':');
        if (colon < 0 || hostPort.indexOf(']', colon) >= 0) {
            return -1;
        }
        return Integer.parseInt(hostPort.substring(colon + 1));
    }

    /** Parses and normalises a reference as docker does; throws {@link UsageException} when malformed. */
    public static ImageReference parse(String text) {
        if (text == null || text.isBlank()) {
            throw new UsageException("empty image reference");
        }
        String s = text.trim();
        Optional<Digest> digest = Optional.empty();
        int at = s.indexOf('@');
        if (at >= 0) {
            try {
                digest = Optional.of(Digest.parse(s.substring(at + 1)));
            } catch (RuntimeException e) {
                throw new UsageException("invalid digest in reference '" + Printable.of(text) + "'");
            }
            s = s.substring(0, at);
        }
        String registry;
        String path;
        int slash = s.indexOf('/');
        String first = slash < 0 ? "" : s.substring(0, slash);
        if (slash >= 0 && (first.contains(".") || first.contains(":") || first.equals("localhost") || !first.equals(first.toLowerCase(java.util.Locale.ROOT)))) {
            registry = first;
            path = s.substring(slash + 1);
        } else {
            registry = DOCKER_HUB;
            path = s;
        }
        String tag = "";
        int lastSlash = path.lastIndexOf('/');
        int colon = path.lastIndexOf(':');
        if (colon > lastSlash) {
            tag = path.substring(colon + 1);
            if (tag.isEmpty()) {
                throw new UsageException("invalid reference '" + Printable.of(text) + "': empty tag");
            }
            path = path.substring(0, colon);
        }
        if (registry.equals("index.docker.io") || registry.equals("registry-1.docker.io")) {
            registry = DOCKER_HUB;
        }
        if (registry.equals(DOCKER_HUB) && !path.contains("/")) {
            path = "library/" + path;
        }
        if (tag.isEmpty() && digest.isEmpty()) {
            tag = "latest";
        }
        try {
            return new ImageReference(registry, path, tag, digest);
        } catch (UsageException e) {
            throw new UsageException("invalid reference '" + Printable.of(text) + "': " + e.getMessage());
        }
    }

    /** The tag if there is one, else the digest: what goes after /manifests/. */
    public String reference() {
        return digest.map(Digest::toString).orElse(tag);
    }

    /** {@code registry/repository}. */
    public String name() {
        return registry + "/" + repository;
    }

    /** The same repository pinned to a digest (tag kept for display). */
    public ImageReference withDigest(Digest d) {
        return new ImageReference(registry, repository, tag, Optional.of(d));
    }

    /** The same reference in another registry and repository, keeping tag and digest. */
    public ImageReference moveTo(String newRegistry, String newRepository) {
        return new ImageReference(newRegistry, newRepository, tag, digest);
    }

    /** Full normalised form: {@code docker.io/library/busybox:1.36@sha256:…}. */
    @Override
    public String toString() {
        return name() + (tag.isEmpty() ? "" : ":" + tag) + digest.map(d -> "@" + d).orElse("");
    }
}
