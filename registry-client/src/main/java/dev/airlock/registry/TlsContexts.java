package dev.airlock.registry;

import dev.airlock.error.LocalIoException;
import dev.airlock.error.UsageException;
import java.io.IOException;
import java.io.InputStream;
import java.io.Reader;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.security.PrivateKey;
import java.security.cert.Certificate;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Locale;
import javax.net.ssl.KeyManager;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.TrustManager;
import javax.net.ssl.TrustManagerFactory;
import javax.net.ssl.X509ExtendedTrustManager;
import javax.net.ssl.X509TrustManager;
import org.bouncycastle.asn1.pkcs.PrivateKeyInfo;
import org.bouncycastle.openssl.PEMKeyPair;
import org.bouncycastle.openssl.PEMParser;
import org.bouncycastle.openssl.jcajce.JcaPEMKeyConverter;

/** Builds the SSLContext for one registry host from {@link TlsOptions}. */
final class TlsContexts {
    private TlsContexts() {
    }

    /** The certs.d directories that exist for {@code host} ({@code host:port} or {@code host}). */
    static List<Path> hostDirectories(TlsOptions tls, String host) {
        List<Path> out = new ArrayList<>();
        for (Path root : tls.certsDirectories()) {
            Path d = root.resolve(host);
            if (Files.isDirectory(d)) {
                out.add(d);
            }
        }
        return out;
    }

    /** True when host is localhost, 127.0.0.0/8 or ::1 (with or without a port). */
    static boolean isLoopback(String hostPort) {
        String h = hostOnly(hostPort).toLowerCase(Locale.ROOT);
        if (h.equals("localhost") || h.equals("::1") || h.equals("[::1]")) {
            return true;
        }
        if (h.matches("127\\.\\d{1,3}\\.\\d{1,3}\\.\\d{1,3}")) {
            return true;
        }
        return false;
    }

    static String hostOnly(String hostPort) {
        if (hostPort.startsWith("[")) {
            int end = hostPort.indexOf(']');
            return end > 0 ? hostPort.substring(0, end + 1) : hostPort;
        }
        int colon = hostPort.lastIndexOf(':');
        return colon > 0 && hostPort.indexOf(':') == colon ? hostPort.substring(0, colon) : hostPort;
    }

    /** Whether to use plain HTTP for this host; see {@link TlsOptions}. */
    static boolean usePlainHttp(TlsOptions tls, String hostPort) {
        if (tls.plainHttp()) {
            return true;
        }
        return isLoopback(hostPort) && tls.caCert().isEmpty() && !tls.insecure() && hostDirectories(tls, hostPort).isEmpty();
    }

    static SSLContext build(TlsOptions tls, String hostPort) {
        try {
            List<X509Certificate> extraCas = new ArrayList<>();
            if (tls.caCert().isPresent()) {
                extraCas.addAll(readCertificates(tls.caCert().get()));
            }
            KeyManager[] keyManagers = null;
            for (Path dir : hostDirectories(tls, hostPort)) {
                try (DirectoryStream<Path> ds = Files.newDirectoryStream(dir)) {
                    for (Path f : ds) {
                        String name = f.getFileName().toString();
                        if (name.endsWith(".crt")) {
                            extraCas.addAll(readCertificates(f));
                        } else if (name.endsWith(".cert") && keyManagers == null) {
                            Path key = f.resolveSibling(name.substring(0, name.length() - 5) + ".key");
                            if (!Files.isRegularFile(key)) {
                                throw new UsageException("client certificate " + f + " has no matching " + key.getFileName());
                            }
                            keyManagers = keyManagers(readCertificates(f), readKey(key));
                        }
                    }
                }
            }
            TrustManager[] trust = tls.insecure() ? new TrustManager[] {new TrustAll()} : new TrustManager[] {trustManager(extraCas)};
            SSLContext ctx = SSLContext.getInstance("TLS");
            ctx.init(keyManagers, trust, null);
            return ctx;
        } catch (IOException e) {
            throw new LocalIoException("reading TLS material for " + hostPort + ": " + e.getMessage(), e);
        } catch (GeneralSecurityException e) {
            throw new UsageException("setting up TLS for " + hostPort + ": " + e.getMessage(), e);
        }
    }

    private static X509TrustManager trustManager(List<X509Certificate> extraCas) throws GeneralSecurityException {
        TrustManagerFactory sys = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
        sys.init((KeyStore) null);
        X509TrustManager system = firstX509(sys.getTrustManagers());
        if (extraCas.isEmpty()) {
            return system;
        }
        KeyStore ks = KeyStore.getInstance(KeyStore.getDefaultType());
        try {
            ks.load(null, null);
        } catch (IOException e) {
            throw new GeneralSecurityException(e);
        }
        int i = 0;
        for (X509Certificate c : system.getAcceptedIssuers()) {
            ks.setCertificateEntry("system-" + i++, c);
        }
        for (X509Certificate c : extraCas) {
            ks.setCertificateEntry("extra-" + i++, c);
        }
        TrustManagerFactory tmf = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
        tmf.init(ks);
        return firstX509(tmf.getTrustManagers());
    }

    private static X509TrustManager firstX509(TrustManager[] tms) {
        for (TrustManager tm : tms) {
            if (tm instanceof X509TrustManager x) {
                return x;
            }
        }
        throw new IllegalStateException("no X509 trust manager in this JVM");
    }

    private static KeyManager[] keyManagers(List<X509Certificate> chain, PrivateKey key) throws GeneralSecurityException {
        KeyStore ks = KeyStore.getInstance("PKCS12");
        try {
            ks.load(null, null);
        } catch (IOException e) {
            throw new GeneralSecurityException(e);
        }
        char[] pw = "airlock".toCharArray();
        ks.setKeyEntry("client", key, pw, chain.toArray(new Certificate[0]));
        KeyManagerFactory kmf = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
        kmf.init(ks, pw);
        return kmf.getKeyManagers();
    }

    static List<X509Certificate> readCertificates(Path file) throws IOException, GeneralSecurityException {
        CertificateFactory cf = CertificateFactory.getInstance("X.509");
        try (InputStream in = new java.io.ByteArrayInputStream(dev.airlock.io.SmallFiles.read(file, dev.airlock.io.SmallFiles.CA_BUNDLE_LIMIT, "certificate file"))) {
            Collection<? extends Certificate> certs = cf.generateCertificates(in);
            List<X509Certificate> out = new ArrayList<>();
            for (Certificate c : certs) {
                out.add((X509Certificate) c);
            }
            if (out.isEmpty()) {
                throw new GeneralSecurityException("no certificate in " + file);
            }
            return out;
        }
    }

    private static PrivateKey readKey(Path file) throws IOException, GeneralSecurityException {
        try (Reader r = new java.io.StringReader(new String(dev.airlock.io.SmallFiles.read(file, dev.airlock.io.SmallFiles.PEM_LIMIT, "key file"),
                StandardCharsets.UTF_8)); PEMParser p = new PEMParser(r)) {
            Object o = p.readObject();
            JcaPEMKeyConverter conv = new JcaPEMKeyConverter();
            if (o instanceof PEMKeyPair kp) {
                return conv.getPrivateKey(kp.getPrivateKeyInfo());
            }
            if (o instanceof PrivateKeyInfo pki) {
                return conv.getPrivateKey(pki);
            }
            throw new GeneralSecurityException("no unencrypted PEM private key in " + file);
        }
    }

    /** --insecure: accepts any server certificate and host name. */
    private static final class TrustAll extends X509ExtendedTrustManager {
        @Override
        public void checkClientTrusted(X509Certificate[] chain, String authType) {
        }

        @Override
        public void checkServerTrusted(X509Certificate[] chain, String authType) {
        }

        @Override
        public void checkClientTrusted(X509Certificate[] chain, String authType, Socket socket) {
        }

        @Override
        public void checkServerTrusted(X509Certificate[] chain, String authType, Socket socket) {
        }

        @Override
        public void checkClientTrusted(X509Certificate[] chain, String authType, SSLEngine engine) {
        }

        @Override
        public void checkServerTrusted(X509Certificate[] chain, String authType, SSLEngine engine) {
        }

        @Override
        public X509Certificate[] getAcceptedIssuers() {
            return new X509Certificate[0];
        }
    }

}
