package dev.airlock.registry;

/**
 * Everything that configures a {@link RegistryStore}, split by concern. All parts are immutable.
 *
 * @param tls         scheme and trust ({@link TlsOptions})
 * @param credentials who we are ({@link CredentialSource}); {@link CredentialFiles#fromEnvironment()} by default
 * @param transport   retries, timeouts, concurrency, upload chunking ({@link TransportOptions})
 */
public record RegistryOptions(TlsOptions tls, CredentialSource credentials, TransportOptions transport) {
    public RegistryOptions {
        tls = tls == null ? TlsOptions.defaults() : tls;
        credentials = credentials == null ? CredentialSource.anonymous() : credentials;
        transport = transport == null ? TransportOptions.defaults() : transport;
    }

    /** Default TLS and transport, credentials from the usual config files of this user. */
    public static RegistryOptions defaults() {
        return new RegistryOptions(TlsOptions.defaults(), CredentialFiles.fromEnvironment(), TransportOptions.defaults());
    }

    /** Default TLS and transport, no credentials. */
    public static RegistryOptions anonymous() {
        return new RegistryOptions(TlsOptions.defaults(), CredentialSource.anonymous(), TransportOptions.defaults());
    }

    public RegistryOptions withTls(TlsOptions t) {
        return new RegistryOptions(t, credentials, transport);
    }

    public RegistryOptions withCredentials(CredentialSource c) {
        return new RegistryOptions(tls, c, transport);
    }

    public RegistryOptions withTransport(TransportOptions t) {
        return new RegistryOptions(tls, credentials, t);
    }
}
