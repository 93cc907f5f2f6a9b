package dev.airlock.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;
import picocli.CommandLine.Model.OptionSpec;

/** Keeps docs/user-guide.md true: every command has a section and every option is described. */
class UserGuideTest {
    static final Path ROOT = Path.of(System.getProperty("basedir", ".")).toAbsolutePath().normalize().getParent();

    @Test
    void everyCommandAndOptionIsDocumented() throws IOException {
        String guide = Files.readString(ROOT.resolve("docs/user-guide.md"), StandardCharsets.UTF_8);
        Map<String, CommandLine> commands = Airlock.commandLine().getSubcommands();
        assertFalse(commands.isEmpty());
        List<String> missing = new ArrayList<>();
        for (Map.Entry<String, CommandLine> c : commands.entrySet()) {
            if (!guide.contains("### airlock " + c.getKey() + "\n")) {
                missing.add("section '### airlock " + c.getKey() + "'");
            }
            for (OptionSpec o : c.getValue().getCommandSpec().options()) {
                if (!o.usageHelp() && !o.versionHelp() && !guide.contains("`" + o.longestName())
                        && !guide.contains(" " + o.longestName() + " ")) {
                    missing.add("airlock " + c.getKey() + " " + o.longestName());
                }
            }
        }
        assertEquals(List.of(), missing, "docs/user-guide.md does not describe these; add them");
    }
}
