package dev.airlock.cli;

import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code --quiet}: no progress output (warnings are still printed). */
public final class ProgressOptions {

    @Spec(Spec.Target.MIXEE)
    CommandSpec mixee;

    @Option(names = {"-q", "--quiet"}, description = "No progress output; warnings and errors are still printed.")
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
