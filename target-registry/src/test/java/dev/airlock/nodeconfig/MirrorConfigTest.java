package dev.airlock.nodeconfig;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.airlock.error.UsageException;
import dev.airlock.model.ImageReference;
import dev.airlock.model.TargetMapping;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class MirrorConfigTest {
    @TempDir
    Path dir;

    static final List<ImageReference> SOURCES = List.of(ImageReference.parse("docker.io/rancher/pause:3.1"), ImageReference.parse("busybox:1.36"),
            ImageReference.parse("quay.io/team/tool:2"), ImageReference.parse("registry.example:5000/library/app:1.0"));
    static final NodeEndpoint HTTPS_CA = new NodeEndpoint("https", false, Optional.of("/etc/ssl/internal-ca.crt"));

    @Test
    void routesFollowTheImportMapping() {
        TargetMapping m = TargetMapping.parse("reg.local:5000/mirror", false);
        assertEquals(List.of(new MirrorConfig.Route("docker.io", "mirror"), new MirrorConfig.Route("quay.io", "mirror"),
                new MirrorConfig.Route("registry.example:5000", "mirror")), MirrorConfig.routes(SOURCES, m));
        TargetMapping keep = TargetMapping.parse("reg.local:5000/mirror", true);
        assertEquals(new MirrorConfig.Route("registry.example:5000", "mirror/registry.example_5000"), MirrorConfig.routes(SOURCES, keep).get(2));
        assertEquals(new MirrorConfig.Route("docker.io", ""), MirrorConfig.routes(SOURCES, TargetMapping.parse("reg.local:5000", false)).get(0));
        // each route + source path is exactly the target repository import writes
        for (TargetMapping t : List.of(m, keep, TargetMapping.parse("reg.local:5000", true))) {
            for (ImageReference s : SOURCES) {
                MirrorConfig.Route r = MirrorConfig.routes(List.of(s), t).get(0);
                assertEquals(t.map(s).repository(), (r.path().isEmpty() ? "" : r.path() + "/") + s.repository());
            }
        }
        assertEquals(List.of(), MirrorConfig.routes(List.of(ImageReference.parse("reg.local:5000/x/y:1")), m), "the target itself is not mirrored");
    }

    @Test
    void parsesOutputs() {
        assertEquals(new NodeConfigOutput(NodeConfigOutput.Format.K3S, Path.of("/etc/rancher/k3s/registries.yaml")),
                NodeConfigOutput.parse("k3s:/etc/rancher/k3s/registries.yaml"));
        assertEquals(NodeConfigOutput.Format.CONTAINERD, NodeConfigOutput.parse("containerd:certs.d").format());
        assertEquals(NodeConfigOutput.Format.CONTAINERS, NodeConfigOutput.parse("containers:x.conf").format());
        assertThrows(UsageException.class, () -> NodeConfigOutput.parse("docker:x"));
        assertThrows(UsageException.class, () -> NodeConfigOutput.parse("k3s:"));
        assertThrows(UsageException.class, () -> NodeConfigOutput.parse("registries.yaml"));
    }

    /**
     * The registries.yaml keys of the k3s documentation ("Private Registry Configuration",
     * docs.k3s.io/installation/private-registry): top level mirrors and configs; a mirror has
     * endpoint (a list of URLs) and rewrite (regex → replacement); a config has auth (username,
     * password, auth, identity_token) and tls (cert_file, key_file, ca_file, insecure_skip_verify).
     */
    static final Set<String> TOP = Set.of("mirrors", "configs");
    static final Set<String> MIRROR = Set.of("endpoint", "rewrite");
    static final Set<String> CONFIG = Set.of("auth", "tls");
    static final Set<String> AUTH = Set.of("username", "password", "auth", "identity_token");
    static final Set<String> TLS = Set.of("cert_file", "key_file", "ca_file", "insecure_skip_verify");

    @Test
    @SuppressWarnings("unchecked")
    void registriesYamlHasTheK3sSchema() throws Exception {
        TargetMapping m = TargetMapping.parse("reg.local:5000/mirror", false);
        Path file = dir.resolve("registries.yaml");
        MirrorConfig.write(SOURCES, m, new NodeEndpoint("https", true, Optional.of("/etc/ssl/internal-ca.crt")),
                List.of(new NodeConfigOutput(NodeConfigOutput.Format.K3S, file)));
        String text = Files.readString(file, StandardCharsets.UTF_8);
        Map<String, Object> root = MiniYaml.parse(text);
        assertEquals(TOP, root.keySet());
        Map<String, Object> mirrors = (Map<String, Object>) root.get("mirrors");
        assertEquals(Set.of("docker.io", "quay.io", "registry.example:5000"), mirrors.keySet(), "only the source registries of the images");
        for (Map.Entry<String, Object> e : mirrors.entrySet()) {
            Map<String, Object> mirror = (Map<String, Object>) e.getValue();
            assertTrue(MIRROR.containsAll(mirror.keySet()), mirror.keySet().toString());
            assertEquals(List.of("https://reg.local:5000"), mirror.get("endpoint"));
            Map<String, Object> rewrite = (Map<String, Object>) mirror.get("rewrite");
            assertEquals(1, rewrite.size());
            // k3s applies the rewrite (Go regexp, $1 expansion) to the repository path: it must give import's target path
            Map.Entry<String, Object> rule = rewrite.entrySet().iterator().next();
            for (ImageReference s : SOURCES) {
                if (s.registry().equals(e.getKey())) {
                    assertEquals(m.map(s).repository(), s.repository().replaceAll(rule.getKey(), (String) rule.getValue()));
                }
            }
        }
        Map<String, Object> configs = (Map<String, Object>) root.get("configs");
        assertEquals(Set.of("reg.local:5000"), configs.keySet());
        Map<String, Object> config = (Map<String, Object>) configs.get("reg.local:5000");
        assertTrue(CONFIG.containsAll(config.keySet()));
        Map<String, Object> tls = (Map<String, Object>) config.get("tls");
        assertTrue(TLS.containsAll(tls.keySet()));
        assertEquals("/etc/ssl/internal-ca.crt", tls.get("ca_file"));
        assertEquals("true", tls.get("insecure_skip_verify"));
        assertFalse(config.containsKey("auth"), "credentials are never written, only a comment placeholder");
        assertTrue(text.contains("# auth:"), text);

        // without a prefix: no rewrite at all
        MirrorConfig.write(SOURCES, TargetMapping.parse("reg.local:5000", false), HTTPS_CA, List.of(new NodeConfigOutput(NodeConfigOutput.Format.K3S, file)));
        Map<String, Object> plain = (Map<String, Object>) MiniYaml.parse(Files.readString(file, StandardCharsets.UTF_8)).get("mirrors");
        assertFalse(((Map<String, Object>) plain.get("docker.io")).containsKey("rewrite"));

        // plain HTTP: nothing to say under configs, so no configs section (only the commented placeholder)
        MirrorConfig.write(SOURCES, m, new NodeEndpoint("http", false, Optional.empty()), List.of(new NodeConfigOutput(NodeConfigOutput.Format.K3S, file)));
        String http = Files.readString(file, StandardCharsets.UTF_8);
        Map<String, Object> httpRoot = MiniYaml.parse(http);
        assertEquals(Set.of("mirrors"), httpRoot.keySet());
        assertEquals(List.of("http://reg.local:5000"), ((Map<String, Object>) ((Map<String, Object>) httpRoot.get("mirrors")).get("quay.io")).get("endpoint"));
        assertTrue(http.contains("# configs:"), http);
        String active = String.join("\n", http.lines().filter(l -> !l.strip().startsWith("#")).toList());
        for (String key : AUTH) {
            assertFalse(active.contains(key + ":"), "no credential key is set: " + key);
        }
    }

    @Test
    void containerdHostsAndContainersDropIn() throws Exception {
        TargetMapping m = TargetMapping.parse("reg.local:5000/mirror", false);
        Path hosts = dir.resolve("certs.d");
        Path dropIn = dir.resolve("airlock.conf");
        List<Path> written = MirrorConfig.write(SOURCES, m, new NodeEndpoint("http", false, Optional.empty()),
                List.of(new NodeConfigOutput(NodeConfigOutput.Format.CONTAINERD, hosts), new NodeConfigOutput(NodeConfigOutput.Format.CONTAINERS, dropIn)));
        assertEquals(4, written.size());
        String docker = Files.readString(hosts.resolve("docker.io/hosts.toml"), StandardCharsets.UTF_8);
        assertTrue(docker.contains("[host.\"http://reg.local:5000/v2/mirror\"]\n  capabilities = [\"pull\", \"resolve\"]\n  override_path = true\n"), docker);
        assertTrue(Files.exists(hosts.resolve("registry.example:5000/hosts.toml")));
        String conf = Files.readString(dropIn, StandardCharsets.UTF_8);
        assertTrue(conf.contains("[[registry]]\nprefix = \"quay.io\"\nlocation = \"reg.local:5000/mirror\"\ninsecure = true\n"), conf);
        try (var s = Files.list(dir)) {
            assertEquals(List.of(), s.filter(p -> p.getFileName().toString().endsWith(".tmp")).toList(), "no temporary files left");
        }
    }

    /** Just enough YAML for the subset MirrorConfig writes: block maps, block lists of scalars, quoted or plain scalars, comments. */
    static final class MiniYaml {
        static Map<String, Object> parse(String text) {
            List<String[]> lines = new ArrayList<>();
            for (String raw : text.split("\n")) {
                String l = raw.stripTrailing();
                if (l.isBlank() || l.strip().startsWith("#")) {
                    continue;
                }
                int indent = l.length() - l.stripLeading().length();
                lines.add(new String[] {String.valueOf(indent), l.strip()});
            }
            int[] pos = {0};
            return map(lines, pos, 0);
        }

        private static Map<String, Object> map(List<String[]> lines, int[] pos, int indent) {
            Map<String, Object> out = new LinkedHashMap<>();
            while (pos[0] < lines.size() && Integer.parseInt(lines.get(pos[0])[0]) == indent) {
                String l = lines.get(pos[0])[1];
                if (l.startsWith("- ")) {
                    throw new IllegalArgumentException("list item where a key was expected: " + l);
                }
                String[] kv = splitKey(l);
                pos[0]++;
                if (!kv[1].isEmpty()) {
                    out.put(kv[0], scalar(kv[1]));
                } else if (pos[0] < lines.size() && lines.get(pos[0])[1].startsWith("- ")) {
                    int li = Integer.parseInt(lines.get(pos[0])[0]);
                    List<Object> list = new ArrayList<>();
                    while (pos[0] < lines.size() && Integer.parseInt(lines.get(pos[0])[0]) == li && lines.get(pos[0])[1].startsWith("- ")) {
                        list.add(scalar(lines.get(pos[0])[1].substring(2).strip()));
                        pos[0]++;
                    }
                    out.put(kv[0], list);
                } else {
                    int child = pos[0] < lines.size() ? Integer.parseInt(lines.get(pos[0])[0]) : -1;
                    if (child <= indent) {
                        throw new IllegalArgumentException("empty value for " + kv[0]);
                    }
                    out.put(kv[0], map(lines, pos, child));
                }
                if (out.size() != new java.util.HashSet<>(out.keySet()).size()) {
                    throw new IllegalArgumentException("duplicate key");
                }
            }
            if (pos[0] < lines.size() && Integer.parseInt(lines.get(pos[0])[0]) > indent) {
                throw new IllegalArgumentException("bad indentation at " + lines.get(pos[0])[1]);
            }
            return out;
        }

        private static String[] splitKey(String l) {
            if (l.startsWith("\"")) {
                int end = closingQuote(l);
                String key = unquote(l.substring(0, end + 1));
                String rest = l.substring(end + 1);
                if (!rest.startsWith(":")) {
                    throw new IllegalArgumentException("no ':' after key in " + l);
                }
                return new String[] {key, rest.substring(1).strip()};
            }
            int colon = l.indexOf(':');
            return new String[] {l.substring(0, colon), l.substring(colon + 1).strip()};
        }

        private static int closingQuote(String l) {
            for (int i = 1; i < l.length(); i++) {
                if (l.charAt(i) == '\\') {
                    i++;
                } else if (l.charAt(i) == '"') {
                    return i;
                }
            }
            throw new IllegalArgumentException("unterminated quote: " + l);
        }

        private static Object scalar(String s) {
            return s.startsWith("\"") ? unquote(s) : s;
        }

        private static String unquote(String s) {
            return s.substring(1, s.length() - 1).replace("\\\"", "\"").replace("\\\\", "\\");
        }
    }
}
