package dev.airlock.cli;

import dev.airlock.error.UsageException;
import dev.airlock.importer.ReceiptMaker;
import dev.airlock.model.ImageList;
import dev.airlock.model.ImageReference;
import dev.airlock.model.TargetMapping;
import dev.airlock.receipt.Receipt;
import dev.airlock.receipt.ReceiptFiles;
import dev.airlock.registry.RegistryOptions;
import dev.airlock.registry.RegistryStore;
import dev.airlock.registry.TransportOptions;
import dev.airlock.sign.Signer;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/** {@code airlock receipt}: what a registry verifiably holds of a list of images, signed. Options → {@link ReceiptMaker}. */
@Command(name = "receipt", mixinStandardHelpOptions = true, usageHelpAutoWidth = true,
        description = {"Write a receipt of what a registry holds now for these images (mapped like 'airlock import --to'): each tag "
                + "resolved there, every manifest fetched by digest (the blobs they reference are there with them), every attached "
                + "signature, attestation or SBOM found as the registry lists it. Tags that do not exist are "
                + "listed as absent. Give it to 'airlock export --since' to ship only what the registry lacks."},
        footerHeading = "%nExamples:%n",
        footer = {"  airlock receipt --from registry.internal:5000/mirror -f k3s-images.txt -o site-a.receipt --sign-key site-a.key",
                "  airlock receipt --from 10.0.0.5:5000 docker.io/rancher/pause:3.1 -o pause.receipt"})
public final class ReceiptCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Parameters(paramLabel = "REF", arity = "0..*", description = "Source image references (as exported), normalised like docker's.")
    List<String> references = new ArrayList<>();

    @Option(names = {"-f", "--image-list"}, paramLabel = "LIST", description = "File with one reference per line (# comments). Repeatable.")
    List<Path> imageLists = new ArrayList<>();

    @Option(names = "--from", required = true, paramLabel = "REGISTRY[/PREFIX]",
            description = "The registry and prefix the images were imported to, e.g. registry.internal:5000/mirror.")
    String from;

    @Option(names = {"-o", "--output"}, required = true, paramLabel = "FILE", description = "The receipt to write (FILE.sig, FILE.p7s beside it when signed).")
    Path output;

    @Option(names = "--sign-key", paramLabel = "KEY", description = "Sign the receipt with this EC P-256 private key (PEM).")
    Path signKey;

    @Option(names = "--sign-cert", paramLabel = "CRT", description = "Certificate of --sign-key (PEM); adds FILE.p7s (CMS).")
    Path signCert;

    @Mixin
    KeepHostOption keepHost;

    @Mixin
    JobsOption jobs;

    @Mixin
    RegistryFlags registry;

    @Mixin
    ProgressOptions progress;

    @Override
    public Integer call() {
        if (signCert != null && signKey == null) {
            throw new UsageException("--sign-cert needs --sign-key");
        }
        if (references.isEmpty() && imageLists.isEmpty()) {
            throw new UsageException("nothing to check: give image references or -f LIST");
        }
        List<ImageReference> refs = ImageList.combine(references, imageLists, "receipt");
        TargetMapping mapping = TargetMapping.parse(from, keepHost.keepHost());
        Optional<Signer> signer = Optional.ofNullable(signKey).map(k -> Signer.load(k, Optional.ofNullable(signCert)));
        Receipt r;
        RegistryOptions options = registry.toOptions();
        TransportOptions transport = options.transport();
        // every image planned in parallel holds one request slot
        options = options.withTransport(transport.withMaxConcurrentRequests(Math.max(transport.maxConcurrentRequests(), jobs.jobs() + 2)));
        try (RegistryStore target = RegistryStore.open(mapping.registry(), options);
             ProgressRenderer p = progress.start()) {
            r = new ReceiptMaker(target, mapping, jobs.jobs(), p).make(refs, List.of(), Version.get());
        }
        ReceiptFiles.write(output, r, signer);
        PrintWriter out = spec.commandLine().getOut();
        long present = r.images().stream().filter(Receipt.Image::present).count();
        out.println("receipt " + output + ": " + present + " of " + r.images().size() + " image(s) present at " + mapping + ", "
                + r.images().stream().mapToInt(i -> i.manifests().size()).sum() + " manifests, "
                + r.images().stream().mapToInt(i -> i.blobs().size()).sum() + " blobs, " + (signer.isPresent() ? "signed" : "unsigned"));
        r.images().stream().filter(i -> !i.present()).forEach(i -> out.println("  absent  " + i.target()));
        return 0;
    }
}
