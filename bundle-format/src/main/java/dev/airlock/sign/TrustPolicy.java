package dev.airlock.sign;

import java.nio.file.Path;
import java.security.PublicKey;
import java.util.ArrayList;
import java.util.List;

/**
 * Which signers a reader accepts. Trust never comes from inside a bundle: only keys given here
 * (PEM public keys or the keys of X.509 certificates) make a signature trusted.
 *
 * @param trusted        public keys whose signatures are accepted
 * @param allowUnsigned  accept an unsigned bundle, or one validly signed by an untrusted key
 *                       (a signature that does not verify is always refused)
 */
public record TrustPolicy(List<PublicKey> trusted, boolean allowUnsigned) {
    public TrustPolicy {
        trusted = List.copyOf(trusted);
    }

    /** Loads every public key and certificate in the given PEM files. */
    public static TrustPolicy fromFiles(List<Path> pemFiles, boolean allowUnsigned) {
        List<PublicKey> keys = new ArrayList<>();
        for (Path p : pemFiles) {
            keys.addAll(Pem.readPublicKeys(p));
        }
        return new TrustPolicy(keys, allowUnsigned);
    }

    /** Trusts exactly these keys. */
    public static TrustPolicy trusting(PublicKey... keys) {
        return new TrustPolicy(List.of(keys), false);
    }

    /** Trusts nobody and accepts unsigned bundles (tests, inspect). */
    public static TrustPolicy allowUnsignedOnly() {
        return new TrustPolicy(List.of(), true);
    }
}
