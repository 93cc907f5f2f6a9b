package dev.airlock.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Stream;
import javax.xml.parsers.DocumentBuilderFactory;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.w3c.dom.Document;
import org.w3c.dom.Element;
import org.w3c.dom.Node;
import org.w3c.dom.NodeList;

/**
 * The architecture rule of DESIGN.md as a test: dependencies flow down only; exporter and importer
 * exporter, importer and mirror
 * never depend on each other; only cli sees picocli; core and bundle-format have no HTTP. Reads the module
 * poms (declared dependencies) and scans main sources and compiled classes.
 */
class DependencyDirectionTest {
    private static Path root;
    private static Map<String, List<String>> deps;

    @BeforeAll
    static void readPoms() throws Exception {
        root = Path.of(System.getProperty("basedir", ".")).toAbsolutePath().normalize().getParent();
        Document parent = parse(root.resolve("pom.xml"));
        deps = new LinkedHashMap<>();
        NodeList modules = parent.getElementsByTagName("module");
        for (int i = 0; i < modules.getLength(); i++) {
            String module = modules.item(i).getTextContent().trim();
            deps.put(module, declaredDependencies(parse(root.resolve(module).resolve("pom.xml"))));
        }
        assertTrue(deps.keySet().containsAll(Set.of("core", "engine", "bundle-format", "registry-client", "exporter", "importer", "mirror", "cli")),
                "modules found: " + deps.keySet());
    }

    /**
     * The module graph of README's "Where things are", bottom up: what each module may use at
     * compile time, directly or through another. cli is on top and may use everything.
     */
    private static final Map<String, Set<String>> ALLOWED = Map.ofEntries(
            Map.entry("core", Set.of()),
            Map.entry("bundle-format", Set.of("core")),
            Map.entry("registry-client", Set.of("core")),
            Map.entry("engine", Set.of("core")),
            Map.entry("testkit", Set.of("core", "bundle-format")),
            Map.entry("exporter", Set.of("core", "engine", "bundle-format", "registry-client")),
            Map.entry("importer", Set.of("core", "engine", "bundle-format", "registry-client")),
            Map.entry("mirror", Set.of("core", "engine", "registry-client")),
            Map.entry("target-registry", Set.of("core", "registry-client", "bundle-format")),
            // no Java code: packages cli's jar into the distribution tarball
            Map.entry("dist", Set.of("cli", "core", "engine", "bundle-format", "registry-client", "exporter", "importer", "mirror", "target-registry", "serve")),
            Map.entry("serve", Set.of("core", "bundle-format")));

    @Test
    void everyModuleIsInTheGraph() {
        Set<String> expected = new java.util.TreeSet<>(ALLOWED.keySet());
        expected.add("cli");
        assertEquals(expected, new java.util.TreeSet<>(deps.keySet()));
    }

    @Test
    void exporterImporterAndMirrorNeverDependOnEachOther() {
        for (String a : List.of("exporter", "importer", "mirror")) {
            for (String b : List.of("exporter", "importer", "mirror")) {
                assertTrue(a.equals(b) || !closure(a).contains(b), a + " depends on " + b);
            }
        }
    }

    /** Like go-containerregistry's depcheck: the transitive closure of main-scope dependencies. */
    @Test
    void dependenciesFlowDownTransitively() {
        List<String> violations = new ArrayList<>();
        ALLOWED.forEach((module, allowed) -> {
            for (String d : closure(module)) {
                if (!allowed.contains(d)) {
                    violations.add(module + " -> " + d);
                }
            }
        });
        assertEquals(List.of(), violations);
    }

    /** What the poms declare is what the code uses: no main source imports a package of a module outside its closure. */
    @Test
    void importsFollowTheGraph() throws IOException {
        Map<String, String> owner = new LinkedHashMap<>();
        for (String m : deps.keySet()) {
            for (String pkg : packagesOf(m)) {
                owner.put(pkg, m);
            }
        }
        List<String> violations = new ArrayList<>();
        java.util.regex.Pattern imp = java.util.regex.Pattern.compile("(?m)^import (?:static )?(dev\\.airlock(?:\\.[a-z]\\w*)+)\\.[A-Z]");
        for (String m : ALLOWED.keySet()) {
            Set<String> may = new java.util.HashSet<>(closure(m));
            may.add(m);
            Path src = root.resolve(m).resolve("src/main/java");
            if (!Files.isDirectory(src)) {
                continue;
            }
            try (Stream<Path> files = Files.walk(src)) {
                for (Path f : files.filter(p -> p.toString().endsWith(".java")).toList()) {
                    java.util.regex.Matcher x = imp.matcher(Files.readString(f, StandardCharsets.UTF_8));
                    while (x.find()) {
                        String o = owner.get(x.group(1));
                        if (o != null && !may.contains(o)) {
                            violations.add(root.relativize(f) + " imports " + x.group(1) + " (" + o + ")");
                        }
                    }
                }
            }
        }
        assertEquals(List.of(), violations);
    }

    /** Each package lives in one module only: the package says where. */
    @Test
    void noPackageIsSplitAcrossModules() throws IOException {
        Map<String, String> owner = new LinkedHashMap<>();
        List<String> split = new ArrayList<>();
        for (String m : deps.keySet()) {
            for (String pkg : packagesOf(m)) {
                String before = owner.putIfAbsent(pkg, m);
                if (before != null) {
                    split.add(pkg + " in " + before + " and " + m);
                }
            }
        }
        assertEquals(List.of(), split);
    }

    private static Set<String> closure(String module) {
        Set<String> seen = new java.util.LinkedHashSet<>();
        java.util.ArrayDeque<String> todo = new java.util.ArrayDeque<>(List.of(module));
        while (!todo.isEmpty()) {
            for (String d : deps.getOrDefault(todo.pop(), List.of())) {
                if (d.startsWith("dev.airlock:")) {
                    String m = d.substring("dev.airlock:".length());
                    if (seen.add(m)) {
                        todo.push(m);
                    }
                }
            }
        }
        return seen;
    }

    private static Set<String> packagesOf(String module) throws IOException {
        Path src = root.resolve(module).resolve("src/main/java");
        Set<String> out = new java.util.TreeSet<>();
        if (!Files.isDirectory(src)) {
            return out;
        }
        try (Stream<Path> files = Files.walk(src)) {
            for (Path f : files.filter(p -> p.toString().endsWith(".java")).toList()) {
                out.add(src.relativize(f.getParent()).toString().replace('/', '.'));
            }
        }
        return out;
    }

    @Test
    void onlyCliDependsOnPicocli() throws IOException {
        assertTrue(deps.get("cli").contains("info.picocli:picocli"), "cli should declare picocli");
        for (Map.Entry<String, List<String>> e : deps.entrySet()) {
            if (!e.getKey().equals("cli")) {
                assertTrue(e.getValue().stream().noneMatch(d -> d.startsWith("info.picocli:")), e.getKey() + " depends on picocli");
                assertEquals(List.of(), sourcesMentioning(root.resolve(e.getKey()).resolve("src/main/java"), "picocli"), e.getKey());
            }
        }
    }

    @Test
    void coreEngineAndBundleFormatHaveNoHttp() throws IOException {
        for (String m : List.of("core", "engine", "bundle-format")) {
            noHttp(m);
        }
    }

    private static void noHttp(String name) throws IOException {
        Path module = root.resolve(name);
        assertEquals(List.of(), sourcesMentioning(module.resolve("src/main/java"), "java.net.http"));
        Path classes = module.resolve("target/classes");
        if (Files.isDirectory(classes)) {
            List<String> hits = new ArrayList<>();
            try (Stream<Path> files = Files.walk(classes)) {
                for (Path f : files.filter(p -> p.toString().endsWith(".class")).toList()) {
                    // class-file constant pools name referenced classes as java/net/http/...
                    if (new String(Files.readAllBytes(f), StandardCharsets.ISO_8859_1).contains("java/net/http/")) {
                        hits.add(classes.relativize(f).toString());
                    }
                }
            }
            assertEquals(List.of(), hits);
        }
    }

    private static List<String> sourcesMentioning(Path dir, String text) throws IOException {
        if (!Files.isDirectory(dir)) {
            return List.of();
        }
        try (Stream<Path> files = Files.walk(dir)) {
            List<String> hits = new ArrayList<>();
            for (Path f : files.filter(p -> p.toString().endsWith(".java")).toList()) {
                if (Files.readString(f, StandardCharsets.UTF_8).contains(text)) {
                    hits.add(root.relativize(f).toString());
                }
            }
            return hits;
        }
    }

    private static Document parse(Path pom) throws Exception {
        DocumentBuilderFactory f = DocumentBuilderFactory.newInstance();
        f.setFeature("http://apache.org/xml/features/disallow-doctype-decl", true);
        return f.newDocumentBuilder().parse(pom.toFile());
    }

    /** groupId:artifactId of project/dependencies/dependency (not dependencyManagement). */
    private static List<String> declaredDependencies(Document pom) {
        List<String> out = new ArrayList<>();
        for (Node n = pom.getDocumentElement().getFirstChild(); n != null; n = n.getNextSibling()) {
            if (n instanceof Element e && e.getTagName().equals("dependencies")) {
                NodeList list = e.getElementsByTagName("dependency");
                for (int i = 0; i < list.getLength(); i++) {
                    Element d = (Element) list.item(i);
                    if (!text(d, "scope").equals("test")) {
                        out.add(text(d, "groupId") + ":" + text(d, "artifactId"));
                    }
                }
            }
        }
        return out;
    }

    private static String text(Element e, String tag) {
        NodeList l = e.getElementsByTagName(tag);
        return l.getLength() == 0 ? "" : l.item(0).getTextContent().trim();
    }
}
