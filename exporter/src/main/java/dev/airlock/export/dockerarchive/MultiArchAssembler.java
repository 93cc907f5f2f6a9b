package dev.airlock.export.dockerarchive;

import dev.airlock.concurrent.Workers;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.airlock.error.AirlockException;
import dev.airlock.error.LocalIoException;
import dev.airlock.error.Printable;
import dev.airlock.error.VerificationException;
import dev.airlock.export.dockerarchive.DockerArchive.Saved;
import dev.airlock.model.Descriptor;
import dev.airlock.model.Digest;
import dev.airlock.model.ImageConfig;
import dev.airlock.model.ImageReference;
import dev.airlock.model.Json;
import dev.airlock.model.Platform;
import dev.airlock.model.RawManifest;
import dev.airlock.progress.ProgressListener;
import java.io.BufferedInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import org.apache.commons.compress.compressors.gzip.GzipCompressorInputStream;

/**
 * Turns per-arch docker-save archives into multi-arch images, in this order, so that every
 * content and platform error is found before any layer is compressed:
 *
 * <ol>
 *   <li>first pass per archive ({@link DockerArchive#scan}): catalogue, small JSON, manifest.json;</li>
 *   <li>configs (kept from pass 1, or an extra pass for those that were not): digest checked
 *   against the name, platform and diff_ids read, file-name hint checked;</li>
 *   <li>grouping by normalised RepoTag, one entry per platform (duplicates are errors);</li>
 *   <li>layer pass per archive: each distinct diff_id is streamed once (across all archives),
 *   its sha256 checked against the diff_id, and gzip-compressed in parallel into the scratch dir;</li>
 *   <li>one manifest per platform and one index per tag, written once as bytes.</li>
 * </ol>
 */
final class MultiArchAssembler {

    /** An image of one archive with its config read. */
    private record Loaded(DockerArchive archive, Saved saved, byte[] config, Digest configDigest, Platform platform,
                          List<Digest> diffIds, List<String> layerEntries) {
        String file() {
            return archive.file().getFileName().toString();
        }
    }

    /** What the assembler produced. */
    record Result(Map<Digest, RawManifest> manifests, Map<String, Digest> tags, List<DockerArchiveImage> images,
                  Map<Digest, Long> blobs) {
    }

    private final DockerArchiveOptions options;
    private final ProgressListener progress;
    private final BlobDir blobs;

    MultiArchAssembler(DockerArchiveOptions options, BlobDir blobs) {
        this.options = options;
        this.progress = options.progress();
        this.blobs = blobs;
    }

    Result assemble(List<Path> files) {
        if (files.isEmpty()) {
            throw new dev.airlock.error.UsageException("no docker archive given");
        }
        Set<Path> distinct = new HashSet<>();
        for (Path f : files) {
            if (!distinct.add(f.toAbsolutePath().normalize())) {
                throw new dev.airlock.error.UsageException("docker archive " + f + " is given twice");
            }
        }
        progress.begin("reading docker archives", 0, files.size());
        List<DockerArchive> archives = new ArrayList<>();
        for (Path f : files) {
            archives.add(DockerArchive.scan(f));
            progress.itemDone(f.getFileName().toString());
        }
        progress.end();

        List<Loaded> loaded = new ArrayList<>();
        for (DockerArchive a : archives) {
            loaded.addAll(loadConfigs(a));
        }
        Map<ImageReference, Map<Platform, Loaded>> groups = group(loaded);
        Map<Digest, Descriptor> layers = compressLayers(archives, groups);
        return build(groups, layers);
    }

    // ---- configs --------------------------------------------------------------------------

    private List<Loaded> loadConfigs(DockerArchive a) {
        String what = DockerArchive.describe(a.file());
        Map<String, byte[]> configs = new HashMap<>();
        Set<String> missing = new LinkedHashSet<>();
        for (Saved s : a.images()) {
            String c = a.resolve(s.configPath(), "config of manifest.json entry " + s.position());
            a.kept(c).ifPresentOrElse(b -> configs.put(c, b), () -> missing.add(c));
        }
        if (!missing.isEmpty()) {
            configs.putAll(a.readSmall(missing));
        }
        Optional<String> hint = DockerArchive.archHint(a.file());
        List<Loaded> out = new ArrayList<>();
        for (Saved s : a.images()) {
            String c = a.resolve(s.configPath(), "config");
            byte[] bytes = configs.get(c);
            Digest digest = Digest.sha256(bytes);
            String imageName = s.repoTags().isEmpty() ? "image " + digest.shortForm() : "image " + s.repoTags().get(0);
            Optional<Digest> named = DockerArchive.digestFromName(c);
            if (named.isPresent() && !named.get().equals(digest)) {
                throw new VerificationException("config " + c + " of " + imageName + " in " + what + " has digest " + digest + ", its name says " + named.get());
            }
            String cwhat = "config " + digest.shortForm() + " of " + imageName + " in " + what;
            Platform platform = ImageConfig.parse(bytes, cwhat).platform();
            List<Digest> diffIds = diffIds(bytes, cwhat);
            if (diffIds.size() != s.layerPaths().size()) {
                throw new VerificationException(cwhat + " lists " + diffIds.size() + " diff_ids but manifest.json lists " + s.layerPaths().size() + " layers");
            }
            if (hint.isPresent()) {
                String hinted = Platform.of(platform.os(), hint.get(), "").normalized().architecture();
                if (!hinted.equals(platform.normalized().architecture())) {
                    throw new VerificationException(imageName + " in " + a.file().getFileName() + " is " + platform
                            + " by its config, but the file name says " + hint.get() + "; the config decides, so fix or rename the archive");
                }
            }
            if (s.repoTags().isEmpty()) {
                progress.note("warning: " + imageName + " in " + a.file().getFileName() + " has no RepoTags and is skipped");
                continue;
            }
            if (platform.lacksArmVariant()) {
                progress.note("warning: " + imageName + " in " + a.file().getFileName() + " is " + platform
                        + " without a variant; it stays " + platform + " (clients asking for arm/v7 may not pick it)");
            }
            List<String> entries = new ArrayList<>();
            for (String l : s.layerPaths()) {
                entries.add(a.resolve(l, "layer of " + imageName));
            }
            out.add(new Loaded(a, s, bytes, digest, platform, diffIds, List.copyOf(entries)));
        }
        return out;
    }

    private static List<Digest> diffIds(byte[] config, String what) {
        JsonNode root = Json.parse(config, what);
        JsonNode rootfs = root.get("rootfs");
        if (rootfs == null || !rootfs.isObject() || !rootfs.path("diff_ids").isArray()) {
            throw new VerificationException(what + " has no rootfs.diff_ids");
        }
        if (rootfs.has("type") && !"layers".equals(rootfs.path("type").asText())) {
            throw new VerificationException(what + " has rootfs.type " + rootfs.get("type") + ", expected \"layers\"");
        }
        List<Digest> out = new ArrayList<>();
        for (JsonNode d : rootfs.get("diff_ids")) {
            if (!d.isTextual()) {
                throw new VerificationException(what + " has a diff_id that is not a string");
            }
            try {
                Digest digest = Digest.parse(d.asText());
                if (!digest.algorithm().equals("sha256")) {
                    throw new VerificationException(what + " has a diff_id that is not sha256: " + digest);
                }
                out.add(digest);
            } catch (VerificationException e) {
                throw new VerificationException(what + ": " + e.getMessage());
            }
        }
        return out;
    }

    // ---- grouping -------------------------------------------------------------------------

    private Map<ImageReference, Map<Platform, Loaded>> group(List<Loaded> loaded) {
        Map<ImageReference, Map<Platform, Loaded>> groups = new TreeMap<>(Comparator.comparing(ImageReference::toString));
        for (Loaded l : loaded) {
            for (String tag : new LinkedHashSet<>(l.saved().repoTags())) {
                ImageReference ref;
                try {
                    ref = ImageReference.parse(tag);
                } catch (AirlockException e) {
                    throw new VerificationException("RepoTag '" + Printable.of(tag) + "' in " + l.file() + " is not a valid reference: " + e.getMessage());
                }
                if (ref.digest().isPresent()) {
                    throw new VerificationException("RepoTag '" + tag + "' in " + l.file() + " carries a digest; expected NAME:TAG");
                }
                Map<Platform, Loaded> byPlatform = groups.computeIfAbsent(ref, k -> new TreeMap<>(Comparator.comparing(Platform::toString)));
                Platform key = l.platform().normalized();
                Loaded prev = byPlatform.putIfAbsent(key, l);
                if (prev != null) {
                    String same = prev.configDigest().equals(l.configDigest()) ? " (the same image " + l.configDigest().shortForm() + ")"
                            : " (images " + prev.configDigest().shortForm() + " and " + l.configDigest().shortForm() + ")";
                    String where = prev.archive() == l.archive() ? "twice in " + l.file() : "both " + prev.file() + " and " + l.file();
                    throw new VerificationException("image " + ref + ": " + where + " hold platform " + l.platform() + same
                            + "; each platform must come from exactly one archive");
                }
            }
        }
        if (groups.isEmpty()) {
            throw new VerificationException("the docker archives hold no tagged image");
        }
        return groups;
    }

    // ---- layers ---------------------------------------------------------------------------

    private Map<Digest, Descriptor> compressLayers(List<DockerArchive> archives, Map<ImageReference, Map<Platform, Loaded>> groups) {
        // which archive streams which diff_id: the first that has it
        Map<Digest, DockerArchive> owner = new LinkedHashMap<>();
        Map<DockerArchive, Map<String, Digest>> plan = new LinkedHashMap<>();
        Map<String, String> imageOfEntry = new HashMap<>();
        long total = 0;
        for (Map<Platform, Loaded> g : groups.values()) {
            for (Loaded l : g.values()) {
                for (int i = 0; i < l.diffIds().size(); i++) {
                    Digest diff = l.diffIds().get(i);
                    String entry = l.layerEntries().get(i);
                    Map<String, Digest> mine = plan.computeIfAbsent(l.archive(), k -> new LinkedHashMap<>());
                    Digest already = mine.get(entry);
                    if (already != null && !already.equals(diff)) {
                        throw new VerificationException("layer " + entry + " in " + l.file() + " is claimed as " + already + " and as " + diff
                                + " by different configs");
                    }
                    if (owner.putIfAbsent(diff, l.archive()) == null) {
                        mine.put(entry, diff);
                        imageOfEntry.put(l.file() + "\0" + entry, l.saved().repoTags().get(0));
                        total += l.archive().header(entry).size();
                    }
                }
            }
        }
        Map<Digest, Descriptor> out = new HashMap<>();
        int threads = options.threads();
        ExecutorService pool = Executors.newFixedThreadPool(threads, Workers.named("gzip"));
        try {
            ParallelGzip gzip = new ParallelGzip(pool, threads);
            progress.begin("compressing layers", total, owner.size());
            for (var e : plan.entrySet()) {
                DockerArchive a = e.getKey();
                Map<String, Digest> entries = e.getValue();
                if (entries.isEmpty()) {
                    continue;
                }
                String file = a.file().getFileName().toString();
                a.stream(entries.keySet(), (name, size, content) -> {
                    Digest expected = entries.get(name);
                    out.put(expected, compressOne(gzip, file, name, imageOfEntry.get(file + "\0" + name), expected, content));
                    progress.itemDone("layer " + expected.shortForm() + " from " + file);
                });
            }
            progress.end();
        } finally {
            pool.shutdownNow();
        }
        return out;
    }

    private Descriptor compressOne(ParallelGzip gzip, String file, String entry, String image, Digest expected, InputStream content) throws IOException {
        Path tmp = blobs.tempFile();
        boolean done = false;
        try {
            BufferedInputStream in = new BufferedInputStream(content, 1 << 16);
            in.mark(2);
            int b0 = in.read();
            int b1 = in.read();
            in.reset();
            // the containerd image store saves layers as they were pulled: gzip'd; the diff_id is of the tar inside
            InputStream plain = b0 == 0x1f && b1 == 0x8b ? new GzipCompressorInputStream(in, true) : in;
            ParallelGzip.Result r;
            try (OutputStream os = new java.io.BufferedOutputStream(Files.newOutputStream(tmp), 1 << 16)) {
                r = gzip.compress(plain, os, progress::bytes);
            }
            if (!r.uncompressedDigest().equals(expected)) {
                throw new VerificationException("layer " + entry + " of image " + image + " in " + file + " has digest " + r.uncompressedDigest()
                        + " but its config lists diff_id " + expected);
            }
            blobs.commit(tmp, r.compressedDigest(), r.compressedSize());
            done = true;
            return Descriptor.of(options.indexFormat().layerType(), r.compressedDigest(), r.compressedSize());
        } catch (java.io.UncheckedIOException e) {
            throw new LocalIoException("compressing layer " + entry + " of " + file + ": " + TarWalker.oneLine(e.getCause()), e);
        } finally {
            if (!done) {
                Files.deleteIfExists(tmp);
            }
        }
    }

    // ---- manifests ------------------------------------------------------------------------

    private Result build(Map<ImageReference, Map<Platform, Loaded>> groups, Map<Digest, Descriptor> layers) {
        IndexFormat fmt = options.indexFormat();
        Map<Digest, RawManifest> manifests = new LinkedHashMap<>();
        Map<String, Digest> tags = new LinkedHashMap<>();
        Map<Digest, Long> blobSizes = new LinkedHashMap<>();
        List<DockerArchiveImage> images = new ArrayList<>();
        layers.values().forEach(d -> blobSizes.put(d.digest(), d.size()));
        for (var g : groups.entrySet()) {
            ArrayNode entries = Json.mapper().createArrayNode();
            List<Platform> platforms = new ArrayList<>();
            Set<String> files = new LinkedHashSet<>();
            for (Loaded l : g.getValue().values()) {
                blobs.putBytes(l.config());
                blobSizes.put(l.configDigest(), (long) l.config().length);
                ObjectNode m = Json.mapper().createObjectNode();
                m.put("schemaVersion", 2);
                m.put("mediaType", fmt.manifestType().value());
                m.set("config", descriptor(Descriptor.of(fmt.configType(), l.configDigest(), l.config().length)));
                ArrayNode ls = m.putArray("layers");
                for (Digest diff : l.diffIds()) {
                    ls.add(descriptor(layers.get(diff)));
                }
                RawManifest raw = RawManifest.of(fmt.manifestType(), Json.write(m));
                manifests.putIfAbsent(raw.digest(), raw);
                ObjectNode entry = descriptor(raw.descriptor());
                ObjectNode p = entry.putObject("platform");
                p.put("architecture", l.platform().architecture());
                p.put("os", l.platform().os());
                if (!l.platform().osVersion().isEmpty()) {
                    p.put("os.version", l.platform().osVersion());
                }
                if (!l.platform().variant().isEmpty()) {
                    p.put("variant", l.platform().variant());
                }
                entries.add(entry);
                platforms.add(l.platform());
                files.add(l.file());
            }
            ObjectNode index = Json.mapper().createObjectNode();
            index.put("schemaVersion", 2);
            index.put("mediaType", fmt.indexType().value());
            index.set("manifests", entries);
            RawManifest raw = RawManifest.of(fmt.indexType(), Json.write(index));
            manifests.putIfAbsent(raw.digest(), raw);
            ImageReference ref = g.getKey();
            tags.put(ref.name() + ":" + ref.tag(), raw.digest());
            images.add(new DockerArchiveImage(ref, raw.descriptor(), platforms, List.copyOf(files)));
        }
        return new Result(manifests, tags, images, blobSizes);
    }

    private static ObjectNode descriptor(Descriptor d) {
        return Json.descriptor(d);
    }
}
