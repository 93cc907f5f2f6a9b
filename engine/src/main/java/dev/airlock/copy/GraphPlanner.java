package dev.airlock.copy;

import dev.airlock.concurrent.Workers;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.airlock.error.AirlockException;
import dev.airlock.error.InvalidContentException;
import dev.airlock.error.UsageException;
import dev.airlock.error.VerificationException;
import dev.airlock.model.Descriptor;
import dev.airlock.model.Digest;
import dev.airlock.model.ImageConfig;
import dev.airlock.model.ImageIndex;
import dev.airlock.model.ImageManifest;
import dev.airlock.model.Json;
import dev.airlock.model.ManifestView;
import dev.airlock.model.Platform;
import dev.airlock.model.RawManifest;
import java.io.IOException;
import java.io.InputStream;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

/**
 * Resolves images to their whole graph before any layer moves: the top manifest by tag or digest,
 * every child manifest (nested indexes too), every config; checks each index entry's platform
 * against its child's config; applies a platform filter by rewriting indexes. Reads manifests and
 * configs only (small, bounded), never layers. {@link #withoutConfigReads()} reads manifests only
 * (for a receipt of what a registry holds, where no platform is checked or filtered).
 */
public final class GraphPlanner {
    /** Index nesting deeper than this is refused (a loop or hostile content). */
    static final int MAX_DEPTH = dev.airlock.model.ManifestView.MAX_INDEX_DEPTH;
    /** Largest config blob read into memory for the platform check. */
    static final long MAX_CONFIG_BYTES = Json.MAX_DOCUMENT_BYTES;
    private static final String REF_DIGEST = "vnd.docker.reference.digest";

    private final List<Platform> keep;
    private final ReferrerOptions referrers;
    private final Set<Digest> external;
    /** False: configs are not read (their digest and size come from the manifest), nor platform-checked. */
    private final boolean readConfigs;
    /** {@link #planSharing}'s finders, one per pool it was given (by identity). */
    private final Map<ExecutorService, ArtifactFinder> sharedFinders = new java.util.concurrent.ConcurrentHashMap<>();

    /** @param keep platforms to keep; empty keeps every platform (and every attestation); no attached artifacts */
    public GraphPlanner(List<Platform> keep) {
        this(keep, ReferrerOptions.NONE, Set.of());
    }

    /**
     * @param keep      platforms to keep; empty keeps every platform (and every attestation)
     * @param referrers which attached artifacts (signatures, attestations, SBOMs) are planned with each image
     */
    public GraphPlanner(List<Platform> keep, ReferrerOptions referrers) {
        this(keep, referrers, Set.of());
    }

    /**
     * @param keep     platforms to keep; empty keeps every platform (and every attestation)
     * @param external digests that are not to be read (a delta relies on them at the target):
     *                 neither fetched nor descended into, recorded in {@link ImagePlan#required()};
     *                 no platform filter applies below them
     */
    public GraphPlanner(List<Platform> keep, Set<Digest> external) {
        this(keep, ReferrerOptions.NONE, external);
    }

    /** Both: platforms to keep, artifacts to plan, digests that are external. */
    public GraphPlanner(List<Platform> keep, ReferrerOptions referrers, Set<Digest> external) {
        this(keep, referrers, external, true);
    }

    private GraphPlanner(List<Platform> keep, ReferrerOptions referrers, Set<Digest> external, boolean readConfigs) {
        this.keep = List.copyOf(keep);
        this.referrers = java.util.Objects.requireNonNull(referrers, "referrers");
        this.external = Set.copyOf(external);
        this.readConfigs = readConfigs;
        if (!readConfigs && !this.keep.isEmpty()) {
            throw new IllegalArgumentException("a platform filter needs the configs read");
        }
    }

    /**
     * The same planner reading manifests only: an image manifest's config is listed in the plan's
     * blobs from the manifest's descriptor (digest and size) like its layers, never fetched, so
     * neither its digest nor the index entry's platform claim against it is checked; the plan's
     * platforms are the index entries' claims. For {@code airlock receipt} (what a registry holds:
     * it accepted each manifest only with its blobs, config included); export, import and sync
     * read and check every config. Only without a platform filter (there is no platform to filter on).
     */
    public GraphPlanner withoutConfigReads() {
        return new GraphPlanner(keep, referrers, external, false);
    }

    /** Plans every image, in parallel; throws {@link PlanException} listing every image that failed. */
    public List<ImagePlan> planAll(List<SourceImage> sources, int jobs) {
        ExecutorService pool = Executors.newFixedThreadPool(Math.max(1, Math.min(jobs, sources.size())), Workers.named("plan"));
        // artifact discovery runs beside the plan on its own pool, bounded by the same jobs
        ExecutorService finding = Executors.newFixedThreadPool(Math.max(1, jobs), Workers.named("referrers"));
        try {
            List<Future<ImagePlan>> futures = new ArrayList<>();
            ArtifactFinder finder = new ArtifactFinder(referrers, finding, external);
            for (SourceImage s : sources) {
                futures.add(pool.submit(() -> plan(s, finder)));
            }
            List<ImagePlan> plans = new ArrayList<>();
            List<AirlockException> failures = new ArrayList<>();
            for (Future<ImagePlan> f : futures) {
                try {
                    plans.add(Workers.join(f));
                } catch (AirlockException e) {
                    failures.add(e);
                }
            }
            if (!failures.isEmpty()) {
                throw new PlanException(failures);
            }
            return plans;
        } finally {
            pool.shutdownNow();
            finding.shutdownNow();
        }
    }

    /** Plans one image. */
    public ImagePlan plan(SourceImage src) {
        if (!referrers.enabled() || !ArtifactFinder.applies(src.store())) {
            return plan(src, null);
        }
        ExecutorService finding = Executors.newFixedThreadPool(4, Workers.named("referrers"));
        try {
            return plan(src, new ArtifactFinder(referrers, finding, external));
        } finally {
            finding.shutdownNow();
        }
    }

    /**
     * Plans one image, its attached artifacts looked for on {@code finding}: a pool the caller
     * shares between the images it plans in parallel (never the pool this runs on) and shuts down.
     * The images planned on one pool share what is found out on the way, as {@link #planAll} does:
     * a repository's tag list is asked for once for all of them.
     */
    public ImagePlan planSharing(SourceImage src, ExecutorService finding) {
        if (!referrers.enabled() || !ArtifactFinder.applies(src.store())) {
            return plan(src, null);
        }
        return plan(src, sharedFinders.computeIfAbsent(finding, pool -> new ArtifactFinder(referrers, pool, external)));
    }

    private ImagePlan plan(SourceImage src, ArtifactFinder finder) {
        RawManifest fetched;
        try {
            fetched = src.store().fetchManifest(src.repository(), src.reference());
        } catch (dev.airlock.error.RegistryException e) {
            if (e.isNotFound()) {
                throw new dev.airlock.error.RegistryException(src.name() + ": not found in " + src.store().describe(), e.status(), e.errorCodes(), e);
            }
            throw e;
        }
        boolean finding = finder != null && referrers.enabled() && ArtifactFinder.applies(src.store());
        // the top's artifacts are asked for while its graph is walked
        List<Future<ArtifactFinder.Answer>> first = new ArrayList<>();
        if (finding) {
            first.add(finder.start(src, fetched.digest()));
            src.rewrittenFrom().filter(d -> !d.equals(fetched.digest())).ifPresent(d -> first.add(finder.start(src, d)));
        }
        Graph g = new Graph(src);
        if (external.contains(fetched.digest())) {
            // the whole image is external: its top's bytes (read where the caller pointed) and nothing else,
            // but what is attached to it (a new signature on an image the target holds) is still looked for
            if (!finding) {
                return new ImagePlan(src, fetched, Optional.empty(), List.of(), List.of(), List.of(), List.of(fetched.descriptor()));
            }
            List<Digest> children = fetched.view() instanceof ImageIndex idx ? idx.manifests().stream().map(Descriptor::digest).toList() : List.of();
            ArtifactFinder.Found found = finder.finish(src, first, children, Set.of(fetched.digest()), src.rewrittenFrom());
            return new ImagePlan(src, fetched, Optional.empty(), found.manifests(), found.blobs(), List.of(), found.artifacts(), found.warnings(),
                    List.of(fetched.descriptor()));
        }
        RawManifest top = g.walk(fetched, Optional.empty(), 0);
        if (top == null) {
            throw new UsageException(src.name() + " has none of the platforms " + keep + " (it has " + g.seen + ")");
        }
        Optional<Digest> original = top.digest().equals(fetched.digest()) ? Optional.empty() : Optional.of(fetched.digest());
        List<RawManifest> manifests = new ArrayList<>(g.manifests.values());
        List<Descriptor> blobs = new ArrayList<>(g.blobs.values());
        ArtifactFinder.Found found = ArtifactFinder.Found.NONE;
        if (finding) {
            List<Digest> children = manifests.stream().map(RawManifest::digest)
                    .filter(d -> !d.equals(top.digest()) && !d.equals(fetched.digest())).toList();
            found = finder.finish(src, first, children, g.manifests.keySet(), original.or(src::rewrittenFrom));
            Set<Digest> have = new java.util.HashSet<>(g.manifests.keySet());
            found.manifests().stream().filter(m -> have.add(m.digest())).forEach(manifests::add);
            Set<Digest> haveBlobs = new java.util.HashSet<>(g.blobs.keySet());
            found.blobs().stream().filter(b -> haveBlobs.add(b.digest())).forEach(blobs::add);
        }
        return new ImagePlan(src, top, original, manifests, blobs, new ArrayList<>(g.platforms), found.artifacts(), found.warnings(),
                new ArrayList<>(g.required.values()));
    }

    /** Walks one image's graph. */
    private final class Graph {
        private final SourceImage src;
        private final Map<Digest, RawManifest> manifests = new LinkedHashMap<>();
        private final Map<Digest, Descriptor> blobs = new LinkedHashMap<>();
        private final Map<Digest, Descriptor> required = new LinkedHashMap<>();
        private final Set<Platform> platforms = new LinkedHashSet<>();
        private final Set<Platform> seen = new LinkedHashSet<>();

        Graph(SourceImage src) {
            this.src = src;
        }

        /**
         * Adds {@code m}'s graph; returns the manifest to reference (rewritten when filtered) or
         * null when the filter removed everything below it.
         */
        RawManifest walk(RawManifest m, Optional<Platform> claimed, int depth) {
            if (depth > MAX_DEPTH) {
                throw new InvalidContentException(src.name() + ": indexes nested deeper than " + MAX_DEPTH + " (a loop?) at " + m.digest());
            }
            ManifestView view = m.view();
            if (view instanceof ImageManifest im) {
                if (external.contains(im.config().digest()) || !readConfigs) {
                    // the config is at the target, or not to be read: the index entry's claim is what is known here
                    claimed.filter(p -> !p.isUnknown()).ifPresent(p -> {
                        seen.add(p);
                        platforms.add(p);
                    });
                    addBlobs(im, readConfigs);
                    manifests.putIfAbsent(m.digest(), m);
                    return m;
                }
                Platform actual = checkConfig(im, m.digest(), claimed);
                if (actual != null && !actual.isUnknown()) {
                    seen.add(actual);
                    if (!keep.isEmpty() && keep.stream().noneMatch(k -> k.matches(actual))) {
                        return null;
                    }
                    platforms.add(actual);
                }
                addBlobs(im, false);
                manifests.putIfAbsent(m.digest(), m);
                return m;
            }
            ImageIndex index = (ImageIndex) view;
            List<Descriptor> entries = index.manifests();
            List<Integer> kept = new ArrayList<>();
            Set<Digest> keptDigests = new LinkedHashSet<>();
            List<RawManifest> children = new ArrayList<>();
            Map<Digest, Integer> attestations = new LinkedHashMap<>();
            for (int i = 0; i < entries.size(); i++) {
                Descriptor e = entries.get(i);
                if (e.digest().equals(m.digest())) {
                    throw new InvalidContentException(src.name() + ": index " + m.digest() + " lists itself");
                }
                if (external.contains(e.digest())) {
                    required.putIfAbsent(e.digest(), plain(e));
                    e.platform().filter(p -> !p.isUnknown()).ifPresent(platforms::add);
                    kept.add(i);
                    keptDigests.add(e.digest());
                    continue;
                }
                if (!keep.isEmpty() && isAttestation(e)) {
                    attestations.put(e.digest(), i);
                    continue;
                }
                RawManifest child = fetchChild(e);
                RawManifest used = walk(child, e.platform(), depth + 1);
                if (used == null) {
                    continue;
                }
                if (!used.digest().equals(child.digest())) {
                    throw new UsageException(src.name() + ": a platform filter cannot filter the nested index " + child.digest());
                }
                kept.add(i);
                keptDigests.add(e.digest());
                children.add(used);
            }
            for (var a : attestations.entrySet()) {
                Descriptor e = entries.get(a.getValue());
                String ref = e.annotations().getOrDefault(REF_DIGEST, "");
                if (keptDigests.stream().anyMatch(d -> d.toString().equals(ref))) {
                    walk(fetchChild(e), e.platform(), depth + 1);
                    kept.add(a.getValue());
                }
            }
            if (kept.isEmpty()) {
                return null;
            }
            RawManifest result = m;
            if (kept.size() != entries.size()) {
                result = rewrite(m, kept);
            }
            manifests.putIfAbsent(result.digest(), result);
            return result;
        }

        /** The manifest's config and layers: external ones as required, the others as carried ({@code plainCarried}: without annotations). */
        private void addBlobs(ImageManifest im, boolean plainCarried) {
            im.blobs().forEach(b -> {
                if (external.contains(b.digest())) {
                    required.putIfAbsent(b.digest(), plain(b));
                } else {
                    blobs.putIfAbsent(b.digest(), plainCarried ? plain(b) : b);
                }
            });
        }

        private RawManifest fetchChild(Descriptor e) {
            RawManifest child = src.store().fetchManifest(src.repository(), e.digest().toString());
            if (!child.digest().equals(e.digest()) || child.size() != e.size()) {
                throw new VerificationException(src.name() + ": child manifest " + e.digest() + " from " + src.store().describe()
                        + " has digest " + child.digest() + " and size " + child.size() + ", expected size " + e.size());
            }
            if (!child.mediaType().equals(e.mediaType())) {
                child = RawManifest.of(e.mediaType(), child.bytes());
            }
            return child;
        }

        /** Reads the config when it is an image config; checks the claimed platform against it. */
        private Platform checkConfig(ImageManifest im, Digest manifest, Optional<Platform> claimed) {
            Descriptor c = im.config();
            if (!c.mediaType().isImageConfig()) {
                return claimed.orElse(null);
            }
            if (c.size() > MAX_CONFIG_BYTES) {
                throw new InvalidContentException(src.name() + ": config " + c.digest() + " claims " + c.size() + " bytes, over the limit");
            }
            byte[] bytes;
            try (InputStream in = src.store().openBlob(src.repository(), c)) {
                bytes = in.readAllBytes();
            } catch (IOException e) {
                throw new dev.airlock.error.LocalIoException("reading config " + c.digest() + " of " + src.name() + ": " + e.getMessage(), e);
            }
            Platform actual = ImageConfig.parse(bytes, "config " + c.digest() + " of " + src.name()).platform();
            if (claimed.isPresent() && !claimed.get().matches(actual)) {
                throw new VerificationException(src.name() + ": index entry " + manifest.shortForm() + " claims platform "
                        + claimed.get() + " but its config says " + actual);
            }
            return claimed.orElse(actual);
        }
    }

    /** The descriptor without platform or annotations. */
    private static Descriptor plain(Descriptor d) {
        return Descriptor.of(d.mediaType(), d.digest(), d.size());
    }

    private static boolean isAttestation(Descriptor e) {
        return e.platform().map(Platform::isUnknown).orElse(false) && e.annotations().containsKey(REF_DIGEST);
    }

    /** The same index keeping only the entries at {@code kept}, compact JSON, same media type. */
    private static RawManifest rewrite(RawManifest m, List<Integer> kept) {
        JsonNode root = Json.parse(m.bytes(), "index " + m.digest());
        ObjectNode copy = ((ObjectNode) root).deepCopy();
        ArrayNode entries = (ArrayNode) root.get("manifests");
        ArrayNode out = copy.putArray("manifests");
        kept.stream().sorted().forEach(i -> out.add(entries.get(i)));
        return RawManifest.of(m.mediaType(), Json.write(copy));
    }
}
