package dev.airlock.preflight;

import dev.airlock.error.AirlockException;
import dev.airlock.error.RegistryException;
import dev.airlock.model.Descriptor;
import dev.airlock.model.Digest;
import dev.airlock.model.ImageReference;
import dev.airlock.model.MediaType;
import dev.airlock.model.RawManifest;
import dev.airlock.model.TargetMapping;
import dev.airlock.registry.RegistryOptions;
import dev.airlock.registry.RegistryStore;
import java.io.ByteArrayInputStream;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * What a target registry accepts, found with a few bytes before the first real upload.
 *
 * <p>The probes work in one scratch repository, {@code PREFIX/airlock-preflight}: they open and
 * cancel an upload session (push permission), upload an empty layer, a config and the OCI empty
 * blob, push an OCI manifest, a Docker manifest, an OCI index, a Docker manifest list and an
 * artifact manifest (artifactType, empty config, subject) by digest, ask the referrers API, try a
 * cross-repository mount into {@code PREFIX/airlock-preflight-mount}, upload a blob in PATCH
 * chunks, and upload into {@code PREFIX/airlock-preflight/d/...} for the repository depths asked
 * for. Then they delete what they pushed; what the registry refuses to delete is reported. The
 * content is always the same bytes, so repeated runs never add to what is left.
 *
 * <pre>{@code
 * PreflightResult r = Preflight.run(options, TargetMapping.parse("reg:5000/mirror", false),
 *         Optional.of(BundleNeeds.read(bundle, TrustPolicy.allowUnsignedOnly(), mapping)));
 * }</pre>
 */
public final class Preflight {
    /** The scratch repository's last path component. */
    public static final String SCRATCH = "airlock-preflight";
    static final String REACHABLE = "reachable";
    static final String TLS = "TLS";
    static final String AUTH = "authentication";
    static final String BLOBS = "blob upload";
    static final String NAMES = "target names";
    static final String OCI_MANIFEST = "OCI image manifest";
    static final String DOCKER_MANIFEST = "Docker manifest";
    static final String OCI_INDEX = "OCI index";
    static final String DOCKER_LIST = "Docker manifest list";
    static final String ARTIFACT = "artifact manifest";
    static final String REFERRERS = "referrers API";
    static final String MOUNT = "cross-repository mount";
    static final String CHUNKED = "chunked upload";
    private static final Pattern STATUS = Pattern.compile(": (\\d{3}\\b.*)$");

    private Preflight() {
    }

    /**
     * Every probe. With {@code needs}, exactly the media types, names and depths that bundle needs
     * are required and each image gets a verdict; without, a usual image set (OCI and Docker
     * manifests and indexes, chunked uploads, names two levels under the prefix) is assumed.
     */
    public static PreflightResult run(RegistryOptions options, TargetMapping mapping, Optional<BundleNeeds> needs) {
        try (RegistryStore reg = RegistryStore.open(mapping.registry(), options)) {
            return new Run(reg, mapping, options, needs).full();
        }
    }

    /**
     * The cheap part, for import before its first upload: reachable, authentication, push
     * permission in every target repository, and the manifest media types {@code needs} uses.
     * Throws {@link TargetRefusedException} with one line when the target cannot take the bundle.
     *
     * @return what was left at the target because it refused DELETE (one line each; usually empty)
     */
    public static List<String> beforeImport(RegistryStore target, TargetMapping mapping, BundleNeeds needs) {
        PreflightResult r = new Run(target, mapping, null, Optional.of(needs)).cheap();
        Optional<String> refusal = r.refusal();
        if (refusal.isPresent()) {
            throw new TargetRefusedException("preflight: " + refusal.get() + "; nothing of the bundle was uploaded (--no-preflight skips this check)");
        }
        return r.left();
    }

    /** The registry's own answer in an exception: from the HTTP status on, else the whole message. */
    static String answer(AirlockException e) {
        String m = e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage();
        Matcher x = STATUS.matcher(m);
        return x.find() ? x.group(1) : m;
    }

    private static final class Run {
        final RegistryStore reg;
        final TargetMapping mapping;
        final RegistryOptions options;
        final Optional<BundleNeeds> needs;
        final ProbeContent content = new ProbeContent();
        final String scratch;
        final Map<String, Check> checks = new LinkedHashMap<>();
        final List<Digest> pushedManifests = new ArrayList<>();
        final Map<String, Set<Digest>> pushedBlobs = new LinkedHashMap<>();
        final Map<String, String> refusedNames = new LinkedHashMap<>();
        boolean stopped;

        Run(RegistryStore reg, TargetMapping mapping, RegistryOptions options, Optional<BundleNeeds> needs) {
            this.reg = reg;
            this.mapping = mapping;
            this.options = options;
            this.needs = needs;
            this.scratch = (mapping.prefix().isEmpty() ? "" : mapping.prefix() + "/") + SCRATCH;
        }

        PreflightResult full() {
            Set<MediaType> types = needs.map(BundleNeeds::manifestTypes).orElse(Set.of(MediaType.OCI_MANIFEST, MediaType.DOCKER_MANIFEST,
                    MediaType.OCI_INDEX, MediaType.DOCKER_MANIFEST_LIST));
            boolean artifactNeeded = needs.map(n -> n.images().stream().anyMatch(BundleNeeds.Image::artifacts)).orElse(false);
            reachable();
            tls();
            auth();
            if (!stopped) {
                push(List.of(scratch));
            }
            if (!stopped && needs.isPresent()) {
                names();
            }
            if (!stopped) {
                blobs();
            }
            List<String> left;
            try {
                if (!stopped) {
                    manifests(types, artifactNeeded, true);
                    referrers();
                    mount();
                    chunked();
                    depths();
                }
            } finally {
                left = cleanUp();
            }
            return result(left);
        }

        PreflightResult cheap() {
            reachable();
            auth();
            if (!stopped) {
                Set<String> repos = new LinkedHashSet<>();
                needs.orElseThrow().images().forEach(i -> i.target().ifPresent(t -> repos.add(t.repository())));
                push(List.copyOf(repos));
            }
            List<String> left = List.of();
            if (!stopped) {
                blobs();
                try {
                    if (!stopped) {
                        boolean artifactNeeded = needs.orElseThrow().images().stream().anyMatch(BundleNeeds.Image::artifacts);
                        manifests(needs.orElseThrow().manifestTypes(), artifactNeeded, false);
                    }
                } finally {
                    left = cleanUp();
                }
            }
            return result(left);
        }

        private void add(Check c) {
            checks.put(c.capability(), c);
        }

        private void reachable() {
            try {
                RegistryStore.ApiProbe p = reg.probeApi();
                String a = "GET " + reg.baseUri() + "v2/ → " + p.status() + (p.apiVersion().isEmpty() ? "" : " (" + p.apiVersion() + ")");
                if (p.status() == 200 || p.status() == 401) {
                    add(Check.yes(REACHABLE, true, a));
                    probe = p;
                } else {
                    add(Check.no(REACHABLE, true, a + ": not an OCI distribution API"));
                    stopped = true;
                }
            } catch (RegistryException e) {
                add(Check.no(REACHABLE, true, answer(e)));
                stopped = true;
            }
        }

        private RegistryStore.ApiProbe probe;

        private void tls() {
            if (stopped && probe == null && reg.baseUri().getScheme().equals("https")) {
                add(Check.no(TLS, false, "not established (see reachable)"));
                return;
            }
            if (reg.baseUri().getScheme().equals("http")) {
                add(Check.yes(TLS, false, "plain HTTP (no TLS)"));
            } else if (options != null && options.tls().insecure()) {
                add(Check.yes(TLS, false, "insecure: certificate not verified (--insecure)"));
            } else {
                add(Check.yes(TLS, false, "verified"));
            }
        }

        private void auth() {
            if (stopped) {
                return;
            }
            String kind = probe.status() == 200 ? "anonymous" : probe.challenge().equals("bearer") ? "token"
                    : probe.challenge().isEmpty() ? "unknown (401 without a challenge)" : probe.challenge();
            try {
                reg.checkLogin();
                add(Check.yes(AUTH, true, kind + (kind.equals("anonymous") ? ": no credentials needed" : ": credentials accepted")));
            } catch (RegistryException e) {
                add(Check.no(AUTH, true, kind + ": " + answer(e)));
                stopped = true;
            }
        }

        private String pushName() {
            return "push under " + (mapping.prefix().isEmpty() ? mapping.registry() : mapping.prefix());
        }

        private void push(List<String> repositories) {
            for (String repo : repositories) {
                try {
                    reg.checkPush(repo);
                } catch (RegistryException e) {
                    add(Check.no(pushName(), true, repo + ": " + answer(e)));
                    stopped = true;
                    return;
                }
            }
            add(Check.yes(pushName(), true, repositories.size() == 1 ? "upload session opened and cancelled in " + repositories.get(0)
                    : "upload sessions opened and cancelled in " + repositories.size() + " repositories"));
        }

        /** With a bundle: an upload session opened and cancelled in every target repository (Harbor, for one, refuses unknown projects). */
        private void names() {
            Set<String> repos = new LinkedHashSet<>();
            needs.get().images().forEach(i -> i.target().ifPresent(t -> repos.add(t.repository())));
            int refused = 0;
            String first = "";
            for (String repo : repos) {
                try {
                    reg.checkPush(repo);
                } catch (RegistryException e) {
                    refusedNames.put(repo, answer(e));
                    if (refused++ == 0) {
                        first = repo + ": " + answer(e);
                    }
                }
            }
            add(refused == 0 ? Check.yes(NAMES, true, "upload sessions opened and cancelled in all " + repos.size() + " target repositories")
                    : Check.no(NAMES, true, refused + " of " + repos.size() + " refused, first " + first));
        }

        private void pushBlob(String repo, Descriptor d, byte[] bytes) {
            reg.pushBlob(repo, d, () -> new ByteArrayInputStream(bytes));
            pushedBlobs.computeIfAbsent(repo, r -> new LinkedHashSet<>()).add(d.digest());
        }

        private void blobs() {
            try {
                pushBlob(scratch, content.layerDescriptor(), content.layer);
                pushBlob(scratch, content.configDescriptor(), content.config);
                pushBlob(scratch, content.emptyDescriptor(), content.empty);
                add(Check.yes(BLOBS, true, "3 blobs (" + (content.layer.length + content.config.length + content.empty.length) + " bytes) in " + scratch));
            } catch (RegistryException e) {
                add(Check.no(BLOBS, true, answer(e)));
                stopped = true;
            }
        }

        private boolean manifest(String name, boolean required, RawManifest m) {
            try {
                reg.pushManifest(scratch, m.digest().toString(), m);
                pushedManifests.add(m.digest());
                add(Check.yes(name, required, "accepted"));
                return true;
            } catch (RegistryException e) {
                add(Check.no(name, required, answer(e)));
                return false;
            }
        }

        private void manifests(Set<MediaType> types, boolean artifactNeeded, boolean all) {
            boolean oci = types.contains(MediaType.OCI_MANIFEST) || types.contains(MediaType.OCI_INDEX) || artifactNeeded;
            boolean docker = types.contains(MediaType.DOCKER_MANIFEST) || types.contains(MediaType.DOCKER_MANIFEST_LIST);
            boolean ociOk = false;
            boolean dockerOk = false;
            if (oci || all) {
                ociOk = manifest(OCI_MANIFEST, oci, content.ociManifest);
            }
            if (docker || all) {
                dockerOk = manifest(DOCKER_MANIFEST, docker, content.dockerManifest);
            }
            if (types.contains(MediaType.OCI_INDEX) || all) {
                if (ociOk) {
                    manifest(OCI_INDEX, types.contains(MediaType.OCI_INDEX), content.ociIndex);
                } else {
                    add(Check.no(OCI_INDEX, types.contains(MediaType.OCI_INDEX), "not checked: its OCI manifest was refused"));
                }
            }
            if (types.contains(MediaType.DOCKER_MANIFEST_LIST) || all) {
                if (dockerOk) {
                    manifest(DOCKER_LIST, types.contains(MediaType.DOCKER_MANIFEST_LIST), content.dockerList);
                } else {
                    add(Check.no(DOCKER_LIST, types.contains(MediaType.DOCKER_MANIFEST_LIST), "not checked: its Docker manifest was refused"));
                }
            }
            if (artifactNeeded || all) {
                if (ociOk) {
                    if (manifest(ARTIFACT, artifactNeeded, content.artifact)) {
                        add(Check.yes(ARTIFACT, artifactNeeded, "accepted (artifactType, empty config, subject)"));
                    }
                } else {
                    add(Check.no(ARTIFACT, artifactNeeded, "not checked: its subject (an OCI manifest) was refused"));
                }
            }
        }

        private void referrers() {
            try {
                boolean api = reg.hasReferrersApi(scratch, content.ociManifest.digest());
                add(api ? Check.yes(REFERRERS, false, "GET …/referrers/<digest> answers an OCI index")
                        : Check.no(REFERRERS, false, "tag fallback (GET …/referrers/<digest> is not served)"));
            } catch (RegistryException e) {
                add(Check.no(REFERRERS, false, "tag fallback (" + answer(e) + ")"));
            }
        }

        private void mount() {
            String into = scratch + "-mount";
            try {
                if (reg.mountBlob(into, content.layerDescriptor(), scratch)) {
                    pushedBlobs.computeIfAbsent(into, r -> new LinkedHashSet<>()).add(content.layerDescriptor().digest());
                    add(Check.yes(MOUNT, false, "mounted " + scratch + " → " + into + " (201)"));
                } else {
                    add(Check.no(MOUNT, false, "the registry started an upload instead (blobs are uploaded again per repository)"));
                }
            } catch (RegistryException e) {
                add(Check.no(MOUNT, false, answer(e)));
            }
        }

        private void chunked() {
            long threshold = options.transport().chunkedUploadThreshold();
            boolean required = needs.map(n -> n.images().stream().anyMatch(i -> i.largestBlob() >= threshold)).orElse(true);
            int chunk = (content.chunked.length + 2) / 3;
            RegistryOptions o = options.withTransport(options.transport().withChunking(1, chunk));
            try (RegistryStore chunking = RegistryStore.open(mapping.registry(), o)) {
                chunking.pushBlob(scratch, content.chunkedDescriptor(), () -> new ByteArrayInputStream(content.chunked));
                pushedBlobs.computeIfAbsent(scratch, r -> new LinkedHashSet<>()).add(content.chunkedDescriptor().digest());
                add(Check.yes(CHUNKED, required, "POST, 3 PATCH chunks, PUT accepted"));
            } catch (RegistryException e) {
                add(Check.no(CHUNKED, required, answer(e)));
            }
        }

        private void depths() {
            int scratchDepth = scratch.split("/").length;
            TreeSet<Integer> wanted = new TreeSet<>();
            if (needs.isPresent()) {
                needs.get().images().forEach(i -> {
                    if (i.depth() > 0) {
                        wanted.add(i.depth());
                    }
                });
            } else {
                wanted.add((mapping.prefix().isEmpty() ? 0 : mapping.prefix().split("/").length) + 2);
            }
            for (int d : wanted) {
                String name = "repository depth " + d;
                if (d <= scratchDepth) {
                    add(Check.yes(name, true, "as deep as " + scratch));
                    continue;
                }
                String repo = scratch + "/d".repeat(d - scratchDepth);
                try {
                    pushBlob(repo, content.layerDescriptor(), content.layer);
                    add(Check.yes(name, true, "blob uploaded to " + repo));
                } catch (RegistryException e) {
                    add(Check.no(name, true, repo + ": " + answer(e)));
                }
            }
        }

        /** Deletes manifests (newest first), then blobs; returns one line per repository where something stayed. */
        private List<String> cleanUp() {
            List<String> left = new ArrayList<>();
            int manifestsLeft = 0;
            String manifestAnswer = "";
            for (int i = pushedManifests.size() - 1; i >= 0; i--) {
                try {
                    reg.deleteManifest(scratch, pushedManifests.get(i));
                } catch (RegistryException e) {
                    manifestsLeft++;
                    manifestAnswer = answer(e);
                }
            }
            Map<String, String> blobAnswers = new LinkedHashMap<>();
            Map<String, Integer> blobsLeft = new LinkedHashMap<>();
            pushedBlobs.forEach((repo, digests) -> {
                for (Digest d : digests) {
                    try {
                        reg.deleteBlob(repo, d);
                    } catch (RegistryException e) {
                        blobsLeft.merge(repo, 1, Integer::sum);
                        blobAnswers.put(repo, answer(e));
                    }
                }
            });
            if (manifestsLeft > 0) {
                left.add(scratch + ": " + manifestsLeft + " manifest(s), untagged (DELETE refused: " + manifestAnswer + ")");
            }
            blobsLeft.forEach((repo, n) -> left.add(repo + ": " + n + " blob(s) (DELETE refused: " + blobAnswers.get(repo) + ")"));
            return left;
        }

        private PreflightResult result(List<String> left) {
            List<Check> list = List.copyOf(checks.values());
            boolean globalBlock = list.stream().anyMatch(c -> c.blocks() && (c.capability().equals(REACHABLE) || c.capability().equals(AUTH)
                    || c.capability().equals(pushName()) || c.capability().equals(BLOBS)));
            List<ImageVerdict> verdicts = new ArrayList<>();
            if (needs.isPresent()) {
                for (BundleNeeds.Image img : needs.get().images()) {
                    verdicts.add(verdict(img, list, globalBlock));
                }
            }
            boolean importable = !globalBlock && (needs.isPresent() ? verdicts.stream().allMatch(ImageVerdict::ok)
                    : list.stream().noneMatch(Check::blocks));
            return new PreflightResult(mapping.toString(), scratch, list, verdicts, left, importable);
        }

        private ImageVerdict verdict(BundleNeeds.Image img, List<Check> list, boolean globalBlock) {
            List<String> problems = new ArrayList<>();
            if (globalBlock) {
                list.stream().filter(Check::blocks).findFirst().ifPresent(c -> problems.add(c.capability() + ": no"));
            }
            if (img.target().isEmpty()) {
                problems.add(img.nameProblem());
            } else if (refusedNames.containsKey(img.target().get().repository())) {
                problems.add("push to " + img.target().get().repository() + " refused: " + refusedNames.get(img.target().get().repository()));
            }
            Map<MediaType, String> byType = Map.of(MediaType.OCI_MANIFEST, OCI_MANIFEST, MediaType.DOCKER_MANIFEST, DOCKER_MANIFEST,
                    MediaType.OCI_INDEX, OCI_INDEX, MediaType.DOCKER_MANIFEST_LIST, DOCKER_LIST);
            for (MediaType t : new TreeSet<>(img.manifestTypes().stream().map(MediaType::value).toList()).stream().map(MediaType::of).toList()) {
                refused(byType.get(t), problems);
            }
            if (img.artifacts()) {
                refused(ARTIFACT, problems);
            }
            if (options != null && img.largestBlob() >= options.transport().chunkedUploadThreshold()) {
                refused(CHUNKED, problems);
            }
            if (img.depth() > 0) {
                refused("repository depth " + img.depth(), problems);
            }
            return new ImageVerdict(img.source().toString(), img.target().map(ImageReference::toString).orElse(""), problems);
        }

        private void refused(String capability, List<String> problems) {
            Check c = capability == null ? null : checks.get(capability);
            if (c != null && !c.yes()) {
                problems.add(capability + " refused: " + c.answer());
            }
        }
    }
}
