package dev.airlock.registry;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.airlock.error.AirlockException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.Base64;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class CredentialFilesTest {
    @TempDir
    Path tmp;

    private static String b64(String s) {
        return Base64.getEncoder().encodeToString(s.getBytes(StandardCharsets.UTF_8));
    }

    private Path write(String rel, String text) throws Exception {
        Path p = tmp.resolve(rel);
        Files.createDirectories(p.getParent());
        Files.writeString(p, text, StandardCharsets.UTF_8);
        return p;
    }

    /** A fake docker-credential-NAME that prints {@code answer} for {@code get} (stdin echoed into a file). */
    private Path helper(String name, String script) throws Exception {
        Path bin = Files.createDirectories(tmp.resolve("bin"));
        Path p = bin.resolve("docker-credential-" + name);
        Files.writeString(p, "#!/bin/sh\n" + script + "\n", StandardCharsets.UTF_8);
        Files.setPosixFilePermissions(p, PosixFilePermissions.fromString("rwxr-xr-x"));
        return bin;
    }

    private CredentialFiles resolver(Map<String, String> env) {
        return CredentialFiles.fromEnvironment(env, tmp.resolve("home"), Duration.ofSeconds(5));
    }

    @Test
    void dockerConfigAuthsWithAuthAndIdentityToken() throws Exception {
        write("home/.docker/config.json", "{\"auths\":{"
                + "\"https://index.docker.io/v1/\":{\"auth\":\"" + b64("hubuser:hub:pass") + "\"},"
                + "\"reg.local:5000\":{\"identitytoken\":\"idt-secret\"},"
                + "\"http://other.example/v2/\":{\"auth\":\"" + b64("o:p") + "\"}}}");
        CredentialFiles f = resolver(Map.of());
        assertEquals(Optional.of(Credentials.basic("hubuser", "hub:pass")), f.lookup("docker.io"));
        assertEquals(Optional.of(Credentials.identityToken("idt-secret")), f.lookup("reg.local:5000"));
        assertEquals(Optional.of(Credentials.basic("o", "p")), f.lookup("other.example"));
        assertEquals(Optional.empty(), f.lookup("nowhere.example"));
    }

    @Test
    void filesAreConsultedInOrder() throws Exception {
        Path authFile = write("auth-file.json", "{\"auths\":{\"reg.local\":{\"auth\":\"" + b64("from-env-file:1") + "\"}}}");
        write("xdg/containers/auth.json", "{\"auths\":{\"reg.local\":{\"auth\":\"" + b64("from-xdg:1") + "\"},\"xdg.only\":{\"auth\":\"" + b64("x:1") + "\"}}}");
        write("dockercfg/config.json", "{\"auths\":{\"docker.only\":{\"auth\":\"" + b64("d:1") + "\"}}}");
        write("home/.docker/config.json", "{\"auths\":{\"docker.only\":{\"auth\":\"" + b64("home:1") + "\"},\"home.only\":{\"auth\":\"" + b64("h:1") + "\"}}}");
        Map<String, String> env = Map.of("REGISTRY_AUTH_FILE", authFile.toString(), "XDG_RUNTIME_DIR", tmp.resolve("xdg").toString(),
                "DOCKER_CONFIG", tmp.resolve("dockercfg").toString());
        CredentialFiles f = resolver(env);
        assertEquals("from-env-file", f.lookup("reg.local").orElseThrow().username());
        assertEquals("x", f.lookup("xdg.only").orElseThrow().username());
        assertEquals("d", f.lookup("docker.only").orElseThrow().username(), "DOCKER_CONFIG replaces ~/.docker");
        assertEquals(Optional.empty(), f.lookup("home.only"));
        assertEquals("home", resolver(Map.of()).lookup("docker.only").orElseThrow().username());
    }

    @Test
    void credHelpersAndCredsStoreRunTheHelperWithTheServerOnStdin() throws Exception {
        Path bin = helper("fake", "read server; if [ \"$server\" = reg.local:5000 ]; then echo '{\"ServerURL\":\"reg.local:5000\",\"Username\":\"helper-user\",\"Secret\":\"helper-secret\"}';"
                + " elif [ \"$server\" = https://index.docker.io/v1/ ]; then echo '{\"Username\":\"<token>\",\"Secret\":\"hub-refresh\"}';"
                + " else echo 'credentials not found in native keychain'; exit 1; fi");
        write("home/.docker/config.json", "{\"credHelpers\":{\"reg.local:5000\":\"fake\"},\"credsStore\":\"fake\","
                + "\"auths\":{\"plain.example\":{\"auth\":\"" + b64("p:q") + "\"}}}");
        CredentialFiles f = resolver(Map.of("PATH", bin.toString()));
        assertEquals(Optional.of(Credentials.basic("helper-user", "helper-secret")), f.lookup("reg.local:5000"));
        assertEquals(Optional.of(Credentials.identityToken("hub-refresh")), f.lookup("docker.io"));
        assertEquals(Optional.of(Credentials.basic("p", "q")), f.lookup("plain.example"));
        assertEquals(Optional.empty(), f.lookup("unknown.example"));
    }

    @Test
    void aHelperThatHangsIsKilledAfterTheTimeout() throws Exception {
        Path bin = helper("slow", "sleep 30");
        write("home/.docker/config.json", "{\"credsStore\":\"slow\"}");
        CredentialFiles f = CredentialFiles.fromEnvironment(Map.of("PATH", bin.toString()), tmp.resolve("home"), Duration.ofMillis(300));
        AirlockException e = assertThrows(AirlockException.class, () -> f.lookup("reg.local"));
        assertTrue(e.getMessage().contains("docker-credential-slow"), e.getMessage());
    }

    @Test
    void aFailingHelperIsAnErrorWithoutItsOutputSecrets() throws Exception {
        Path bin = helper("broken", "echo 'backend locked' >&2; exit 3");
        write("home/.docker/config.json", "{\"credsStore\":\"broken\"}");
        AirlockException e = assertThrows(AirlockException.class, () -> resolver(Map.of("PATH", bin.toString())).lookup("reg.local"));
        assertTrue(e.getMessage().contains("exit 3") && e.getMessage().contains("backend locked"), e.getMessage());
        AirlockException missing = assertThrows(AirlockException.class,
                () -> resolver(Map.of("PATH", tmp.resolve("nobin").toString())).lookup("reg.local"));
        assertTrue(missing.getMessage().contains("not found"), missing.getMessage());
    }

    @Test
    void malformedFilesAreClearErrorsWithoutSecrets() throws Exception {
        write("home/.docker/config.json", "{\"auths\":{\"reg.local\":{\"auth\":\"not base64 at all!!\"}}}");
        AirlockException e = assertThrows(AirlockException.class, () -> resolver(Map.of()).lookup("reg.local"));
        assertTrue(e.getMessage().contains("base64"), e.getMessage());
        write("home/.docker/config.json", "{\"auths\":{\"reg.local\":{\"auth\":\"" + b64("nocolon-secret") + "\"}}}");
        AirlockException e2 = assertThrows(AirlockException.class, () -> resolver(Map.of()).lookup("reg.local"));
        assertFalse(e2.getMessage().contains("nocolon-secret"), e2.getMessage());
        write("home/.docker/config.json", "{\"auths\": {");
        assertThrows(AirlockException.class, () -> resolver(Map.of()).lookup("reg.local"));
    }

    @Test
    void keysNormalise() {
        assertEquals("docker.io", CredentialFiles.normaliseKey("https://index.docker.io/v1/"));
        assertEquals("reg.local:5000", CredentialFiles.normaliseKey("HTTPS://Reg.Local:5000/v2/"));
        assertEquals(List.of("docker.io", "index.docker.io", "registry-1.docker.io"), CredentialFiles.keysFor("docker.io"));
        Map<String, String> env = new HashMap<>();
        assertTrue(CredentialFiles.fromEnvironment(env, tmp, Duration.ofSeconds(1)).files().contains(tmp.resolve(".docker/config.json")));
    }

    @Test
    void repositoryPathKeysMostSpecificWinsOnWholeSegments() throws Exception {
        Path authFile = write("repo-keys.json", "{\"auths\":{"
                + "\"reg.local:5000\":{\"auth\":\"" + b64("host:1") + "\"},"
                + "\"reg.local:5000/team\":{\"auth\":\"" + b64("team:1") + "\"},"
                + "\"Reg.Local:5000/team/app/\":{\"auth\":\"" + b64("app:1") + "\"},"
                + "\"only.repo/ns\":{\"auth\":\"" + b64("ns:1") + "\"},"
                + "\"docker.io/library\":{\"auth\":\"" + b64("lib:1") + "\"}}}");
        CredentialFiles f = resolver(Map.of("REGISTRY_AUTH_FILE", authFile.toString()));
        assertEquals("app", f.lookup("reg.local:5000", "team/app").orElseThrow().username());
        assertEquals("app", f.lookup("reg.local:5000", "team/app/sub").orElseThrow().username());
        assertEquals("team", f.lookup("reg.local:5000", "team/other").orElseThrow().username());
        assertEquals("team", f.lookup("reg.local:5000", "team").orElseThrow().username());
        assertEquals("host", f.lookup("reg.local:5000", "teamx/app").orElseThrow().username(), "whole segments only");
        assertEquals("host", f.lookup("reg.local:5000", "").orElseThrow().username());
        assertEquals("host", f.lookup("reg.local:5000").orElseThrow().username(), "no repository: the host's key only");
        assertEquals("ns", f.lookup("only.repo", "ns/app").orElseThrow().username());
        assertEquals(Optional.empty(), f.lookup("only.repo", "other/app"));
        assertEquals(Optional.empty(), f.lookup("only.repo"), "a repository key is not a host-wide credential");
        assertEquals("lib", f.lookup("docker.io", "library/busybox").orElseThrow().username());
        assertEquals(Optional.empty(), f.lookup("docker.io", "someone/app"));
        CredentialSource chained = CredentialSource.firstOf(CredentialSource.anonymous(), f);
        assertEquals("team", chained.lookup("reg.local:5000", "team/x").orElseThrow().username(), "firstOf passes the repository on");
    }

    @Test
    void theFirstFileThatKnowsTheRepositoryWinsEvenWithALessSpecificKey() throws Exception {
        Path authFile = write("first.json", "{\"auths\":{\"reg.local\":{\"auth\":\"" + b64("first:1") + "\"}}}");
        write("xdg/containers/auth.json", "{\"auths\":{\"reg.local/team\":{\"auth\":\"" + b64("second:1") + "\"}}}");
        CredentialFiles f = resolver(Map.of("REGISTRY_AUTH_FILE", authFile.toString(), "XDG_RUNTIME_DIR", tmp.resolve("xdg").toString()));
        assertEquals("first", f.lookup("reg.local", "team/app").orElseThrow().username());
    }

    @Test
    void repositoryKeysNormaliseButUrlsStayHostWide() {
        assertEquals("reg.local:5000/team/app", CredentialFiles.normaliseKey(" Reg.Local:5000/Team/App/ "));
        assertEquals("docker.io/library", CredentialFiles.normaliseKey("index.docker.io/library"));
        assertEquals("reg.local:5000", CredentialFiles.normaliseKey("https://reg.local:5000/team"));
        assertEquals(List.of("h/a/b", "h/a", "h"), CredentialFiles.candidates(List.of("h"), "a/b"));
    }

    @Test
    void credentialsFollowThePushedRepositoryElseThePulledOne() {
        assertEquals("dst/app", Authenticator.credentialRepository(List.of("repository:src/app:pull", "repository:dst/app:pull,push")));
        assertEquals("src/app", Authenticator.credentialRepository(List.of("repository:src/app:pull", "repository:other:pull")));
        assertEquals("", Authenticator.credentialRepository(List.of("registry:catalog:*")));
        assertEquals("", Authenticator.credentialRepository(List.of()));
    }
}
