package dev.airlock.cli;

import dev.airlock.copy.ReferrerOptions;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

/** {@code --referrers all|none|required} and {@code --artifact-type T}: which attached artifacts travel with the images. */
public final class ReferrerFlags {
    @Spec(Spec.Target.MIXEE)
    CommandSpec mixee;

    private ReferrerOptions.Mode mode = ReferrerOptions.Mode.ALL;

    @Option(names = "--artifact-type", paramLabel = "TYPE",
            description = "Carry only attached artifacts of this type (artifactType, else config or first layer media type), "
                    + "e.g. application/vnd.dev.cosign.simplesigning.v1+json. Repeatable.")
    List<String> artifactTypes = new ArrayList<>();

    @Option(names = "--referrers", paramLabel = "MODE", defaultValue = "all",
            description = "Signatures, attestations and SBOMs attached to the images (OCI referrers, cosign tags): all (default; "
                    + "one that cannot be read is a warning), none, or required (one that cannot be read fails before any layer moves).")
    void setMode(String value) {
        try {
            mode = ReferrerOptions.Mode.valueOf(value.toUpperCase(Locale.ROOT));
        } catch (IllegalArgumentException e) {
            throw new ParameterException(mixee.commandLine(), "--referrers must be all, none or required, not '" + value + "'");
        }
    }

    public ReferrerOptions options() {
        if (mode == ReferrerOptions.Mode.NONE && !artifactTypes.isEmpty()) {
            throw new ParameterException(mixee.commandLine(), "--artifact-type has no effect with --referrers none");
        }
        return new ReferrerOptions(mode, Set.copyOf(artifactTypes));
    }
}
