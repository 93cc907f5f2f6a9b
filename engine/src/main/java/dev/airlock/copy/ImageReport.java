package dev.airlock.copy;

import dev.airlock.model.Digest;
import dev.airlock.model.ImageReference;
import dev.airlock.model.Platform;
import java.util.List;
import java.util.Objects;
import java.util.Optional;

/**
 * What happened to one image in an import or a sync, for the per-image line and for
 * {@code --report}.
 *
 * @param source        the source reference (the bundle's, or the one synced from)
 * @param target        where it went (or would go), with the tag; digest not included
 * @param digest        the top-level digest written at the target (equal to the source's, or
 *                      the rewritten index's with a platform filter); empty when not resolved
 * @param platforms     the platforms carried
 * @param status        {@link Status}
 * @param detail        the failure's one-line message when failed; the dry-run summary when planned
 * @param bytesUploaded blob bytes sent to the target
 * @param bytesSkipped  blob bytes already present at the target
 * @param bytesMounted  blob bytes mounted from another repository of the target
 * @param blobsToPush   dry run: blobs the target lacks (else 0)
 * @param seconds       wall time for this image
 * @param artifacts     attached artifacts (signatures, attestations, SBOMs) carried with it
 * @param artifactNotes one line per artifact not carried, or carried without its subject
 */
public record ImageReport(ImageReference source, ImageReference target, Optional<Digest> digest, List<Platform> platforms,
                          Status status, Optional<String> detail, long bytesUploaded, long bytesSkipped, long bytesMounted,
                          int blobsToPush, double seconds, int artifacts, List<String> artifactNotes) {
    /** Outcome of one image. */
    public enum Status {
        /** Every blob and manifest is at the target and the tag points at it. */
        OK,
        /** Something failed; no tag was moved for this image. */
        FAILED,
        /** Dry run: nothing written. */
        PLANNED,
        /** Not attempted (--fail-fast after an earlier failure), or not tagged: an import tags only when every image arrived. */
        NOT_ATTEMPTED,
        /**
         * A volume's image: this volume's part is at the target, but items in other volumes are
         * not yet; not tagged (no failure). Importing the volumes it waits for completes it.
         */
        WAITING
    }

    public ImageReport {
        Objects.requireNonNull(source, "source");
        Objects.requireNonNull(target, "target");
        digest = digest == null ? Optional.empty() : digest;
        platforms = List.copyOf(platforms);
        detail = detail == null ? Optional.empty() : detail;
        artifactNotes = artifactNotes == null ? List.of() : List.copyOf(artifactNotes);
    }

    /** A report without artifacts. */
    public ImageReport(ImageReference source, ImageReference target, Optional<Digest> digest, List<Platform> platforms,
                       Status status, Optional<String> detail, long bytesUploaded, long bytesSkipped, long bytesMounted,
                       int blobsToPush, double seconds) {
        this(source, target, digest, platforms, status, detail, bytesUploaded, bytesSkipped, bytesMounted, blobsToPush, seconds, 0, List.of());
    }

    /** The same report with its artifact count and notes. */
    public ImageReport withArtifacts(int count, List<String> notes) {
        return new ImageReport(source, target, digest, platforms, status, detail, bytesUploaded, bytesSkipped, bytesMounted,
                blobsToPush, seconds, count, notes);
    }

    public boolean ok() {
        return status == Status.OK || status == Status.PLANNED;
    }

    /** The target reference pinned to the digest written, e.g. {@code reg:5000/m/app:1.0@sha256:…}. */
    public ImageReference pinnedTarget() {
        return digest.map(target::withDigest).orElse(target);
    }
}
