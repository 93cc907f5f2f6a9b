package dev.airlock.cli;

import com.fasterxml.jackson.databind.JsonNode;
import dev.airlock.model.Json;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Set;
import java.util.TreeSet;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveInputStream;

/** A written bundle's bundle.json as the delta tests compare it (read straight from the tar). */
final class BundleJsonFiles {
    private BundleJsonFiles() {
    }

    static JsonNode bundleJson(Path bundle) throws IOException {
        try (TarArchiveInputStream in = new TarArchiveInputStream(Files.newInputStream(bundle))) {
            TarArchiveEntry e;
            while ((e = in.getNextEntry()) != null) {
                if (e.getName().equals("airlock/bundle.json")) {
                    return Json.parse(in.readAllBytes(), "bundle.json");
                }
            }
        }
        throw new AssertionError("no bundle.json in " + bundle);
    }

    /** Every listed file as "path size images", sorted. */
    static Set<String> carried(Path bundle) throws IOException {
        Set<String> out = new TreeSet<>();
        for (JsonNode f : bundleJson(bundle).get("files")) {
            out.add(f.get("path").asText() + " " + f.get("size").asText() + " " + f.path("images"));
        }
        return out;
    }
}
