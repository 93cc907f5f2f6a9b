package dev.airlock.cli;

import dev.airlock.nodeconfig.NodeConfigOutput;
import dev.airlock.nodeconfig.NodeEndpoint;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import picocli.CommandLine.Option;

/** {@code --node-ca-file}: the CA path written into node configurations. */
public final class NodeConfigOptions {
    @Option(names = "--node-ca-file", paramLabel = "PATH",
            description = "Path of the registry's CA certificate on the nodes, written into the configuration "
                    + "(default: the absolute path of --ca-cert, when given).")
    String nodeCaFile;

    /** The endpoint nodes use: {@code scheme} as the client would use it, TLS settings from the flags. */
    NodeEndpoint endpoint(String scheme, boolean insecure, Path caCert) {
        Optional<String> ca = Optional.ofNullable(nodeCaFile)
                .or(() -> Optional.ofNullable(caCert).map(p -> p.toAbsolutePath().toString()));
        return new NodeEndpoint(scheme, insecure, scheme.equals("https") ? ca : Optional.empty());
    }

    static List<NodeConfigOutput> parse(List<String> specs) {
        return specs == null ? List.of() : specs.stream().map(NodeConfigOutput::parse).toList();
    }
}
