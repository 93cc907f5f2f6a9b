package dev.airlock.cli;

import dev.airlock.copy.ImageReport;
import dev.airlock.error.Printable;
import dev.airlock.model.ImageList;
import dev.airlock.model.ImageReference;
import dev.airlock.model.TargetMapping;
import dev.airlock.progress.Sizes;
import dev.airlock.registry.RegistryOptions;
import dev.airlock.registry.RegistryStore;
import dev.airlock.store.ImageStore;
import dev.airlock.sync.SyncFailedException;
import dev.airlock.sync.SyncRequest;
import dev.airlock.sync.SyncResult;
import dev.airlock.sync.Syncer;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/** {@code airlock sync}: mirror images registry → registry, byte-exact, with the same engine as export and import. */
@Command(name = "sync", mixinStandardHelpOptions = true, usageHelpAutoWidth = true,
        description = {"Copy images directly from their registries into one target registry with the same digests: "
                + "blobs streamed and verified (no temporary files), what exists skipped, child manifests, indexes, then "
                + "each image's tag as soon as it is complete. One line per image; failures are listed at the end "
                + "(exit code 6 when some images failed)."},
        footerHeading = "%nExamples:%n",
        footer = {"  airlock sync docker.io/rancher/pause:3.1 busybox:1.36 --to registry.internal:5000/mirror",
                "  airlock sync -f k3s-images.txt --to 10.0.0.5:5000 --platform linux/amd64 --platform linux/arm64",
                "  airlock sync -f images.txt --to registry.internal:5000/mirror --dry-run"})
public final class SyncCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Parameters(arity = "0..*", paramLabel = "REF", description = "Image references (docker rules: busybox = docker.io/library/busybox:latest).")
    List<String> refs = new ArrayList<>();

    @Option(names = {"-f", "--image-list"}, paramLabel = "LIST", description = "A file with one reference per line, # comments (repeatable).")
    List<Path> lists = new ArrayList<>();

    @Option(names = "--to", required = true, paramLabel = "REGISTRY[/PREFIX]",
            description = "Target registry and optional path prefix, e.g. registry.internal:5000/mirror.")
    String to;

    @Option(names = "--dry-run", description = "Print what would be copied; write nothing.")
    boolean dryRun;

    @Option(names = "--fail-fast", description = "Stop at the first image that fails.")
    boolean failFast;

    @Mixin
    PlatformOptions platforms;

    @Mixin
    KeepHostOption keepHost;

    @Mixin
    JobsOption jobs;

    @Mixin
    ReferrerFlags referrers;

    @Mixin
    SyncRegistryFlags registries;

    @Mixin
    ProgressOptions progress;

    @Mixin
    ReportOption report;

    @Override
    public Integer call() {
        List<ImageReference> images = ImageList.combine(refs, lists, "sync");
        TargetMapping mapping = TargetMapping.parse(to, keepHost.keepHost());
        SyncRequest request = new SyncRequest(images, mapping, platforms.platforms(), jobs.jobs(), failFast, dryRun, referrers.options());
        RegistryOptions sourceOptions = registries.source();
        RegistryOptions targetOptions = registries.target();
        PrintWriter out = spec.commandLine().getOut();
        Map<String, RegistryStore> sources = new LinkedHashMap<>();
        int[] n = {0};
        SyncResult result;
        try (RegistryStore target = RegistryStore.open(mapping.registry(), targetOptions);
             ProgressRenderer p = progress.start()) {
            result = new Syncer(host -> sources.computeIfAbsent(host, h -> RegistryStore.open(h, sourceOptions)), target, p)
                    .run(request, r -> {
                        ++n[0];
                        if (!progress.quiet() || dryRun) { // a dry run exists to print its plan
                            out.println(Printable.text(Syncer.line(r, n[0], images.size())));
                        }
                    });
        } catch (SyncFailedException e) {
            if (!progress.quiet()) {
                summary(out, e.result());
            }
            PrintWriter err = spec.commandLine().getErr();
            for (ImageReport f : e.result().failures()) {
                err.println(Printable.text("failed: " + f.source() + ": " + f.detail().orElse(f.status().toString().toLowerCase(java.util.Locale.ROOT))));
            }
            throw e; // ErrorHandlers writes the --report with the per-image result
        } finally {
            sources.values().forEach(ImageStore::close);
        }
        if (!progress.quiet() || dryRun) {
            summary(out, result);
        }
        report.write(result);
        return 0;
    }

    private static void summary(PrintWriter out, SyncResult r) {
        long ok = r.images().stream().filter(i -> i.status() == ImageReport.Status.OK).count();
        out.println(Printable.text((r.dryRun() ? "dry run: " + r.images().size() + " images planned" : ok + "/" + r.images().size() + " images synced")
                + " to " + r.target() + ", " + Sizes.bytes(r.bytesUploaded()) + " uploaded, " + Sizes.seconds(r.seconds())));
    }
}
