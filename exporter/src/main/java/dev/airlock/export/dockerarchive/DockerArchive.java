package dev.airlock.export.dockerarchive;

import com.fasterxml.jackson.databind.JsonNode;
import dev.airlock.error.AirlockException;
import dev.airlock.error.Printable;
import dev.airlock.error.VerificationException;
import dev.airlock.export.dockerarchive.TarWalker.Header;
import dev.airlock.export.dockerarchive.TarWalker.Kind;
import dev.airlock.model.Digest;
import dev.airlock.model.Json;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * One {@code docker save} archive after its first pass: the catalogue of entries (names, kinds,
 * sizes, symlink targets; no content) and the bytes of the small JSON documents, of which
 * {@code manifest.json} drives everything. Both layouts have a {@code manifest.json}: the classic
 * one points at {@code <id>/layer.tar} and {@code <hex>.json}, the Docker 25+ one into the OCI
 * layout's {@code blobs/sha256/}.
 *
 * <p>Memory: the catalogue is bounded by {@link TarWalker#MAX_ENTRIES}; the first pass keeps an
 * entry's bytes only when it is at most {@link Json#MAX_DOCUMENT_BYTES}, looks like JSON (its first
 * byte is '{' or '['), and the total kept stays under {@link #KEEP_BUDGET}. Configs that did not fit
 * are read by an extra pass ({@link #readSmall}). Layers are never kept: they are streamed by a
 * later pass ({@link #stream}).
 */
final class DockerArchive {
    /** Most JSON bytes the first pass keeps per archive; beyond it configs are re-read by name. */
    static final long KEEP_BUDGET = 64L * 1024 * 1024;
    private static final Pattern HEX64 = Pattern.compile("[a-f0-9]{64}");
    private static final Pattern ARCH_HINT = Pattern.compile("amd64|x86_64|arm64|aarch64|arm|armhf|armel|386|i386|ppc64le|s390x|riscv64|mips64le");

    /** One entry of manifest.json. */
    record Saved(int position, String configPath, List<String> repoTags, List<String> layerPaths) {
    }

    private final Path file;
    private final Map<String, Header> entries;
    private final Map<String, byte[]> kept;
    private final List<Saved> images;
    private final boolean ociLayout;

    private DockerArchive(Path file, Map<String, Header> entries, Map<String, byte[]> kept, List<Saved> images, boolean ociLayout) {
        this.file = file;
        this.entries = entries;
        this.kept = kept;
        this.images = images;
        this.ociLayout = ociLayout;
    }

    /** First pass: catalogue, keep small JSON, parse and check manifest.json. */
    static DockerArchive scan(Path file) {
        String what = describe(file);
        Map<String, Header> entries = new LinkedHashMap<>();
        Map<String, byte[]> kept = new HashMap<>();
        long[] keptBytes = {0};
        TarWalker.walk(file, (h, content) -> {
            if (h.kind() == Kind.DIRECTORY) {
                return; // repeated directory entries are harmless
            }
            if (entries.putIfAbsent(h.name(), h) != null) {
                throw new VerificationException(what + " holds entry " + h.name() + " twice; a later copy would shadow the first");
            }
            if (h.kind() == Kind.FILE && h.size() > 0 && h.size() <= Json.MAX_DOCUMENT_BYTES && keptBytes[0] + h.size() <= KEEP_BUDGET) {
                int first = peek(content);
                if (first == '{' || first == '[') {
                    byte[] rest = content.readAll();
                    byte[] all = new byte[rest.length + 1];
                    all[0] = (byte) first;
                    System.arraycopy(rest, 0, all, 1, rest.length);
                    kept.put(h.name(), all);
                    keptBytes[0] += all.length;
                }
            }
        });
        Header mj = entries.get("manifest.json");
        if (mj == null || mj.kind() != Kind.FILE) {
            throw new VerificationException(what + " has no manifest.json; is it the output of docker save?");
        }
        byte[] manifestBytes = kept.get("manifest.json");
        if (manifestBytes == null) {
            throw new VerificationException(what + " has a manifest.json that is not a JSON array of at most " + Json.MAX_DOCUMENT_BYTES + " bytes");
        }
        boolean oci = entries.containsKey("oci-layout") || entries.containsKey("index.json");
        if (oci) {
            for (String doc : List.of("oci-layout", "index.json")) {
                byte[] b = kept.get(doc);
                if (b == null) {
                    throw new VerificationException(what + " has an OCI layout without a readable " + doc);
                }
                Json.parse(b, doc + " in " + what);
            }
        }
        DockerArchive a = new DockerArchive(file, entries, kept, parseManifest(manifestBytes, what), oci);
        a.checkReferences();
        return a;
    }

    private static int peek(TarWalker.CountingStream content) throws IOException {
        return content.read();
    }

    private static List<Saved> parseManifest(byte[] bytes, String what) {
        String doc = "manifest.json in " + what;
        JsonNode root;
        try {
            root = Json.parse(bytes, doc);
        } catch (AirlockException e) {
            throw new VerificationException(e.getMessage());
        }
        if (!root.isArray()) {
            throw new VerificationException(doc + " is not a JSON array");
        }
        if (root.isEmpty()) {
            throw new VerificationException(doc + " lists no images");
        }
        List<Saved> out = new ArrayList<>();
        for (int i = 0; i < root.size(); i++) {
            JsonNode img = root.get(i);
            String at = doc + " entry " + i;
            if (!img.isObject() || !img.path("Config").isTextual() || !img.path("Layers").isArray()) {
                throw new VerificationException(at + " lacks Config or Layers");
            }
            List<String> tags = new ArrayList<>();
            JsonNode rt = img.get("RepoTags");
            if (rt != null && !rt.isNull()) {
                if (!rt.isArray()) {
                    throw new VerificationException(at + " has RepoTags that are not an array");
                }
                for (JsonNode t : rt) {
                    if (!t.isTextual()) {
                        throw new VerificationException(at + " has a RepoTag that is not a string");
                    }
                    tags.add(t.asText());
                }
            }
            List<String> layers = new ArrayList<>();
            for (JsonNode l : img.get("Layers")) {
                if (!l.isTextual()) {
                    throw new VerificationException(at + " has a layer path that is not a string");
                }
                layers.add(TarWalker.normalise(l.asText(), doc));
            }
            out.add(new Saved(i, TarWalker.normalise(img.get("Config").asText(), doc), List.copyOf(tags), List.copyOf(layers)));
        }
        return List.copyOf(out);
    }

    /** Every path manifest.json names must exist and resolve (through symlinks) to a regular file. */
    private void checkReferences() {
        for (Saved s : images) {
            resolve(s.configPath(), "config of manifest.json entry " + s.position());
            for (String l : s.layerPaths()) {
                resolve(l, "layer of manifest.json entry " + s.position());
            }
        }
    }

    /**
     * The regular-file entry that {@code name} is or (through relative symlinks that stay inside the
     * archive) points to. Links that leave the archive, loop, or dangle are errors.
     */
    String resolve(String name, String role) {
        String n = name;
        for (int depth = 0; depth < 16; depth++) {
            Header h = entries.get(n);
            if (h == null) {
                throw new VerificationException(describe(file) + " lacks " + n + (n.equals(name) ? "" : " (link target of " + name + ")") + ", the " + role);
            }
            if (h.kind() == Kind.FILE) {
                return n;
            }
            if (h.kind() != Kind.SYMLINK) {
                throw new VerificationException(describe(file) + " entry " + n + ", the " + role + ", is not a file");
            }
            String target = h.linkTarget();
            if (target.startsWith("/")) {
                throw new VerificationException(describe(file) + " entry " + n + " is a symlink to the absolute path " + Printable.of(target) + ", outside the archive");
            }
            int slash = n.lastIndexOf('/');
            String joined = (slash < 0 ? "" : n.substring(0, slash + 1)) + target;
            List<String> parts = new ArrayList<>();
            for (String seg : joined.split("/")) {
                if (seg.isEmpty() || seg.equals(".")) {
                    continue;
                }
                if (seg.equals("..")) {
                    if (parts.isEmpty()) {
                        throw new VerificationException(describe(file) + " entry " + n + " is a symlink to " + Printable.of(target) + ", outside the archive");
                    }
                    parts.remove(parts.size() - 1);
                } else {
                    parts.add(seg);
                }
            }
            n = String.join("/", parts);
        }
        throw new VerificationException(describe(file) + " entry " + name + " is a symlink chain longer than 16 links");
    }

    /** The kept bytes of a (resolved) entry, if the first pass kept them. */
    Optional<byte[]> kept(String resolvedName) {
        return Optional.ofNullable(kept.get(resolvedName));
    }

    /** The header of a resolved entry. */
    Header header(String resolvedName) {
        return entries.get(resolvedName);
    }

    /** Extra pass: reads the named (resolved, small) entries into memory. */
    Map<String, byte[]> readSmall(Set<String> resolvedNames) {
        Map<String, byte[]> out = new HashMap<>();
        for (String n : resolvedNames) {
            if (entries.get(n).size() > Json.MAX_DOCUMENT_BYTES) {
                throw new VerificationException(describe(file) + " entry " + n + " is " + entries.get(n).size() + " bytes, over the " + Json.MAX_DOCUMENT_BYTES + "-byte limit for a config");
            }
        }
        TarWalker.walk(file, (h, content) -> {
            if (h.kind() == Kind.FILE && resolvedNames.contains(h.name())) {
                out.put(h.name(), content.readAll());
            }
        });
        return out;
    }

    /** A streaming pass: {@code handler} gets the content of each named (resolved) entry, in archive order. */
    void stream(Set<String> resolvedNames, EntryHandler handler) {
        Set<String> seen = new HashSet<>();
        TarWalker.walk(file, (h, content) -> {
            if (h.kind() == Kind.FILE && resolvedNames.contains(h.name()) && seen.add(h.name())) {
                handler.handle(h.name(), h.size(), content);
                if (content.count() != h.size()) {
                    content.skip(Long.MAX_VALUE);
                }
            }
        });
        if (!seen.containsAll(resolvedNames)) {
            Set<String> missing = new HashSet<>(resolvedNames);
            missing.removeAll(seen);
            throw new VerificationException(describe(file) + " changed while being read: " + missing.iterator().next() + " is gone");
        }
    }

    @FunctionalInterface
    interface EntryHandler {
        void handle(String name, long size, InputStream content) throws IOException;
    }

    /**
     * The digest the entry's name promises: {@code blobs/sha256/<hex>} and the classic
     * {@code <hex>.json} config name (the image ID). Empty for other names.
     */
    static Optional<Digest> digestFromName(String resolvedName) {
        String base = resolvedName.substring(resolvedName.lastIndexOf('/') + 1);
        if (resolvedName.startsWith("blobs/sha256/") && HEX64.matcher(base).matches()) {
            return Optional.of(new Digest("sha256", base));
        }
        if (!resolvedName.contains("/") && base.endsWith(".json") && HEX64.matcher(base.substring(0, base.length() - 5)).matches()) {
            return Optional.of(new Digest("sha256", base.substring(0, base.length() - 5)));
        }
        return Optional.empty();
    }

    /**
     * The architecture the file name suggests ({@code k3s-airgap-images-arm64.tar.gz} → arm64): the
     * last '-', '_' or '.' separated token that is a known architecture. Only a hint.
     */
    static Optional<String> archHint(Path file) {
        String n = file.getFileName().toString().toLowerCase(Locale.ROOT);
        n = n.replaceAll("(\\.tar\\.gz|\\.tgz|\\.tar|\\.gz)$", "");
        n = n.replace("x86_64", "amd64");
        String found = null;
        for (String tok : n.split("[-_.]")) {
            if (ARCH_HINT.matcher(tok).matches()) {
                found = tok;
            }
        }
        return Optional.ofNullable(found);
    }

    static String describe(Path file) {
        return "docker archive " + file.getFileName();
    }

    Path file() {
        return file;
    }

    List<Saved> images() {
        return images;
    }

    boolean ociLayout() {
        return ociLayout;
    }
}
