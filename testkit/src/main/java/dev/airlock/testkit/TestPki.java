package dev.airlock.testkit;

import java.io.IOException;
import java.io.StringWriter;
import java.io.UncheckedIOException;
import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.SecureRandom;
import java.security.cert.X509Certificate;
import java.security.spec.ECGenParameterSpec;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Date;
import java.util.List;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x509.BasicConstraints;
import org.bouncycastle.asn1.x509.ExtendedKeyUsage;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.GeneralName;
import org.bouncycastle.asn1.x509.GeneralNames;
import org.bouncycastle.asn1.x509.KeyPurposeId;
import org.bouncycastle.asn1.x509.KeyUsage;
import org.bouncycastle.cert.X509v3CertificateBuilder;
import org.bouncycastle.cert.jcajce.JcaX509CertificateConverter;
import org.bouncycastle.cert.jcajce.JcaX509ExtensionUtils;
import org.bouncycastle.cert.jcajce.JcaX509v3CertificateBuilder;
import org.bouncycastle.openssl.jcajce.JcaPEMWriter;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;

/** Throw-away certificates for tests: a CA and certificates it issues (EC P-256, SHA-256). */
public final class TestPki {
    private static final SecureRandom RANDOM = new SecureRandom();

    /** A key pair with its certificate; {@code issuer} is null for a self-signed CA. */
    public record Issued(KeyPair keyPair, X509Certificate certificate, Issued issuer) {
        /** This certificate followed by its issuers. */
        public List<X509Certificate> chain() {
            List<X509Certificate> out = new ArrayList<>();
            for (Issued i = this; i != null; i = i.issuer()) {
                out.add(i.certificate());
            }
            return out;
        }

        /** Writes the certificate as PEM. */
        public Path writeCertificate(Path file) {
            return writePem(file, certificate);
        }

        /** Writes the private key as PKCS#8 PEM ({@code BEGIN PRIVATE KEY}), which Go and the JDK both read. */
        public Path writeKey(Path file) {
            String b64 = java.util.Base64.getMimeEncoder(64, "\n".getBytes(StandardCharsets.US_ASCII)).encodeToString(keyPair.getPrivate().getEncoded());
            try {
                Files.writeString(file, "-----BEGIN PRIVATE KEY-----\n" + b64 + "\n-----END PRIVATE KEY-----\n", StandardCharsets.US_ASCII);
                return file;
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
    }

    private TestPki() {
    }

    /** A self-signed CA valid for a day. */
    public static Issued ca(String commonName) {
        KeyPair kp = newKeyPair();
        return build(commonName, kp, null, true, List.of(), false, new KeyUsage(KeyUsage.keyCertSign | KeyUsage.cRLSign | KeyUsage.digitalSignature));
    }

    /** A TLS server certificate for 127.0.0.1 and localhost issued by {@code ca}. */
    public static Issued server(Issued ca, String commonName) {
        return build(commonName, newKeyPair(), ca, false, List.of(
                new GeneralName(GeneralName.iPAddress, "127.0.0.1"), new GeneralName(GeneralName.dNSName, "localhost")),
                true, new KeyUsage(KeyUsage.digitalSignature | KeyUsage.keyEncipherment));
    }

    /** A signing (digitalSignature) certificate issued by {@code ca}, e.g. for a token issuer. */
    public static Issued signer(Issued ca, String commonName) {
        return build(commonName, newKeyPair(), ca, false, List.of(), false, new KeyUsage(KeyUsage.digitalSignature));
    }

    /** A TLS client certificate issued by {@code ca}. */
    public static Issued client(Issued ca, String commonName) {
        return build(commonName, newKeyPair(), ca, false, List.of(), false, new KeyUsage(KeyUsage.digitalSignature));
    }

    private static Issued build(String cn, KeyPair kp, Issued issuer, boolean isCa, List<GeneralName> sans, boolean serverAuth, KeyUsage usage) {
        try {
            X500Name subject = new X500Name("CN=" + cn);
            X500Name issuerName = issuer == null ? subject : X500Name.getInstance(issuer.certificate().getSubjectX500Principal().getEncoded());
            Instant now = Instant.now();
            X509v3CertificateBuilder b = new JcaX509v3CertificateBuilder(issuerName, new BigInteger(64, RANDOM).abs().add(BigInteger.ONE),
                    Date.from(now.minus(Duration.ofHours(1))), Date.from(now.plus(Duration.ofDays(1))), subject, kp.getPublic());
            JcaX509ExtensionUtils ext = new JcaX509ExtensionUtils();
            b.addExtension(Extension.basicConstraints, true, new BasicConstraints(isCa));
            b.addExtension(Extension.keyUsage, true, usage);
            b.addExtension(Extension.subjectKeyIdentifier, false, ext.createSubjectKeyIdentifier(kp.getPublic()));
            if (issuer != null) {
                b.addExtension(Extension.authorityKeyIdentifier, false, ext.createAuthorityKeyIdentifier(issuer.certificate()));
            }
            if (!sans.isEmpty()) {
                b.addExtension(Extension.subjectAlternativeName, false, new GeneralNames(sans.toArray(new GeneralName[0])));
            }
            if (serverAuth) {
                b.addExtension(Extension.extendedKeyUsage, false, new ExtendedKeyUsage(KeyPurposeId.id_kp_serverAuth));
            }
            KeyPair signer = issuer == null ? kp : issuer.keyPair();
            X509Certificate cert = new JcaX509CertificateConverter().getCertificate(
                    b.build(new JcaContentSignerBuilder("SHA256withECDSA").build(signer.getPrivate())));
            return new Issued(kp, cert, issuer);
        } catch (Exception e) {
            throw new IllegalStateException("generating a test certificate for " + cn, e);
        }
    }

    private static KeyPair newKeyPair() {
        try {
            KeyPairGenerator g = KeyPairGenerator.getInstance("EC");
            g.initialize(new ECGenParameterSpec("secp256r1"), RANDOM);
            return g.generateKeyPair();
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException(e);
        }
    }

    /** Writes any BouncyCastle-writable object (certificate, key) as PEM. */
    public static Path writePem(Path file, Object... objects) {
        StringWriter sw = new StringWriter();
        try (JcaPEMWriter w = new JcaPEMWriter(sw)) {
            for (Object o : objects) {
                w.writeObject(o);
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        try {
            Files.writeString(file, sw.toString(), StandardCharsets.US_ASCII);
            return file;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
