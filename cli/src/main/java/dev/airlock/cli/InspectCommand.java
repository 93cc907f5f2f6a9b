package dev.airlock.cli;

import dev.airlock.bundle.BundleArchive;
import dev.airlock.sign.TrustPolicy;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/** {@code airlock inspect}: what a bundle holds. */
@Command(name = "inspect", mixinStandardHelpOptions = true, usageHelpAutoWidth = true,
        description = {"Show a bundle's images (reference, digest, media type, platforms, size), its signer and creation "
                + "time. A signature that does not verify is an error; an unknown signer is shown, not refused. "
                + "Use 'airlock verify' to check every byte."},
        footerHeading = "%nExamples:%n",
        footer = {"  airlock inspect images.tar",
                "  airlock inspect images.tar --trust ops.pub.pem --json"})
public final class InspectCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Parameters(index = "0", paramLabel = "BUNDLE", description = "The bundle (.tar or .tar.zst).")
    Path bundle;

    @Option(names = "--trust", paramLabel = "PUB_OR_CERT",
            description = "A PEM public key or X.509 certificate to check the signer against (repeatable).")
    List<Path> trust = new ArrayList<>();

    @Option(names = "--json", description = "Print the result as JSON.")
    boolean json;

    @Mixin
    ReportOption report;

    @Mixin
    ProgressOptions progress;

    @Override
    public Integer call() {
        BundleReport result;
        try (BundleArchive archive = BundleArchive.open(bundle, TrustPolicy.fromFiles(trust, true))) {
            result = BundleReport.of(archive);
        }
        if (json) {
            spec.commandLine().getOut().print(ReportWriter.toJson(result));
        } else if (progress.quiet()) {
            // what inspect exists to print, one image a line: REFERENCE@DIGEST (like 'docker images -q')
            result.images().forEach(i -> spec.commandLine().getOut().println(i.reference() + "@" + i.digest()));
        } else {
            result.print(spec.commandLine().getOut(), true);
        }
        report.write(result);
        return 0;
    }
}
