package dev.airlock.cli;

import dev.airlock.error.UsageException;
import dev.airlock.sign.TrustPolicy;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import picocli.CommandLine.Option;

/** {@code --trust PUB_OR_CERT}... and {@code --allow-unsigned}: which bundle signers are accepted. */
public final class TrustOptions {

    @Option(names = "--trust", paramLabel = "PUB_OR_CERT",
            description = "A PEM public key or X.509 certificate whose signatures are trusted (repeatable).")
    List<Path> trust = new ArrayList<>();

    @Option(names = "--allow-unsigned", description = "Accept an unsigned bundle, or one signed by a key not given with --trust.")
    boolean allowUnsigned;

    /**
     * The policy; {@code command} names the command in the usage error given when neither
     * option is present ("import").
     */
    public TrustPolicy toPolicy(String command) {
        if (trust.isEmpty() && !allowUnsigned) {
            throw new UsageException(command + " needs --trust KEY_OR_CERT (or --allow-unsigned to accept any signer or none)");
        }
        return TrustPolicy.fromFiles(trust, allowUnsigned);
    }
}
