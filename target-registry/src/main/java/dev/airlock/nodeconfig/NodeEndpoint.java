package dev.airlock.nodeconfig;

import java.util.Objects;
import java.util.Optional;

/**
 * How nodes reach the internal registry: the scheme and the TLS settings written into their
 * configuration. Never credentials.
 *
 * @param scheme     {@code http} or {@code https}
 * @param skipVerify nodes do not verify the registry's certificate ({@code --insecure})
 * @param caFile     the CA certificate's path on the nodes ({@code --ca-cert}), when one is given
 */
public record NodeEndpoint(String scheme, boolean skipVerify, Optional<String> caFile) {
    public NodeEndpoint {
        Objects.requireNonNull(scheme, "scheme");
        if (!scheme.equals("http") && !scheme.equals("https")) {
            throw new IllegalArgumentException("scheme must be http or https: " + scheme);
        }
        caFile = caFile == null ? Optional.empty() : caFile;
    }

    /** Plain HTTP, or TLS not verified: containers' {@code insecure = true}. */
    boolean insecure() {
        return scheme.equals("http") || skipVerify;
    }
}
