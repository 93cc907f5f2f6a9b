package dev.airlock.cli;

import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

/** {@code --jobs N}: how many blobs move at once. */
public final class JobsOption {
    /** Default parallel transfers. */
    public static final int DEFAULT = 4;
    /** Upper bound: more only queues at the registry. */
    public static final int MAX = 64;

    @Spec(Spec.Target.MIXEE)
    CommandSpec mixee;

    private int jobs = DEFAULT;

    @Option(names = {"-j", "--jobs"}, paramLabel = "N", defaultValue = "" + DEFAULT,
            description = "Blobs transferred in parallel, 1.." + MAX + " (default: ${DEFAULT-VALUE}).")
    void setJobs(int value) {
        if (value < 1 || value > MAX) {
            throw new ParameterException(mixee.commandLine(), "--jobs must be between 1 and " + MAX + ", not " + value);
        }
        jobs = value;
    }

    public int jobs() {
        return jobs;
    }
}
