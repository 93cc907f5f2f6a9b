package dev.airlock.cli;

import static org.junit.jupiter.api.Assertions.assertAll;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.airlock.error.AirlockException;
import dev.airlock.error.DigestMismatchException;
import dev.airlock.error.ExitCodes;
import dev.airlock.error.InvalidContentException;
import dev.airlock.error.LocalIoException;
import dev.airlock.error.RegistryException;
import dev.airlock.error.UsageException;
import dev.airlock.error.VerificationException;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import picocli.CommandLine;
import picocli.CommandLine.Command;

class AirlockTest {

    @Test
    void helpListsUsageAndExamples() {
        CliRun r = CliRun.of("--help");
        assertEquals(0, r.code(), r.err());
        assertTrue(r.out().startsWith("Usage: airlock"), r.out());
        assertTrue(r.out().contains("Examples:"), r.out());
        assertTrue(r.out().contains("--version"), r.out());
        assertEquals("", r.err());
    }

    @Test
    void everySubcommandHelpShowsExamples() {
        Map<String, CommandLine> subs = Airlock.commandLine().getSubcommands();
        for (String name : subs.keySet()) {
            CliRun r = CliRun.of(name, "--help");
            assertEquals(0, r.code(), name + ": " + r.err());
            assertTrue(r.out().startsWith("Usage: airlock " + name), name + ": " + r.out());
            assertTrue(r.out().contains("Examples:"), name + " --help has no examples: " + r.out());
            assertTrue(r.out().contains("  airlock " + name), name + " examples do not use the command: " + r.out());
        }
    }

    @Test
    void theBundleCommandsAreRegistered() {
        assertTrue(Airlock.commandLine().getSubcommands().keySet().containsAll(List.of("keygen", "verify", "inspect")));
    }

    @Test
    void subcommandVersionIsTheSame() {
        for (String name : Airlock.commandLine().getSubcommands().keySet()) {
            CliRun r = CliRun.of(name, "--version");
            assertEquals(0, r.code(), name + ": " + r.err());
            assertEquals(CliRun.of("--version").out(), r.out(), name);
        }
    }

    @Test
    void versionIsTheMavenProjectVersion() {
        CliRun r = CliRun.of("--version");
        assertEquals(0, r.code(), r.err());
        String first = r.out().lines().findFirst().orElseThrow();
        assertTrue(first.matches("airlock \\d+\\.\\d+\\.\\d+(-[A-Za-z0-9.]+)?"), first);
        assertEquals(Version.get(), first.substring("airlock ".length()));
    }

    @Test
    void versionNamesTheCommitItWasBuiltFromAndTheRuntime() throws Exception {
        java.util.List<String> lines = CliRun.of("--version").out().lines().toList();
        assertEquals(3, lines.size(), String.join("\n", lines));
        Process git = new ProcessBuilder("git", "rev-parse", "--short=12", "HEAD").redirectErrorStream(true).start();
        String head = new String(git.getInputStream().readAllBytes(), java.nio.charset.StandardCharsets.UTF_8).strip();
        assertEquals(0, git.waitFor(), head);
        assertTrue(lines.get(1).startsWith("commit " + head), lines.get(1) + " vs HEAD " + head);
        assertEquals("runtime Java " + System.getProperty("java.runtime.version") + " (" + System.getProperty("java.vm.name") + ") in "
                + System.getProperty("java.home"), lines.get(2));
    }

    @Test
    void unknownOptionIsOneLineUsageErrorWithHint() {
        CliRun r = CliRun.of("--no-such-option");
        assertEquals(ExitCodes.USAGE, r.code());
        assertEquals(1, r.errLines().length, r.err());
        assertTrue(r.err().startsWith("airlock: "), r.err());
        assertTrue(r.err().contains("--no-such-option"), r.err());
        assertTrue(r.err().contains("try 'airlock --help'"), r.err());
        assertEquals("", r.out());
    }

    @Test
    void noCommandIsAUsageError() {
        CliRun r = CliRun.of();
        assertEquals(ExitCodes.USAGE, r.code());
        assertEquals(1, r.errLines().length, r.err());
        assertTrue(r.err().contains("missing command"), r.err());
    }

    @Test
    void subcommandUsageErrorNamesTheSubcommandInTheHint() {
        CliRun r = CliRun.on(withFailCommand(new IllegalStateException("x")), "fail", "--bogus");
        assertEquals(ExitCodes.USAGE, r.code());
        assertEquals(1, r.errLines().length, r.err());
        assertTrue(r.err().contains("try 'airlock fail --help'"), r.err());
    }

    static Stream<Arguments> failures() {
        return Stream.of(
                Arguments.of(new UsageException("bad reference 'x::y'"), ExitCodes.USAGE),
                Arguments.of(new VerificationException("verifying bundle b.tar: signature does not match"), ExitCodes.VERIFICATION),
                Arguments.of(new DigestMismatchException("reading blob sha256:ab: got sha256:cd"), ExitCodes.VERIFICATION),
                Arguments.of(new InvalidContentException("parsing bundle.json: duplicate key 'images'"), ExitCodes.VERIFICATION),
                Arguments.of(new RegistryException("pushing manifest to r/x: 400 MANIFEST_INVALID", 400, List.of("MANIFEST_INVALID")), ExitCodes.REGISTRY),
                Arguments.of(new LocalIoException("writing out.tar: No space left on device"), ExitCodes.IO),
                Arguments.of(new PartialFailure("2 of 5 images failed"), ExitCodes.PARTIAL));
    }

    @ParameterizedTest
    @MethodSource("failures")
    void airlockExceptionsMapToTheirExitCodeWithOneLine(AirlockException failure, int expected) {
        CliRun r = CliRun.on(withFailCommand(failure), "fail");
        assertEquals(expected, r.code());
        assertEquals(List.of("airlock: " + failure.getMessage()), List.of(r.errLines()));
        assertEquals("", r.out());
    }

    @Test
    void exitCodesAreDistinct() {
        assertEquals(7, Stream.of(ExitCodes.OK, ExitCodes.FAILURE, ExitCodes.USAGE, ExitCodes.VERIFICATION,
                ExitCodes.REGISTRY, ExitCodes.IO, ExitCodes.PARTIAL).distinct().count());
    }

    @Test
    void unexpectedExceptionIsOneLineAndExitOne() {
        CliRun r = CliRun.on(withFailCommand(new IllegalStateException("index out of whack")), "fail");
        assertEquals(ExitCodes.FAILURE, r.code());
        assertEquals(1, r.errLines().length, r.err());
        assertTrue(r.err().startsWith("airlock: unexpected error: java.lang.IllegalStateException: index out of whack"), r.err());
        assertFalse(r.err().contains("\tat "), r.err());
    }

    @Test
    void debugFlagPrintsTheStackTrace() {
        CliRun r = CliRun.on(withFailCommand(new VerificationException("bad signature")), "fail", "--debug");
        assertEquals(ExitCodes.VERIFICATION, r.code());
        assertTrue(r.err().startsWith("airlock: bad signature"), r.err());
        assertTrue(r.err().contains("dev.airlock.error.VerificationException: bad signature\n\tat dev.airlock.cli.AirlockTest"), r.err());
        CliRun before = CliRun.on(withFailCommand(new VerificationException("bad signature")), "--debug", "fail");
        assertTrue(before.err().contains("\tat "), before.err());
    }

    @Test
    void messagesAreMadeTerminalSafe() {
        CliRun r = CliRun.on(withFailCommand(new VerificationException("entry 'a\u001b[31m\nb' is hostile")), "fail");
        assertAll(
                () -> assertEquals(1, r.errLines().length, r.err()),
                () -> assertFalse(r.err().contains("\u001b"), r.err()),
                () -> assertTrue(r.err().contains("a?[31m b"), r.err()));
    }

    static CommandLine withFailCommand(Exception failure) {
        CommandLine cli = Airlock.commandLine();
        cli.addSubcommand("fail", new Fail(failure));
        return cli;
    }

    @Command(name = "fail", footerHeading = "%nExamples:%n", footer = "  airlock fail")
    static final class Fail implements Callable<Integer> {
        private final Exception failure;

        Fail(Exception failure) {
            this.failure = failure;
        }

        @Override
        public Integer call() throws Exception {
            throw failure;
        }
    }

    static final class PartialFailure extends AirlockException {
        private static final long serialVersionUID = 1L;

        PartialFailure(String message) {
            super(message);
        }

        @Override
        public int exitCode() {
            return ExitCodes.PARTIAL;
        }
    }
}
