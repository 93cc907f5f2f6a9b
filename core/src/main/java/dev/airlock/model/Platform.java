package dev.airlock.model;

import dev.airlock.error.Printable;
import dev.airlock.error.UsageException;
import java.util.Locale;
import java.util.Objects;

/**
 * An image platform. Values are kept as given (so descriptors re-serialise exactly); comparison
 * goes through {@link #normalized()}: {@code aarch64}→{@code arm64}, {@code x86_64}→{@code amd64},
 * arm64 without variant ≡ arm64/v8, {@code armhf}→arm/v7, {@code armel}→arm/v6, {@code i386}→386.
 *
 * @param os           e.g. linux, windows; "unknown" for attestation manifests
 * @param architecture e.g. amd64, arm64, arm, 386, ppc64le, s390x, mips64le, riscv64
 * @param variant      e.g. v5, v6, v7, v8; empty when none
 * @param osVersion    e.g. a Windows build; empty when none
 */
public record Platform(String os, String architecture, String variant, String osVersion) {
    public static final Platform UNKNOWN = new Platform("unknown", "unknown", "", "");

    public Platform {
        Objects.requireNonNull(os, "os");
        Objects.requireNonNull(architecture, "architecture");
        variant = variant == null ? "" : variant;
        osVersion = osVersion == null ? "" : osVersion;
    }

    public static Platform of(String os, String architecture, String variant) {
        return new Platform(os, architecture, variant, "");
    }

    /** Parses {@code os/arch[/variant]} as given on a command line, e.g. {@code linux/arm/v7}. */
    public static Platform parse(String text) {
        String[] parts = text == null ? new String[0] : text.trim().split("/", -1);
        if (parts.length < 2 || parts.length > 3) {
            throw new UsageException("invalid platform '" + Printable.of(text) + "': expected OS/ARCH[/VARIANT], e.g. linux/arm64 or linux/arm/v7");
        }
        for (String p : parts) {
            if (!p.matches("[a-z0-9_.-]+")) {
                throw new UsageException("invalid platform '" + Printable.of(text) + "': expected OS/ARCH[/VARIANT], e.g. linux/arm64 or linux/arm/v7");
            }
        }
        return new Platform(parts[0], parts[1], parts.length == 3 ? parts[2] : "", "");
    }

    /** The canonical form used for every comparison. */
    public Platform normalized() {
        String o = os.toLowerCase(Locale.ROOT);
        String a = architecture.toLowerCase(Locale.ROOT);
        String v = variant.toLowerCase(Locale.ROOT);
        switch (a) {
            case "aarch64" -> a = "arm64";
            case "x86_64", "x86-64" -> a = "amd64";
            case "i386", "i686" -> a = "386";
            case "armhf" -> { a = "arm"; v = v.isEmpty() ? "v7" : v; }
            case "armel" -> { a = "arm"; v = v.isEmpty() ? "v6" : v; }
            default -> { }
        }
        if (a.equals("arm64") && v.isEmpty()) {
            v = "v8";
        }
        if (a.equals("arm") && v.matches("[5-8]")) {
            v = "v" + v;
        }
        if (a.equals("amd64") && v.equals("v1")) {
            v = "";
        }
        return new Platform(o, a, v, osVersion);
    }

    /** Same platform after normalisation; osVersion is compared only when both sides have one. */
    public boolean matches(Platform other) {
        Platform a = normalized();
        Platform b = other.normalized();
        boolean osv = a.osVersion.isEmpty() || b.osVersion.isEmpty() || a.osVersion.equals(b.osVersion);
        return a.os.equals(b.os) && a.architecture.equals(b.architecture) && a.variant.equals(b.variant) && osv;
    }

    /** True for the unknown/unknown platform that BuildKit gives attestation manifests. */
    public boolean isUnknown() {
        return os.equals("unknown") && architecture.equals("unknown");
    }

    /** An {@code arm} platform without a variant: ambiguous between v5, v6 and v7. */
    public boolean lacksArmVariant() {
        Platform n = normalized();
        return n.architecture.equals("arm") && n.variant.isEmpty();
    }

    /** {@code linux/arm/v7}, {@code linux/amd64}. */
    @Override
    public String toString() {
        return os + "/" + architecture + (variant.isEmpty() ? "" : "/" + variant);
    }
}
