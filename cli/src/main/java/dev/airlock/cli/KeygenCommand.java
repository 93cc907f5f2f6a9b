package dev.airlock.cli;

import dev.airlock.sign.KeyGen;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.Optional;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code airlock keygen}: an ECDSA P-256 signing key, its public key and a self-signed certificate. */
@Command(name = "keygen", mixinStandardHelpOptions = true, usageHelpAutoWidth = true,
        description = {"Create a signing identity: NAME.key (PKCS#8 PEM, mode 0600), NAME.pub.pem and NAME.crt "
                + "(self-signed X.509, 10 years). Existing files are never overwritten.",
                "Sign bundles with NAME.key (and NAME.crt); give NAME.pub.pem or NAME.crt to --trust on the other side."},
        footerHeading = "%nExamples:%n",
        footer = {"  airlock keygen --out ops",
                "  airlock keygen --out keys/site-a --subject 'CN=site A signer,O=Example'"})
public final class KeygenCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Option(names = {"-o", "--out"}, required = true, paramLabel = "NAME", description = "Base name of the files to write.")
    Path out;

    @Option(names = "--subject", paramLabel = "DN", description = "Certificate subject (default: '" + KeyGen.DEFAULT_SUBJECT + "').")
    String subject;

    @Mixin
    ProgressOptions progress;

    @Override
    public Integer call() {
        KeyGen.Result r = KeyGen.generate(out, Optional.ofNullable(subject));
        if (progress.quiet()) {
            return 0; // the files are named by --out
        }
        PrintWriter o = spec.commandLine().getOut();
        o.println("private key  " + r.privateKey() + "  (keep it secret; signs bundles)");
        o.println("public key   " + r.publicKey());
        o.println("certificate  " + r.certificate());
        o.println("fingerprint  " + r.fingerprint());
        return 0;
    }
}
