package dev.airlock.export;

import dev.airlock.copy.CopyOptions;
import dev.airlock.copy.SourceImage;
import dev.airlock.error.UsageException;
import dev.airlock.model.Platform;
import dev.airlock.progress.ProgressListener;
import dev.airlock.sign.Signer;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import dev.airlock.sign.TrustPolicy;
import java.util.Optional;

/**
 * What to export and how. Build one with {@link #to(Path)}:
 * <pre>{@code
 * ExportRequest r = ExportRequest.to(Path.of("k3s.tar")).references(List.of("rancher/pause:3.6"))
 *         .imageLists(List.of(Path.of("k3s-images.txt"))).platforms(List.of(Platform.parse("linux/arm64")));
 * }</pre>
 *
 * @param references image references as typed (normalised like docker's)
 * @param imageLists files with one reference per line ({@link dev.airlock.model.ImageList})
 * @param sources    images from other, already opened sources (e.g. {@code docker save} archives),
 *                   planned and written together with the references; the caller keeps their
 *                   stores open until {@link Exporter#export} returns and closes them afterwards
 * @param platforms  platforms to keep; empty keeps all (and every attestation)
 * @param output     the bundle file; {@code .zst} at the end also asks for compression
 * @param cacheDir   a long-lived content-addressed blob cache (an OCI layout directory): blobs found
 *                   there are not fetched, blobs fetched are added to it. Empty: none; a {@code .tar}
 *                   bundle is then fetched straight into place (an interrupted export resumes from
 *                   its partial file), and a {@code .tar.zst} bundle or volumes stage their blobs in
 *                   {@link CacheDirectory#defaultDirectory()}
 * @param jobs       parallel blob transfers
 * @param signer     signs bundle.json; empty writes an unsigned bundle (with a warning)
 * @param compress   zstd-compress the bundle
 * @param progress   receives progress of each phase
 * @param referrers  which attached artifacts (signatures, attestations, SBOMs) travel with each image
 * @param since      receipts of the target ({@code --since}): write a delta leaving out what they
 *                   say the target holds; empty writes a full bundle
 * @param receiptTrust whose receipt signatures are accepted (checked before planning)
 */
public record ExportRequest(List<String> references, List<Path> imageLists, List<SourceImage> sources, List<Platform> platforms, Path output,
                            Optional<Path> cacheDir, int jobs, Optional<Signer> signer, boolean compress, ProgressListener progress,
                            dev.airlock.copy.ReferrerOptions referrers, List<Path> since, TrustPolicy receiptTrust) {
    public ExportRequest {
        since = List.copyOf(since);
        Objects.requireNonNull(receiptTrust, "receiptTrust");
        references = List.copyOf(references);
        imageLists = List.copyOf(imageLists);
        sources = List.copyOf(sources);
        platforms = List.copyOf(platforms);
        Objects.requireNonNull(output, "output");
        cacheDir = cacheDir == null ? Optional.empty() : cacheDir;
        Objects.requireNonNull(progress, "progress");
        referrers = referrers == null ? dev.airlock.copy.ReferrerOptions.ALL : referrers;
        signer = signer == null ? Optional.empty() : signer;
        if (jobs < 1 || jobs > 256) {
            throw new UsageException("jobs must be between 1 and 256, got " + jobs);
        }
    }

    /** A request writing {@code output}: no images yet, all platforms, no long-lived cache, default jobs, no progress. */
    public static ExportRequest to(Path output) {
        return new ExportRequest(List.of(), List.of(), List.of(), List.of(), output, Optional.empty(),
                CopyOptions.defaultJobs(), Optional.empty(), false, ProgressListener.NONE, dev.airlock.copy.ReferrerOptions.ALL,
                List.of(), TrustPolicy.allowUnsignedOnly());
    }

    public ExportRequest references(List<String> refs) {
        return new ExportRequest(refs, imageLists, sources, platforms, output, cacheDir, jobs, signer, compress, progress, referrers, since, receiptTrust);
    }

    public ExportRequest imageLists(List<Path> files) {
        return new ExportRequest(references, files, sources, platforms, output, cacheDir, jobs, signer, compress, progress, referrers, since, receiptTrust);
    }

    public ExportRequest sources(List<SourceImage> images) {
        return new ExportRequest(references, imageLists, images, platforms, output, cacheDir, jobs, signer, compress, progress, referrers, since, receiptTrust);
    }

    public ExportRequest platforms(List<Platform> keep) {
        return new ExportRequest(references, imageLists, sources, keep, output, cacheDir, jobs, signer, compress, progress, referrers, since, receiptTrust);
    }

    public ExportRequest cacheDir(Path dir) {
        return new ExportRequest(references, imageLists, sources, platforms, output, Optional.of(dir), jobs, signer, compress, progress, referrers, since, receiptTrust);
    }

    public ExportRequest jobs(int n) {
        return new ExportRequest(references, imageLists, sources, platforms, output, cacheDir, n, signer, compress, progress, referrers, since, receiptTrust);
    }

    public ExportRequest signer(Optional<Signer> s) {
        return new ExportRequest(references, imageLists, sources, platforms, output, cacheDir, jobs, s, compress, progress, referrers, since, receiptTrust);
    }

    public ExportRequest compress(boolean on) {
        return new ExportRequest(references, imageLists, sources, platforms, output, cacheDir, jobs, signer, on, progress, referrers, since, receiptTrust);
    }

    public ExportRequest progress(ProgressListener p) {
        return new ExportRequest(references, imageLists, sources, platforms, output, cacheDir, jobs, signer, compress, p, referrers, since, receiptTrust);
    }

    public ExportRequest referrers(dev.airlock.copy.ReferrerOptions r) {
        return new ExportRequest(references, imageLists, sources, platforms, output, cacheDir, jobs, signer, compress, progress, r, since, receiptTrust);
    }

    /** Writes a delta against these receipts, whose signatures must satisfy {@code trust}. */
    public ExportRequest since(List<Path> receipts, TrustPolicy trust) {
        return new ExportRequest(references, imageLists, sources, platforms, output, cacheDir, jobs, signer, compress, progress, referrers, receipts, trust);
    }

    /** Platforms with duplicates removed (after normalisation), in the order given. */
    List<Platform> distinctPlatforms() {
        List<Platform> out = new ArrayList<>();
        for (Platform p : platforms) {
            if (out.stream().noneMatch(q -> q.matches(p))) {
                out.add(p);
            }
        }
        return out;
    }
}
