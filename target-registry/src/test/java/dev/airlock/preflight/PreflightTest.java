package dev.airlock.preflight;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.airlock.error.ExitCodes;
import dev.airlock.model.TargetMapping;
import dev.airlock.registry.CredentialSource;
import dev.airlock.registry.Credentials;
import dev.airlock.registry.RegistryOptions;
import dev.airlock.registry.RegistryStore;
import dev.airlock.registry.TlsOptions;
import dev.airlock.sign.TrustPolicy;
import dev.airlock.testkit.FaultProxy;
import dev.airlock.testkit.NamedBundles;
import dev.airlock.testkit.RegistryProcess;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.function.Function;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Preflight against real docker-registry variants (Distribution 2.8), some behind a FaultProxy. */
class PreflightTest {
    @TempDir
    Path dir;

    static Map<String, Check> byName(PreflightResult r) {
        return r.checks().stream().collect(Collectors.toMap(Check::capability, Function.identity()));
    }

    @Test
    void plainHttpRegistryTakesEverythingAndKeepsNothing() throws Exception {
        try (RegistryProcess reg = RegistryProcess.start()) {
            PreflightResult r = Preflight.run(RegistryOptions.anonymous(), TargetMapping.parse(reg.host() + "/mirror", false), Optional.empty());
            Map<String, Check> c = byName(r);
            assertTrue(r.importable(), r.toString());
            assertEquals("mirror/airlock-preflight", r.scratch());
            assertTrue(c.get("reachable").yes());
            assertEquals("plain HTTP (no TLS)", c.get("TLS").answer());
            assertEquals("anonymous: no credentials needed", c.get("authentication").answer());
            assertTrue(c.get("push under mirror").yes());
            for (String m : List.of("OCI image manifest", "Docker manifest", "OCI index", "Docker manifest list", "artifact manifest")) {
                assertTrue(c.get(m).yes(), m + ": " + c.get(m));
            }
            assertFalse(c.get("referrers API").yes());
            assertTrue(c.get("referrers API").answer().startsWith("tag fallback"), c.get("referrers API").answer());
            assertTrue(c.get("cross-repository mount").yes(), c.get("cross-repository mount").answer());
            assertTrue(c.get("chunked upload").yes(), c.get("chunked upload").answer());
            assertTrue(c.get("repository depth 3").yes(), c.get("repository depth 3").answer());
            assertEquals(List.of(), r.left(), "the test registry has storage.delete enabled");
            // deleted: no blob links and no manifest revisions remain in the scratch repositories
            Path repos = reg.storage().resolve("docker/registry/v2/repositories/mirror");
            assertEquals(List.of(), linkFiles(repos));
        }
    }

    static List<Path> linkFiles(Path root) throws Exception {
        if (!Files.exists(root)) {
            return List.of();
        }
        try (Stream<Path> s = Files.walk(root)) {
            return s.filter(p -> p.getFileName().toString().equals("link")).toList();
        }
    }

    @Test
    void refusedDeleteIsReportedAndRepeatedRunsLeaveTheSameBytes() throws Exception {
        try (RegistryProcess reg = RegistryProcess.start(); FaultProxy proxy = FaultProxy.in(reg)) {
            proxy.rejectRequests(h -> h.startsWith("DELETE "), 405);
            TargetMapping m = TargetMapping.parse(proxy.host() + "/mirror", false);
            PreflightResult first = Preflight.run(RegistryOptions.anonymous(), m, Optional.empty());
            assertTrue(first.importable(), first.toString());
            assertTrue(first.left().stream().anyMatch(l -> l.startsWith("mirror/airlock-preflight: 5 manifest(s), untagged (DELETE refused: 405")), first.left().toString());
            assertTrue(first.left().stream().anyMatch(l -> l.startsWith("mirror/airlock-preflight: 4 blob(s)")), first.left().toString());
            List<Path> blobs1 = blobFiles(reg);
            Preflight.run(RegistryOptions.anonymous(), m, Optional.empty());
            assertEquals(blobs1, blobFiles(reg), "a second run stores nothing new");
        }
    }

    static List<Path> blobFiles(RegistryProcess reg) throws Exception {
        try (Stream<Path> s = Files.walk(reg.storage().resolve("docker/registry/v2/blobs"))) {
            return s.filter(Files::isRegularFile).sorted().toList();
        }
    }

    @Test
    void htpasswdOverTlsWithAndWithoutTheRightPassword() {
        try (RegistryProcess reg = RegistryProcess.startTlsBasic("ops", "pw-123")) {
            TlsOptions tls = TlsOptions.defaults().withCaCert(reg.caCertificate().orElseThrow());
            RegistryOptions good = RegistryOptions.anonymous().withTls(tls).withCredentials(CredentialSource.of(Credentials.basic("ops", "pw-123")));
            PreflightResult r = Preflight.run(good, TargetMapping.parse(reg.host() + "/team", false), Optional.empty());
            Map<String, Check> c = byName(r);
            assertTrue(r.importable(), r.toString());
            assertEquals("verified", c.get("TLS").answer());
            assertEquals("basic: credentials accepted", c.get("authentication").answer());

            RegistryOptions insecure = good.withTls(TlsOptions.defaults().withInsecure(true));
            assertEquals("insecure: certificate not verified (--insecure)",
                    byName(Preflight.run(insecure, TargetMapping.parse(reg.host() + "/team", false), Optional.empty())).get("TLS").answer());

            RegistryOptions bad = good.withCredentials(CredentialSource.of(Credentials.basic("ops", "wrong")));
            PreflightResult refused = Preflight.run(bad, TargetMapping.parse(reg.host() + "/team", false), Optional.empty());
            assertFalse(refused.importable());
            Check auth = byName(refused).get("authentication");
            assertFalse(auth.yes());
            assertTrue(auth.answer().startsWith("basic: 401"), auth.answer());
            assertTrue(refused.refusal().orElseThrow().contains("authentication: no"), refused.refusal().toString());
        }
    }

    @Test
    void certificateOfAnotherCaIsNotReachable() throws Exception {
        try (RegistryProcess reg = RegistryProcess.startTlsBasic("ops", "pw-123")) {
            Path certs = Files.createDirectories(dir.resolve("certs.d").resolve(reg.host()));
            dev.airlock.testkit.TestPki.ca("some other CA").writeCertificate(certs.resolve("ca.crt"));
            RegistryOptions o = RegistryOptions.anonymous().withTls(TlsOptions.defaults().withCertsDirectories(List.of(dir.resolve("certs.d"))))
                    .withTransport(dev.airlock.registry.TransportOptions.defaults().withMaxAttempts(1));
            PreflightResult r = Preflight.run(o, TargetMapping.parse(reg.host(), false), Optional.empty());
            assertFalse(r.importable());
            Check reachable = byName(r).get("reachable");
            assertFalse(reachable.yes());
            assertTrue(reachable.answer().contains("TLS handshake failed"), reachable.answer());
            assertTrue(r.refusal().orElseThrow().contains("reachable: no"), r.refusal().toString());
        }
    }

    @Test
    void tokenAuthWithAPullOnlyRobotCannotPush() {
        try (RegistryProcess reg = RegistryProcess.startTokenAuth("robot", "pw", null)) {
            reg.tokenIssuer().orElseThrow().grantPullOnly(true);
            RegistryOptions o = RegistryOptions.anonymous().withCredentials(CredentialSource.of(Credentials.basic("robot", "pw")));
            PreflightResult r = Preflight.run(o, TargetMapping.parse(reg.host() + "/mirror", false), Optional.empty());
            Map<String, Check> c = byName(r);
            assertEquals("token: credentials accepted", c.get("authentication").answer());
            assertFalse(c.get("push under mirror").yes());
            assertTrue(c.get("push under mirror").answer().startsWith("mirror/airlock-preflight: 401"), c.get("push under mirror").answer());
            assertFalse(r.importable());
            assertFalse(c.containsKey("OCI index"), "nothing is pushed without push permission");

            reg.tokenIssuer().orElseThrow().grantPullOnly(false);
            PreflightResult ok = Preflight.run(o, TargetMapping.parse(reg.host() + "/mirror", false), Optional.empty());
            assertTrue(ok.importable(), ok.toString());
        }
    }

    @Test
    void registryRejectingOciIndexesFailsExactlyTheImagesThatHaveOne() {
        Path bundle = NamedBundles.write(dir.resolve("b.tar"), NamedBundles.mixed());
        try (RegistryProcess reg = RegistryProcess.start(); FaultProxy proxy = FaultProxy.in(reg)) {
            proxy.rejectRequests(PreflightTest::ociIndexPut, 400);
            TargetMapping m = TargetMapping.parse(proxy.host() + "/mirror", false);
            BundleNeeds needs = BundleNeeds.read(bundle, TrustPolicy.allowUnsignedOnly(), m);
            PreflightResult r = Preflight.run(RegistryOptions.anonymous(), m, Optional.of(needs));
            assertFalse(r.importable());
            assertEquals(2, r.images().size());
            ImageVerdict pause = r.images().get(0);
            assertEquals("docker.io/rancher/pause:3.1", pause.source());
            assertEquals(proxy.host() + "/mirror/rancher/pause:3.1", pause.target());
            assertEquals(1, pause.problems().size(), pause.problems().toString());
            assertTrue(pause.problems().get(0).startsWith("OCI index refused: 400"), pause.problems().toString());
            assertTrue(r.images().get(1).ok(), r.images().get(1).toString());
            assertFalse(byName(r).get("OCI index").yes());
            assertTrue(byName(r).get("OCI index").required(), "the bundle has an OCI index");
            assertFalse(byName(r).get("Docker manifest list").required(), "the bundle has no Docker manifest list");
            String refusal = r.refusal().orElseThrow();
            assertTrue(refusal.contains("1 of 2 image(s) would fail: docker.io/rancher/pause:3.1 (OCI index refused: 400"), refusal);

            // the cheap check before an import says the same, in one line, exit code 7
            try (RegistryStore store = RegistryStore.open(proxy.host(), RegistryOptions.anonymous())) {
                TargetRefusedException e = assertThrows(TargetRefusedException.class, () -> Preflight.beforeImport(store, m, needs));
                assertEquals(ExitCodes.TARGET_REFUSES, e.exitCode());
                assertTrue(e.getMessage().startsWith("preflight: " + proxy.host() + "/mirror: 1 of 2 image(s) would fail"), e.getMessage());
            }
            proxy.clear();
            try (RegistryStore store = RegistryStore.open(proxy.host(), RegistryOptions.anonymous())) {
                assertEquals(List.of(), Preflight.beforeImport(store, m, needs));
            }
        }
    }

    @Test
    void aRefusedTargetNameFailsItsImage() {
        Path bundle = NamedBundles.write(dir.resolve("names.tar"), NamedBundles.mixed());
        try (RegistryProcess reg = RegistryProcess.start(); FaultProxy proxy = FaultProxy.in(reg)) {
            // like Harbor without a project "mirror/team": uploads there are refused
            proxy.rejectRequests(h -> h.startsWith("POST /v2/mirror/team/"), 403);
            TargetMapping m = TargetMapping.parse(proxy.host() + "/mirror", false);
            PreflightResult r = Preflight.run(RegistryOptions.anonymous(), m,
                    Optional.of(BundleNeeds.read(bundle, TrustPolicy.allowUnsignedOnly(), m)));
            assertFalse(r.importable());
            Check names = byName(r).get("target names");
            assertFalse(names.yes());
            assertTrue(names.answer().startsWith("1 of 2 refused, first mirror/team/tool: 403"), names.answer());
            assertTrue(r.images().get(0).ok(), r.images().get(0).toString());
            assertEquals(List.of("push to mirror/team/tool refused: 403 UNKNOWN (injected by FaultProxy)"), r.images().get(1).problems());
        }
    }

    static boolean ociIndexPut(String head) {
        return head.startsWith("PUT ") && head.toLowerCase(Locale.ROOT).contains("content-type: application/vnd.oci.image.index.v1+json");
    }

    @org.junit.jupiter.params.ParameterizedTest
    @org.junit.jupiter.params.provider.ValueSource(strings = {"n.tar", "n.tar.zst"})
    void bundleNeedsNamesTypesAndDepths(String name) {
        Path bundle = NamedBundles.write(dir.resolve(name), NamedBundles.mixed());
        BundleNeeds n = BundleNeeds.read(bundle, TrustPolicy.allowUnsignedOnly(), TargetMapping.parse("reg.local:5000/a/b", true));
        assertEquals(2, n.images().size());
        BundleNeeds.Image pause = n.images().get(0);
        assertEquals("a/b/docker.io/rancher/pause", pause.target().orElseThrow().repository());
        assertEquals(5, pause.depth());
        assertEquals(java.util.Set.of(dev.airlock.model.MediaType.OCI_INDEX, dev.airlock.model.MediaType.OCI_MANIFEST), pause.manifestTypes());
        assertEquals(java.util.Set.of(dev.airlock.model.MediaType.DOCKER_MANIFEST), n.images().get(1).manifestTypes());
    }
}
