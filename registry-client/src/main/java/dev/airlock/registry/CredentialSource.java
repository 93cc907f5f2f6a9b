package dev.airlock.registry;

import java.util.Optional;

/**
 * Where credentials for a registry come from. Implementations: {@link #anonymous()},
 * {@link #of(Credentials)} (explicit {@code --username}/{@code --password-stdin}),
 * {@link CredentialFiles} (docker/podman config files and credential helpers), and
 * {@link #firstOf} to chain them.
 */
@FunctionalInterface
public interface CredentialSource {

    /**
     * Credentials for {@code registryHost} ({@code host[:port]} as the user wrote it, {@code docker.io}
     * for Docker Hub), or empty for anonymous access.
     */
    Optional<Credentials> lookup(String registryHost);

    /**
     * Credentials for {@code repository} (a path such as {@code team/app}; empty for requests that
     * concern no repository) on {@code registryHost}. Sources that know credentials per repository
     * path (auth.json keys like {@code reg.local:5000/team}) override this; the default ignores the
     * repository.
     */
    default Optional<Credentials> lookup(String registryHost, String repository) {
        return lookup(registryHost);
    }

    /** Never any credentials. */
    static CredentialSource anonymous() {
        return host -> Optional.empty();
    }

    /** The same credentials for every registry (the store they are given to talks to one registry). */
    static CredentialSource of(Credentials credentials) {
        Optional<Credentials> c = Optional.of(credentials);
        return host -> c;
    }

    /** The first source that has credentials wins. */
    static CredentialSource firstOf(CredentialSource... sources) {
        return new CredentialSource() {
            @Override
            public Optional<Credentials> lookup(String host) {
                return lookup(host, "");
            }

            @Override
            public Optional<Credentials> lookup(String host, String repository) {
                for (CredentialSource s : sources) {
                    Optional<Credentials> c = s.lookup(host, repository);
                    if (c.isPresent()) {
                        return c;
                    }
                }
                return Optional.empty();
            }
        };
    }
}
