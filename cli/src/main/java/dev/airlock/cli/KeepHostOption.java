package dev.airlock.cli;

import picocli.CommandLine.Option;

/** {@code --keep-registry-host}: keep the source registry host as the first path segment at the target. */
public final class KeepHostOption {

    @Option(names = "--keep-registry-host",
            description = "Keep the source registry host as a path segment at the target: docker.io/rancher/pause:3.1 "
                    + "--to reg.local:5000/mirror becomes reg.local:5000/mirror/docker.io/rancher/pause:3.1 "
                    + "(default: reg.local:5000/mirror/rancher/pause:3.1).")
    boolean keepHost;

    public boolean keepHost() {
        return keepHost;
    }
}
