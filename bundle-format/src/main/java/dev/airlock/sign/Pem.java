package dev.airlock.sign;

import dev.airlock.error.LocalIoException;
import dev.airlock.error.UsageException;
import java.io.IOException;
import java.io.StringReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.security.KeyFactory;
import java.security.PrivateKey;
import java.security.PublicKey;
import java.security.cert.CertificateException;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.security.spec.InvalidKeySpecException;
import java.security.spec.PKCS8EncodedKeySpec;
import java.security.spec.X509EncodedKeySpec;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import org.bouncycastle.asn1.pkcs.PrivateKeyInfo;
import org.bouncycastle.asn1.x509.SubjectPublicKeyInfo;
import org.bouncycastle.cert.X509CertificateHolder;
import org.bouncycastle.openssl.PEMEncryptedKeyPair;
import org.bouncycastle.openssl.PEMKeyPair;
import org.bouncycastle.openssl.PEMParser;
import org.bouncycastle.pkcs.PKCS8EncryptedPrivateKeyInfo;

/**
 * PEM reading and writing for EC keys and X.509 certificates. Private keys: PKCS#8
 * ({@code BEGIN PRIVATE KEY}) or SEC1 ({@code BEGIN EC PRIVATE KEY}, as written by
 * {@code openssl ecparam -genkey}, a leading {@code EC PARAMETERS} block is skipped). Public keys:
 * {@code BEGIN PUBLIC KEY} or taken from {@code BEGIN CERTIFICATE}. Encrypted keys are refused.
 */
public final class Pem {
    private Pem() {
    }

    /** Loads one EC private key from a PEM file. */
    public static PrivateKey readPrivateKey(Path file) {
        String text = readText(file, "private key");
        try (PEMParser p = new PEMParser(new StringReader(text))) {
            Object o;
            while ((o = p.readObject()) != null) {
                if (o instanceof PEMKeyPair kp) {
                    return toPrivate(kp.getPrivateKeyInfo(), file);
                }
                if (o instanceof PrivateKeyInfo pki) {
                    return toPrivate(pki, file);
                }
                if (o instanceof PEMEncryptedKeyPair || o instanceof PKCS8EncryptedPrivateKeyInfo) {
                    throw new UsageException("private key " + file + " is encrypted; Airlock needs an unencrypted PKCS#8 or SEC1 EC key (keep it on protected storage)");
                }
                // EC PARAMETERS and anything else before the key: skip
            }
        } catch (IOException | RuntimeException e) {
            if (e instanceof UsageException u) {
                throw u;
            }
            throw new UsageException("reading private key " + file + ": not a PEM EC private key (" + e.getMessage() + ")", e);
        }
        throw new UsageException("reading private key " + file + ": no PEM private key found (expected BEGIN PRIVATE KEY or BEGIN EC PRIVATE KEY)");
    }

    /**
     * Loads every public key in a PEM file: {@code PUBLIC KEY} blocks and the keys of
     * {@code CERTIFICATE} blocks. Fails when there is none.
     */
    public static List<PublicKey> readPublicKeys(Path file) {
        return readPublicKeys(readText(file, "trusted key"), file.toString());
    }

    /** Same as {@link #readPublicKeys(Path)} over PEM text; {@code what} names the source in errors. */
    public static List<PublicKey> readPublicKeys(String pem, String what) {
        List<PublicKey> out = new ArrayList<>();
        try (PEMParser p = new PEMParser(new StringReader(pem))) {
            Object o;
            while ((o = p.readObject()) != null) {
                if (o instanceof SubjectPublicKeyInfo spki) {
                    out.add(toPublic(spki.getEncoded(), what));
                } else if (o instanceof X509CertificateHolder h) {
                    out.add(toCertificate(h.getEncoded(), what).getPublicKey());
                }
            }
        } catch (IOException | RuntimeException e) {
            if (e instanceof UsageException u) {
                throw u;
            }
            throw new UsageException("reading " + what + ": not a PEM public key or certificate (" + e.getMessage() + ")", e);
        }
        if (out.isEmpty()) {
            throw new UsageException("reading " + what + ": no PEM public key or certificate found (expected BEGIN PUBLIC KEY or BEGIN CERTIFICATE)");
        }
        return out;
    }

    /** Loads the first X.509 certificate of a PEM file. */
    public static X509Certificate readCertificate(Path file) {
        String text = readText(file, "certificate");
        try (PEMParser p = new PEMParser(new StringReader(text))) {
            Object o;
            while ((o = p.readObject()) != null) {
                if (o instanceof X509CertificateHolder h) {
                    return toCertificate(h.getEncoded(), file.toString());
                }
            }
        } catch (IOException | RuntimeException e) {
            if (e instanceof UsageException u) {
                throw u;
            }
            throw new UsageException("reading certificate " + file + ": not a PEM certificate (" + e.getMessage() + ")", e);
        }
        throw new UsageException("reading certificate " + file + ": no BEGIN CERTIFICATE block found");
    }

    /** {@code -----BEGIN type-----} + base64 in 64-column lines + END, with a final newline. */
    public static String encode(String type, byte[] der) {
        String b64 = Base64.getMimeEncoder(64, "\n".getBytes(StandardCharsets.US_ASCII)).encodeToString(der);
        return "-----BEGIN " + type + "-----\n" + b64 + "\n-----END " + type + "-----\n";
    }

    /** A public key as {@code BEGIN PUBLIC KEY} PEM (SubjectPublicKeyInfo). */
    public static String publicKeyPem(PublicKey key) {
        return encode("PUBLIC KEY", key.getEncoded());
    }

    static PublicKey toPublic(byte[] spki, String what) {
        try {
            return KeyFactory.getInstance("EC").generatePublic(new X509EncodedKeySpec(spki));
        } catch (InvalidKeySpecException | java.security.NoSuchAlgorithmException e) {
            throw new UsageException("reading " + what + ": only EC public keys are supported (" + e.getMessage() + ")", e);
        }
    }

    static X509Certificate toCertificate(byte[] der, String what) {
        try {
            return (X509Certificate) CertificateFactory.getInstance("X.509").generateCertificate(new java.io.ByteArrayInputStream(der));
        } catch (CertificateException e) {
            throw new UsageException("reading certificate " + what + ": " + e.getMessage(), e);
        }
    }

    private static PrivateKey toPrivate(PrivateKeyInfo info, Path file) throws IOException {
        try {
            return KeyFactory.getInstance("EC").generatePrivate(new PKCS8EncodedKeySpec(info.getEncoded()));
        } catch (InvalidKeySpecException | java.security.NoSuchAlgorithmException e) {
            throw new UsageException("reading private key " + file + ": only EC keys (P-256) are supported", e);
        }
    }

    private static String readText(Path file, String what) {
        byte[] b = dev.airlock.io.SmallFiles.read(file, dev.airlock.io.SmallFiles.PEM_LIMIT, what);
        try {
            return StandardCharsets.US_ASCII.newDecoder().decode(java.nio.ByteBuffer.wrap(b)).toString();
        } catch (java.nio.charset.CharacterCodingException e) {
            throw new UsageException("reading " + what + " " + file + ": not a PEM text file", e);
        }
    }
}
