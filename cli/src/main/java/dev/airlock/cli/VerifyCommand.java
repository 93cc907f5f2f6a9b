package dev.airlock.cli;

import dev.airlock.bundle.BundleVerifier;
import dev.airlock.sign.TrustPolicy;
import java.nio.file.Path;
import java.util.List;
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
                + "child's config. Reads the archive once; exit code 3 when anything is wrong.",
                "A volume (export --volume-size) verifies alone; given several volumes, verify also checks they are one complete "
                        + "set: every volume once, one set id, one signer, every item a volume needs from another found there."},
        footerHeading = "%nExamples:%n",
        footer = {"  airlock verify images.tar --trust ops.pub.pem",
                "  airlock verify images.tar.zst --trust site-a.crt --trust site-b.pub.pem --json",
                "  airlock verify unsigned.tar --allow-unsigned",
                "  airlock verify k3s.vol*.tar --trust ops.pub.pem      # each volume, then: the set is complete, one signer"})
public final class VerifyCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Parameters(arity = "1..*", paramLabel = "BUNDLE", description = "The bundle (.tar or .tar.zst); several: volumes of one set.")
    java.util.List<Path> bundles;

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
        if (bundles.size() > 1) {
            return verifySet(policy);
        }
        BundleReport result;
        try (ProgressRenderer p = progress.start()) {
            result = BundleReport.of(BundleVerifier.verify(bundles.get(0), policy, p));
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

    /** The JSON of a verified set: the set and each volume's report. */
    record SetReport(boolean ok, String setId, int count, List<BundleReport> volumes) {
    }

    private Integer verifySet(TrustPolicy policy) {
        List<dev.airlock.bundle.VerifyResult> verified = new java.util.ArrayList<>();
        try (ProgressRenderer p = progress.start()) {
            for (Path b : bundles) {
                verified.add(BundleVerifier.verify(b, policy, p));
            }
        }
        dev.airlock.bundle.BundleVolume set = dev.airlock.bundle.VolumeSetCheck.check(verified);
        SetReport result = new SetReport(true, set.setId().toString(), set.count(), verified.stream().map(BundleReport::of).toList());
        var out = spec.commandLine().getOut();
        if (json) {
            out.print(ReportWriter.toJson(result));
        } else if (!progress.quiet()) {
            out.println("OK: the " + set.count() + " volumes of set " + set.setId() + " are complete (" + set.images().size()
                    + " image(s), one signer)");
            result.volumes().forEach(r -> r.print(out, false));
        }
        report.write(result);
        return 0;
    }
}
