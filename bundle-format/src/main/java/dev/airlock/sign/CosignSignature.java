package dev.airlock.sign;

import dev.airlock.model.Descriptor;
import dev.airlock.model.ImageManifest;
import dev.airlock.model.RawManifest;
import java.io.ByteArrayInputStream;
import java.nio.charset.StandardCharsets;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * Who signed a cosign signature manifest (the tag {@code sha256-<hex>.sig}, or a referrer of that
 * type): each simple-signing layer carries the base64 signature in the annotation
 * {@code dev.cosignproject.cosign/signature} and, for keyless signing, the signing certificate in
 * {@code dev.sigstore.cosign/certificate}. Only read for display; nothing is verified here.
 */
public final class CosignSignature {
    public static final String SIMPLE_SIGNING = "application/vnd.dev.cosign.simplesigning.v1+json";
    public static final String SIGNATURE_ANNOTATION = "dev.cosignproject.cosign/signature";
    public static final String CERTIFICATE_ANNOTATION = "dev.sigstore.cosign/certificate";

    private CosignSignature() {
    }

    /**
     * The signers of {@code m} when it is a cosign signature: the certificate's identity (its
     * e-mail or URI subject alternative name, else its subject) where a certificate is attached,
     * else {@code key}. Empty when {@code m} is not a cosign signature.
     */
    public static Optional<List<String>> signers(RawManifest m) {
        if (!(m.view() instanceof ImageManifest im)) {
            return Optional.empty();
        }
        List<String> out = new ArrayList<>();
        for (Descriptor l : im.layers()) {
            if (!l.mediaType().value().equals(SIMPLE_SIGNING) || !l.annotations().containsKey(SIGNATURE_ANNOTATION)) {
                continue;
            }
            String pem = l.annotations().get(CERTIFICATE_ANNOTATION);
            out.add(pem == null || pem.isBlank() ? "key" : identity(pem));
        }
        return out.isEmpty() ? Optional.empty() : Optional.of(out);
    }

    private static String identity(String pem) {
        try {
            X509Certificate c = (X509Certificate) CertificateFactory.getInstance("X.509")
                    .generateCertificate(new ByteArrayInputStream(pem.getBytes(StandardCharsets.US_ASCII)));
            if (c.getSubjectAlternativeNames() != null) {
                for (List<?> san : c.getSubjectAlternativeNames()) {
                    int type = (Integer) san.get(0);
                    if (type == 1 || type == 6) { // rfc822Name, uniformResourceIdentifier
                        return String.valueOf(san.get(1));
                    }
                }
            }
            return c.getSubjectX500Principal().getName();
        } catch (Exception e) {
            return "certificate (unreadable: " + e.getClass().getSimpleName() + ")";
        }
    }
}
