package dev.airlock.cli;

import dev.airlock.bundle.BundleVerifier;
import dev.airlock.sign.TrustPolicy;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/** {@code airlock verify}: the whole bundle, offline, in one pass. */
@Command(name = "verify", mixinStandardHelpOptions = true, usageHelpAutoWidth = true,
        description = {"Check a bundle offline: the signature against the trusted keys, every file's size and sha256, "
                + "no unlisted or missing entry, every descriptor present, every index entry's platform equal to its "
                + "child's config. Reads the archive once; exit code 3 when anything is wrong."},
        footerHeading = "%nExamples:%n",
        footer = {"  airlock verify images.tar --trust ops.pub.pem",
                "  airlock verify images.tar.zst --trust site-a.crt --trust site-b.pub.pem --json",
                "  airlock verify unsigned.tar --allow-unsigned"})
public final class VerifyCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Parameters(index = "0", paramLabel = "BUNDLE", description = "The bundle (.tar or .tar.zst).")
    Path bundle;

    @Mixin
    TrustOptions trust;

    @Option(names = "--json", description = "Print the result as JSON.")
    boolean json;

    @Mixin
    ProgressOptions progress;

    @Mixin
    ReportOption report;

    @Override
    public Integer call() {
        TrustPolicy policy = trust.toPolicy("verify");
        BundleReport result;
        try (ProgressRenderer p = progress.start()) {
            result = BundleReport.of(BundleVerifier.verify(bundle, policy, p));
        }
        if (json) {
            spec.commandLine().getOut().print(ReportWriter.toJson(result));
        } else if (!progress.quiet()) {
            spec.commandLine().getOut().println("OK");
            result.print(spec.commandLine().getOut(), false);
        }
        report.write(result);
        return 0;
    }
}
