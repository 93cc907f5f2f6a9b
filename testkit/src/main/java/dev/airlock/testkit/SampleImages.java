package dev.airlock.testkit;

import dev.airlock.layout.DirectoryStore;
import dev.airlock.testkit.TestImages.TestImage;
import java.nio.file.Path;
import java.util.List;

/**
 * Writes a small multi-arch sample image set into an OCI layout directory, for the demo
 * ({@code demo/run.sh} copies it into a registry with {@code skopeo copy --all --preserve-digests}).
 * Prints one line per image: {@code REF_NAME DIGEST PLATFORMS}.
 *
 * <pre>java -cp cli/target/airlock.jar:testkit/target/classes dev.airlock.testkit.SampleImages DIR</pre>
 */
public final class SampleImages {
    private SampleImages() {
    }

    /** The demo set: OCI indexes (one with attestations) and a single-platform image, sharing base layers. */
    public static List<TestImage> images() {
        return List.of(
                TestImages.image("web").oci().tag("1.0").platforms("linux/amd64", "linux/arm64/v8", "linux/arm/v7", "linux/arm/v5")
                        .attestation().baseSeed(1).layerSize(512 * 1024).ownLayers(2).build(),
                TestImages.image("api").oci().tag("2.1").platforms("linux/amd64", "linux/arm64/v8")
                        .baseSeed(1).layerSize(256 * 1024).build(),
                TestImages.image("pause").oci().tag("3.9").platforms("linux/amd64", "linux/arm64/v8", "linux/arm/v7", "linux/s390x")
                        .baseSeed(2).layerSize(64 * 1024).build(),
                TestImages.image("tool").oci().tag("0.3").singlePlatform("linux/arm64").baseSeed(2).layerSize(128 * 1024).build());
    }

    public static void main(String[] args) {
        if (args.length != 1) {
            System.err.println("usage: SampleImages OUTPUT_DIR");
            System.exit(2);
        }
        DirectoryStore layout = DirectoryStore.open(Path.of(args[0]));
        for (TestImage img : images()) {
            String repo = "demo/" + img.name();
            img.pushTo(layout, repo);
            StringBuilder platforms = new StringBuilder();
            img.platforms().forEach(p -> platforms.append(platforms.length() == 0 ? "" : ",").append(p.platform()));
            System.out.println(repo + ":" + img.tag() + " " + img.top().digest() + " " + platforms);
        }
    }
}
