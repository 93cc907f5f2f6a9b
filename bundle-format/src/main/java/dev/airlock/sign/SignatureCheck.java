package dev.airlock.sign;

import dev.airlock.error.UsageException;
import dev.airlock.error.VerificationException;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.PublicKey;
import java.security.Signature;
import java.security.cert.X509Certificate;
import java.util.Arrays;
import java.util.Collection;
import java.util.List;
import java.util.Optional;
import org.bouncycastle.cert.X509CertificateHolder;
import org.bouncycastle.cms.CMSProcessableByteArray;
import org.bouncycastle.cms.CMSSignedData;
import org.bouncycastle.cms.SignerInformation;
import org.bouncycastle.cms.jcajce.JcaSimpleSignerInfoVerifierBuilder;

/**
 * Checks the signature files of a bundle against a {@link TrustPolicy}. Rules:
 * <ul>
 * <li>no {@code .sig}: unsigned, accepted only with allowUnsigned ({@code .p7s} or
 *     {@code signer.pub.pem} without {@code .sig} is malformed);</li>
 * <li>{@code .sig} verifies with a trusted key: trusted;</li>
 * <li>{@code .sig} verifies only with the bundle's own {@code signer.pub.pem}: untrusted, accepted
 *     only with allowUnsigned;</li>
 * <li>{@code .sig} verifies with no key at all: always refused (the bytes were changed);</li>
 * <li>{@code .p7s}, when present, must verify and its certificate must hold the key that made
 *     {@code .sig}; {@code signer.pub.pem}, when present, must be that key too.</li>
 * </ul>
 */
public final class SignatureCheck {
    private SignatureCheck() {
    }

    /**
     * @param where names the bundle in messages
     * @return what is known about the signer; throws {@link VerificationException} when refused
     */
    public static SignatureInfo check(String where, byte[] bundleJson, Optional<byte[]> sig, Optional<byte[]> p7s,
                                      Optional<byte[]> signerPem, TrustPolicy policy) {
        if (sig.isEmpty()) {
            if (p7s.isPresent() || signerPem.isPresent()) {
                throw new VerificationException(where + ": has signature files but no airlock/bundle.json.sig");
            }
            if (!policy.allowUnsigned()) {
                throw new VerificationException(where + ": bundle is not signed (give a trusted key, or allow unsigned bundles explicitly)");
            }
            return SignatureInfo.UNSIGNED;
        }
        Optional<PublicKey> embedded = Optional.empty();
        if (signerPem.isPresent()) {
            List<PublicKey> keys;
            try {
                keys = Pem.readPublicKeys(new String(signerPem.get(), StandardCharsets.US_ASCII), where + " airlock/signer.pub.pem");
            } catch (UsageException e) {
                throw new VerificationException(where + ": airlock/signer.pub.pem is not a PEM public key");
            }
            if (keys.size() != 1) {
                throw new VerificationException(where + ": airlock/signer.pub.pem holds " + keys.size() + " keys, expected 1");
            }
            embedded = Optional.of(keys.get(0));
        }
        PublicKey signer = null;
        boolean trusted = false;
        for (PublicKey k : policy.trusted()) {
            if (verifies(k, bundleJson, sig.get())) {
                signer = k;
                trusted = true;
                break;
            }
        }
        if (signer == null && embedded.isPresent() && verifies(embedded.get(), bundleJson, sig.get())) {
            signer = embedded.get();
        }
        if (signer == null) {
            throw new VerificationException(where + ": signature airlock/bundle.json.sig does not verify"
                    + (policy.trusted().isEmpty() ? "" : " with any trusted key") + (embedded.isPresent() ? " nor with airlock/signer.pub.pem" : "")
                    + " (bundle.json or the signature was altered)");
        }
        String fp = Keys.fingerprint(signer);
        if (embedded.isPresent() && !Arrays.equals(embedded.get().getEncoded(), signer.getEncoded())) {
            throw new VerificationException(where + ": airlock/signer.pub.pem is " + Keys.fingerprint(embedded.get())
                    + " but the signature was made by " + fp);
        }
        Optional<String> subject = Optional.empty();
        if (p7s.isPresent()) {
            X509Certificate cert = verifyCms(where, bundleJson, p7s.get());
            if (!Arrays.equals(cert.getPublicKey().getEncoded(), signer.getEncoded())) {
                throw new VerificationException(where + ": certificate in airlock/bundle.json.p7s holds key "
                        + Keys.fingerprint(cert.getPublicKey()) + " but bundle.json.sig was made by " + fp);
            }
            subject = Optional.of(cert.getSubjectX500Principal().getName());
        }
        if (!trusted && !policy.allowUnsigned()) {
            throw new VerificationException(where + ": signed by untrusted key " + fp + subject.map(s -> " (" + s + ")").orElse("")
                    + "; it is not among the trusted keys");
        }
        return new SignatureInfo(trusted ? SignatureInfo.Status.TRUSTED : SignatureInfo.Status.UNTRUSTED, Optional.of(fp), subject);
    }

    /** True when {@code der} is a valid ECDSA-SHA256 signature of {@code data} by {@code key}. */
    public static boolean verifies(PublicKey key, byte[] data, byte[] der) {
        try {
            Signature s = Signature.getInstance("SHA256withECDSA");
            s.initVerify(key);
            s.update(data);
            return s.verify(der);
        } catch (GeneralSecurityException | RuntimeException e) {
            return false;
        }
    }

    /** Verifies a detached CMS signature over {@code data}; returns the signer's certificate. */
    static X509Certificate verifyCms(String where, byte[] data, byte[] p7s) {
        try {
            CMSSignedData signed = new CMSSignedData(new CMSProcessableByteArray(data), p7s);
            Collection<SignerInformation> signers = signed.getSignerInfos().getSigners();
            if (signers.size() != 1) {
                throw new VerificationException(where + ": airlock/bundle.json.p7s has " + signers.size() + " signers, expected 1");
            }
            SignerInformation si = signers.iterator().next();
            @SuppressWarnings("unchecked")
            Collection<X509CertificateHolder> certs = signed.getCertificates().getMatches(si.getSID());
            if (certs.size() != 1) {
                throw new VerificationException(where + ": airlock/bundle.json.p7s does not carry its signer's certificate");
            }
            X509CertificateHolder holder = certs.iterator().next();
            // The JDK's own providers verify ECDSA/RSA and SHA-2 here; building the BouncyCastle JCA
            // provider (Signer.BC) costs 150-400 ms of start-up on every verify/import of a signed bundle.
            if (!si.verify(new JcaSimpleSignerInfoVerifierBuilder().build(holder))) {
                throw new VerificationException(where + ": CMS signature airlock/bundle.json.p7s does not verify");
            }
            return Pem.toCertificate(holder.getEncoded(), where + " airlock/bundle.json.p7s");
        } catch (VerificationException e) {
            throw e;
        } catch (Exception e) {
            throw new VerificationException(where + ": CMS signature airlock/bundle.json.p7s does not verify ("
                    + String.valueOf(e.getMessage()).replaceAll("\\s+", " ") + ")", e);
        }
    }
}
