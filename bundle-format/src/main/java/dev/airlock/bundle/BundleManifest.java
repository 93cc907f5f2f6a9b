package dev.airlock.bundle;

import dev.airlock.model.JsonFields;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.airlock.error.AirlockException;
import dev.airlock.error.InvalidContentException;
import dev.airlock.error.Printable;
import dev.airlock.model.Descriptor;
import dev.airlock.model.Digest;
import dev.airlock.model.ImageReference;
import dev.airlock.model.Json;
import dev.airlock.model.ManifestView;
import dev.airlock.model.MediaType;
import dev.airlock.model.Platform;
import java.time.Instant;
import java.time.format.DateTimeFormatter;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashSet;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.UUID;

/**
 * {@code airlock/bundle.json}: what the bundle holds and every file's size and sha256. It is
 * serialised once, compactly, in UTF-8; {@link #bytes()} are what gets written, hashed and signed.
 * Parsing is strict (duplicate keys, trailing data, unknown fields are errors) and validates paths,
 * digests and sizes, so everything read from a parsed manifest can be relied on structurally.
 *
 * <pre>{"formatVersion":1,"bundleId":"…","created":"2025-01-01T00:00:00Z","tool":{"name":"airlock","version":"0.1.0"},
 *  "images":[{"source":"docker.io/rancher/pause:3.1","digest":"sha256:…","mediaType":"…","size":1234,
 *             "platforms":["linux/amd64","linux/arm64"],"originalDigest":"sha256:…"}],
 *  "files":[{"path":"oci-layout","size":30,"sha256":"…"},{"path":"index.json",…},
 *           {"path":"blobs/sha256/…","size":…,"sha256":"…","mediaType":"…"}]}</pre>
 * {@code files} lists the archive entries other than bundle.json and its signature files, in
 * archive order. {@code originalDigest} appears only when a platform filter rewrote an index.
 */
public final class BundleManifest {
    /** The program that wrote a bundle. */
    public record Tool(String name, String version) {
        public Tool {
            Objects.requireNonNull(name, "name");
            Objects.requireNonNull(version, "version");
        }
    }

    /**
     * One archive entry listed in bundle.json.
     *
     * @param mediaType for blobs, the media type under which they are referenced
     * @param images    for blobs of a bundle that routes them: indexes into {@code images} of the
     *                  images whose graph references this file, ascending, at least one
     */
    public record FileEntry(String path, long size, Digest sha256, Optional<MediaType> mediaType, Optional<List<Integer>> images) {
        public FileEntry {
            Objects.requireNonNull(path, "path");
            Objects.requireNonNull(sha256, "sha256");
            mediaType = mediaType == null ? Optional.empty() : mediaType;
            images = images == null ? Optional.empty() : images.map(List::copyOf);
        }

        /** An entry without an image list. */
        public FileEntry(String path, long size, Digest sha256, Optional<MediaType> mediaType) {
            this(path, size, sha256, mediaType, Optional.empty());
        }

        /** The same entry, listing the images that use it. */
        public FileEntry withImages(List<Integer> users) {
            return new FileEntry(path, size, sha256, mediaType, Optional.of(users));
        }

        /** The entry of a blob described by {@code d}. */
        public static FileEntry ofBlob(Descriptor d) {
            return new FileEntry(BundleLayout.blobPath(d.digest()), d.size(), d.digest(), Optional.of(d.mediaType()));
        }

        public boolean isBlob() {
            return path.startsWith(BundleLayout.BLOBS_PREFIX);
        }

        /** The descriptor of this file (media type {@code application/octet-stream} when none is listed). */
        public Descriptor descriptor() {
            return Descriptor.of(mediaType.orElse(MediaType.of("application/octet-stream")), sha256, size);
        }
    }

    /**
     * An item a delta bundle does not carry and relies on at the target (format v2): referenced by
     * a carried manifest, or an image's top. Items below a required manifest are not listed (its
     * digest fixes its whole graph).
     *
     * @param images       indexes of the images needing it, ascending, at least one
     * @param repositories target repositories where a receipt saw it (mount sources for blobs)
     * @param volume       in a volume (format 3): the number of the volume of the set that holds it; else 0
     */
    public record Required(Digest digest, long size, MediaType mediaType, List<Integer> images, List<String> repositories, int volume) {
        public Required {
            Objects.requireNonNull(digest, "digest");
            Objects.requireNonNull(mediaType, "mediaType");
            images = List.copyOf(images);
            repositories = List.copyOf(repositories);
        }

        /** An item a delta relies on (no volume: {@code volume} 0). */
        public Required(Digest digest, long size, MediaType mediaType, List<Integer> images, List<String> repositories) {
            this(digest, size, mediaType, images, repositories, 0);
        }

        public Descriptor descriptor() {
            return Descriptor.of(mediaType, digest, size);
        }
    }

    /** A receipt a delta was built against: its id and the sha256 of the receipt file. */
    public record BasedOn(UUID receiptId, Digest sha256) {
        public BasedOn {
            Objects.requireNonNull(receiptId, "receiptId");
            Objects.requireNonNull(sha256, "sha256");
        }
    }

    /**
     * The format a bundle is written in: 2 when it uses a field of format 2 (attached artifacts on
     * an image, or a delta's {@code requires}/{@code basedOn}), else 1, so that every reader that
     * can check the bundle fully can read it, and an older reader refuses what it cannot check.
     */
    static int versionFor(List<BundleImage> images, List<Required> requires, List<BasedOn> basedOn, Optional<BundleVolume> volume) {
        if (volume.isPresent() || artifactsAtTarget(images, requires)) {
            return 3;
        }
        boolean artifacts = images.stream().anyMatch(i -> !i.artifacts().isEmpty());
        return requires.isEmpty() && basedOn.isEmpty() && !artifacts ? 1 : 2;
    }

    /**
     * True when a delta relies on an attached artifact at the target: an artifact, or the subject
     * of one, is a required item (format 3: a format 2 reader would refuse it as "not in the bundle").
     */
    static boolean artifactsAtTarget(List<BundleImage> images, List<Required> requires) {
        Set<Digest> required = new HashSet<>();
        requires.forEach(r -> required.add(r.digest()));
        return images.stream().flatMap(i -> i.artifacts().stream())
                .anyMatch(a -> required.contains(a.digest()) || (!a.subjectDropped() && required.contains(a.subject())));
    }

    private static final Set<String> TOP_KEYS = Set.of("formatVersion", "bundleId", "created", "tool", "images", "files");
    private static final Set<String> IMAGE_KEYS = Set.of("source", "digest", "mediaType", "size", "platforms", "originalDigest", "artifacts");
    private static final Set<String> ARTIFACT_KEYS = Set.of("subject", "digest", "mediaType", "artifactType", "foundBy", "subjectDropped");
    /** Fields a format v2 bundle.json may have besides {@link #TOP_KEYS}. */
    private static final Set<String> V2_KEYS = Set.of("requires", "basedOn");
    private static final Set<String> REQUIRED_KEYS = Set.of("digest", "size", "mediaType", "images", "repositories");
    /** A format v3 (volume) required item also names the volume holding it. */
    private static final Set<String> V3_REQUIRED_KEYS = Set.of("digest", "size", "mediaType", "images", "repositories", "volume");
    private static final Set<String> FILE_KEYS = Set.of("path", "size", "sha256", "mediaType", "images");

    private final UUID bundleId;
    private final Instant created;
    private final Tool tool;
    private final List<BundleImage> images;
    private final List<FileEntry> files;
    private final Map<String, FileEntry> byPath;
    private final byte[] bytes;
    private final int formatVersion;
    private final List<Required> requires;
    private final Map<Digest, Required> requiredByDigest;
    private final List<BasedOn> basedOn;
    private final Optional<BundleVolume> volume;

    private BundleManifest(UUID bundleId, Instant created, Tool tool, List<BundleImage> images, List<FileEntry> files, byte[] bytes,
                           int formatVersion, List<Required> requires, List<BasedOn> basedOn, Optional<BundleVolume> volume) {
        this.volume = volume;
        this.formatVersion = formatVersion;
        this.requires = List.copyOf(requires);
        this.basedOn = List.copyOf(basedOn);
        Map<Digest, Required> rm = new LinkedHashMap<>();
        for (Required r : requires) {
            rm.put(r.digest(), r);
        }
        this.requiredByDigest = Collections.unmodifiableMap(rm);
        this.bundleId = bundleId;
        this.created = created;
        this.tool = tool;
        this.images = List.copyOf(images);
        this.files = List.copyOf(files);
        Map<String, FileEntry> m = new LinkedHashMap<>();
        for (FileEntry f : files) {
            m.put(f.path(), f);
        }
        this.byPath = Collections.unmodifiableMap(m);
        this.bytes = bytes;
    }

    /**
     * Builds and serialises a manifest. {@code created} is truncated to whole seconds. The result
     * is validated exactly as a parsed one would be.
     */
    public static BundleManifest create(UUID bundleId, Instant created, Tool tool, List<BundleImage> images, List<FileEntry> files) {
        return create(bundleId, created, tool, images, files, List.of(), List.of());
    }

    /**
     * As {@link #create(UUID, Instant, Tool, List, List)}, for a delta when {@code requires} or
     * {@code basedOn} is not empty (written as format version 2).
     */
    public static BundleManifest create(UUID bundleId, Instant created, Tool tool, List<BundleImage> images, List<FileEntry> files,
                                        List<Required> requires, List<BasedOn> basedOn) {
        return create(bundleId, created, tool, images, files, requires, basedOn, Optional.empty());
    }

    /** As above, for one volume of a set (format version 3) when {@code volume} is present. */
    public static BundleManifest create(UUID bundleId, Instant created, Tool tool, List<BundleImage> images, List<FileEntry> files,
                                        List<Required> requires, List<BasedOn> basedOn, Optional<BundleVolume> volume) {
        Instant t = created.truncatedTo(ChronoUnit.SECONDS);
        int version = versionFor(images, requires, basedOn, volume);
        ObjectNode root = JsonNodeFactory.instance.objectNode();
        root.put("formatVersion", version);
        root.put("bundleId", bundleId.toString());
        root.put("created", DateTimeFormatter.ISO_INSTANT.format(t));
        ObjectNode tn = root.putObject("tool");
        tn.put("name", tool.name());
        tn.put("version", tool.version());
        ArrayNode in = root.putArray("images");
        for (BundleImage i : images) {
            ObjectNode o = in.addObject();
            o.put("source", i.source().toString());
            o.put("digest", i.descriptor().digest().toString());
            o.put("mediaType", i.descriptor().mediaType().value());
            o.put("size", i.descriptor().size());
            ArrayNode ps = o.putArray("platforms");
            i.platforms().forEach(p -> ps.add(p.toString()));
            i.originalDigest().ifPresent(d -> o.put("originalDigest", d.toString()));
            writeArtifacts(o, i.artifacts());
        }
        ArrayNode fn = root.putArray("files");
        for (FileEntry f : files) {
            ObjectNode o = fn.addObject();
            o.put("path", f.path());
            o.put("size", f.size());
            o.put("sha256", f.sha256().hex());
            f.mediaType().ifPresent(m -> o.put("mediaType", m.value()));
            f.images().ifPresent(l -> {
                ArrayNode a = o.putArray("images");
                l.forEach(a::add);
            });
        }
        writeDelta(root, requires, basedOn);
        volume.ifPresent(v -> BundleVolumes.write(root, v));
        byte[] bytes = Json.write(root);
        BundleManifest m = new BundleManifest(bundleId, t, tool, images, files, bytes, version, requires, basedOn, volume);
        validate(m, "bundle.json being written");
        return m;
    }

    /** Parses and validates bundle.json bytes; {@code where} names the bundle in errors. */
    public static BundleManifest parse(byte[] bytes, String where) {
        String what = where + ": airlock/bundle.json";
        if (bytes.length > BundleLayout.MAX_BUNDLE_JSON) {
            throw new InvalidContentException(what + " is " + bytes.length + " bytes, over the limit of " + BundleLayout.MAX_BUNDLE_JSON);
        }
        JsonNode root = Json.parse(bytes, what, BundleLayout.MAX_BUNDLE_JSON);
        try {
            JsonNode fv = root == null ? null : root.get("formatVersion");
            if (fv != null && (!fv.isInt() || fv.intValue() < BundleLayout.OLDEST_FORMAT_VERSION || fv.intValue() > BundleLayout.FORMAT_VERSION)) {
                throw new InvalidContentException(what + " has formatVersion " + fv + "; this Airlock reads formats "
                        + BundleLayout.OLDEST_FORMAT_VERSION + " to " + BundleLayout.FORMAT_VERSION
                        + (fv.isInt() && fv.intValue() > BundleLayout.FORMAT_VERSION ? ": use a newer Airlock to read it" : ""));
            }
            int version = fv == null ? 1 : fv.intValue();
            Set<String> allowed = new HashSet<>(TOP_KEYS);
            if (version >= 2) {
                allowed.addAll(V2_KEYS);
            }
            if (version >= 3) {
                allowed.add("volume");
            }
            JsonFields.requireObject(root, what, allowed, TOP_KEYS);
            UUID id = JsonFields.uuid(root, "bundleId", what);
            String createdText = JsonFields.text(root, "created", what);
            Instant created;
            try {
                created = Instant.parse(createdText);
            } catch (RuntimeException e) {
                throw new InvalidContentException(what + " has an invalid created time '" + Printable.of(createdText) + "' (expected RFC 3339 UTC)");
            }
            JsonNode tn = root.get("tool");
            JsonFields.requireObject(tn, what + " tool", Set.of("name", "version"), Set.of("name", "version"));
            Tool tool = new Tool(JsonFields.text(tn, "name", what + " tool"), JsonFields.text(tn, "version", what + " tool"));

            JsonNode fa = JsonFields.array(root, "files", what);
            List<FileEntry> files = new ArrayList<>(fa.size());
            for (int i = 0; i < fa.size(); i++) {
                String w = what + " files[" + i + "]";
                JsonNode f = fa.get(i);
                JsonFields.requireObject(f, w, FILE_KEYS, Set.of("path", "size", "sha256"));
                String path = JsonFields.text(f, "path", w);
                String hex = JsonFields.text(f, "sha256", w);
                Digest sha;
                try {
                    sha = new Digest("sha256", hex);
                } catch (InvalidContentException e) {
                    throw new InvalidContentException(w + " has an invalid sha256 '" + Printable.of(hex) + "'");
                }
                Optional<MediaType> mt = f.has("mediaType") ? Optional.of(MediaType.of(JsonFields.text(f, "mediaType", w))) : Optional.empty();
                Optional<List<Integer>> users = Optional.empty();
                if (f.has("images")) {
                    JsonNode ua = JsonFields.array(f, "images", w);
                    List<Integer> l = new ArrayList<>(ua.size());
                    for (JsonNode u : ua) {
                        if (!u.isInt()) {
                            throw new InvalidContentException(w + " images holds a non-integer");
                        }
                        l.add(u.intValue());
                    }
                    users = Optional.of(l);
                }
                files.add(new FileEntry(path, size(f, w), sha, mt, users));
            }

            JsonNode ia = JsonFields.array(root, "images", what);
            List<BundleImage> images = new ArrayList<>(ia.size());
            for (int i = 0; i < ia.size(); i++) {
                String w = what + " images[" + i + "]";
                JsonNode o = ia.get(i);
                JsonFields.requireObject(o, w, IMAGE_KEYS, Set.of("source", "digest", "mediaType", "size", "platforms"));
                ImageReference ref = source(o, w);
                Descriptor d = Descriptor.of(MediaType.of(JsonFields.text(o, "mediaType", w)), Digest.parse(JsonFields.text(o, "digest", w)), size(o, w));
                JsonNode pa = JsonFields.array(o, "platforms", w);
                List<Platform> ps = new ArrayList<>();
                for (JsonNode p : pa) {
                    if (!p.isTextual()) {
                        throw new InvalidContentException(w + " platforms holds a non-string");
                    }
                    try {
                        ps.add(Platform.parse(p.asText()));
                    } catch (AirlockException e) {
                        throw new InvalidContentException(w + " has an invalid platform '" + Printable.of(p.asText()) + "'");
                    }
                }
                Optional<Digest> orig = o.has("originalDigest") ? Optional.of(Digest.parse(JsonFields.text(o, "originalDigest", w))) : Optional.empty();
                images.add(new BundleImage(ref, d, ps, orig, parseArtifacts(o, w, version)));
            }
            List<Required> requires = parseRequires(root, what, version);
            List<BasedOn> basedOn = parseBasedOn(root, what);
            Optional<BundleVolume> volume = root.has("volume") ? Optional.of(BundleVolumes.parse(root.get("volume"), what)) : Optional.empty();
            boolean atTarget = artifactsAtTarget(images, requires);
            if (version == 3 && volume.isEmpty() && !atTarget) {
                throw new InvalidContentException(what + " has formatVersion 3 but neither a 'volume' nor an artifact required at the target");
            }
            if (version < 3 && atTarget) {
                throw new InvalidContentException(what + " has formatVersion " + version
                        + " but relies on an attached artifact at the target, which needs format 3");
            }
            BundleManifest m = new BundleManifest(id, created, tool, images, files, bytes.clone(), version, requires, basedOn, volume);
            validate(m, what);
            return m;
        } catch (InvalidContentException e) {
            throw e.getMessage().startsWith(where) ? e : new InvalidContentException(what + ": " + e.getMessage());
        }
    }

    private static void validate(BundleManifest m, String what) {
        validateDelta(m, what);
        BundleVolumes.validate(m, what);
        Set<String> seen = new HashSet<>();
        for (int i = 0; i < m.files.size(); i++) {
            FileEntry f = m.files.get(i);
            String w = what + " file '" + Printable.of(f.path()) + "'";
            if (!BundleLayout.isListable(f.path())) {
                throw new InvalidContentException(w + " is not a bundle layout path (oci-layout, index.json, blobs/sha256/<hex>)");
            }
            if (!seen.add(f.path())) {
                throw new InvalidContentException(w + " is listed twice");
            }
            if (f.size() < 0 || f.size() > Descriptor.MAX_BLOB_SIZE) {
                throw new InvalidContentException(w + " has an impossible size " + f.size());
            }
            Optional<Digest> named = BundleLayout.blobDigest(f.path());
            if (named.isPresent()) {
                if (!named.get().equals(f.sha256())) {
                    throw new InvalidContentException(w + " has sha256 " + f.sha256().hex() + " which differs from its name");
                }
                if (f.mediaType().isEmpty()) {
                    throw new InvalidContentException(w + " has no mediaType");
                }
                if (f.images().isEmpty()) {
                    throw new InvalidContentException(w + " has no images list: every blob must name the images that use it"
                            + " (files[].images); this bundle was written by an older Airlock, export it again");
                }
                checkImageList(f.images().get(), m.images.size(), w);
            } else if (f.images().isPresent()) {
                throw new InvalidContentException(w + " is not a blob but has an images list");
            }
        }
        if (m.files.size() < 2 || !m.files.get(0).path().equals(BundleLayout.OCI_LAYOUT) || !m.files.get(1).path().equals(BundleLayout.INDEX_JSON)) {
            throw new InvalidContentException(what + " files must start with oci-layout and index.json");
        }
        Set<String> sources = new HashSet<>();
        for (BundleImage img : m.images) {
            String w = what + " image " + img.source();
            if (!sources.add(img.source().toString())) {
                throw new InvalidContentException(w + " is listed twice");
            }
            Optional<Digest> pinned = img.source().digest();
            if (pinned.isPresent() && !pinned.get().equals(img.originalDigest().orElse(img.digest()))) {
                throw new InvalidContentException(w + " is pinned to " + pinned.get() + " but the bundle carries "
                        + img.originalDigest().map(o -> "a --platform subset of " + o).orElse(img.digest().toString()));
            }
            if (!img.descriptor().mediaType().isManifest()) {
                throw new InvalidContentException(w + " has media type " + img.descriptor().mediaType() + ", not a manifest or index");
            }
            FileEntry f = m.byPath.get(BundleLayout.blobPath(img.digest()));
            Required req = m.requiredByDigest.get(img.digest());
            if (f == null && req != null) {
                if (req.size() != img.descriptor().size() || !req.mediaType().equals(img.descriptor().mediaType())) {
                    throw new InvalidContentException(w + " says " + img.digest() + " is a " + img.descriptor().mediaType() + " of "
                            + img.descriptor().size() + " bytes but requires lists a " + req.mediaType() + " of " + req.size());
                }
                if (!req.images().contains(m.images.indexOf(img))) {
                    throw new InvalidContentException(w + ": its required top-level " + img.digest() + " does not list it in its images list");
                }
                validateArtifacts(m, img, m.images.indexOf(img), w);
                continue;
            }
            if (f == null) {
                throw new InvalidContentException(w + " names " + img.digest() + " which is not among the bundle's files");
            }
            if (f.size() != img.descriptor().size()) {
                throw new InvalidContentException(w + " says " + img.digest() + " has " + img.descriptor().size() + " bytes but files says " + f.size());
            }
            int idx = m.images.indexOf(img);
            if (f.images().isPresent() && !f.images().get().contains(idx)) {
                throw new InvalidContentException(w + ": its top-level " + img.digest() + " does not list it (image " + idx + ") in its images list");
            }
            validateArtifacts(m, img, idx, w);
        }
    }

    /** An image's {@code artifacts} (format 2), only when there are some. */
    private static void writeArtifacts(ObjectNode image, List<BundleArtifact> artifacts) {
        if (artifacts.isEmpty()) {
            return;
        }
        ArrayNode aa = image.putArray("artifacts");
        for (BundleArtifact a : artifacts) {
            ObjectNode o = aa.addObject();
            o.put("subject", a.subject().toString());
            o.put("digest", a.digest().toString());
            o.put("mediaType", a.mediaType().value());
            o.put("artifactType", a.artifactType());
            o.put("foundBy", a.foundBy());
            if (a.subjectDropped()) {
                o.put("subjectDropped", true);
            }
        }
    }

    /** An image's {@code artifacts}: absent means none; format 1 has no such field. */
    private static List<BundleArtifact> parseArtifacts(JsonNode image, String what, int version) {
        if (!image.has("artifacts")) {
            return List.of();
        }
        if (version < 2) {
            throw new InvalidContentException(what + " has 'artifacts', which format " + version + " does not have");
        }
        JsonNode aa = JsonFields.array(image, "artifacts", what);
        if (aa.size() > ManifestView.MAX_ENTRIES) {
            throw new InvalidContentException(what + " has " + aa.size() + " artifacts, over the limit of " + ManifestView.MAX_ENTRIES);
        }
        List<BundleArtifact> out = new ArrayList<>(aa.size());
        for (int k = 0; k < aa.size(); k++) {
            String w = what + " artifacts[" + k + "]";
            JsonNode a = aa.get(k);
            JsonFields.requireObject(a, w, ARTIFACT_KEYS, Set.of("subject", "digest", "mediaType", "artifactType", "foundBy"));
            JsonNode dropped = a.get("subjectDropped");
            if (dropped != null && !(dropped.isBoolean() && dropped.booleanValue())) {
                throw new InvalidContentException(w + " field 'subjectDropped' must be true when present");
            }
            try {
                out.add(new BundleArtifact(Digest.parse(JsonFields.text(a, "subject", w)), Digest.parse(JsonFields.text(a, "digest", w)),
                        MediaType.of(JsonFields.text(a, "mediaType", w)), JsonFields.text(a, "artifactType", w), JsonFields.text(a, "foundBy", w), dropped != null));
            } catch (InvalidContentException e) {
                throw e.getMessage().startsWith(w) ? e : new InvalidContentException(w + ": " + e.getMessage());
            }
        }
        return out;
    }

    /**
     * Every artifact is a manifest file of the bundle used by its image, listed once per subject;
     * its subject is a file of the bundle, or the source index a platform filter rewrote.
     */
    private static void validateArtifacts(BundleManifest m, BundleImage img, int idx, String w) {
        Set<String> seen = new HashSet<>();
        for (BundleArtifact a : img.artifacts()) {
            String aw = w + " artifact " + a.digest();
            if (!a.mediaType().isManifest()) {
                throw new InvalidContentException(aw + " has media type " + a.mediaType() + ", not a manifest or index");
            }
            if (!seen.add(a.subject() + " " + a.digest())) {
                throw new InvalidContentException(aw + " is listed twice for subject " + a.subject());
            }
            FileEntry f = m.byPath.get(BundleLayout.blobPath(a.digest()));
            Required req = m.requiredByDigest.get(a.digest());
            if (f == null && req != null) {
                // a delta relies on the artifact at the target: it is a required item of this image
                if (!req.mediaType().equals(a.mediaType())) {
                    throw new InvalidContentException(aw + " is a " + a.mediaType() + " but requires lists it as a " + req.mediaType());
                }
                if (!req.images().contains(idx)) {
                    throw new InvalidContentException(aw + " is required at the target but its required item does not list its image (" + idx + ")");
                }
            } else if (f == null || !f.mediaType().equals(Optional.of(a.mediaType()))) {
                throw new InvalidContentException(aw + " is not among the bundle's files as a " + a.mediaType());
            } else if (f.images().isPresent() && !f.images().get().contains(idx)) {
                throw new InvalidContentException(aw + " does not list its image (" + idx + ") in its images list");
            }
            if (a.subjectDropped()) {
                if (!img.originalDigest().equals(Optional.of(a.subject()))) {
                    throw new InvalidContentException(aw + " says its subject " + a.subject() + " was dropped, but that is not the image's original digest");
                }
            } else if (!m.byPath.containsKey(BundleLayout.blobPath(a.subject()))
                    && !Optional.ofNullable(m.requiredByDigest.get(a.subject())).filter(r -> r.images().contains(idx)).isPresent()) {
                throw new InvalidContentException(aw + " is attached to " + a.subject() + ", which is neither in the bundle nor required by it for this image");
            }
        }
    }




    /** An image's {@code source}: a reference in normalised form. */
    static ImageReference source(JsonNode o, String w) {
        String src = JsonFields.text(o, "source", w);
        ImageReference ref;
        try {
            ref = ImageReference.parse(src);
        } catch (AirlockException e) {
            throw new InvalidContentException(w + " has an invalid source: " + e.getMessage());
        }
        if (!ref.toString().equals(src)) {
            throw new InvalidContentException(w + " source '" + Printable.of(src) + "' is not in normalised form (" + ref + ")");
        }
        return ref;
    }

    private static long size(JsonNode n, String what) {
        JsonNode v = n.get("size");
        if (v == null || !v.isIntegralNumber() || !v.canConvertToLong() || v.longValue() < 0 || v.longValue() > Descriptor.MAX_BLOB_SIZE) {
            throw new InvalidContentException(what + " field 'size' is missing, not an integer or out of range");
        }
        return v.longValue();
    }

    /** 1, 2 (artifacts, a delta) or 3 (a volume). */
    public int formatVersion() {
        return formatVersion;
    }

    /** What a delta relies on at the target (empty for a full bundle). */
    public List<Required> requires() {
        return requires;
    }

    /** The required item with this digest. */
    public Optional<Required> required(Digest digest) {
        return Optional.ofNullable(requiredByDigest.get(digest));
    }

    /** The receipts a delta was built against. */
    public List<BasedOn> basedOn() {
        return basedOn;
    }

    /** True for a delta: built against receipts, possibly relying on content at the target (a volume is not a delta). */
    public boolean isDelta() {
        return volume.isEmpty() && (!requires.isEmpty() || !basedOn.isEmpty());
    }

    /** The bundle's place in a volume set (format 3), when it is a volume. */
    public Optional<BundleVolume> volume() {
        return volume;
    }

    /** Total size of what a delta relies on at the target. */
    public long requiredBytes() {
        return requires.stream().mapToLong(Required::size).sum();
    }

    // ------------------------------------------------------------ delta fields (format v2)

    private static void writeDelta(ObjectNode root, List<Required> requires, List<BasedOn> basedOn) {
        if (requires.isEmpty() && basedOn.isEmpty()) {
            return;
        }
        ArrayNode rn = root.putArray("requires");
        for (Required r : requires) {
            ObjectNode o = rn.addObject();
            o.put("digest", r.digest().toString());
            o.put("size", r.size());
            o.put("mediaType", r.mediaType().value());
            ArrayNode is = o.putArray("images");
            r.images().forEach(is::add);
            ArrayNode rs = o.putArray("repositories");
            r.repositories().forEach(rs::add);
            if (r.volume() > 0) {
                o.put("volume", r.volume());
            }
        }
        ArrayNode bn = root.putArray("basedOn");
        for (BasedOn b : basedOn) {
            ObjectNode o = bn.addObject();
            o.put("receiptId", b.receiptId().toString());
            o.put("sha256", b.sha256().hex());
        }
    }

    private static List<Required> parseRequires(JsonNode root, String what, int version) {
        if (!root.has("requires")) {
            return List.of();
        }
        JsonNode ra = JsonFields.array(root, "requires", what);
        List<Required> out = new ArrayList<>(ra.size());
        for (int i = 0; i < ra.size(); i++) {
            String w = what + " requires[" + i + "]";
            JsonNode r = ra.get(i);
            JsonFields.requireObject(r, w, version >= 3 ? V3_REQUIRED_KEYS : REQUIRED_KEYS, REQUIRED_KEYS);
            int vol = 0;
            if (r.has("volume")) {
                JsonNode v = r.get("volume");
                if (!v.isInt() || v.intValue() < 1) {
                    throw new InvalidContentException(w + " field 'volume' must be a volume number (1 or more)");
                }
                vol = v.intValue();
            }
            Digest d;
            try {
                d = Digest.parse(JsonFields.text(r, "digest", w));
            } catch (AirlockException e) {
                throw new InvalidContentException(w + " has an invalid digest");
            }
            List<Integer> users = new ArrayList<>();
            for (JsonNode u : JsonFields.array(r, "images", w)) {
                if (!u.isInt()) {
                    throw new InvalidContentException(w + " images holds a non-integer");
                }
                users.add(u.intValue());
            }
            List<String> repos = new ArrayList<>();
            for (JsonNode u : JsonFields.array(r, "repositories", w)) {
                if (!u.isTextual()) {
                    throw new InvalidContentException(w + " repositories holds a non-string");
                }
                repos.add(u.asText());
            }
            out.add(new Required(d, size(r, w), MediaType.of(JsonFields.text(r, "mediaType", w)), users, repos, vol));
        }
        return out;
    }

    private static List<BasedOn> parseBasedOn(JsonNode root, String what) {
        if (!root.has("basedOn")) {
            return List.of();
        }
        JsonNode ba = JsonFields.array(root, "basedOn", what);
        List<BasedOn> out = new ArrayList<>(ba.size());
        for (int i = 0; i < ba.size(); i++) {
            String w = what + " basedOn[" + i + "]";
            JsonNode b = ba.get(i);
            JsonFields.requireObject(b, w, Set.of("receiptId", "sha256"), Set.of("receiptId", "sha256"));
            UUID id = JsonFields.uuid(b, "receiptId", w);
            String hex = JsonFields.text(b, "sha256", w);
            try {
                out.add(new BasedOn(id, new Digest("sha256", hex)));
            } catch (InvalidContentException e) {
                throw new InvalidContentException(w + " has an invalid sha256 '" + dev.airlock.error.Printable.of(hex) + "'");
            }
        }
        return out;
    }

    /** requires: digests once, not also carried, valid routing lists; basedOn: ids once. */
    private static void validateDelta(BundleManifest m, String what) {
        Set<Digest> seen = new HashSet<>();
        for (Required r : m.requires) {
            String w = what + " required " + r.digest();
            if (!seen.add(r.digest())) {
                throw new InvalidContentException(w + " is listed twice");
            }
            if (r.size() < 0 || r.size() > Descriptor.MAX_BLOB_SIZE) {
                throw new InvalidContentException(w + " has an impossible size " + r.size());
            }
            if (m.byPath.containsKey(BundleLayout.blobPath(r.digest()))) {
                throw new InvalidContentException(w + " is also among the bundle's files");
            }
            checkImageList(r.images(), m.images.size(), w);
            for (String repo : r.repositories()) {
                if (repo.isEmpty() || !repo.matches("[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*(?:/[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*)*")) {
                    throw new InvalidContentException(w + " lists an invalid repository '" + dev.airlock.error.Printable.of(repo) + "'");
                }
            }
        }
        Set<UUID> ids = new HashSet<>();
        for (BasedOn b : m.basedOn) {
            if (!ids.add(b.receiptId())) {
                throw new InvalidContentException(what + " basedOn lists receipt " + b.receiptId() + " twice");
            }
        }
    }

    public UUID bundleId() {
        return bundleId;
    }

    public Instant created() {
        return created;
    }

    public Tool tool() {
        return tool;
    }

    public List<BundleImage> images() {
        return images;
    }

    /** Every listed archive entry, in archive order. */
    public List<FileEntry> files() {
        return files;
    }

    /** The listed entry with this path. */
    public Optional<FileEntry> file(String path) {
        return Optional.ofNullable(byPath.get(path));
    }

    /** The listed blob with this digest. */
    public Optional<FileEntry> blob(Digest digest) {
        return digest.algorithm().equals("sha256") ? file(BundleLayout.blobPath(digest)) : Optional.empty();
    }


    /** Sum of all listed file sizes. */
    public long totalBytes() {
        return files.stream().mapToLong(FileEntry::size).sum();
    }

    /** A copy of the exact serialised bytes (what is signed). */
    public byte[] bytes() {
        return bytes.clone();
    }

    int length() {
        return bytes.length;
    }

    /** An images list (files[].images, requires[].images): indexes of images, strictly ascending, at least one. */
    static void checkImageList(List<Integer> l, int images, String w) {
        if (l.isEmpty()) {
            throw new InvalidContentException(w + " has an empty images list");
        }
        for (int k = 0; k < l.size(); k++) {
            int u = l.get(k);
            if (u < 0 || u >= images) {
                throw new InvalidContentException(w + " lists image " + u + " but there are " + images + " images");
            }
            if (k > 0 && u <= l.get(k - 1)) {
                throw new InvalidContentException(w + " images list is not strictly ascending (duplicate or unsorted " + u + ")");
            }
        }
    }
}
