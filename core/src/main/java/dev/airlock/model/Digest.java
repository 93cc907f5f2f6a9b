package dev.airlock.model;

import dev.airlock.error.InvalidContentException;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.regex.Pattern;

/**
 * A content digest, {@code sha256:<64 lowercase hex>}. Only sha256 is produced; sha512 is
 * accepted when parsing so that foreign content can be named, not verified.
 */
public record Digest(String algorithm, String hex) implements Comparable<Digest> {
    private static final Pattern SHA256 = Pattern.compile("[a-f0-9]{64}");
    private static final Pattern SHA512 = Pattern.compile("[a-f0-9]{128}");

    public Digest {
        boolean ok = switch (algorithm == null ? "" : algorithm) {
            case "sha256" -> hex != null && SHA256.matcher(hex).matches();
            case "sha512" -> hex != null && SHA512.matcher(hex).matches();
            default -> false;
        };
        if (!ok) {
            throw new InvalidContentException("invalid digest " + algorithm + ":" + abbreviate(hex));
        }
    }

    /** Parses {@code sha256:<hex>}; throws {@link InvalidContentException} for anything else. */
    public static Digest parse(String text) {
        if (text == null) {
            throw new InvalidContentException("missing digest");
        }
        int colon = text.indexOf(':');
        if (colon <= 0) {
            throw new InvalidContentException("invalid digest " + abbreviate(text));
        }
        return new Digest(text.substring(0, colon), text.substring(colon + 1));
    }

    /** The sha256 digest of the given bytes. */
    public static Digest sha256(byte[] bytes) {
        return ofSha256(newSha256().digest(bytes));
    }

    /** Wraps a raw 32-byte sha256 result. */
    public static Digest ofSha256(byte[] raw) {
        return new Digest("sha256", HexFormat.of().formatHex(raw));
    }

    /** A fresh SHA-256 MessageDigest (always available on every JVM). */
    public static MessageDigest newSha256() {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 missing from this JVM", e);
        }
    }

    /** {@code sha256:abcdef012345} for human output. */
    public String shortForm() {
        return algorithm + ":" + hex.substring(0, 12);
    }

    @Override
    public String toString() {
        return algorithm + ":" + hex;
    }

    @Override
    public int compareTo(Digest o) {
        return toString().compareTo(o.toString());
    }

    private static String abbreviate(String s) {
        if (s == null) {
            return "null";
        }
        return s.length() > 80 ? s.substring(0, 80) + "…" : s;
    }
}
