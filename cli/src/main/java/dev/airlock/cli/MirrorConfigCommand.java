package dev.airlock.cli;

import dev.airlock.bundle.BundleArchive;
import dev.airlock.bundle.BundleImage;
import dev.airlock.model.ImageReference;
import dev.airlock.model.TargetMapping;
import dev.airlock.nodeconfig.MirrorConfig;
import dev.airlock.registry.RegistryOptions;
import dev.airlock.registry.RegistryStore;
import dev.airlock.registry.TlsOptions;
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

/** {@code airlock mirror-config}: node configuration that pulls a bundle's source names from the internal registry. */
@Command(name = "mirror-config", mixinStandardHelpOptions = true, usageHelpAutoWidth = true,
        description = {"Write the node configuration that makes the source names of a bundle's images resolve to the "
                + "internal registry, with the names import gives them: k3s:FILE (registries.yaml), containerd:DIR "
                + "(DIR/<source-registry>/hosts.toml), containers:FILE (registries.conf.d drop-in). Only the registries "
                + "the images come from; never credentials. Contacts no registry."},
        footerHeading = "%nExamples:%n",
        footer = {"  airlock mirror-config images.tar --to registry.internal:5000/mirror k3s:/etc/rancher/k3s/registries.yaml",
                "  airlock mirror-config images.tar --to registry.internal:5000/mirror containerd:/etc/containerd/certs.d "
                        + "containers:/etc/containers/registries.conf.d/50-airlock.conf --node-ca-file /etc/ssl/internal-ca.crt"})
public final class MirrorConfigCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Parameters(index = "0", paramLabel = "BUNDLE", description = "The bundle whose images the nodes will pull.")
    Path bundle;

    @Parameters(index = "1..*", arity = "1..*", paramLabel = "FORMAT:PATH",
            description = "k3s:FILE, containerd:DIR or containers:FILE (one or more).")
    List<String> outputs;

    @Option(names = "--to", required = true, paramLabel = "REGISTRY[/PREFIX]",
            description = "The internal registry and prefix the bundle is (or will be) imported to.")
    String to;

    @Option(names = "--plain-http", description = "Nodes talk plain HTTP to the registry (loopback registries do anyway unless TLS is configured).")
    boolean plainHttp;

    @Option(names = "--insecure", description = "Nodes do not verify the registry's TLS certificate (dangerous).")
    boolean insecure;

    @Mixin
    KeepHostOption keepHost;

    @Mixin
    NodeConfigOptions node;

    @Override
    public Integer call() {
        TargetMapping mapping = TargetMapping.parse(to, keepHost.keepHost());
        var outs = NodeConfigOptions.parse(outputs);
        List<ImageReference> sources;
        try (BundleArchive archive = BundleArchive.open(bundle, TrustPolicy.allowUnsignedOnly())) {
            sources = archive.images().stream().map(BundleImage::source).toList();
        }
        String scheme;
        TlsOptions tls = TlsOptions.defaults().withPlainHttp(plainHttp).withInsecure(insecure);
        if (!plainHttp && node.nodeCaFile != null) {
            scheme = "https";
        } else {
            try (RegistryStore reg = RegistryStore.open(mapping.registry(), RegistryOptions.anonymous().withTls(tls))) {
                scheme = reg.baseUri().getScheme();
            }
        }
        for (Path p : MirrorConfig.write(sources, mapping, node.endpoint(scheme, insecure, null), outs)) {
            spec.commandLine().getOut().println("wrote " + p);
        }
        return 0;
    }
}
