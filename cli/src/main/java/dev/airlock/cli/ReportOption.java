package dev.airlock.cli;

import java.nio.file.Path;
import java.util.Optional;
import dev.airlock.io.OutputFiles;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

/** {@code --report FILE}: also write the command's result as JSON to FILE. */
public final class ReportOption {

    @Spec(Spec.Target.MIXEE)
    CommandSpec spec;

    Path file;

    /** Refused at parse time (exit 2) unless FILE is absent or a regular file: never a device or FIFO. */
    @Option(names = "--report", paramLabel = "FILE",
            description = "Also write the result as JSON to FILE (replaced atomically; must be absent or a regular file).")
    void file(Path f) {
        String problem = OutputFiles.problem(f);
        if (problem != null) {
            throw new ParameterException(spec.commandLine(), "--report " + f + " " + problem + "; give a regular file or a new name");
        }
        this.file = f;
    }

    public Optional<Path> file() {
        return Optional.ofNullable(file);
    }

    /** Writes {@code report} as JSON when {@code --report} was given; does nothing otherwise. */
    public void write(Object report) {
        if (file != null) {
            ReportWriter.write(file, report);
        }
    }
}
