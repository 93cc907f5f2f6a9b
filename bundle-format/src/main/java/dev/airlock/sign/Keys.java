package dev.airlock.sign;

import dev.airlock.model.Digest;
import java.security.PublicKey;

/** Small helpers around keys. */
public final class Keys {
    private Keys() {
    }

    /**
     * {@code sha256:<hex>} of the DER SubjectPublicKeyInfo, the same as
     * {@code openssl pkey -pubin -in KEY.pub.pem -outform DER | sha256sum}.
     */
    public static String fingerprint(PublicKey key) {
        return Digest.sha256(key.getEncoded()).toString();
    }
}
