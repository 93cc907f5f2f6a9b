package dev.airlock.cli;

import dev.airlock.error.ExitCodes;
import dev.airlock.progress.Sizes;
import dev.airlock.serve.BundleServer;
import dev.airlock.serve.ServeRequest;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.Callable;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/** {@code airlock serve}: bundles as a read-only registry, served in place until SIGINT/SIGTERM (then exit 0). */
@Command(name = "serve", mixinStandardHelpOptions = true, usageHelpAutoWidth = true,
        description = {"Serve one or more bundles as a read-only OCI registry (Distribution API v2), straight from the tar: "
                + "nothing is extracted. At start every bundle's signature and bundle.json are checked (--verify-all also "
                + "hashes every blob); the same repository:tag with two digests is refused. docker.io/rancher/pause:3.1 is "
                + "served as rancher/pause:3.1. A .tar.zst bundle is refused: decompress it with 'zstd -d' first. "
                + "SIGINT (Ctrl-C) or SIGTERM stops it cleanly: running responses get up to a second, then it prints "
                + "'stopped after N requests' and exits 0. Exit code 3 when a bundle fails verification."},
        footerHeading = "%nExamples:%n",
        footer = {"  airlock serve images.tar --trust ops.pub.pem",
                "  docker pull 127.0.0.1:5000/rancher/pause:3.1",
                "  airlock serve k3s.tar extras.tar --trust ops.crt --listen 0.0.0.0:5000 --log requests.log",
                "  airlock serve images.tar --trust ops.crt --listen 10.0.0.5:443 --tls-cert reg.crt --tls-key reg.key",
                "  airlock serve images.tar --allow-unsigned --keep-registry-host --verify-all"})
public final class ServeCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Parameters(arity = "1..*", paramLabel = "BUNDLE", description = "Uncompressed bundles (.tar); each digest is served once.")
    List<Path> bundles;

    @Option(names = "--listen", paramLabel = "HOST:PORT", defaultValue = ServeRequest.DEFAULT_LISTEN,
            description = "Address to listen on (default: ${DEFAULT-VALUE}; 0.0.0.0:5000 for every interface).")
    String listen;

    @Option(names = "--verify-all", description = "Also hash every blob before serving (otherwise a blob is hashed while first sent whole, a bad one cut off before its last bytes and refused from then on, and hashed whole before a Range request sends any part of it).")
    boolean verifyAll;

    @Option(names = "--log", paramLabel = "FILE", description = "Append one line per request: time, client, method, path, status, bytes, ms.")
    Path log;

    @ArgGroup(exclusive = false, heading = "HTTPS (both or neither):%n")
    TlsFiles tls;

    static final class TlsFiles {
        @Option(names = "--tls-cert", required = true, paramLabel = "CRT", description = "PEM certificate chain, server certificate first.")
        Path cert;

        @Option(names = "--tls-key", required = true, paramLabel = "KEY", description = "Its unencrypted PEM private key (RSA or EC).")
        Path key;
    }

    @Mixin
    TrustOptions trust;

    @Mixin
    KeepHostOption keepHost;

    @Mixin
    ProgressOptions progress;

    @Override
    public Integer call() throws InterruptedException {
        PrintWriter out = spec.commandLine().getOut();
        PrintWriter err = spec.commandLine().getErr();
        ServeRequest request = new ServeRequest(bundles, trust.toPolicy("serve"), verifyAll, keepHost.keepHost(),
                ServeRequest.Listen.parse(listen), tls == null ? Optional.empty() : ServeRequest.Tls.of(tls.cert, tls.key),
                Optional.ofNullable(log), line -> err.println("airlock: " + line));
        BundleServer server;
        try (ProgressRenderer p = progress.start()) {
            server = BundleServer.start(request, p);
        }
        Runtime.getRuntime().addShutdownHook(new Thread(() -> stop(server, out, err), "airlock-serve-stop"));
        for (BundleServer.Image i : server.images()) {
            out.println("  " + i.repository() + (i.reference().contains(":") ? "@" : ":") + i.reference() + " " + i.digest()
                    + (i.platforms().isEmpty() ? "" : " " + String.join(",", i.platforms())));
        }
        out.println("serving " + server.images().size() + " images (" + server.blobCount() + " blobs, " + Sizes.bytes(server.blobBytes())
                + ") from " + server.bundleCount() + (server.bundleCount() == 1 ? " bundle" : " bundles") + " on " + server.url()
                + ", read-only; Ctrl-C stops");
        out.flush();
        server.awaitClose();
        return ExitCodes.OK;
    }

    /**
     * SIGINT/SIGTERM: stop accepting, let running responses finish for up to a second (then cut
     * them), close the bundles, say so, and exit 0. A stop by signal is this command's normal end:
     * the JVM would exit with 128 + signal (130/143), which systemd and other supervisors count as
     * a failure unless told otherwise (SuccessExitStatus=143). Runtime.halt is the one way to set
     * the status once a signal began the shutdown; serve registers no temporary files, so the only
     * other hook (TempFiles) has nothing to finish.
     */
    private static void stop(BundleServer server, PrintWriter out, PrintWriter err) {
        server.close();
        long n = server.requestCount();
        out.println("stopped after " + n + (n == 1 ? " request" : " requests"));
        out.flush();
        err.flush();
        Runtime.getRuntime().halt(ExitCodes.OK);
    }
}
