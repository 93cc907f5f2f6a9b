package dev.airlock.cli;

import dev.airlock.model.TargetMapping;
import dev.airlock.preflight.BundleNeeds;
import dev.airlock.preflight.Check;
import dev.airlock.preflight.ImageVerdict;
import dev.airlock.preflight.Preflight;
import dev.airlock.preflight.PreflightResult;
import dev.airlock.preflight.TargetRefusedException;
import dev.airlock.sign.TrustPolicy;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.Optional;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code airlock preflight}: what the target registry accepts, before the first upload. */
@Command(name = "preflight", mixinStandardHelpOptions = true, usageHelpAutoWidth = true,
        description = {"Probe a target registry with a few bytes in PREFIX/airlock-preflight: reachable, TLS, authentication, "
                + "push permission, OCI and Docker manifests and indexes, artifact manifests, referrers API, cross-repository "
                + "mount, chunked upload, repository depth. Deletes what it pushed where the registry allows and says what "
                + "stayed. With --for, checks exactly what that bundle needs and names the images that would fail. "
                + "Exit code 0 when importable, 7 when not."},
        footerHeading = "%nExamples:%n",
        footer = {"  airlock preflight --to registry.internal:5000/mirror",
                "  airlock preflight --to registry.internal:5000/mirror --for images.tar --username ops --password-stdin",
                "  airlock preflight --to 10.0.0.5:5000 --for images.tar --keep-registry-host --json"})
public final class PreflightCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Option(names = "--to", required = true, paramLabel = "REGISTRY[/PREFIX]",
            description = "Target registry and optional path prefix, e.g. registry.internal:5000/mirror.")
    String to;

    @Option(names = "--for", paramLabel = "BUNDLE",
            description = "Check what this bundle needs: its media types, target names and depths (its signature is not checked here).")
    Path bundle;

    @Option(names = "--json", description = "Print the result as JSON.")
    boolean json;

    @Mixin
    KeepHostOption keepHost;

    @Mixin
    RegistryFlags registry;

    @Mixin
    ReportOption report;

    @Override
    public Integer call() {
        TargetMapping mapping = TargetMapping.parse(to, keepHost.keepHost());
        Optional<BundleNeeds> needs = Optional.ofNullable(bundle).map(b -> BundleNeeds.read(b, TrustPolicy.allowUnsignedOnly(), mapping));
        PreflightResult r = Preflight.run(registry.toOptions(), mapping, needs);
        PrintWriter out = spec.commandLine().getOut();
        if (json) {
            out.print(ReportWriter.toJson(r));
        } else {
            print(out, r);
        }
        out.flush();
        report.write(r);
        if (!r.importable()) {
            throw new TargetRefusedException("preflight: " + r.refusal().orElse(r.target() + ": cannot import"));
        }
        return 0;
    }

    private static void print(PrintWriter out, PreflightResult r) {
        out.println("preflight " + r.target() + " (scratch repository " + r.scratch() + ")");
        for (Check c : r.checks()) {
            out.printf("  %-26s %-3s  %s%n", c.capability(), c.yes() ? "yes" : "no", c.answer());
        }
        for (ImageVerdict v : r.images()) {
            out.println((v.ok() ? "  ok    " : "  FAIL  ") + v.source() + " → " + (v.target().isEmpty() ? "(no name)" : v.target())
                    + (v.ok() ? "" : ": " + String.join("; ", v.problems())));
        }
        if (r.left().isEmpty()) {
            out.println("  left at the target: nothing");
        } else {
            out.println("  left at the target:");
            r.left().forEach(l -> out.println("    " + l));
        }
        out.println(r.importable() ? (r.images().isEmpty() ? "importable" : "importable: all " + r.images().size() + " image(s)")
                : "NOT importable");
    }
}
