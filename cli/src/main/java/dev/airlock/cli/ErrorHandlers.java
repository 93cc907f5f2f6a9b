package dev.airlock.cli;

import dev.airlock.error.AirlockException;
import dev.airlock.error.ExitCodes;
import dev.airlock.error.Printable;
import java.io.PrintWriter;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.ParseResult;
import picocli.CommandLine;

/**
 * The one place where failures become output and exit codes: a usage error is one line with a
 * hint (exit 2); an {@link AirlockException} is {@code airlock: <message>} with its own
 * {@link AirlockException#exitCode()}; anything else is one line and exit 1. Stack traces only
 * with {@code --debug} or {@code AIRLOCK_DEBUG=1}.
 */
final class ErrorHandlers {
    private ErrorHandlers() {
    }

    static int onParameterException(ParameterException ex, String[] args) {
        CommandLine cmd = ex.getCommandLine();
        PrintWriter err = cmd.getErr();
        err.println("airlock: " + oneLine(ex.getMessage()) + " (try '" + cmd.getCommandSpec().qualifiedName() + " --help')");
        err.flush();
        return ExitCodes.USAGE;
    }

    static int onExecutionException(Exception ex, CommandLine cmd, ParseResult parseResult) {
        Throwable failure = ex instanceof CommandLine.ExecutionException && ex.getCause() != null ? ex.getCause() : ex;
        PrintWriter err = cmd.getErr();
        boolean debug = debugRequested(parseResult);
        int code;
        if (failure instanceof AirlockException airlock) {
            err.println("airlock: " + oneLine(airlock.getMessage()));
            code = airlock.exitCode();
        } else {
            String message = failure.getMessage() == null ? "" : ": " + failure.getMessage();
            err.println("airlock: unexpected error: " + oneLine(failure.getClass().getName() + message)
                    + (debug ? "" : " (run with --debug for details)"));
            code = ExitCodes.FAILURE;
        }
        if (debug) {
            failure.printStackTrace(err);
        }
        writeFailureReport(cmd, code, failure, err);
        err.flush();
        return code;
    }

    /** The JSON written to {@code --report FILE} when a command fails; {@code result} is what a failed import or sync did per image. */
    record FailureReport(boolean ok, String command, int exitCode, String error, Object result) {
    }

    /** What a failed import or sync did get done, per image (null for other failures). */
    private static Object partialResult(Throwable failure) {
        if (failure instanceof dev.airlock.importer.ImportFailedException i) {
            return i.result();
        }
        if (failure instanceof dev.airlock.sync.SyncFailedException f) {
            return f.result();
        }
        return null;
    }

    /** A command with {@code --report FILE} also gets its failure written there. */
    private static void writeFailureReport(CommandLine cmd, int code, Throwable failure, PrintWriter err) {
        for (Object mixin : cmd.getMixins().values()) {
            if (mixin instanceof ReportOption report && report.file().isPresent()) {
                String message = failure instanceof AirlockException ? failure.getMessage() : failure.toString();
                try {
                    report.write(new FailureReport(false, cmd.getCommandSpec().qualifiedName(), code, oneLine(message), partialResult(failure)));
                } catch (AirlockException e) {
                    err.println("airlock: " + oneLine(e.getMessage()));
                }
            }
        }
    }

    /** True when {@code --debug} was given to any command of the line, or AIRLOCK_DEBUG=1. */
    static boolean debugRequested(ParseResult parseResult) {
        if ("1".equals(System.getenv("AIRLOCK_DEBUG")) || "true".equalsIgnoreCase(System.getenv("AIRLOCK_DEBUG"))) {
            return true;
        }
        for (ParseResult pr = parseResult; pr != null; pr = pr.subcommand()) {
            if (pr.hasMatchedOption("--debug")) {
                return true;
            }
        }
        return false;
    }

    /**
     * One terminal-safe line: line breaks and tabs become spaces, and every other control or
     * format character (which may come from hostile input such as tar entry names, bundle fields,
     * registry answers) becomes '?' through {@link Printable#text}, the one sanitiser.
     */
    static String oneLine(String text) {
        if (text == null || text.isEmpty()) {
            return "(no message)";
        }
        return Printable.text(text.replaceAll("[\\n\\r\\t]", " ")).strip();
    }
}
