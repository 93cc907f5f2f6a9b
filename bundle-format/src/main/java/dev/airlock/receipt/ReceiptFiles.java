package dev.airlock.receipt;

import dev.airlock.error.InvalidContentException;
import dev.airlock.error.LocalIoException;
import dev.airlock.error.VerificationException;
import dev.airlock.model.Digest;
import dev.airlock.sign.Keys;
import dev.airlock.sign.SignatureCheck;
import dev.airlock.sign.SignatureInfo;
import dev.airlock.sign.Signer;
import dev.airlock.sign.TrustPolicy;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.security.PublicKey;
import java.security.SecureRandom;
import java.util.HexFormat;
import java.util.Optional;

/**
 * A receipt on disk: {@code FILE} (the compact JSON, signed as written), {@code FILE.sig} (DER
 * ECDSA P-256 / SHA-256 over FILE, {@code openssl dgst -sha256 -verify pub.pem -signature FILE.sig
 * FILE}) and, when the signer has a certificate, {@code FILE.p7s} (detached CMS with the
 * certificate, {@code openssl cms -verify}). Airlock checks {@code FILE.sig} against the trusted
 * keys (a certificate given as trusted counts by its key).
 */
public final class ReceiptFiles {
    private ReceiptFiles() {
    }

    /** A receipt read from disk with its signature state and the sha256 of the file. */
    public record Loaded(Path path, Receipt receipt, SignatureInfo signature, Digest sha256) {
    }

    /** Writes FILE (and the signature files when {@code signer} is given), each atomically; removes stale ones. */
    public static void write(Path file, Receipt receipt, Optional<Signer> signer) {
        byte[] bytes = receipt.bytes();
        Path sig = sibling(file, ".sig");
        Path p7s = sibling(file, ".p7s");
        try {
            Files.deleteIfExists(sig);
            Files.deleteIfExists(p7s);
        } catch (IOException e) {
            throw new LocalIoException("writing receipt " + file + ": " + e.getMessage(), e);
        }
        writeAtomically(file, bytes);
        if (signer.isPresent()) {
            writeAtomically(sig, signer.get().sign(bytes));
            signer.get().cms(bytes).ifPresent(c -> writeAtomically(p7s, c));
        }
    }

    /**
     * Reads and checks a receipt: the signature against {@code trust} first, then strict parsing.
     * A signed receipt that verifies with no trusted key is refused unless the policy allows
     * unsigned receipts; an altered one never verifies.
     */
    public static Loaded read(Path file, TrustPolicy trust) {
        String where = "receipt " + file;
        byte[] bytes = readBounded(file, Receipt.MAX_BYTES, where);
        Path sigFile = sibling(file, ".sig");
        Optional<byte[]> sig = Files.exists(sigFile) ? Optional.of(readBounded(sigFile, 64 * 1024, where + ".sig")) : Optional.empty();
        SignatureInfo info;
        if (sig.isEmpty()) {
            if (!trust.allowUnsigned()) {
                throw new VerificationException(where + " is not signed (no " + sigFile.getFileName()
                        + "); give a trusted key, or allow unsigned receipts explicitly");
            }
            info = SignatureInfo.UNSIGNED;
        } else {
            PublicKey signer = null;
            for (PublicKey k : trust.trusted()) {
                if (SignatureCheck.verifies(k, bytes, sig.get())) {
                    signer = k;
                    break;
                }
            }
            if (signer != null) {
                info = new SignatureInfo(SignatureInfo.Status.TRUSTED, Optional.of(Keys.fingerprint(signer)), Optional.empty());
            } else if (trust.allowUnsigned()) {
                info = new SignatureInfo(SignatureInfo.Status.UNTRUSTED, Optional.empty(), Optional.empty());
            } else {
                throw new VerificationException(where + ": signature " + sigFile.getFileName() + " does not verify with any trusted key"
                        + " (the receipt or its signature was altered, or another key signed it)");
            }
        }
        Receipt r;
        try {
            r = Receipt.parse(bytes, where);
        } catch (InvalidContentException e) {
            throw e.getMessage().startsWith(where) ? e : new InvalidContentException(where + ": " + e.getMessage());
        }
        return new Loaded(file, r, info, Digest.sha256(bytes));
    }

    static Path sibling(Path file, String suffix) {
        return file.resolveSibling(file.getFileName() + suffix);
    }

    private static byte[] readBounded(Path file, int max, String where) {
        try (InputStream in = Files.newInputStream(file)) {
            byte[] b = in.readNBytes(max + 1);
            if (b.length > max) {
                throw new InvalidContentException(where + " is over the limit of " + max + " bytes");
            }
            return b;
        } catch (NoSuchFileException e) {
            throw new LocalIoException(where + ": no such file", e);
        } catch (IOException e) {
            throw new LocalIoException(where + ": cannot read: " + e.getMessage(), e);
        }
    }

    private static void writeAtomically(Path file, byte[] bytes) {
        Path abs = file.toAbsolutePath();
        Path tmp = abs.resolveSibling("." + abs.getFileName() + ".tmp-" + HexFormat.of().formatHex(new SecureRandom().generateSeed(6)));
        try {
            try (FileChannel ch = FileChannel.open(tmp, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
                ByteBuffer b = ByteBuffer.wrap(bytes);
                while (b.hasRemaining()) {
                    ch.write(b);
                }
                ch.force(true);
            }
            Files.move(tmp, abs, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        } catch (IOException e) {
            try {
                Files.deleteIfExists(tmp);
            } catch (IOException ignored) {
                // the original failure matters more
            }
            throw new LocalIoException("writing " + file + ": " + e.getMessage(), e);
        }
    }
}
