package dev.airlock.cli;

import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code -q/--quiet}, the same on every command: no progress and no success lines; only what the
 * command exists to print (inspect's image list, a dry run's plan, {@code --json}) goes to
 * stdout. Errors and warnings still go to stderr; {@code --report FILE} is still written.
 */
public final class ProgressOptions {

    @Spec(Spec.Target.MIXEE)
    CommandSpec mixee;

    @Option(names = {"-q", "--quiet"},
            description = "Quiet: no progress, no success lines (only what the command exists to print); errors and warnings "
                    + "still go to stderr, --report and --json are unaffected.")
    boolean quiet;

    public boolean quiet() {
        return quiet;
    }

    /**
     * A progress renderer on the command's error stream (stdout stays for results); use it in
     * try-with-resources around the library call.
     */
    public ProgressRenderer start() {
        return ProgressRenderer.start(mixee.commandLine().getErr(), quiet);
    }
}
