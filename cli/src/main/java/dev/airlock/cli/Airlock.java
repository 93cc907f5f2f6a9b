package dev.airlock.cli;

import java.io.FileDescriptor;
import java.io.FileOutputStream;
import java.io.OutputStreamWriter;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ScopeType;
import picocli.CommandLine.Spec;

/**
 * The {@code airlock} command: picocli wiring only. Every subcommand parses its options, makes
 * one library call and prints the result; errors are mapped to exit codes in {@link ErrorHandlers}.
 */
@Command(name = "airlock",
        mixinStandardHelpOptions = true,
        versionProvider = Version.class,
        usageHelpAutoWidth = true,
        description = "Carry multi-arch container images across an air gap: signed OCI bundles, byte-exact import.",
        subcommands = {
                ExportCommand.class,
                KeygenCommand.class,
                VerifyCommand.class,
                InspectCommand.class,
                ImportCommand.class,
                SyncCommand.class,
                PreflightCommand.class,
                MirrorConfigCommand.class,
                ServeCommand.class,
                ReceiptCommand.class,
        },
        footerHeading = "%nExamples:%n",
        footer = {
                "  airlock keygen --out ops",
                "  airlock export -f k3s-images.txt -o images.tar --sign-key ops.key",
                "  airlock verify images.tar --trust ops.pub.pem",
                "  airlock inspect images.tar",
                "",
                "Run 'airlock COMMAND --help' for the options of a command.",
                "Exit codes: 0 ok, 1 failure, 2 usage, 3 verification failed,",
                "4 registry error, 5 local I/O error, 6 partial success (some images failed),",
                "7 the target registry cannot take the bundle (preflight).",
                "8 the target lacks what a delta bundle relies on (nothing pushed).",
        })
public final class Airlock implements Runnable {

    @Option(names = "--debug", scope = ScopeType.INHERIT,
            description = "Print stack traces on errors (also AIRLOCK_DEBUG=1).")
    boolean debug;

    @Spec
    CommandSpec spec;

    @Override
    public void run() {
        // `airlock` alone: show the usage, exit 2 like any other incomplete command line.
        throw new CommandLine.ParameterException(spec.commandLine(), "missing command");
    }

    public static void main(String[] args) {
        commonPoolOfTwo();
        PrintWriter out = new PrintWriter(new OutputStreamWriter(new FileOutputStream(FileDescriptor.out), StandardCharsets.UTF_8), true);
        PrintWriter err = new PrintWriter(new OutputStreamWriter(new FileOutputStream(FileDescriptor.err), StandardCharsets.UTF_8), true);
        int code = run(out, err, args);
        out.flush();
        err.flush();
        System.exit(code);
    }

    /**
     * With one or two CPUs the common pool has parallelism 1, and CompletableFuture then starts a
     * new thread for every asynchronous step: java.net.http completes every {@code sendAsync}
     * response that way, so each registry request cost a thread start (804 threads for a receipt of
     * 100 images, JFR jdk.ThreadStart). A parallelism of 2 keeps them on the pool. Set before
     * anything touches CompletableFuture; a value given with -D is kept.
     */
    private static void commonPoolOfTwo() {
        String key = "java.util.concurrent.ForkJoinPool.common.parallelism";
        if (System.getProperty(key) == null && Runtime.getRuntime().availableProcessors() <= 2) {
            System.setProperty(key, "2");
        }
    }

    /** Runs the command line without exiting the JVM; returns the exit code (see {@code ExitCodes}). */
    public static int run(PrintWriter out, PrintWriter err, String... args) {
        return execute(commandLine(), out, err, args);
    }

    /** Runs {@code args} on a command tree (tests pass one with extra commands). */
    static int execute(CommandLine cli, PrintWriter out, PrintWriter err, String... args) {
        cli.setOut(out);
        cli.setErr(err);
        try {
            return cli.execute(args);
        } finally {
            out.flush();
            err.flush();
        }
    }

    /** The configured command tree (also used by tests that list the commands). */
    static CommandLine commandLine() {
        CommandLine cli = new CommandLine(new Airlock());
        cli.setParameterExceptionHandler(ErrorHandlers::onParameterException);
        cli.setExecutionExceptionHandler(ErrorHandlers::onExecutionException);
        cli.setCaseInsensitiveEnumValuesAllowed(true);
        // `airlock COMMAND --version` prints the same as `airlock --version`
        cli.getSubcommands().values().forEach(sub -> sub.getCommandSpec().versionProvider(new Version()));
        return cli;
    }
}
