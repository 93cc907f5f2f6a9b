package dev.airlock.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.airlock.error.ExitCodes;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Spec;

/** The mixins export/import/sync share, exercised through a small command that prints what it got. */
class SharedOptionsTest {
    @TempDir
    Path dir;

    @Command(name = "opts")
    static final class Opts implements Runnable {
        @Spec
        CommandSpec spec;
        @Mixin
        PlatformOptions platforms;
        @Mixin
        JobsOption jobs;
        @Mixin
        ReportOption report;
        @Mixin
        ProgressOptions progress;
        @Mixin
        KeepHostOption keepHost;

        @Override
        public void run() {
            spec.commandLine().getOut().println(platforms.platforms() + " jobs=" + jobs.jobs() + " quiet=" + progress.quiet()
                    + " keep=" + keepHost.keepHost());
            report.write(Map.of("platforms", platforms.platforms()));
        }
    }

    private static CliRun run(String... args) {
        CommandLine cli = Airlock.commandLine();
        cli.addSubcommand("opts", new Opts());
        return CliRun.on(cli, args);
    }

    @Test
    void defaults() {
        CliRun r = run("opts");
        assertEquals(0, r.code(), r.err());
        assertEquals("[] jobs=4 quiet=false keep=false\n", r.out());
    }

    @Test
    void everyOptionParses() throws IOException {
        Path report = dir.resolve("report.json");
        CliRun r = run("opts", "--platform", "linux/arm/v7", "--platform=linux/amd64", "-j", "16", "--quiet",
                "--keep-registry-host", "--report", report.toString());
        assertEquals(0, r.code(), r.err());
        assertEquals("[linux/arm/v7, linux/amd64] jobs=16 quiet=true keep=true\n", r.out());
        assertTrue(Files.readString(report).contains("\"linux/arm/v7\""));
    }

    @Test
    void badPlatformIsAOneLineUsageError() {
        CliRun r = run("opts", "--platform", "arm64");
        assertEquals(ExitCodes.USAGE, r.code());
        assertEquals(1, r.errLines().length, r.err());
        assertTrue(r.err().contains("invalid platform 'arm64'"), r.err());
        assertTrue(r.err().contains("try 'airlock opts --help'"), r.err());
    }

    @Test
    void jobsOutOfRangeIsAUsageError() {
        for (String bad : new String[] {"0", "65", "-1", "x"}) {
            CliRun r = run("opts", "--jobs", bad);
            assertEquals(ExitCodes.USAGE, r.code(), bad);
            assertEquals(1, r.errLines().length, r.err());
        }
    }
}
