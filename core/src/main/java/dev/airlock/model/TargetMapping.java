package dev.airlock.model;

import dev.airlock.error.UsageException;
import dev.airlock.model.ImageReference;
import java.util.Locale;
import java.util.Objects;
import java.util.regex.Pattern;

/**
 * Where a source image goes in the target registry ({@code --to REGISTRY[/PREFIX]}), shared by
 * import and sync. The source registry host is dropped, the prefix is put in front of the source
 * path, tag and digest are kept:
 * <pre>
 * docker.io/rancher/pause:3.1 --to reg.local:5000/mirror → reg.local:5000/mirror/rancher/pause:3.1
 * docker.io/library/busybox   --to reg.local:5000        → reg.local:5000/library/busybox
 * with keepRegistryHost                                  → reg.local:5000/mirror/docker.io/rancher/pause:3.1
 * </pre>
 * With {@code keepRegistryHost}, a host's port becomes {@code _PORT} ({@code ghcr.io:443} →
 * {@code ghcr.io_443}) and the host is lowercased, since ':' cannot appear in a repository path.
 *
 * @param registry target {@code host[:port]}
 * @param prefix   repository path prefix without slashes at either end; empty for none
 */
public record TargetMapping(String registry, String prefix, boolean keepRegistryHost) {
    private static final Pattern PREFIX = Pattern.compile("[a-z0-9]+(?:(?:\\.|_|__|-+)[a-z0-9]+)*(?:/[a-z0-9]+(?:(?:\\.|_|__|-+)[a-z0-9]+)*)*");

    public TargetMapping {
        Objects.requireNonNull(registry, "registry");
        prefix = prefix == null ? "" : prefix;
        if (!prefix.isEmpty() && !PREFIX.matcher(prefix).matches()) {
            throw new UsageException("invalid target prefix '" + prefix + "': path components are lowercase letters, digits and . _ -");
        }
        // validates the host the same way references do
        new ImageReference(registry, "x", "t", java.util.Optional.empty());
    }

    /**
     * Parses {@code --to REGISTRY[/PREFIX]}: the first path segment is always the registry
     * ({@code reg.local:5000/mirror}, {@code localhost/team}, {@code registry.internal}).
     */
    public static TargetMapping parse(String to, boolean keepRegistryHost) {
        if (to == null || to.isBlank()) {
            throw new UsageException("--to needs a registry, e.g. reg.local:5000 or reg.local:5000/mirror");
        }
        String s = to.strip();
        if (s.contains("://")) {
            throw new UsageException("--to " + to + ": give host[:port][/prefix] without a scheme (use --plain-http for http)");
        }
        while (s.endsWith("/")) {
            s = s.substring(0, s.length() - 1);
        }
        int slash = s.indexOf('/');
        String host = slash < 0 ? s : s.substring(0, slash);
        String prefix = slash < 0 ? "" : s.substring(slash + 1);
        if (host.isEmpty()) {
            throw new UsageException("--to " + to + ": missing registry host");
        }
        if (prefix.contains("@") || prefix.contains(":")) {
            throw new UsageException("--to " + to + ": give a registry and an optional path prefix, not an image reference");
        }
        try {
            return new TargetMapping(host, prefix, keepRegistryHost);
        } catch (UsageException e) {
            throw new UsageException("--to " + to + ": " + e.getMessage());
        }
    }

    /**
     * Refuses, before anything is pushed, two different sources that this mapping sends to one
     * target tag (e.g. {@code hostA/rancher/pause:3.1} and {@code hostB/rancher/pause:3.1} without
     * the registry host in the path): the tag would silently end on whichever came last. Sources
     * listed twice, and digest-only references (no tag is written), are not collisions.
     */
    public void checkDistinct(java.util.Collection<ImageReference> sources) {
        java.util.Map<String, ImageReference> byTarget = new java.util.LinkedHashMap<>();
        java.util.List<String> clashes = new java.util.ArrayList<>();
        for (ImageReference src : sources) {
            ImageReference dst = map(src);
            if (dst.tag().isEmpty()) {
                continue;
            }
            String key = dst.registry() + "/" + dst.repository() + ":" + dst.tag();
            ImageReference before = byTarget.putIfAbsent(key, src);
            if (before != null && !before.toString().equals(src.toString())) {
                clashes.add(before + " and " + src + " both map to " + key);
            }
        }
        if (!clashes.isEmpty()) {
            throw new UsageException("mapping images to " + this + ": " + dev.airlock.error.Printable.list(clashes, 3)
                    + "; keep each source registry in the target path (--keep-registry-host) or import them under different prefixes");
        }
    }

    /** The target reference of {@code source}, same tag and digest. */
    public ImageReference map(ImageReference source) {
        StringBuilder path = new StringBuilder();
        if (!prefix.isEmpty()) {
            path.append(prefix).append('/');
        }
        if (keepRegistryHost) {
            path.append(source.registry().toLowerCase(Locale.ROOT).replace(':', '_').replace("[", "").replace("]", "")).append('/');
        }
        path.append(source.repository());
        String repository = path.toString();
        if (repository.length() > 255) {
            throw new UsageException("target repository for " + source + " is longer than 255 characters: " + repository);
        }
        return source.moveTo(registry, repository);
    }

    /** "reg.local:5000/mirror" as given (normalised). */
    @Override
    public String toString() {
        return registry + (prefix.isEmpty() ? "" : "/" + prefix);
    }
}
