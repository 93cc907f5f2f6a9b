package dev.airlock.cli;

import dev.airlock.error.UsageException;
import dev.airlock.sign.Signer;
import java.util.Optional;

import dev.airlock.copy.ImageReport;
import dev.airlock.error.Printable;
import dev.airlock.importer.ImportFailedException;
import dev.airlock.importer.ImportRequest;
import dev.airlock.importer.ImportResult;
import dev.airlock.importer.Importer;
import dev.airlock.model.TargetMapping;
import dev.airlock.progress.Sizes;
import dev.airlock.nodeconfig.MirrorConfig;
import dev.airlock.preflight.BundleNeeds;
import dev.airlock.preflight.Preflight;
import dev.airlock.registry.RegistryStore;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/** {@code airlock import}: verify a bundle, then replay it byte-exact into a registry, tags last. */
@Command(name = "import", mixinStandardHelpOptions = true, usageHelpAutoWidth = true,
        description = {"Push every image of a bundle into a registry with the same digests: the signature is checked "
                + "first, then blobs (skipping what the registry has), child manifests, indexes, and the tags last, only "
                + "when every image arrived. Reads the bundle in place; a re-run resumes. "
                + "Before the first upload the target is checked (auth, push permission, the bundle's media types; --no-preflight "
                + "skips it). Exit code 3 when the bundle fails verification, 4 when the registry fails, 7 when the target "
                + "cannot take the bundle (nothing of it uploaded).",
                "Volumes (export --volume-size) are imported one or several at a time, in any order: each image is tagged as soon as "
                        + "it is complete at the target; the others are reported as waiting for their volumes (exit code 9)."},
        footerHeading = "%nExamples:%n",
        footer = {"  airlock import images.tar --to registry.internal:5000/mirror --trust ops.pub.pem",
                "  airlock import images.tar.zst --to 10.0.0.5:5000 --trust ops.crt --keep-registry-host --report import.json",
                "  airlock import images.tar --to registry.internal:5000/mirror --trust ops.pub.pem --dry-run",
                "  airlock import images.tar --to registry.internal:5000/mirror --trust ops.pub.pem --mirror-config k3s:registries.yaml",
                "  airlock import k3s.vol003.tar k3s.vol001.tar --to registry.internal:5000/mirror --trust ops.pub.pem",
                "",
                "docker.io/rancher/pause:3.1 --to reg.local:5000/mirror arrives as reg.local:5000/mirror/rancher/pause:3.1."})
public final class ImportCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Parameters(arity = "1..*", paramLabel = "BUNDLE", description = "The bundle (.tar or .tar.zst); several only when they are volumes of one set.")
    java.util.List<Path> bundles;

    @Option(names = "--to", required = true, paramLabel = "REGISTRY[/PREFIX]",
            description = "Target registry and optional path prefix, e.g. registry.internal:5000/mirror.")
    String to;

    @Option(names = "--dry-run", description = "Print the plan (targets, what exists, what would be pushed); write nothing.")
    boolean dryRun;

    @Option(names = "--no-preflight", description = "Skip the check before the first upload (authentication, push permission, "
            + "the manifest media types the bundle uses; exit code 7 when the target refuses).")
    boolean noPreflight;

    @Option(names = "--mirror-config", paramLabel = "FORMAT:PATH",
            description = "After a successful import, write node configuration: k3s:FILE, containerd:DIR or containers:FILE (repeatable); see mirror-config.")
    java.util.List<String> mirrorConfig;

    @Mixin
    NodeConfigOptions node;

    @Option(names = "--receipt", paramLabel = "FILE",
            description = "After a successful import, write a receipt: what the target now verifiably holds of the bundle's images "
                    + "(for 'airlock export --since'). Signed with --sign-key (FILE.sig; FILE.p7s with --sign-cert).")
    Path receipt;

    @Option(names = "--sign-key", paramLabel = "KEY", description = "Sign the --receipt with this EC P-256 private key (PEM).")
    Path signKey;

    @Option(names = "--sign-cert", paramLabel = "CRT", description = "Certificate of --sign-key (PEM); adds FILE.p7s (CMS).")
    Path signCert;

    @Mixin
    TrustOptions trust;

    @Mixin
    KeepHostOption keepHost;

    @Mixin
    JobsOption jobs;

    @Mixin
    RegistryFlags registry;

    @Mixin
    ProgressOptions progress;

    @Mixin
    ReportOption report;

    @Override
    public Integer call() {
        TargetMapping mapping = TargetMapping.parse(to, keepHost.keepHost());
        if ((signKey != null || signCert != null) && receipt == null) {
            throw new UsageException("--sign-key and --sign-cert sign a --receipt; give --receipt FILE");
        }
        if (signCert != null && signKey == null) {
            throw new UsageException("--sign-cert needs --sign-key");
        }
        Optional<ImportRequest.ReceiptOutput> out0 = Optional.ofNullable(receipt).map(f -> new ImportRequest.ReceiptOutput(f,
                Optional.ofNullable(signKey).map(k -> Signer.load(k, Optional.ofNullable(signCert)))));
        var policy = trust.toPolicy("import");
        java.util.List<ImportRequest> requests = bundles.stream().map(b -> new ImportRequest(b, mapping, policy, jobs.jobs(), dryRun, out0)).toList();
        PrintWriter out = spec.commandLine().getOut();
        var nodeConfigs = NodeConfigOptions.parse(mirrorConfig);
        ImportResult result;
        String scheme;
        try (RegistryStore target = RegistryStore.open(mapping.registry(), registry.toOptions());
             ProgressRenderer p = progress.start()) {
            scheme = target.baseUri().getScheme();
            result = dev.airlock.importer.VolumeSetImport.run(request -> {
                Importer importer = new Importer(target, p);
                if (!noPreflight) {
                    importer.beforeFirstUpload(() -> {
                        var left = Preflight.beforeImport(target, mapping, BundleNeeds.read(request.bundle(), request.trust(), mapping));
                        if (!left.isEmpty()) {
                            p.note("note: the preflight check left its few probe bytes at the target: " + String.join("; ", left));
                        }
                    });
                }
                return importer;
            }, requests);
        } catch (ImportFailedException e) {
            if (!progress.quiet()) {
                print(out, e.result());
            }
            throw e; // ErrorHandlers writes the --report with the per-image result
        }
        if (!progress.quiet() || dryRun) {
            print(out, result); // a dry run exists to print its plan
        }
        if (receipt != null && !dryRun && !progress.quiet()) {
            out.println("receipt " + receipt + (signKey != null ? " (signed)" : " (unsigned)"));
        }
        report.write(result);
        if (!dryRun && !nodeConfigs.isEmpty()) {
            var sources = result.images().stream().map(ImageReport::source).toList();
            for (Path f : MirrorConfig.write(sources, mapping, node.endpoint(scheme, registry.insecure, registry.caCert), nodeConfigs)) {
                out.println("wrote " + f);
            }
        }
        return result.waitingImages().isEmpty() || dryRun ? 0 : dev.airlock.error.ExitCodes.WAITING;
    }

    private static void print(PrintWriter out, ImportResult r) {
        int n = 0;
        for (ImageReport i : r.images()) {
            n++;
            String head = n + "/" + r.images().size() + " " + i.source() + " → " + i.pinnedTarget() + " ";
            out.println(Printable.text(head + switch (i.status()) {
                case OK -> r.upToDate() ? "up to date" : "ok (" + Sizes.bytes(i.bytesUploaded()) + " uploaded, "
                        + Sizes.bytes(i.bytesSkipped()) + " present, " + Sizes.bytes(i.bytesMounted()) + " mounted)";
                case PLANNED -> i.detail().orElse("");
                case FAILED -> "failed: " + i.detail().orElse("(no reason)");
                case NOT_ATTEMPTED -> i.detail().orElse("not attempted");
                case WAITING -> i.detail().orElse("waiting for other volumes");
            }));
        }
        int waiting = r.waitingImages().size();
        String what = r.dryRun() ? "dry run, nothing written" : r.upToDate() ? "already complete, nothing written"
                : waiting > 0 ? (r.images().size() - waiting) + " tagged, " + waiting + " waiting for other volumes"
                : r.tagged() ? "tagged" : "NOT tagged";
        out.println(Printable.text(r.images().size() + " images from " + r.bundle() + " (" + r.signature() + ") → " + r.target() + ": " + what
                + (r.dryRun() || r.upToDate() ? "" : ", " + Sizes.bytes(r.bytesUploaded()) + " uploaded, "
                + Sizes.bytes(r.bytesSkipped()) + " present, " + Sizes.bytes(r.bytesMounted()) + " mounted")
                + ", " + Sizes.seconds(r.seconds())));
    }
}
