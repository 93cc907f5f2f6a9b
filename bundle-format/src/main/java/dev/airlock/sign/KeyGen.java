package dev.airlock.sign;

import dev.airlock.error.LocalIoException;
import dev.airlock.error.UsageException;
import java.io.IOException;
import java.math.BigInteger;
import java.nio.ByteBuffer;
import java.nio.channels.SeekableByteChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.FileAttribute;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.SecureRandom;
import java.security.cert.X509Certificate;
import java.security.spec.ECGenParameterSpec;
import java.time.Duration;
import java.time.Instant;
import java.util.Date;
import java.util.Optional;
import java.util.Set;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x509.BasicConstraints;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.KeyUsage;
import org.bouncycastle.cert.X509v3CertificateBuilder;
import org.bouncycastle.cert.jcajce.JcaX509CertificateConverter;
import org.bouncycastle.cert.jcajce.JcaX509v3CertificateBuilder;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;

/**
 * Creates a signing identity: {@code NAME.key} (PKCS#8 PEM, mode 0600 from creation on),
 * {@code NAME.pub.pem} (SubjectPublicKeyInfo PEM) and {@code NAME.crt} (self-signed X.509, valid
 * 10 years). Existing files are never overwritten.
 */
public final class KeyGen {
    /** Default certificate subject. */
    public static final String DEFAULT_SUBJECT = "CN=airlock bundle signer";

    /** The three files written. */
    public record Result(Path privateKey, Path publicKey, Path certificate, String fingerprint) {
    }

    private KeyGen() {
    }

    /**
     * @param base    {@code NAME}; the files are {@code NAME.key}, {@code NAME.pub.pem}, {@code NAME.crt}
     * @param subject X.500 subject of the certificate, e.g. {@code CN=ops,O=Example}
     */
    public static Result generate(Path base, Optional<String> subject) {
        X500Name name;
        try {
            name = new X500Name(subject.orElse(DEFAULT_SUBJECT));
        } catch (IllegalArgumentException e) {
            throw new UsageException("invalid certificate subject '" + subject.orElse("") + "': expected e.g. CN=name,O=org");
        }
        Path keyFile = sibling(base, ".key");
        Path pubFile = sibling(base, ".pub.pem");
        Path crtFile = sibling(base, ".crt");
        for (Path p : new Path[] {keyFile, pubFile, crtFile}) {
            if (Files.exists(p)) {
                throw new UsageException("refusing to overwrite " + p);
            }
        }
        KeyPair kp;
        X509Certificate cert;
        try {
            KeyPairGenerator g = KeyPairGenerator.getInstance("EC");
            g.initialize(new ECGenParameterSpec("secp256r1"), new SecureRandom());
            kp = g.generateKeyPair();
            Instant now = Instant.now();
            X509v3CertificateBuilder b = new JcaX509v3CertificateBuilder(name, new BigInteger(64, new SecureRandom()).add(BigInteger.ONE),
                    Date.from(now.minus(Duration.ofHours(1))), Date.from(now.plus(Duration.ofDays(3650))), name, kp.getPublic());
            b.addExtension(Extension.basicConstraints, true, new BasicConstraints(false));
            b.addExtension(Extension.keyUsage, true, new KeyUsage(KeyUsage.digitalSignature));
            cert = new JcaX509CertificateConverter().getCertificate(
                    b.build(new JcaContentSignerBuilder("SHA256withECDSA").build(kp.getPrivate())));
        } catch (GeneralSecurityException | org.bouncycastle.operator.OperatorCreationException
                 | org.bouncycastle.cert.CertIOException e) {
            throw new IllegalStateException("generating an EC P-256 key failed", e);
        }
        writeNew(keyFile, Pem.encode("PRIVATE KEY", kp.getPrivate().getEncoded()), true);
        writeNew(pubFile, Pem.publicKeyPem(kp.getPublic()), false);
        try {
            writeNew(crtFile, Pem.encode("CERTIFICATE", cert.getEncoded()), false);
        } catch (java.security.cert.CertificateEncodingException e) {
            throw new IllegalStateException(e);
        }
        return new Result(keyFile, pubFile, crtFile, Keys.fingerprint(kp.getPublic()));
    }

    private static Path sibling(Path base, String suffix) {
        return base.resolveSibling(base.getFileName().toString() + suffix);
    }

    private static void writeNew(Path file, String text, boolean secret) {
        Set<StandardOpenOption> opts = Set.of(StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE);
        boolean posix = Files.getFileAttributeView(file.toAbsolutePath().getParent(), java.nio.file.attribute.PosixFileAttributeView.class) != null;
        FileAttribute<?>[] attrs = posix
                ? new FileAttribute<?>[] {PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString(secret ? "rw-------" : "rw-r--r--"))}
                : new FileAttribute<?>[0];
        try (SeekableByteChannel ch = Files.newByteChannel(file, opts, attrs)) {
            ByteBuffer buf = ByteBuffer.wrap(text.getBytes(StandardCharsets.US_ASCII));
            while (buf.hasRemaining()) {
                ch.write(buf);
            }
        } catch (FileAlreadyExistsException e) {
            throw new UsageException("refusing to overwrite " + file);
        } catch (IOException e) {
            throw new LocalIoException("writing " + file + ": " + e.getMessage(), e);
        }
    }
}
