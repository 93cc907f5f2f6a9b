package dev.airlock.serve;

import dev.airlock.bundle.BundleArchive;
import dev.airlock.bundle.BundleArtifact;
import dev.airlock.bundle.BundleImage;
import dev.airlock.bundle.BundleManifest;
import dev.airlock.error.UsageException;
import dev.airlock.model.Descriptor;
import dev.airlock.model.Digest;
import dev.airlock.model.ImageIndex;
import dev.airlock.model.ImageManifest;
import dev.airlock.model.ImageReference;
import dev.airlock.model.ManifestView;
import dev.airlock.model.MediaType;
import dev.airlock.model.TargetMapping;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.SortedMap;
import java.util.TreeMap;

/**
 * What the served bundles hold, indexed once at start: every digest once (from the first bundle
 * that has it), the repositories with their tags and the digests of their graphs, and the
 * referrers of every subject. Only descriptors and names are kept; bytes are read on request.
 */
final class Catalog {
    /** Where one digest's bytes are. */
    record Content(BundleArchive archive, BundleManifest.FileEntry entry) {
        Descriptor descriptor() {
            return entry.descriptor();
        }

        boolean isManifest() {
            return entry.mediaType().map(MediaType::isManifest).orElse(false);
        }
    }

    /** One repository: its tags and every digest reachable from its images (and their referrers). */
    record Repository(String name, SortedMap<String, Digest> tags, Set<Digest> digests) {
    }

    /** A referrers-API entry: a manifest whose subject is in the bundles, with its artifactType and annotations. */
    record Referrer(Descriptor descriptor, String artifactType, Map<String, String> annotations) {
    }

    /** One served image, for the start line. */
    record Served(String repository, String reference, BundleImage image, BundleArchive archive) {
    }

    private final Map<Digest, Content> content;
    private final SortedMap<String, Repository> repositories;
    private final Map<Digest, List<Referrer>> referrers;
    private final List<Served> served;
    /** Digests whose whole content was hashed in this run (at start with verify-all, on a first full read, or before a first Range part). */
    private final Set<Digest> verified = java.util.concurrent.ConcurrentHashMap.newKeySet();
    /** Digests whose content failed its hash in this run: never served again. */
    private final Set<Digest> damaged = java.util.concurrent.ConcurrentHashMap.newKeySet();

    private Catalog(Map<Digest, Content> content, SortedMap<String, Repository> repositories,
                    Map<Digest, List<Referrer>> referrers, List<Served> served) {
        this.content = content;
        this.repositories = repositories;
        this.referrers = referrers;
        this.served = served;
    }

    /**
     * Indexes the opened bundles. The same repository:tag with two different digests (in two
     * bundles, or in one when two source hosts map to one name) is refused with a
     * {@link UsageException}.
     */
    static Catalog of(List<BundleArchive> archives, boolean keepRegistryHost, boolean allVerified) {
        TargetMapping names = new TargetMapping("localhost", "", keepRegistryHost);
        Map<Digest, Content> content = new HashMap<>();
        Map<Digest, ManifestView> views = new HashMap<>();
        Map<Digest, List<Referrer>> referrers = new HashMap<>();
        for (BundleArchive a : archives) {
            for (BundleManifest.FileEntry f : a.manifest().files()) {
                if (!f.isBlob() || content.containsKey(f.sha256())) {
                    continue;
                }
                Content c = new Content(a, f);
                content.put(f.sha256(), c);
                if (c.isManifest()) {
                    ManifestView v = a.fetchManifest("", f.sha256().toString()).view();
                    views.put(f.sha256(), v);
                    subject(v).ifPresent(s -> referrers.computeIfAbsent(s, k -> new ArrayList<>()).add(referrer(f.descriptor(), v)));
                }
            }
        }
        // a volume of a set is served only with the volumes holding what its images need
        for (BundleArchive a : archives) {
            for (BundleManifest.Required r : a.manifest().requires()) {
                if (a.manifest().volume().isPresent() && !content.containsKey(r.digest())) {
                    throw new UsageException("serving " + a.describe() + ": it is " + a.manifest().volume().get().describe() + " and its images need "
                            + r.digest() + " from volume " + r.volume() + "; serve every volume of the set together (airlock serve NAME.vol*.tar)");
                }
            }
        }
        Map<String, TreeMap<String, Digest>> tags = new TreeMap<>();
        Map<String, Set<Digest>> graphs = new HashMap<>();
        Map<String, String> tagSource = new HashMap<>();
        List<Served> served = new ArrayList<>();
        for (BundleArchive a : archives) {
            for (BundleImage img : a.images()) {
                ImageReference mapped = names.map(img.source());
                String repo = mapped.repository();
                Set<Digest> graph = graphs.computeIfAbsent(repo, k -> new HashSet<>());
                graph.addAll(closure(img.digest(), views, referrers));
                TreeMap<String, Digest> repoTags = tags.computeIfAbsent(repo, k -> new TreeMap<>());
                String tag = img.source().tag();
                String from = img.source() + " in " + a.path();
                if (!tag.isEmpty()) {
                    addTag(repoTags, tagSource, repo, tag, img.digest(), from, keepRegistryHost);
                }
                // attached artifacts: in the graph (with what hangs on them), cosign's under their tag names
                for (BundleArtifact x : img.artifacts()) {
                    graph.addAll(closure(x.digest(), views, referrers));
                    x.cosignTag().ifPresent(t -> addTag(repoTags, tagSource, repo, t, x.digest(), from, keepRegistryHost));
                }
                String reference = tag.isEmpty() ? img.digest().toString() : tag;
                // an image listed by several volumes of a set (or bundles) is served, and shown, once
                if (served.stream().noneMatch(x -> x.repository().equals(repo) && x.reference().equals(reference)
                        && x.image().digest().equals(img.digest()))) {
                    served.add(new Served(repo, reference, img, a));
                }
            }
        }
        SortedMap<String, Repository> repositories = new TreeMap<>();
        tags.forEach((name, t) -> repositories.put(name, new Repository(name, Collections.unmodifiableSortedMap(t), Set.copyOf(graphs.get(name)))));
        Map<Digest, List<Referrer>> refs = new HashMap<>();
        referrers.forEach((k, v) -> refs.put(k, List.copyOf(v)));
        Catalog catalog = new Catalog(Map.copyOf(content), Collections.unmodifiableSortedMap(repositories), Map.copyOf(refs), List.copyOf(served));
        if (allVerified) {
            catalog.verified.addAll(content.keySet());
        }
        return catalog;
    }

    /** Adds {@code repo:tag -> digest}; the same tag with another digest is refused with one line. */
    private static void addTag(Map<String, Digest> repoTags, Map<String, String> tagSource, String repo, String tag, Digest digest,
                               String from, boolean keepRegistryHost) {
        Digest before = repoTags.putIfAbsent(tag, digest);
        if (before != null && !before.equals(digest)) {
            throw new UsageException("serving " + repo + ":" + tag + ": it is " + before + " (" + tagSource.get(repo + ":" + tag)
                    + ") and " + digest + " (" + from + "); serve these bundles separately"
                    + (keepRegistryHost ? "" : " or use --keep-registry-host"));
        }
        tagSource.putIfAbsent(repo + ":" + tag, from);
    }

    Optional<Repository> repository(String name) {
        return Optional.ofNullable(repositories.get(name));
    }

    SortedMap<String, Repository> repositories() {
        return repositories;
    }

    /** The content of {@code digest} when {@code repository}'s graph holds it. */
    Optional<Content> content(Repository repository, Digest digest) {
        return repository.digests().contains(digest) ? Optional.ofNullable(content.get(digest)) : Optional.empty();
    }

    /** The manifests in {@code repository} whose subject is {@code subject}, as descriptors with artifactType and annotations. */
    List<Referrer> referrers(Repository repository, Digest subject) {
        return referrers.getOrDefault(subject, List.of()).stream().filter(r -> repository.digests().contains(r.descriptor().digest())).toList();
    }

    /** True once {@code digest}'s whole content was hashed and matched in this run. */
    boolean verified(Digest digest) {
        return verified.contains(digest);
    }

    void markVerified(Digest digest) {
        verified.add(digest);
    }

    /** True once {@code digest}'s content failed its hash in this run. */
    boolean damaged(Digest digest) {
        return damaged.contains(digest);
    }

    void markDamaged(Digest digest) {
        damaged.add(digest);
    }

    List<Served> served() {
        return served;
    }

    int blobCount() {
        return content.size();
    }

    long blobBytes() {
        return content.values().stream().mapToLong(c -> c.entry().size()).sum();
    }

    /** The top digest, everything it references that the bundles hold, and the referrers of each, transitively. */
    private static Set<Digest> closure(Digest top, Map<Digest, ManifestView> views, Map<Digest, List<Referrer>> referrers) {
        Set<Digest> seen = new HashSet<>();
        ArrayDeque<Digest> todo = new ArrayDeque<>(List.of(top));
        while (!todo.isEmpty()) {
            Digest d = todo.pop();
            if (!seen.add(d)) {
                continue;
            }
            ManifestView v = views.get(d);
            if (v != null) {
                for (Descriptor r : v.references()) {
                    if (subject(v).map(s -> !s.equals(r.digest())).orElse(true)) {
                        todo.push(r.digest());
                    }
                }
            }
            for (Referrer r : referrers.getOrDefault(d, List.of())) {
                todo.push(r.descriptor().digest());
            }
        }
        return seen;
    }

    private static Optional<Digest> subject(ManifestView v) {
        Optional<Descriptor> s = v instanceof ImageManifest m ? m.subject() : ((ImageIndex) v).subject();
        return s.map(Descriptor::digest);
    }

    /** The manifest's descriptor with its artifactType (or, for an image manifest without one, its config's media type). */
    private static Referrer referrer(Descriptor d, ManifestView v) {
        if (v instanceof ImageManifest m) {
            return new Referrer(d, m.artifactType().isEmpty() ? m.config().mediaType().value() : m.artifactType(), Map.copyOf(m.annotations()));
        }
        return new Referrer(d, "", Map.copyOf(((ImageIndex) v).annotations()));
    }
}
