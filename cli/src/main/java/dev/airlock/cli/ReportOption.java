package dev.airlock.cli;

import java.nio.file.Path;
import java.util.Optional;
import picocli.CommandLine.Option;

/** {@code --report FILE}: also write the command's result as JSON to FILE. */
public final class ReportOption {

    @Option(names = "--report", paramLabel = "FILE",
            description = "Also write the result as JSON to FILE (replaced atomically).")
    Path file;

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
