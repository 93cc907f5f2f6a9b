package dev.airlock.cli;

import dev.airlock.error.UsageException;
import dev.airlock.model.Platform;
import java.util.ArrayList;
import java.util.List;
import picocli.CommandLine.ITypeConverter;
import picocli.CommandLine.Option;
import picocli.CommandLine.TypeConversionException;

/** {@code --platform OS/ARCH[/VARIANT]} (repeatable): the platforms to carry; none given means all. */
public final class PlatformOptions {

    @Option(names = "--platform", paramLabel = "OS/ARCH[/VARIANT]", converter = PlatformConverter.class,
            description = "Only this platform of multi-arch images (repeatable), e.g. linux/amd64, linux/arm64, "
                    + "linux/arm/v7. Default: every platform.")
    List<Platform> platforms = new ArrayList<>();

    /** The platforms asked for, in order; empty means every platform. */
    public List<Platform> platforms() {
        return List.copyOf(platforms);
    }

    /** Parses with {@link Platform#parse}; its message becomes picocli's usage error. */
    public static final class PlatformConverter implements ITypeConverter<Platform> {
        @Override
        public Platform convert(String value) {
            try {
                return Platform.parse(value);
            } catch (UsageException e) {
                throw new TypeConversionException(e.getMessage());
            }
        }
    }
}
