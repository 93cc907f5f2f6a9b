package dev.airlock.cli;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import picocli.AutoComplete;
import picocli.CommandLine;
import picocli.CommandLine.Help;
import picocli.CommandLine.Help.Ansi;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Model.OptionSpec;
import picocli.CommandLine.Model.PositionalParamSpec;

/**
 * Man pages (roff, section 1) and bash/zsh completion scripts, generated from the picocli model of
 * {@link Airlock#commandLine()} so they never drift from the options. The build runs
 * {@code java -cp airlock.jar dev.airlock.cli.ShellDocs DIR} and the distribution installs what it
 * writes: {@code DIR/man/man1/airlock.1}, {@code airlock-COMMAND.1},
 * {@code DIR/bash-completion/airlock} and {@code DIR/zsh/_airlock}.
 */
public final class ShellDocs {
    private ShellDocs() {
    }

    public static void main(String[] args) {
        if (args.length != 1) {
            System.err.println("usage: ShellDocs OUTPUT_DIR");
            System.exit(2);
        }
        write(Path.of(args[0]));
    }

    /** Writes every man page and both completion scripts under {@code dir}. */
    public static void write(Path dir) {
        try {
            CommandLine root = Airlock.commandLine();
            Path man = Files.createDirectories(dir.resolve("man/man1"));
            for (Map.Entry<String, String> page : manPages(root).entrySet()) {
                Files.writeString(man.resolve(page.getKey()), page.getValue(), StandardCharsets.UTF_8);
            }
            Files.writeString(Files.createDirectories(dir.resolve("bash-completion")).resolve("airlock"), bash(root), StandardCharsets.UTF_8);
            Files.writeString(Files.createDirectories(dir.resolve("zsh")).resolve("_airlock"), zsh(root), StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** File name → roff text: {@code airlock.1} and one {@code airlock-COMMAND.1} per subcommand. */
    public static Map<String, String> manPages(CommandLine root) {
        Map<String, String> pages = new LinkedHashMap<>();
        pages.put("airlock.1", manPage(root, root));
        root.getSubcommands().forEach((name, sub) -> pages.put("airlock-" + name + ".1", manPage(root, sub)));
        return pages;
    }

    static String manPage(CommandLine root, CommandLine cmd) {
        CommandSpec spec = cmd.getCommandSpec();
        String title = spec.qualifiedName("-");
        StringBuilder m = new StringBuilder();
        m.append(".\\\" generated from the picocli model by dev.airlock.cli.ShellDocs; do not edit\n");
        m.append(".TH ").append(title.toUpperCase(java.util.Locale.ROOT)).append(" 1 \"\" \"airlock ").append(Version.get())
                .append("\" \"Airlock Manual\"\n");
        m.append(".SH NAME\n").append(roff(title)).append(" \\- ").append(roff(firstSentence(spec))).append('\n');
        m.append(".SH SYNOPSIS\n.nf\n");
        String synopsis = new Help(spec, Help.defaultColorScheme(Ansi.OFF)).synopsis(0).stripTrailing();
        synopsis.lines().forEach(l -> m.append(roffLine(l)).append('\n'));
        m.append(".fi\n");
        m.append(".SH DESCRIPTION\n");
        for (String paragraph : spec.usageMessage().description()) {
            m.append(".PP\n").append(roffLine(paragraph)).append('\n');
        }
        if (!cmd.getSubcommands().isEmpty()) {
            m.append(".SH COMMANDS\n");
            cmd.getSubcommands().forEach((name, sub) -> m.append(".TP\n.B ").append(roff(name)).append('\n')
                    .append(roffLine(firstSentence(sub.getCommandSpec()))).append("\nSee \\fB").append(roff("airlock-" + name))
                    .append("\\fR(1).\n"));
        }
        if (!spec.positionalParameters().isEmpty()) {
            m.append(".SH ARGUMENTS\n");
            for (PositionalParamSpec p : spec.positionalParameters()) {
                m.append(".TP\n.I ").append(roff(p.paramLabel())).append('\n').append(roffLine(String.join(" ", p.description()))).append('\n');
            }
        }
        m.append(".SH OPTIONS\n");
        for (OptionSpec o : spec.options()) {
            m.append(".TP\n");
            List<String> names = new ArrayList<>();
            for (String n : o.names()) {
                names.add("\\fB" + roff(n) + "\\fR");
            }
            m.append(String.join(", ", names));
            if (o.arity().max() > 0) {
                m.append(" \\fI").append(roff(o.paramLabel())).append("\\fR");
            }
            m.append('\n').append(roffLine(String.join(" ", o.description()))).append('\n');
        }
        String[] footer = spec.usageMessage().footer();
        if (footer.length > 0) {
            m.append(".SH EXAMPLES\n.nf\n");
            for (String l : footer) {
                m.append(roffLine(l.replace("%n", ""))).append('\n');
            }
            m.append(".fi\n");
        }
        m.append(".SH EXIT STATUS\n");
        m.append(".TP\n.B 0\nsuccess\n.TP\n.B 1\nunexpected failure (a bug); run with \\-\\-debug for a stack trace\n")
                .append(".TP\n.B 2\nusage error: bad option, bad image reference or platform\n")
                .append(".TP\n.B 3\nverification failed: checksum, signature, trust, structure, hostile entry, platform mismatch\n")
                .append(".TP\n.B 4\na registry refused or failed an operation (after retries)\n")
                .append(".TP\n.B 5\nlocal I/O error: file missing, disk full, permission denied\n")
                .append(".TP\n.B 6\npartial success: some images of a multi-image job failed, the others completed\n")
                .append(".TP\n.B 7\nthe target registry cannot take the bundle (preflight, or import's check before its first upload)\n")
                .append(".TP\n.B 8\nthe target lacks what a delta bundle relies on (nothing was pushed)\n")
                .append(".TP\n.B 9\nimport of volumes: some images wait for volumes not imported yet (their part is at the target, untagged)\n");
        m.append(".SH SEE ALSO\n");
        List<String> see = new ArrayList<>();
        if (cmd != root) {
            see.add("\\fBairlock\\fR(1)");
        }
        root.getSubcommands().keySet().stream().filter(n -> cmd == root || !n.equals(spec.name()))
                .forEach(n -> see.add("\\fB" + roff("airlock-" + n) + "\\fR(1)"));
        m.append(String.join(", ", see)).append("\n.PP\nThe user guide: docs/user-guide.md (share/doc/airlock/user-guide.md in the distribution).\n");
        return m.toString();
    }

    private static String firstSentence(CommandSpec spec) {
        String[] d = spec.usageMessage().description();
        String text = d.length == 0 ? spec.name() : d[0];
        int dot = text.indexOf(". ");
        String s = dot > 0 ? text.substring(0, dot) : text;
        return s.endsWith(".") ? s.substring(0, s.length() - 1) : s;
    }

    /** Escapes text for roff: backslashes, and hyphens as \- so options copy and search correctly. */
    static String roff(String s) {
        StringBuilder sb = new StringBuilder(s.length());
        s.codePoints().forEach(c -> {
            if (c == '\\') {
                sb.append("\\e");
            } else if (c == '-') {
                sb.append("\\-");
            } else if (c > 126) {
                sb.append(String.format("\\[u%04X]", c)); // groff without preconv reads ASCII only
            } else {
                sb.appendCodePoint(c);
            }
        });
        return sb.toString();
    }

    /** {@link #roff} plus protection of a leading '.' or '\'' that roff would read as a request. */
    private static String roffLine(String s) {
        String r = roff(s);
        return r.startsWith(".") || r.startsWith("'") ? "\\&" + r : r;
    }

    /** The bash completion script (picocli's generator; also usable from zsh with bashcompinit). */
    public static String bash(CommandLine root) {
        return AutoComplete.bash("airlock", root);
    }

    /** A native zsh completion function ({@code #compdef airlock}) for a directory in {@code $fpath}. */
    public static String zsh(CommandLine root) {
        StringBuilder z = new StringBuilder();
        z.append("#compdef airlock\n# generated from the picocli model by dev.airlock.cli.ShellDocs; do not edit\n\n");
        z.append("_airlock() {\n  local -a commands\n  commands=(\n");
        root.getSubcommands().forEach((name, sub) -> z.append("    ").append(zq(name + ":" + firstSentence(sub.getCommandSpec()))).append('\n'));
        z.append("  )\n");
        z.append("  if (( CURRENT == 2 )); then\n");
        z.append("    if [[ $words[CURRENT] == -* ]]; then\n      _arguments");
        for (OptionSpec o : root.getCommandSpec().options()) {
            z.append(" \\\n        ").append(zshSpec(o));
        }
        z.append("\n    else\n      _describe -t commands 'airlock command' commands\n    fi\n    return\n  fi\n");
        z.append("  local cmd=$words[2]\n  shift words\n  (( CURRENT-- ))\n  case $cmd in\n");
        root.getSubcommands().forEach((name, sub) -> {
            z.append("    ").append(name).append(")\n      _arguments -S");
            for (OptionSpec o : sub.getCommandSpec().options()) {
                z.append(" \\\n        ").append(zshSpec(o));
            }
            for (PositionalParamSpec p : sub.getCommandSpec().positionalParameters()) {
                boolean many = p.arity().max() > 1;
                z.append(" \\\n        ").append(zq((many ? "*" : "") + ":" + p.paramLabel() + ":" + action(p.isMultiValue() ? p.auxiliaryTypes()[0] : p.type())));
            }
            z.append("\n      ;;\n");
        });
        z.append("  esac\n}\n\n_airlock \"$@\"\n");
        return z.toString();
    }

    private static String zshSpec(OptionSpec o) {
        String desc = String.join(" ", o.description()).replaceAll("[\\[\\]:\\\\]", " ");
        int dot = desc.indexOf(". ");
        if (dot > 0) {
            desc = desc.substring(0, dot);
        }
        boolean repeatable = o.isMultiValue();
        String arg = o.arity().max() > 0 ? ":" + o.paramLabel().replace(":", " ") + ":" + action(o.isMultiValue() ? o.auxiliaryTypes()[0] : o.type()) : "";
        String[] names = o.names();
        String exclusion = repeatable || names.length == 1 ? "" : "(" + String.join(" ", names) + ")";
        StringBuilder s = new StringBuilder();
        for (String n : names) {
            if (s.length() > 0) {
                s.append(' ');
            }
            s.append(zq(exclusion + (repeatable ? "*" : "") + n + (arg.isEmpty() ? "" : n.startsWith("--") ? "=" : "+") + "[" + desc + "]" + arg));
        }
        return s.toString();
    }

    private static String action(Class<?> type) {
        return type == Path.class || type == java.io.File.class ? "_files" : " ";
    }

    /** A zsh single-quoted word. */
    private static String zq(String s) {
        return "'" + s.replace("'", "'\\''") + "'";
    }
}
