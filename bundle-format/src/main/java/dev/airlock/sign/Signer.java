package dev.airlock.sign;

import dev.airlock.error.UsageException;
import java.math.BigInteger;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyFactory;
import java.security.PrivateKey;
import java.security.Provider;
import java.security.PublicKey;
import java.security.Signature;
import java.security.cert.X509Certificate;
import java.security.interfaces.ECPrivateKey;
import java.security.spec.PKCS8EncodedKeySpec;
import java.security.spec.X509EncodedKeySpec;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;
import org.bouncycastle.asn1.cms.CMSAttributes;
import org.bouncycastle.cert.jcajce.JcaCertStore;
import org.bouncycastle.cms.CMSException;
import org.bouncycastle.cms.CMSProcessableByteArray;
import org.bouncycastle.cms.CMSSignedData;
import org.bouncycastle.cms.CMSSignedDataGenerator;
import org.bouncycastle.cms.DefaultSignedAttributeTableGenerator;
import org.bouncycastle.cms.jcajce.JcaSignerInfoGeneratorBuilder;
import org.bouncycastle.jce.provider.BouncyCastleProvider;
import org.bouncycastle.jce.spec.ECParameterSpec;
import org.bouncycastle.jce.spec.ECPublicKeySpec;
import org.bouncycastle.math.ec.ECPoint;
import org.bouncycastle.operator.ContentSigner;
import org.bouncycastle.operator.jcajce.JcaDigestCalculatorProviderBuilder;

/**
 * Signs bundle manifests with an EC P-256 key, ECDSA over SHA-256. Signatures are deterministic
 * (RFC 6979 nonces) and the CMS signature carries no signing time, so the same key and the same
 * bytes always give the same signature files, which keeps bundles reproducible.
 *
 * <ul>
 * <li>{@link #sign}: a DER ECDSA signature, checkable with
 * {@code openssl dgst -sha256 -verify signer.pub.pem -signature bundle.json.sig bundle.json};</li>
 * <li>{@link #cms}: a detached CMS SignedData (DER) with the certificate, checkable with
 * {@code openssl cms -verify -binary -inform DER -content bundle.json -in bundle.json.p7s -CAfile cert -purpose any}.</li>
 * </ul>
 */
public final class Signer {
    static final Provider BC = new BouncyCastleProvider();
    private static final String DETERMINISTIC_ECDSA = "SHA256withECDDSA";

    private final PrivateKey privateKey;
    private final PublicKey publicKey;
    private final Optional<X509Certificate> certificate;

    private Signer(PrivateKey privateKey, PublicKey publicKey, Optional<X509Certificate> certificate) {
        this.privateKey = privateKey;
        this.publicKey = publicKey;
        this.certificate = certificate;
    }

    /**
     * Loads a PEM private key (PKCS#8 or SEC1) and, optionally, a PEM certificate whose public key
     * must belong to it.
     */
    public static Signer load(Path keyFile, Optional<Path> certificateFile) {
        PrivateKey key = Pem.readPrivateKey(keyFile);
        return of(key, certificateFile.map(Pem::readCertificate), keyFile.toString());
    }

    /** A signer over an in-memory key; {@code what} names the key in errors. */
    public static Signer of(PrivateKey key, Optional<X509Certificate> certificate, String what) {
        if (!(key instanceof ECPrivateKey ec) || ec.getParams().getCurve().getField().getFieldSize() != 256) {
            throw new UsageException("signing key " + what + " is not an EC P-256 key");
        }
        PublicKey pub = derivePublic(key);
        if (certificate.isPresent() && !Arrays.equals(certificate.get().getPublicKey().getEncoded(), pub.getEncoded())) {
            throw new UsageException("certificate " + certificate.get().getSubjectX500Principal().getName()
                    + " does not belong to signing key " + what);
        }
        return new Signer(key, pub, certificate);
    }

    /** DER-encoded ECDSA-with-SHA-256 signature over exactly {@code data}. */
    public byte[] sign(byte[] data) {
        try {
            Signature s = Signature.getInstance(DETERMINISTIC_ECDSA, BC);
            s.initSign(privateKey);
            s.update(data);
            return s.sign();
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("ECDSA signing failed", e);
        }
    }

    /** A detached CMS signature (DER) over {@code data} with the certificate, when there is one. */
    public Optional<byte[]> cms(byte[] data) {
        if (certificate.isEmpty()) {
            return Optional.empty();
        }
        try {
            ContentSigner cs = deterministicContentSigner();
            DefaultSignedAttributeTableGenerator defaults = new DefaultSignedAttributeTableGenerator();
            CMSSignedDataGenerator gen = new CMSSignedDataGenerator();
            gen.addSignerInfoGenerator(new JcaSignerInfoGeneratorBuilder(
                    new JcaDigestCalculatorProviderBuilder().setProvider(BC).build())
                    // no signing time: the same bytes and key give the same .p7s
                    .setSignedAttributeGenerator(params -> defaults.getAttributes(params).remove(CMSAttributes.signingTime))
                    .build(cs, certificate.get()));
            gen.addCertificates(new JcaCertStore(List.of(certificate.get())));
            CMSSignedData signed = gen.generate(new CMSProcessableByteArray(data), false);
            return Optional.of(signed.getEncoded("DER"));
        } catch (org.bouncycastle.operator.OperatorCreationException | CMSException | GeneralSecurityException | java.io.IOException e) {
            throw new IllegalStateException("CMS signing failed", e);
        }
    }

    /** A CMS content signer producing RFC 6979 ECDSA-with-SHA-256 signatures (BC's finder does not know ECDDSA). */
    private ContentSigner deterministicContentSigner() {
        java.io.ByteArrayOutputStream signedAttrs = new java.io.ByteArrayOutputStream();
        return new ContentSigner() {
            @Override
            public org.bouncycastle.asn1.x509.AlgorithmIdentifier getAlgorithmIdentifier() {
                return new org.bouncycastle.asn1.x509.AlgorithmIdentifier(org.bouncycastle.asn1.x9.X9ObjectIdentifiers.ecdsa_with_SHA256);
            }

            @Override
            public java.io.OutputStream getOutputStream() {
                return signedAttrs;
            }

            @Override
            public byte[] getSignature() {
                return sign(signedAttrs.toByteArray());
            }
        };
    }

    public PublicKey publicKey() {
        return publicKey;
    }

    public Optional<X509Certificate> certificate() {
        return certificate;
    }

    /** The public key as PEM, written into bundles as {@code airlock/signer.pub.pem}. */
    public String publicKeyPem() {
        return Pem.publicKeyPem(publicKey);
    }

    /** {@code sha256:<hex>} of the DER SubjectPublicKeyInfo. */
    public String fingerprint() {
        return Keys.fingerprint(publicKey);
    }

    static PublicKey derivePublic(PrivateKey key) {
        try {
            KeyFactory bc = KeyFactory.getInstance("EC", BC);
            org.bouncycastle.jce.interfaces.ECPrivateKey k =
                    (org.bouncycastle.jce.interfaces.ECPrivateKey) bc.generatePrivate(new PKCS8EncodedKeySpec(key.getEncoded()));
            ECParameterSpec params = k.getParameters();
            BigInteger d = k.getD();
            ECPoint q = params.getG().multiply(d).normalize();
            PublicKey bcPub = bc.generatePublic(new ECPublicKeySpec(q, params));
            return KeyFactory.getInstance("EC").generatePublic(new X509EncodedKeySpec(bcPub.getEncoded()));
        } catch (GeneralSecurityException e) {
            throw new UsageException("cannot derive the public key of the signing key: " + e.getMessage(), e);
        }
    }
}
