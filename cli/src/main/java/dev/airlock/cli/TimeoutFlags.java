package dev.airlock.cli;

import dev.airlock.registry.TransportOptions;
import java.time.Duration;
import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import picocli.CommandLine.ITypeConverter;
import picocli.CommandLine.Option;
import picocli.CommandLine.TypeConversionException;

/**
 * The three timeouts of every registry request ({@link TransportOptions}), part of the registry
 * options of export, import and sync. A value is a number of seconds, or a number with {@code ms},
 * {@code s}, {@code m} or {@code h}.
 */
final class TimeoutFlags {
    @Option(names = "--timeout-connect", paramLabel = "TIME", converter = DurationConverter.class,
            description = "Give up connecting to a registry after TIME (default 30s); e.g. 10s, 500ms, 2m.")
    Duration connect;

    @Option(names = "--timeout-response", paramLabel = "TIME", converter = DurationConverter.class,
            description = "Give up when a registry has not started its answer TIME after the request was sent (default 120s).")
    Duration response;

    @Option(names = "--timeout-idle", paramLabel = "TIME", converter = DurationConverter.class,
            description = "Give up when no byte of an upload or download moved for TIME (default 120s); slow transfers are never cut.")
    Duration idle;

    /** {@code base} with the timeouts given on the command line. */
    TransportOptions apply(TransportOptions base) {
        return base.withTimeouts(connect == null ? base.connectTimeout() : connect,
                response == null ? base.responseTimeout() : response, idle == null ? base.idleTimeout() : idle);
    }

    /** "30", "30s", "500ms", "2m", "1h" → a positive Duration. */
    static final class DurationConverter implements ITypeConverter<Duration> {
        private static final Pattern VALUE = Pattern.compile("([0-9]{1,9})(ms|s|m|h)?");

        @Override
        public Duration convert(String value) {
            Matcher m = VALUE.matcher(value.trim().toLowerCase(Locale.ROOT));
            if (!m.matches()) {
                throw new TypeConversionException("'" + value + "' is not a time: give seconds or a number with ms, s, m or h, e.g. 30s");
            }
            long n = Long.parseLong(m.group(1));
            String unit = m.group(2) == null ? "s" : m.group(2);
            Duration d = switch (unit) {
                case "ms" -> Duration.ofMillis(n);
                case "m" -> Duration.ofMinutes(n);
                case "h" -> Duration.ofHours(n);
                default -> Duration.ofSeconds(n);
            };
            if (d.isZero()) {
                throw new TypeConversionException("'" + value + "': a timeout must be longer than 0");
            }
            return d;
        }
    }
}
