package dev.airlock.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;
import picocli.CommandLine.Model.OptionSpec;

/**
 * The man pages and completion scripts the build generates ({@link ShellDocs}) name every option of
 * every command, render without warnings (groff) and complete in a real bash and zsh.
 */
class ShellDocsTest {
    @TempDir
    static Path dir;
    static CommandLine root;

    @BeforeAll
    static void generate() {
        ShellDocs.write(dir);
        root = Airlock.commandLine();
    }

    record Run(int code, String out, String err) {
    }

    static Run run(List<String> command) throws IOException, InterruptedException {
        Path out = Files.createTempFile(dir, "out", ".txt");
        Path err = Files.createTempFile(dir, "err", ".txt");
        Process p = new ProcessBuilder(command).directory(dir.toFile()).redirectOutput(out.toFile()).redirectError(err.toFile()).start();
        assertTrue(p.waitFor(60, TimeUnit.SECONDS), "timed out: " + command);
        return new Run(p.exitValue(), Files.readString(out, StandardCharsets.UTF_8), Files.readString(err, StandardCharsets.UTF_8));
    }

    static Map<String, CommandLine> commands() {
        Map<String, CommandLine> all = new java.util.LinkedHashMap<>();
        all.put("", root);
        all.putAll(root.getSubcommands());
        return all;
    }

    static String manFile(String command) {
        return command.isEmpty() ? "airlock.1" : "airlock-" + command + ".1";
    }

    @Test
    void thereIsAManPageForAirlockAndEachCommandNamingEveryOption() throws IOException {
        List<String> missing = new ArrayList<>();
        Set<String> expected = new TreeSet<>();
        for (Map.Entry<String, CommandLine> c : commands().entrySet()) {
            expected.add(manFile(c.getKey()));
            String page = Files.readString(dir.resolve("man/man1").resolve(manFile(c.getKey())), StandardCharsets.UTF_8);
            for (OptionSpec o : c.getValue().getCommandSpec().options()) {
                for (String name : o.names()) {
                    if (!page.contains("\\fB" + ShellDocs.roff(name) + "\\fR")) {
                        missing.add(manFile(c.getKey()) + " " + name);
                    }
                }
            }
            if (!c.getKey().isEmpty()) {
                assertTrue(page.contains(".SH EXAMPLES") && page.contains(".SH EXIT STATUS"), manFile(c.getKey()));
            }
        }
        assertEquals(List.of(), missing);
        try (var files = Files.list(dir.resolve("man/man1"))) {
            assertEquals(expected, new TreeSet<>(files.map(f -> f.getFileName().toString()).toList()));
        }
        String top = Files.readString(dir.resolve("man/man1/airlock.1"), StandardCharsets.UTF_8);
        for (String sub : root.getSubcommands().keySet()) {
            assertTrue(top.contains(".B " + sub.replace("-", "\\-") + "\n"), "airlock.1 lists " + sub);
        }
    }

    @Test
    void manPagesRenderWithoutGroffWarnings() throws Exception {
        for (String command : commands().keySet()) {
            Path page = dir.resolve("man/man1").resolve(manFile(command));
            Run r = run(List.of("groff", "-man", "-Tutf8", "-ww", "-z", page.toString()));
            assertEquals(0, r.code(), r.err());
            assertEquals("", r.err(), page.toString());
        }
        Run shown = run(List.of("man", "-l", "-Tutf8", dir.resolve("man/man1/airlock-verify.1").toString()));
        assertEquals(0, shown.code(), shown.err());
        assertTrue(shown.out().contains("--allow-unsigned"), shown.out());
    }

    /** Real bash: source the script, ask for completions after "airlock CMD -" and compare with the model. */
    @Test
    void bashCompletesEveryOptionOfEveryCommand() throws Exception {
        Path script = dir.resolve("bash-completion/airlock");
        List<String> missing = new ArrayList<>();
        for (Map.Entry<String, CommandLine> c : commands().entrySet()) {
            String words = c.getKey().isEmpty() ? "airlock -" : "airlock " + c.getKey() + " -";
            Run r = run(List.of("bash", "-c", "source \"$1\"; COMP_WORDS=($2); COMP_CWORD=$(( ${#COMP_WORDS[@]} - 1 )); "
                    + "COMP_LINE=\"$2\"; COMP_POINT=${#COMP_LINE}; _complete_airlock airlock - x; printf '%s\\n' \"${COMPREPLY[@]}\"",
                    "bash", script.toString(), words));
            assertEquals(0, r.code(), r.err());
            Set<String> offered = new TreeSet<>(r.out().lines().map(String::strip).toList());
            for (OptionSpec o : c.getValue().getCommandSpec().options()) {
                for (String name : o.names()) {
                    if (!offered.contains(name)) {
                        missing.add(words + " → " + name);
                    }
                }
            }
        }
        assertEquals(List.of(), missing);
        Run subs = run(List.of("bash", "-c", "source \"$1\"; COMP_WORDS=(airlock ''); COMP_CWORD=1; COMP_LINE='airlock '; COMP_POINT=8; "
                + "_complete_airlock airlock '' airlock; printf '%s\\n' \"${COMPREPLY[@]}\"", "bash", script.toString()));
        assertEquals(new TreeSet<>(root.getSubcommands().keySet()),
                new TreeSet<>(subs.out().lines().map(String::strip).filter(w -> !w.startsWith("-")).toList()), subs.out() + subs.err());
    }

    /**
     * Real zsh: the function file parses ({@code zsh -n}), and run with recording stand-ins for
     * {@code _arguments}/{@code _describe} it hands every option of the command being completed to
     * {@code _arguments}.
     */
    @Test
    void zshCompletionNamesEveryOptionOfEveryCommand() throws Exception {
        Path script = dir.resolve("zsh/_airlock");
        assertTrue(Files.readString(script, StandardCharsets.UTF_8).startsWith("#compdef airlock\n"));
        Run syntax = run(List.of("zsh", "-n", script.toString()));
        assertEquals(0, syntax.code(), syntax.err());
        List<String> missing = new ArrayList<>();
        for (Map.Entry<String, CommandLine> c : commands().entrySet()) {
            String words = c.getKey().isEmpty() ? "airlock -" : "airlock " + c.getKey() + " -";
            Run r = run(List.of("zsh", "-f", "-c", "_arguments() { print -rl -- \"$@\" }; _describe() { print -rl -- describe \"$@\" }; "
                    + "words=(${=1}); CURRENT=${#words}; source \"$2\"", "zsh", words, script.toString()));
            assertEquals(0, r.code(), r.err());
            for (OptionSpec o : c.getValue().getCommandSpec().options()) {
                for (String name : o.names()) {
                    boolean found = r.out().lines().anyMatch(l -> l.matches("(\\([^)]*\\))?\\*?" + java.util.regex.Pattern.quote(name) + "[=+\\[].*"));
                    if (!found) {
                        missing.add(words + " → " + name);
                    }
                }
            }
        }
        assertEquals(List.of(), missing);
        Run subs = run(List.of("zsh", "-f", "-c", "_describe() { print -rl -- \"${(@P)4}\" }; words=(airlock ''); CURRENT=2; source \"$1\"",
                "zsh", script.toString()));
        assertEquals(new TreeSet<>(root.getSubcommands().keySet()),
                new TreeSet<>(subs.out().lines().map(l -> l.substring(0, l.indexOf(':'))).toList()), subs.out() + subs.err());
    }
}
