package dev.airlock.cli;

import dev.airlock.sign.TrustPolicy;

import dev.airlock.error.UsageException;
import dev.airlock.export.ExportRequest;
import dev.airlock.export.ExportResult;
import dev.airlock.export.ExportResult.ExportedImage;
import dev.airlock.export.Exporter;
import dev.airlock.export.SourceStores;
import dev.airlock.export.dockerarchive.DockerArchiveOptions;
import dev.airlock.export.dockerarchive.DockerArchiveSource;
import dev.airlock.export.dockerarchive.IndexFormat;
import dev.airlock.model.Digest;
import dev.airlock.model.Platform;
import dev.airlock.registry.RegistryOptions;
import dev.airlock.registry.TransportOptions;
import dev.airlock.sign.Signer;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.Callable;
import java.util.stream.Collectors;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/** {@code airlock export}: registry images → one bundle. Options → {@link ExportRequest} → {@link Exporter#export}. */
@Command(name = "export", mixinStandardHelpOptions = true, sortOptions = false, usageHelpAutoWidth = true,
        description = {"Pull images with every architecture (or only --platform ones) and write one bundle: a tar that is an OCI "
                + "layout plus airlock/bundle.json, each blob once, digests unchanged, signed when --sign-key is given.",
                "Every reference is resolved before any layer is downloaded. A .tar bundle is written in place, each blob "
                        + "fetched straight into it: an interrupted export leaves .NAME.partial and its journal beside the output, "
                        + "and the same command run again fetches only what is missing. .tar.zst bundles and volumes stage blobs in "
                        + "the cache directory (--cache) instead."},
        footerHeading = "%nExamples:%n",
        footer = {
                "  airlock export -f k3s-images.txt -o k3s.tar --sign-key ops.key",
                "  airlock export rancher/pause:3.6 docker.io/library/busybox:1.36 -o base.tar.zst",
                "  airlock export -f images.txt --platform linux/amd64 --platform linux/arm64 -o edge.tar --report export.json",
                "  airlock export --docker-archive k3s-airgap-images-amd64.tar.gz --docker-archive k3s-airgap-images-arm64.tar.gz \\",
                "      --docker-archive k3s-airgap-images-arm.tar.gz -o k3s.tar --sign-key ops.key",
                "  airlock export -f k3s-images.txt -o k3s.tar --volume-size fat32 --sign-key ops.key   # k3s.vol001.tar, k3s.vol002.tar, ...",
                "  airlock export -f k3s-images.txt -o k3s.tar.zst --volume-size 4.7GB --standalone-volumes",
        })
final class ExportCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Parameters(paramLabel = "REF", arity = "0..*", description = "Image references, normalised like docker's (busybox → docker.io/library/busybox:latest).")
    List<String> references = new ArrayList<>();

    @Option(names = {"-f", "--image-list"}, paramLabel = "LIST",
            description = "File with one reference per line; blank lines and # comments ignored (k3s-images.txt format). Repeatable.")
    List<Path> imageLists = new ArrayList<>();

    @Option(names = "--docker-archive", paramLabel = "FILE",
            description = "A 'docker save' archive (.tar or .tar.gz, classic or OCI layout), e.g. k3s-airgap-images-arm64.tar.gz. "
                    + "The same tag across archives becomes one multi-arch image; each platform comes from the image's config. Repeatable.")
    List<Path> dockerArchives = new ArrayList<>();

    @Option(names = "--index-format", paramLabel = "FORMAT", defaultValue = "oci",
            description = "Manifest format of images built from --docker-archive: oci (default) or docker.")
    String indexFormat;

    @Option(names = {"-o", "--output"}, paramLabel = "BUNDLE", required = true,
            description = "The bundle to write (written under a temporary name, renamed when complete; BUNDLE.sha256 beside it).")
    Path output;

    @Option(names = "--sign-key", paramLabel = "KEY", description = "Sign bundle.json with this EC P-256 private key (PEM), e.g. from 'airlock keygen'.")
    Path signKey;

    @Option(names = "--sign-cert", paramLabel = "CRT", description = "Certificate of --sign-key (PEM); adds a CMS signature (airlock/bundle.json.p7s).")
    Path signCert;

    @Option(names = "--compress", paramLabel = "ALGO", description = "Compress the bundle: zstd (also implied by an output name ending in .zst).")
    String compress;

    @Option(names = "--since", paramLabel = "RECEIPT",
            description = "Write a delta: leave out what this receipt of the target ('airlock import --receipt', 'airlock receipt') "
                    + "says it holds. Repeatable (the union counts). Needs --trust or --allow-unsigned-receipt.")
    List<Path> since = new ArrayList<>();

    @Option(names = "--trust", paramLabel = "PUB_OR_CERT",
            description = "A PEM public key or certificate whose receipt signatures are trusted (repeatable; with --since).")
    List<Path> receiptTrust = new ArrayList<>();

    @Option(names = "--allow-unsigned-receipt", description = "Accept a --since receipt that is unsigned or signed by a key not given with --trust.")
    boolean allowUnsignedReceipt;

    @Option(names = "--volume-size", paramLabel = "SIZE",
            description = "Write volumes of at most SIZE bytes each (tar overhead, bundle.json and signatures included) instead of one "
                    + "bundle: -o k3s.tar gives k3s.vol001.tar, k3s.vol002.tar, ... (k3s.tar.zst: k3s.vol001.tar.zst, ...), each a "
                    + "complete signed bundle with its .sha256, importable in any order. SIZE: 4GiB, 4.7GB, 700MB, or fat32 "
                    + "(4 GiB - 1), dvd (4.7 GB), dvd-dl (8.5 GB), bd25 (25 GB), bd50 (50 GB), cd (700 MB).")
    String volumeSize;

    @Option(names = "--standalone-volumes", description = "With --volume-size: repeat shared blobs so that every volume's images "
            + "are complete in it alone (the output states the extra bytes).")
    boolean standaloneVolumes;

    @Option(names = "--cache", paramLabel = "DIR", description = "A long-lived blob cache: blobs found there are not fetched again, "
            + "blobs fetched are added (a second copy on disk). Default for .tar: none. .tar.zst and volumes stage blobs there "
            + "(default $XDG_CACHE_HOME/airlock/blobs or ~/.cache/airlock/blobs).")
    Path cache;

    @Mixin
    PlatformOptions platforms;

    @Mixin
    JobsOption jobs;

    @Mixin
    ReferrerFlags referrers;

    @Mixin
    RegistryFlags registry;

    @Mixin
    ReportOption report;

    @Mixin
    ProgressOptions progress;

    @Override
    public Integer call() {
        if (signCert != null && signKey == null) {
            throw new UsageException("--sign-cert needs --sign-key");
        }
        if (compress != null && !compress.equalsIgnoreCase("zstd")) {
            throw new UsageException("--compress supports only zstd, not '" + compress + "'");
        }
        Optional<Signer> signer = Optional.ofNullable(signKey).map(k -> Signer.load(k, Optional.ofNullable(signCert)));
        ExportRequest request = ExportRequest.to(output).references(references).imageLists(imageLists)
                .platforms(platforms.platforms()).jobs(jobs.jobs()).signer(signer).compress(compress != null)
                .referrers(referrers.options());
        if (cache != null) {
            request = request.cacheDir(cache);
        }
        if (!since.isEmpty()) {
            if (receiptTrust.isEmpty() && !allowUnsignedReceipt) {
                throw new UsageException("--since needs --trust KEY_OR_CERT (the secured side's key) or --allow-unsigned-receipt");
            }
            request = request.since(since, TrustPolicy.fromFiles(receiptTrust, allowUnsignedReceipt));
        } else if (!receiptTrust.isEmpty() || allowUnsignedReceipt) {
            throw new UsageException("--trust and --allow-unsigned-receipt apply to --since receipts; give --since RECEIPT");
        }
        if (references.isEmpty() && imageLists.isEmpty() && dockerArchives.isEmpty()) {
            throw new UsageException("nothing to export: give image references, -f LIST or --docker-archive FILE");
        }
        IndexFormat format = IndexFormat.parse(indexFormat);
        if (standaloneVolumes && volumeSize == null) {
            throw new UsageException("--standalone-volumes needs --volume-size SIZE");
        }
        Optional<dev.airlock.export.VolumeOptions> volumes = Optional.ofNullable(volumeSize)
                .map(v -> new dev.airlock.export.VolumeOptions(dev.airlock.export.VolumeSize.parse(v), standaloneVolumes));
        ExportResult result = null;
        dev.airlock.export.VolumeSetResult set = null;
        try (ProgressRenderer p = progress.start();
             DockerArchiveSource archives = dockerArchives.isEmpty() ? null : DockerArchiveSource.open(dockerArchives,
                     DockerArchiveOptions.defaults().withIndexFormat(format).withProgress(p)
                             .withScratchDir(output.toAbsolutePath().getParent()))) {
            if (archives != null) {
                request = request.sources(archives.sourceImages());
            }
            RegistryOptions options = registry.toOptions();
            TransportOptions transport = options.transport();
            // Every parallel blob stream holds one request slot; keep a few for manifests and configs.
            options = options.withTransport(transport.withMaxConcurrentRequests(Math.max(transport.maxConcurrentRequests(), jobs.jobs() + 2)));
            Exporter exporter = new Exporter(SourceStores.registries(options));
            if (volumes.isPresent()) {
                set = exporter.exportVolumes(request.progress(p), volumes.get());
            } else {
                result = exporter.export(request.progress(p));
            }
        }
        if (set != null) {
            if (!progress.quiet()) {
                VolumeOutput.print(set, spec.commandLine().getOut());
            }
            report.write(VolumeOutput.Report.of(set));
            return 0;
        }
        if (!progress.quiet()) {
            print(result, spec.commandLine().getOut());
        }
        report.write(Report.of(result));
        return 0;
    }

    private static void print(ExportResult r, PrintWriter out) {
        // every line through the one sanitiser: references and platforms come from registries
        line(out, "Exported %d image(s) to %s: %s, %d blobs, %s", r.images().size(), r.bundle(), size(r.bundleBytes()), r.blobs(),
                r.signed() ? "signed by " + r.signer().orElse("?") : "NOT SIGNED");
        r.delta().ifPresent(d -> out.printf("Delta against %d receipt(s) (%s): relies on %d item(s), %s, at the target%n",
                d.basedOn().size(), d.basedOn().stream().map(b -> b.receiptId().toString()).collect(Collectors.joining(", ")),
                d.requiredItems(), size(d.requiredBytes())));
        for (ExportedImage i : r.images()) {
            line(out, "  %s  %s  %s  %s", i.source(), i.digest(), i.alreadyPresent() ? "already present" : size(i.bytes()),
                    i.platforms().stream().map(Platform::toString).collect(Collectors.joining(",")));
            i.originalDigest().ifPresent(orig -> line(out, "    digest changed by --platform: %s → %s", orig, i.digest()));
            if (i.artifacts() > 0) {
                line(out, "    %d attached artifact(s) (signatures, attestations, SBOMs)", i.artifacts());
            }
            i.artifactNotes().forEach(n -> line(out, "    %s", n));
        }
        line(out, "Fetched %s, %s from cache, in %.1f s. Checksum: %s", size(r.fetchedBytes()), size(r.cachedBytes()),
                r.duration().toMillis() / 1000.0, r.checksumFile());
        out.flush();
    }

    private static void line(PrintWriter out, String format, Object... args) {
        out.println(dev.airlock.error.Printable.text(String.format(java.util.Locale.ROOT, format, args)));
    }

    private static String size(long bytes) {
        return dev.airlock.progress.Sizes.bytes(bytes);
    }

    /** The {@code --report} JSON. */
    record Report(boolean ok, String bundle, String sha256, long bytes, boolean signed, Optional<String> signer, List<Image> images,
                  int blobs, long uniqueBytes, long fetchedBytes, long cachedBytes, double seconds, Optional<Delta> delta) {
        record Image(String source, Digest digest, String mediaType, Optional<Digest> originalDigest, List<String> platforms, long bytes,
                     int artifacts, List<String> artifactNotes, boolean alreadyPresent) {
        }

        record Delta(List<String> basedOn, int requiredItems, long requiredBytes) {
        }

        static Report of(ExportResult r) {
            List<Image> images = r.images().stream().map(i -> new Image(i.source().toString(), i.digest(), i.mediaType().value(),
                    i.originalDigest(), i.platforms().stream().map(Platform::toString).toList(), i.bytes(), i.artifacts(), i.artifactNotes(),
                    i.alreadyPresent())).toList();
            return new Report(true, r.bundle().toString(), r.bundleSha256().hex(), r.bundleBytes(), r.signed(), r.signer(), images,
                    r.blobs(), r.uniqueBytes(), r.fetchedBytes(), r.cachedBytes(), r.duration().toMillis() / 1000.0,
                    r.delta().map(d -> new Delta(d.basedOn().stream().map(b -> b.receiptId().toString()).toList(), d.requiredItems(),
                            d.requiredBytes())));
        }
    }
}
