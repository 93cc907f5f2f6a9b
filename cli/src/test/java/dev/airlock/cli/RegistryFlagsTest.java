package dev.airlock.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.airlock.error.ExitCodes;
import dev.airlock.registry.Credentials;
import dev.airlock.registry.RegistryOptions;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Base64;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;

/** The registry flags through a real command line, down to the RegistryOptions they produce. */
class RegistryFlagsTest {
    @TempDir
    Path dir;

    @Command(name = "reg")
    static final class Reg implements Runnable {
        @Mixin
        RegistryFlags registry;
        InputStream stdin = InputStream.nullInputStream();
        RegistryOptions options;

        @Override
        public void run() {
            options = registry.toOptions(stdin);
        }
    }

    @Command(name = "sync2")
    static final class Sync implements Runnable {
        @Mixin
        SyncRegistryFlags registry;
        InputStream stdin = InputStream.nullInputStream();
        RegistryOptions source;
        RegistryOptions target;

        @Override
        public void run() {
            source = registry.source(stdin);
            target = registry.target(stdin);
        }
    }

    private Reg reg(String stdin, String... args) {
        Reg r = new Reg();
        r.stdin = new ByteArrayInputStream(stdin.getBytes(StandardCharsets.UTF_8));
        CommandLine cli = Airlock.commandLine();
        cli.addSubcommand("reg", r);
        CliRun run = CliRun.on(cli, prepend("reg", args));
        lastRun = run;
        return r;
    }

    private CliRun lastRun;

    private static String[] prepend(String first, String... rest) {
        String[] all = new String[rest.length + 1];
        all[0] = first;
        System.arraycopy(rest, 0, all, 1, rest.length);
        return all;
    }

    @Test
    void tlsFlagsMapOntoTlsOptions() throws IOException {
        Path ca = Files.writeString(dir.resolve("ca.pem"), "-----BEGIN CERTIFICATE-----\n");
        Reg r = reg("", "--ca-cert", ca.toString(), "--insecure", "--plain-http");
        assertEquals(0, lastRun.code(), lastRun.err());
        assertEquals(Optional.of(ca), r.options.tls().caCert());
        assertTrue(r.options.tls().insecure());
        assertTrue(r.options.tls().plainHttp());
    }

    @Test
    void defaultsAreSafe() {
        Reg r = reg("");
        assertEquals(0, lastRun.code(), lastRun.err());
        assertFalse(r.options.tls().insecure());
        assertFalse(r.options.tls().plainHttp());
        assertEquals(Optional.empty(), r.options.tls().caCert());
    }

    @Test
    void usernameWithPasswordFromStdin() {
        Reg r = reg("s3cret pass\n", "--username", "ops", "--password-stdin");
        assertEquals(0, lastRun.code(), lastRun.err());
        assertEquals(Optional.of(Credentials.basic("ops", "s3cret pass")), r.options.credentials().lookup("reg.local:5000"));
    }

    @Test
    void authfileIsRead() throws IOException {
        String auth = Base64.getEncoder().encodeToString("alice:pw".getBytes(StandardCharsets.UTF_8));
        Path file = Files.writeString(dir.resolve("auth.json"), "{\"auths\":{\"reg.local:5000\":{\"auth\":\"" + auth + "\"}}}");
        Reg r = reg("", "--authfile", file.toString());
        assertEquals(0, lastRun.code(), lastRun.err());
        assertEquals(Optional.of(Credentials.basic("alice", "pw")), r.options.credentials().lookup("reg.local:5000"));
        assertEquals(Optional.empty(), r.options.credentials().lookup("other.example:5000"));
    }

    @Test
    void usageErrors() {
        String[][] cases = {
                {"--username", "ops"},
                {"--password-stdin"},
                {"--ca-cert", dir.resolve("missing.pem").toString()},
                {"--authfile", dir.resolve("missing.json").toString()},
        };
        for (String[] args : cases) {
            reg("pw\n", args);
            assertEquals(ExitCodes.USAGE, lastRun.code(), String.join(" ", args));
            assertEquals(1, lastRun.errLines().length, lastRun.err());
            assertTrue(lastRun.err().startsWith("airlock: --"), lastRun.err());
        }
        reg("", "--username", "ops", "--password-stdin");
        assertEquals(ExitCodes.USAGE, lastRun.code());
        assertTrue(lastRun.err().contains("standard input is empty"), lastRun.err());
    }

    @Test
    void timeoutsMapOntoTransportOptions() {
        Reg r = reg("");
        assertEquals(java.time.Duration.ofSeconds(30), r.options.transport().connectTimeout());
        assertEquals(java.time.Duration.ofSeconds(120), r.options.transport().responseTimeout());
        assertEquals(java.time.Duration.ofSeconds(120), r.options.transport().idleTimeout());
        r = reg("", "--timeout-connect", "5", "--timeout-response", "2m", "--timeout-idle", "750ms");
        assertEquals(0, lastRun.code(), lastRun.err());
        assertEquals(java.time.Duration.ofSeconds(5), r.options.transport().connectTimeout());
        assertEquals(java.time.Duration.ofMinutes(2), r.options.transport().responseTimeout());
        assertEquals(java.time.Duration.ofMillis(750), r.options.transport().idleTimeout());
        for (String bad : new String[] {"0", "-1", "soon", "5x", "0ms"}) {
            reg("", "--timeout-idle", bad);
            assertEquals(ExitCodes.USAGE, lastRun.code(), bad);
            assertEquals(1, lastRun.errLines().length, lastRun.err());
            assertTrue(lastRun.err().contains("--timeout-idle"), lastRun.err());
        }
    }

    @Test
    void syncTimeoutsApplyToBothSides() {
        Sync s = new Sync();
        CommandLine cli = Airlock.commandLine();
        cli.addSubcommand("sync2", s);
        CliRun run = CliRun.on(cli, "sync2", "--timeout-response", "7s", "--timeout-idle", "9s");
        assertEquals(0, run.code(), run.err());
        for (RegistryOptions o : new RegistryOptions[] {s.source, s.target}) {
            assertEquals(java.time.Duration.ofSeconds(7), o.transport().responseTimeout());
            assertEquals(java.time.Duration.ofSeconds(9), o.transport().idleTimeout());
        }
    }

    @Test
    void syncHasSeparateSides() throws IOException {
        Path ca = Files.writeString(dir.resolve("ca.pem"), "x");
        Sync s = new Sync();
        s.stdin = new ByteArrayInputStream("pw\n".getBytes(StandardCharsets.UTF_8));
        CommandLine cli = Airlock.commandLine();
        cli.addSubcommand("sync2", s);
        CliRun run = CliRun.on(cli, "sync2", "--src-plain-http", "--dest-ca-cert", ca.toString(),
                "--dest-username", "bob", "--dest-password-stdin");
        assertEquals(0, run.code(), run.err());
        assertTrue(s.source.tls().plainHttp());
        assertEquals(Optional.empty(), s.source.tls().caCert());
        assertFalse(s.target.tls().plainHttp());
        assertEquals(Optional.of(ca), s.target.tls().caCert());
        assertEquals(Optional.of(Credentials.basic("bob", "pw")), s.target.credentials().lookup("x"));

        Sync both = new Sync();
        CommandLine cli2 = Airlock.commandLine();
        cli2.addSubcommand("sync2", both);
        CliRun bad = CliRun.on(cli2, "sync2", "--src-username", "a", "--src-password-stdin", "--dest-username", "b", "--dest-password-stdin");
        assertEquals(ExitCodes.USAGE, bad.code());
        assertTrue(bad.err().contains("cannot both read standard input"), bad.err());
    }
}
