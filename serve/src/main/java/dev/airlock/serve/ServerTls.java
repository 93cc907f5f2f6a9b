package dev.airlock.serve;

import dev.airlock.error.LocalIoException;
import dev.airlock.error.UsageException;
import java.io.IOException;
import java.io.InputStream;
import java.io.Reader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.security.PrivateKey;
import java.security.Signature;
import java.security.cert.Certificate;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.util.List;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;
import org.bouncycastle.asn1.pkcs.PrivateKeyInfo;
import org.bouncycastle.openssl.PEMKeyPair;
import org.bouncycastle.openssl.PEMParser;
import org.bouncycastle.openssl.jcajce.JcaPEMKeyConverter;

/** The server's SSLContext from {@code --tls-cert} (PEM chain, leaf first) and {@code --tls-key} (PEM, RSA or EC, unencrypted). */
final class ServerTls {
    private ServerTls() {
    }

    static SSLContext context(ServeRequest.Tls tls) {
        List<X509Certificate> chain = certificates(tls.certificate());
        PrivateKey key = key(tls.key());
        matches(key, chain.get(0), tls);
        try {
            KeyStore ks = KeyStore.getInstance("PKCS12");
            ks.load(null, null);
            char[] pw = "airlock".toCharArray();
            ks.setKeyEntry("server", key, pw, chain.toArray(new Certificate[0]));
            KeyManagerFactory kmf = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
            kmf.init(ks, pw);
            SSLContext ctx = SSLContext.getInstance("TLS");
            ctx.init(kmf.getKeyManagers(), null, null);
            return ctx;
        } catch (GeneralSecurityException | IOException e) {
            throw new UsageException("setting up TLS with " + tls.certificate() + " and " + tls.key() + ": " + e.getMessage(), e);
        }
    }

    private static List<X509Certificate> certificates(Path file) {
        try (InputStream in = Files.newInputStream(file)) {
            List<X509Certificate> out = CertificateFactory.getInstance("X.509").generateCertificates(in).stream()
                    .map(c -> (X509Certificate) c).toList();
            if (out.isEmpty()) {
                throw new UsageException("--tls-cert " + file + ": no PEM certificate found");
            }
            return out;
        } catch (NoSuchFileException e) {
            throw new LocalIoException("--tls-cert " + file + ": no such file", e);
        } catch (IOException e) {
            throw new LocalIoException("--tls-cert " + file + ": " + e.getMessage(), e);
        } catch (GeneralSecurityException e) {
            throw new UsageException("--tls-cert " + file + ": not a PEM certificate (" + e.getMessage() + ")", e);
        }
    }

    private static PrivateKey key(Path file) {
        try (Reader r = Files.newBufferedReader(file, StandardCharsets.US_ASCII); PEMParser p = new PEMParser(r)) {
            JcaPEMKeyConverter conv = new JcaPEMKeyConverter();
            Object o;
            while ((o = p.readObject()) != null) {
                if (o instanceof PEMKeyPair kp) {
                    return conv.getPrivateKey(kp.getPrivateKeyInfo());
                }
                if (o instanceof PrivateKeyInfo pki) {
                    return conv.getPrivateKey(pki);
                }
            }
            throw new UsageException("--tls-key " + file + ": no unencrypted PEM private key found (BEGIN PRIVATE KEY, RSA PRIVATE KEY or EC PRIVATE KEY)");
        } catch (NoSuchFileException e) {
            throw new LocalIoException("--tls-key " + file + ": no such file", e);
        } catch (IOException | RuntimeException e) {
            if (e instanceof UsageException u) {
                throw u;
            }
            throw new UsageException("--tls-key " + file + ": not a PEM private key (" + e.getMessage() + ")", e);
        }
    }

    /** Refuses a key that does not belong to the certificate, at start rather than at each handshake. */
    private static void matches(PrivateKey key, X509Certificate cert, ServeRequest.Tls tls) {
        String alg = key.getAlgorithm().equals("EC") ? "SHA256withECDSA" : key.getAlgorithm().equals("RSA") ? "SHA256withRSA" : null;
        if (alg == null) {
            return; // other key types: the handshake decides
        }
        try {
            byte[] probe = "airlock serve key check".getBytes(StandardCharsets.US_ASCII);
            Signature s = Signature.getInstance(alg);
            s.initSign(key);
            s.update(probe);
            byte[] sig = s.sign();
            Signature v = Signature.getInstance(alg);
            v.initVerify(cert.getPublicKey());
            v.update(probe);
            if (!v.verify(sig)) {
                throw new UsageException("--tls-key " + tls.key() + " does not belong to the certificate in " + tls.certificate());
            }
        } catch (GeneralSecurityException e) {
            throw new UsageException("--tls-key " + tls.key() + " does not belong to the certificate in " + tls.certificate() + " (" + e.getMessage() + ")", e);
        }
    }
}
