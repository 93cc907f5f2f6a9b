package dev.airlock.cli;

import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.Reader;
import java.nio.charset.StandardCharsets;
import java.util.Properties;
import picocli.CommandLine.IVersionProvider;

/**
 * What {@code airlock --version} prints: the Maven project version (filtered
 * {@code version.properties}), the git commit it was built from ({@code build.properties},
 * written by the build) and the Java runtime that runs it.
 */
public final class Version implements IVersionProvider {

    /** The tool version, e.g. {@code 0.1.0-SNAPSHOT}; "unknown" when the resource is missing. */
    public static String get() {
        return resource("version.properties").getProperty("version", "unknown");
    }

    /** The commit the jar was built from ({@code -dirty} when the work tree had changes), or "unknown". */
    public static String commit() {
        return resource("build.properties").getProperty("commit", "unknown");
    }

    private static Properties resource(String name) {
        Properties p = new Properties();
        try (InputStream in = Version.class.getResourceAsStream(name)) {
            if (in != null) {
                try (Reader r = new InputStreamReader(in, StandardCharsets.UTF_8)) {
                    p.load(r);
                }
            }
        } catch (IOException e) {
            // keep what was read; missing values print as "unknown"
        }
        return p;
    }

    @Override
    public String[] getVersion() {
        String date = resource("build.properties").getProperty("commitDate", "");
        return new String[] {"airlock " + get(),
                "commit " + commit() + (date.isBlank() ? "" : " (" + date + ")"),
                "runtime Java " + System.getProperty("java.runtime.version", System.getProperty("java.version")) + " ("
                        + System.getProperty("java.vm.name") + ") in " + System.getProperty("java.home")};
    }
}
