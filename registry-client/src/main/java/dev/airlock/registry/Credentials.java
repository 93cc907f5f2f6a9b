package dev.airlock.registry;

import java.util.Objects;

/**
 * A user name and secret for one registry. {@code identityToken} credentials (docker's
 * {@code identitytoken}, or a helper answering user {@code <token>}) are exchanged for bearer tokens
 * with an OAuth2 refresh-token grant; the others are sent as Basic auth (to the registry, or to the
 * token service). {@link #toString()} never shows the secret.
 *
 * @param username      the user, empty for identity tokens
 * @param secret        the password, or the identity (refresh) token
 * @param identityToken true when {@code secret} is an identity token
 */
public record Credentials(String username, String secret, boolean identityToken) {
    public Credentials {
        Objects.requireNonNull(username, "username");
        Objects.requireNonNull(secret, "secret");
    }

    public static Credentials basic(String username, String password) {
        return new Credentials(username, password, false);
    }

    public static Credentials identityToken(String token) {
        return new Credentials("", token, true);
    }

    @Override
    public String toString() {
        return identityToken ? "Credentials[identity token]" : "Credentials[user=" + username + ", password=***]";
    }
}
