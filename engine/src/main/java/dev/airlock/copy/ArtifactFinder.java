package dev.airlock.copy;

import dev.airlock.concurrent.Workers;
import dev.airlock.error.AirlockException;
import dev.airlock.error.RegistryException;
import dev.airlock.error.VerificationException;
import dev.airlock.model.Descriptor;
import dev.airlock.model.Digest;
import dev.airlock.model.ImageIndex;
import dev.airlock.model.ImageManifest;
import dev.airlock.model.RawManifest;
import dev.airlock.store.ImageSource;
import dev.airlock.store.ReferrersSource;
import dev.airlock.store.TagLister;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Future;

/**
 * Finds what is attached to the manifests of one image's graph, level by level: OCI referrers
 * (the source's referrers API, else the {@code sha256-<hex>} tag schema), cosign's tags
 * {@code sha256-<hex>.sig|.att|.sbom}, then what is attached to those, down to {@link #MAX_DEPTH}
 * levels, each manifest once (a loop ends). The subjects of one level are asked in parallel on the
 * planner's pool. Reads manifests only.
 *
 * <p>A source that is neither a {@link ReferrersSource} nor a {@link TagLister} (a docker archive)
 * has no artifacts.
 */
final class ArtifactFinder {
    /** Levels of artifacts on artifacts (a signature on an SBOM on an image is 2). */
    static final int MAX_DEPTH = 3;
    private static final List<String> COSIGN_SUFFIXES = List.of("sig", "att", "sbom");

    /** What was found for one image. */
    record Found(List<Artifact> artifacts, List<RawManifest> manifests, List<Descriptor> blobs, List<String> warnings) {
        static final Found NONE = new Found(List.of(), List.of(), List.of(), List.of());
    }

    /** One listed artifact not fetched yet. */
    private record Candidate(Digest subject, String reference, String foundBy, Optional<Descriptor> listed) {
    }

    /** One subject's answer. */
    record Answer(List<Artifact> artifacts, List<String> warnings) {
    }

    private final ReferrerOptions options;
    private final ExecutorService pool;
    /** Digests a delta relies on at the target: an artifact among them is listed, its graph is not planned. */
    private final Set<Digest> external;
    /** Each repository's tags, listed once per source store: the same path on two registries is two repositories. */
    private final Map<List<Object>, Set<String>> tags = new ConcurrentHashMap<>();

    ArtifactFinder(ReferrerOptions options, ExecutorService pool, Set<Digest> external) {
        this.options = options;
        this.pool = pool;
        this.external = external;
    }

    /** True when this source can have artifacts. */
    static boolean applies(ImageSource s) {
        return s instanceof ReferrersSource || s instanceof TagLister;
    }

    /** Asks about {@code subject} now, in the background (the top, while the graph is walked). */
    Future<Answer> start(SourceImage src, Digest subject) {
        return pool.submit(() -> ask(src, subject));
    }

    /**
     * Everything attached to {@code first} (already started) and {@code subjects}, and to what is
     * found, recursively. {@code graph} are the image's own manifests (never artifacts of it);
     * {@code dropped} the source index a platform filter rewrote (its artifacts lose their subject).
     */
    Found finish(SourceImage src, List<Future<Answer>> first, List<Digest> subjects, Set<Digest> graph, Optional<Digest> dropped) {
        Set<Digest> visited = new LinkedHashSet<>(graph);
        dropped.ifPresent(visited::add);
        List<Future<Answer>> level = new ArrayList<>(first);
        for (Digest d : subjects) {
            level.add(start(src, d));
        }
        List<Artifact> artifacts = new ArrayList<>();
        List<String> warnings = new ArrayList<>();
        Map<Digest, RawManifest> manifests = new LinkedHashMap<>();
        Map<Digest, Descriptor> blobs = new LinkedHashMap<>();
        for (int depth = 1; !level.isEmpty(); depth++) {
            List<Digest> next = new ArrayList<>();
            for (Future<Answer> f : level) {
                Answer a = Workers.join(f);
                warnings.addAll(a.warnings());
                for (Artifact art : a.artifacts()) {
                    if (graph.contains(art.digest()) || artifacts.stream().anyMatch(x -> x.digest().equals(art.digest()) && x.subject().equals(art.subject()))) {
                        continue;
                    }
                    boolean lost = dropped.isPresent() && art.subject().equals(dropped.get());
                    Artifact kept = new Artifact(art.subject(), art.manifest(), art.foundBy(), lost);
                    try {
                        if (!external.contains(art.digest())) {
                            addGraph(src, art.manifest(), manifests, blobs);
                        }
                    } catch (AirlockException e) {
                        warn(src, art.subject(), art.digest().toString(), art.foundBy(), e, warnings);
                        continue;
                    }
                    artifacts.add(kept);
                    if (visited.add(art.digest())) {
                        next.add(art.digest());
                    }
                }
            }
            level = new ArrayList<>();
            if (depth < MAX_DEPTH) {
                for (Digest d : next) {
                    level.add(start(src, d));
                }
            }
        }
        return new Found(artifacts, new ArrayList<>(manifests.values()), new ArrayList<>(blobs.values()), warnings);
    }

    /**
     * An artifact's blobs, and for an artifact index its child manifests (children first); what
     * is external (a delta relies on it at the target) is neither read nor planned.
     */
    private void addGraph(SourceImage src, RawManifest m, Map<Digest, RawManifest> manifests, Map<Digest, Descriptor> blobs) {
        if (m.view() instanceof ImageManifest im) {
            im.blobs().stream().filter(b -> !external.contains(b.digest())).forEach(b -> blobs.putIfAbsent(b.digest(), b));
        } else if (m.view() instanceof ImageIndex idx) {
            for (Descriptor e : idx.manifests()) {
                if (external.contains(e.digest())) {
                    continue;
                }
                RawManifest child = src.store().fetchManifest(src.repository(), e.digest().toString());
                if (!(child.view() instanceof ImageManifest cm)) {
                    throw new VerificationException("artifact index " + m.digest() + " lists another index " + e.digest());
                }
                cm.blobs().stream().filter(b -> !external.contains(b.digest())).forEach(b -> blobs.putIfAbsent(b.digest(), b));
                manifests.putIfAbsent(child.digest(), child);
            }
        }
        manifests.putIfAbsent(m.digest(), m);
    }

    /** Every artifact the source lists for {@code subject}, fetched (digests verified by the source). */
    private Answer ask(SourceImage src, Digest subject) {
        List<Candidate> candidates = new ArrayList<>();
        List<String> warnings = new ArrayList<>();
        ImageSource store = src.store();
        String repo = src.repository();
        Optional<Set<String>> known = store instanceof TagLister t
                ? Optional.of(tags.computeIfAbsent(List.of(store, repo), k -> new LinkedHashSet<>(t.listTags(repo)))) : Optional.empty();
        Optional<List<Descriptor>> api = store instanceof ReferrersSource rs ? rs.referrersApi(repo, subject) : Optional.empty();
        if (api.isPresent()) {
            api.get().forEach(d -> candidates.add(new Candidate(subject, d.digest().toString(), Artifact.REFERRERS_API, Optional.of(d))));
        } else {
            String schema = ReferrersSource.schemaTag(subject);
            Optional<RawManifest> index = byTag(store, repo, schema, known);
            if (index.isPresent()) {
                try {
                    if (!(index.get().view() instanceof ImageIndex idx)) {
                        throw new VerificationException("tag " + schema + " holds a " + index.get().mediaType() + ", not a referrers index");
                    }
                    idx.manifests().forEach(d -> candidates.add(new Candidate(subject, d.digest().toString(), Artifact.REFERRERS_TAG, Optional.of(d))));
                } catch (AirlockException e) {
                    warn(src, subject, "tag " + schema, Artifact.REFERRERS_TAG, e, warnings);
                }
            }
        }
        for (String suffix : COSIGN_SUFFIXES) {
            String tag = ReferrersSource.schemaTag(subject) + "." + suffix;
            if (known.isEmpty() || known.get().contains(tag)) {
                candidates.add(new Candidate(subject, tag, Artifact.COSIGN_TAG + tag, Optional.empty()));
            }
        }
        List<Artifact> out = new ArrayList<>();
        for (Candidate c : candidates) {
            try {
                RawManifest m = store.fetchManifest(repo, c.reference());
                if (c.listed().isPresent() && (!c.listed().get().digest().equals(m.digest()) || c.listed().get().size() != m.size())) {
                    throw new VerificationException("listed with size " + c.listed().get().size() + " but the source serves "
                            + m.digest() + " (" + m.size() + " bytes)");
                }
                Optional<Digest> named = subjectOf(m);
                if (c.listed().isPresent() && named.isPresent() && !named.get().equals(subject)) {
                    throw new VerificationException("it names another subject, " + named.get());
                }
                if (!options.accepts(Artifact.typeOf(m))) {
                    continue;
                }
                out.add(new Artifact(subject, m, c.foundBy(), false));
            } catch (AirlockException e) {
                if (c.listed().isEmpty() && known.isEmpty() && e instanceof RegistryException re && re.isNotFound()) {
                    continue; // a cosign tag guessed without a tag list: absent
                }
                warn(src, subject, c.reference(), c.foundBy(), e, warnings);
            }
        }
        return new Answer(out, warnings);
    }

    private static Optional<Digest> subjectOf(RawManifest m) {
        if (m.view() instanceof ImageManifest im) {
            return im.subject().map(Descriptor::digest);
        }
        return ((ImageIndex) m.view()).subject().map(Descriptor::digest);
    }

    private static Optional<RawManifest> byTag(ImageSource store, String repo, String tag, Optional<Set<String>> known) {
        if (known.isPresent() && !known.get().contains(tag)) {
            return Optional.empty();
        }
        try {
            return Optional.of(store.fetchManifest(repo, tag));
        } catch (RegistryException e) {
            if (e.isNotFound()) {
                return Optional.empty();
            }
            throw e;
        }
    }

    /** A listed artifact that cannot be carried: a warning, or with {@code required} the image's failure. */
    private void warn(SourceImage src, Digest subject, String artifact, String foundBy, AirlockException e, List<String> warnings) {
        String line = src.name() + ": artifact " + artifact + " attached to " + subject + " (" + foundBy + ") cannot be carried: " + e.getMessage();
        if (options.mode() == ReferrerOptions.Mode.REQUIRED) {
            if (e instanceof RegistryException re) {
                throw new RegistryException(line + " (every attached artifact is required)", re.status(), re.errorCodes(), e);
            }
            throw new VerificationException(line + " (every attached artifact is required)", e);
        }
        warnings.add(line);
    }
}
