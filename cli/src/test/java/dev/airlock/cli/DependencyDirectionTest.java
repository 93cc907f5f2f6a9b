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
 * never depend on each other; only cli sees picocli; bundle-format has no HTTP. Reads the module
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
        assertTrue(deps.keySet().containsAll(Set.of("bundle-format", "registry-client", "exporter", "importer", "cli")),
                "modules found: " + deps.keySet());
    }

    @Test
    void exporterAndImporterNeverDependOnEachOther() {
        assertTrue(!deps.get("exporter").contains("dev.airlock:importer"), "exporter depends on importer");
        assertTrue(!deps.get("importer").contains("dev.airlock:exporter"), "importer depends on exporter");
    }

    @Test
    void dependenciesFlowDown() {
        Map<String, Set<String>> forbidden = Map.of(
                "bundle-format", Set.of("registry-client", "exporter", "importer", "cli", "testkit"),
                "registry-client", Set.of("exporter", "importer", "cli"),
                "exporter", Set.of("importer", "cli"),
                "importer", Set.of("exporter", "cli"),
                "testkit", Set.of("exporter", "importer", "cli"));
        List<String> violations = new ArrayList<>();
        forbidden.forEach((module, banned) -> {
            for (String b : banned) {
                if (deps.getOrDefault(module, List.of()).contains("dev.airlock:" + b)) {
                    violations.add(module + " -> " + b);
                }
            }
        });
        assertEquals(List.of(), violations);
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
    void bundleFormatHasNoHttp() throws IOException {
        Path module = root.resolve("bundle-format");
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
                    out.add(text(d, "groupId") + ":" + text(d, "artifactId"));
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
