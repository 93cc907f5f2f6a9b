package dev.airlock.receipt;

import dev.airlock.model.JsonFields;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.airlock.error.AirlockException;
import dev.airlock.error.InvalidContentException;
import dev.airlock.model.Descriptor;
import dev.airlock.model.Digest;
import dev.airlock.model.ImageReference;
import dev.airlock.model.Json;
import java.time.Instant;
import java.time.format.DateTimeFormatter;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.UUID;

/**
 * A receipt: what a target registry verifiably holds, written by the secured side
 * ({@code airlock import --receipt}, {@code airlock receipt}) and read by the connected side
 * ({@code airlock export --since}). Serialised once, compactly, in UTF-8; {@link #bytes()} are
 * what is written and signed. Parsing is strict like bundle.json: duplicate keys, trailing data,
 * unknown or missing fields, bad digests, a size over {@link #MAX_BYTES} are one-line errors.
 *
 * <pre>{"receiptVersion":1,"receiptId":"…","created":"2026-01-01T00:00:00Z","tool":{"name":"airlock","version":"…"},
 *  "target":{"registry":"reg.local:5000","prefix":"mirror"},"bundles":["…"],
 *  "images":[{"source":"docker.io/rancher/pause:3.1","target":"reg.local:5000/mirror/rancher/pause:3.1","present":true,
 *             "digest":"sha256:…","manifests":["sha256:…"],"blobs":[{"digest":"sha256:…","size":123}]}]}</pre>
 * Every manifest listed was read at the target by digest when the receipt was made, and every blob
 * listed is referenced by one of them (a registry holds a manifest only with its blobs), never
 * taken from a bundle. An absent tag has
 * {@code present:false}, no digest and empty lists.
 *
 * <p>Version 2 adds, per image and only when not empty, {@code artifacts}: what is attached to
 * the image's manifests at the target and findable there ({@code subject}, {@code digest},
 * {@code foundBy} as in bundle.json: the cosign tag that named it, the referrers tag-schema index
 * or the referrers API that listed it). Their manifests and blobs are among the image's
 * {@code manifests} and {@code blobs}. A receipt is written as version 1 when no image has
 * artifacts, so that every reader that can use it reads it; an older reader refuses version 2.
 */
public final class Receipt {
    /** The newest receipt version this Airlock reads and writes. */
    public static final int VERSION = 2;
    /** The oldest receipt version read. */
    public static final int OLDEST_VERSION = 1;
    /** Largest receipt accepted. */
    public static final int MAX_BYTES = 32 * 1024 * 1024;

    private static final Set<String> TOP_KEYS = Set.of("receiptVersion", "receiptId", "created", "tool", "target", "bundles", "images");
    private static final Set<String> IMAGE_KEYS = Set.of("source", "target", "present", "digest", "manifests", "blobs", "artifacts");
    private static final Set<String> ARTIFACT_KEYS = Set.of("subject", "digest", "foundBy");
    private static final Set<String> IMAGE_REQUIRED = Set.of("source", "target", "present", "manifests", "blobs");

    /** The registry and path prefix the receipt describes. */
    public record Target(String registry, String prefix) {
        public Target {
            Objects.requireNonNull(registry, "registry");
            Objects.requireNonNull(prefix, "prefix");
        }
    }

    /** A blob the target holds, with its size. */
    public record Blob(Digest digest, long size) {
        public Blob {
            Objects.requireNonNull(digest, "digest");
        }
    }

    /**
     * An artifact attached to a manifest of the image at the target, and how the target makes it
     * findable (receipt version 2).
     *
     * @param subject the manifest it is attached to (among the image's manifests)
     * @param digest  the artifact's manifest (among the image's manifests)
     * @param foundBy {@code referrers-api}, {@code referrers-tag} (the target's {@code sha256-<hex>}
     *                index lists it) or {@code cosign-tag:sha256-<hex>.sig|.att|.sbom} (that tag
     *                points at it)
     */
    public record Attached(Digest subject, Digest digest, String foundBy) {
        public Attached {
            Objects.requireNonNull(subject, "subject");
            Objects.requireNonNull(digest, "digest");
            Objects.requireNonNull(foundBy, "foundBy");
        }
    }

    /**
     * One image as found at the target.
     *
     * @param source    the source reference (as in the bundle)
     * @param target    the reference at the target
     * @param digest    what the target's tag (or digest) resolved to; empty when absent
     * @param manifests every manifest and index of the graph found at the target (its artifacts' too)
     * @param blobs     every config and layer found at the target with its size (its artifacts' too)
     * @param artifacts what is attached to the graph's manifests and findable at the target
     */
    public record Image(ImageReference source, ImageReference target, Optional<Digest> digest, List<Digest> manifests, List<Blob> blobs,
                        List<Attached> artifacts) {
        public Image {
            Objects.requireNonNull(source, "source");
            Objects.requireNonNull(target, "target");
            digest = digest == null ? Optional.empty() : digest;
            manifests = List.copyOf(manifests);
            blobs = List.copyOf(blobs);
            artifacts = artifacts == null ? List.of() : List.copyOf(artifacts);
        }

        /** An image without artifacts. */
        public Image(ImageReference source, ImageReference target, Optional<Digest> digest, List<Digest> manifests, List<Blob> blobs) {
            this(source, target, digest, manifests, blobs, List.of());
        }

        public boolean present() {
            return digest.isPresent();
        }

        /** An absent tag. */
        public static Image absent(ImageReference source, ImageReference target) {
            return new Image(source, target, Optional.empty(), List.of(), List.of());
        }
    }

    private final UUID id;
    private final Instant created;
    private final String toolName;
    private final String toolVersion;
    private final Target target;
    private final List<UUID> bundles;
    private final List<Image> images;
    private final byte[] bytes;

    private Receipt(UUID id, Instant created, String toolName, String toolVersion, Target target, List<UUID> bundles,
                    List<Image> images, byte[] bytes) {
        this.id = id;
        this.created = created;
        this.toolName = toolName;
        this.toolVersion = toolVersion;
        this.target = target;
        this.bundles = List.copyOf(bundles);
        this.images = List.copyOf(images);
        this.bytes = bytes;
    }

    /** Builds and serialises a receipt ({@code created} truncated to seconds). */
    public static Receipt create(UUID id, Instant created, String toolVersion, Target target, List<UUID> bundles, List<Image> images) {
        Instant t = created.truncatedTo(ChronoUnit.SECONDS);
        ObjectNode root = JsonNodeFactory.instance.objectNode();
        root.put("receiptVersion", images.stream().anyMatch(i -> !i.artifacts().isEmpty()) ? VERSION : OLDEST_VERSION);
        root.put("receiptId", id.toString());
        root.put("created", DateTimeFormatter.ISO_INSTANT.format(t));
        ObjectNode tool = root.putObject("tool");
        tool.put("name", "airlock");
        tool.put("version", toolVersion);
        ObjectNode tn = root.putObject("target");
        tn.put("registry", target.registry());
        tn.put("prefix", target.prefix());
        ArrayNode bn = root.putArray("bundles");
        bundles.forEach(b -> bn.add(b.toString()));
        ArrayNode in = root.putArray("images");
        for (Image i : images) {
            ObjectNode o = in.addObject();
            o.put("source", i.source().toString());
            o.put("target", i.target().toString());
            o.put("present", i.present());
            i.digest().ifPresent(d -> o.put("digest", d.toString()));
            ArrayNode ms = o.putArray("manifests");
            i.manifests().forEach(m -> ms.add(m.toString()));
            ArrayNode bs = o.putArray("blobs");
            for (Blob b : i.blobs()) {
                ObjectNode x = bs.addObject();
                x.put("digest", b.digest().toString());
                x.put("size", b.size());
            }
            writeArtifacts(o, i.artifacts());
        }
        byte[] bytes = Json.write(root);
        return parse(bytes, "receipt being written");
    }

    /** Parses and validates receipt bytes; {@code where} names the file in errors. */
    public static Receipt parse(byte[] bytes, String where) {
        if (bytes.length > MAX_BYTES) {
            throw new InvalidContentException(where + " is " + bytes.length + " bytes, over the limit of " + MAX_BYTES);
        }
        JsonNode root = Json.parse(bytes, where, MAX_BYTES);
        JsonFields.requireObject(root, where, TOP_KEYS, TOP_KEYS);
        JsonNode v = root.get("receiptVersion");
        if (!v.isInt() || v.intValue() < OLDEST_VERSION || v.intValue() > VERSION) {
            throw new InvalidContentException(where + " has receiptVersion " + v + "; this Airlock reads receipt versions " + OLDEST_VERSION
                    + " to " + VERSION + (v.isInt() && v.intValue() > VERSION ? ": use a newer Airlock to read it" : ""));
        }
        UUID id = uuid(JsonFields.text(root, "receiptId", where), where + " receiptId");
        Instant created;
        try {
            created = Instant.parse(JsonFields.text(root, "created", where));
        } catch (RuntimeException e) {
            throw new InvalidContentException(where + " has an invalid created time (expected RFC 3339 UTC)");
        }
        JsonNode tool = root.get("tool");
        JsonFields.requireObject(tool, where + " tool", Set.of("name", "version"), Set.of("name", "version"));
        JsonNode tn = root.get("target");
        JsonFields.requireObject(tn, where + " target", Set.of("registry", "prefix"), Set.of("registry", "prefix"));
        Target target = new Target(JsonFields.text(tn, "registry", where + " target"), JsonFields.text(tn, "prefix", where + " target"));
        List<UUID> bundles = new ArrayList<>();
        for (JsonNode b : JsonFields.array(root, "bundles", where)) {
            if (!b.isTextual()) {
                throw new InvalidContentException(where + " bundles holds a non-string");
            }
            bundles.add(uuid(b.asText(), where + " bundles"));
        }
        List<Image> images = new ArrayList<>();
        JsonNode ia = JsonFields.array(root, "images", where);
        for (int i = 0; i < ia.size(); i++) {
            images.add(image(ia.get(i), where + " images[" + i + "]", v.intValue()));
        }
        return new Receipt(id, created, JsonFields.text(tool, "name", where + " tool"), JsonFields.text(tool, "version", where + " tool"), target, bundles,
                images, bytes.clone());
    }

    private static Image image(JsonNode o, String w, int version) {
        JsonFields.requireObject(o, w, IMAGE_KEYS, IMAGE_REQUIRED);
        ImageReference source = reference(JsonFields.text(o, "source", w), w + " source");
        ImageReference target = reference(JsonFields.text(o, "target", w), w + " target");
        JsonNode p = o.get("present");
        if (!p.isBoolean()) {
            throw new InvalidContentException(w + " field 'present' is not a boolean");
        }
        Optional<Digest> digest = o.has("digest") ? Optional.of(digest(JsonFields.text(o, "digest", w), w + " digest")) : Optional.empty();
        if (p.booleanValue() != digest.isPresent()) {
            throw new InvalidContentException(w + (p.booleanValue() ? " is present but has no digest" : " is absent but has a digest"));
        }
        Set<Digest> manifests = new LinkedHashSet<>();
        for (JsonNode m : JsonFields.array(o, "manifests", w)) {
            if (!m.isTextual() || !manifests.add(digest(m.asText(), w + " manifests"))) {
                throw new InvalidContentException(w + " manifests holds a non-string or a duplicate");
            }
        }
        Map<Digest, Blob> blobs = new LinkedHashMap<>();
        JsonNode ba = JsonFields.array(o, "blobs", w);
        for (int k = 0; k < ba.size(); k++) {
            String bw = w + " blobs[" + k + "]";
            JsonNode b = ba.get(k);
            JsonFields.requireObject(b, bw, Set.of("digest", "size"), Set.of("digest", "size"));
            Digest d = digest(JsonFields.text(b, "digest", bw), bw);
            JsonNode s = b.get("size");
            if (!s.isIntegralNumber() || !s.canConvertToLong() || s.longValue() < 0 || s.longValue() > Descriptor.MAX_BLOB_SIZE) {
                throw new InvalidContentException(bw + " field 'size' is not an integer or out of range");
            }
            if (blobs.put(d, new Blob(d, s.longValue())) != null) {
                throw new InvalidContentException(bw + " lists " + d + " twice");
            }
        }
        if (!p.booleanValue() && (!manifests.isEmpty() || !blobs.isEmpty())) {
            throw new InvalidContentException(w + " is absent but lists content");
        }
        if (digest.isPresent() && !manifests.contains(digest.get())) {
            throw new InvalidContentException(w + " digest " + digest.get() + " is not among its manifests");
        }
        List<Attached> artifacts = parseArtifacts(o, w, version, manifests);
        return new Image(source, target, digest, new ArrayList<>(manifests), new ArrayList<>(blobs.values()), artifacts);
    }

    /** An image's {@code artifacts}, only when there are some. */
    private static void writeArtifacts(ObjectNode image, List<Attached> artifacts) {
        if (artifacts.isEmpty()) {
            return;
        }
        ArrayNode aa = image.putArray("artifacts");
        for (Attached a : artifacts) {
            ObjectNode x = aa.addObject();
            x.put("subject", a.subject().toString());
            x.put("digest", a.digest().toString());
            x.put("foundBy", a.foundBy());
        }
    }

    /**
     * An image's {@code artifacts} (version 2): each once per subject, subject and digest among
     * the image's manifests, {@code foundBy} one of the three ways, a cosign tag naming its subject.
     */
    private static List<Attached> parseArtifacts(JsonNode o, String w, int version, Set<Digest> manifests) {
        if (!o.has("artifacts")) {
            return List.of();
        }
        if (version < 2) {
            throw new InvalidContentException(w + " has 'artifacts', which receipt version " + version + " does not have");
        }
        JsonNode aa = JsonFields.array(o, "artifacts", w);
        if (aa.isEmpty()) {
            throw new InvalidContentException(w + " has an empty 'artifacts' (written only when there are some)");
        }
        Set<String> seen = new LinkedHashSet<>();
        List<Attached> out = new ArrayList<>();
        for (int k = 0; k < aa.size(); k++) {
            String aw = w + " artifacts[" + k + "]";
            JsonNode a = aa.get(k);
            JsonFields.requireObject(a, aw, ARTIFACT_KEYS, ARTIFACT_KEYS);
            Digest subject = digest(JsonFields.text(a, "subject", aw), aw + " subject");
            Digest d = digest(JsonFields.text(a, "digest", aw), aw + " digest");
            String foundBy = JsonFields.text(a, "foundBy", aw);
            if (!foundBy.equals("referrers-api") && !foundBy.equals("referrers-tag")
                    && !foundBy.equals("cosign-tag:sha256-" + subject.hex() + ".sig") && !foundBy.equals("cosign-tag:sha256-" + subject.hex() + ".att")
                    && !foundBy.equals("cosign-tag:sha256-" + subject.hex() + ".sbom")) {
                throw new InvalidContentException(aw + " has foundBy '" + printable(foundBy)
                        + "' (expected referrers-api, referrers-tag or a cosign tag naming its subject)");
            }
            if (!manifests.contains(subject) || !manifests.contains(d)) {
                throw new InvalidContentException(aw + ": its subject and its digest must be among the image's manifests");
            }
            if (!seen.add(subject + " " + d)) {
                throw new InvalidContentException(aw + " lists " + d + " twice for subject " + subject);
            }
            out.add(new Attached(subject, d, foundBy));
        }
        return out;
    }

    private static ImageReference reference(String s, String w) {
        try {
            ImageReference r = ImageReference.parse(s);
            if (!r.toString().equals(s)) {
                throw new InvalidContentException(w + " '" + printable(s) + "' is not in normalised form");
            }
            return r;
        } catch (InvalidContentException e) {
            throw e;
        } catch (AirlockException e) {
            throw new InvalidContentException(w + " is not an image reference: " + e.getMessage());
        }
    }

    private static Digest digest(String s, String w) {
        try {
            return Digest.parse(s);
        } catch (AirlockException e) {
            throw new InvalidContentException(w + " has an invalid digest '" + printable(s) + "'");
        }
    }

    private static UUID uuid(String s, String w) {
        try {
            UUID u = UUID.fromString(s);
            if (u.toString().equals(s)) {
                return u;
            }
        } catch (IllegalArgumentException ignored) {
            // reported below
        }
        throw new InvalidContentException(w + " is not a canonical UUID: '" + printable(s) + "'");
    }




    private static String printable(String s) {
        return dev.airlock.error.Printable.of(s);
    }

    public UUID id() {
        return id;
    }

    public Instant created() {
        return created;
    }

    public String toolName() {
        return toolName;
    }

    public String toolVersion() {
        return toolVersion;
    }

    public Target target() {
        return target;
    }

    public List<UUID> bundles() {
        return bundles;
    }

    public List<Image> images() {
        return images;
    }

    /** A copy of the exact bytes (what is written and signed). */
    public byte[] bytes() {
        return bytes.clone();
    }
}
