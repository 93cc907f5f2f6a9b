package dev.airlock.sign;

import java.util.Optional;

/**
 * What is known about a bundle's signature after it was checked.
 *
 * @param status             trusted, untrusted-but-valid (accepted only with allowUnsigned) or unsigned
 * @param keyFingerprint     {@code sha256:<hex>} of the signer's public key when signed
 * @param certificateSubject the subject of the certificate in {@code bundle.json.p7s}, when present
 */
public record SignatureInfo(Status status, Optional<String> keyFingerprint, Optional<String> certificateSubject) {
    public enum Status { TRUSTED, UNTRUSTED, UNSIGNED }

    public static final SignatureInfo UNSIGNED = new SignatureInfo(Status.UNSIGNED, Optional.empty(), Optional.empty());

    public boolean signed() {
        return status != Status.UNSIGNED;
    }

    /** "signed by sha256:… (CN=…), trusted" for summaries. */
    public String describe() {
        if (status == Status.UNSIGNED) {
            return "unsigned";
        }
        return "signed by " + keyFingerprint.orElse("?") + certificateSubject.map(s -> " (" + s + ")").orElse("")
                + (status == Status.TRUSTED ? ", trusted" : ", NOT trusted");
    }
}
