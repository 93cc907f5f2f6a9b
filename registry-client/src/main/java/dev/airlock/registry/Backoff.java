package dev.airlock.registry;

import java.time.Duration;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.util.Optional;
import java.util.concurrent.ThreadLocalRandom;

/** Exponential backoff with jitter, honouring a Retry-After answer. */
final class Backoff {
    private Backoff() {
    }

    /** How long to wait after failed attempt number {@code attempt} (1-based). */
    static Duration delay(TransportOptions t, int attempt, Optional<String> retryAfter) {
        Duration max = t.maxBackoff();
        Optional<Duration> server = retryAfter.flatMap(Backoff::parseRetryAfter);
        if (server.isPresent()) {
            return server.get().compareTo(max) > 0 ? max : server.get();
        }
        long base = t.initialBackoff().toMillis();
        long ms = base * (1L << Math.min(attempt - 1, 20));
        ms = Math.min(ms, max.toMillis());
        long jitter = ms <= 1 ? 0 : ThreadLocalRandom.current().nextLong(ms / 4 + 1);
        return Duration.ofMillis(Math.min(ms + jitter, max.toMillis()));
    }

    static void sleep(TransportOptions t, int attempt, Optional<String> retryAfter) {
        try {
            Thread.sleep(delay(t, attempt, retryAfter).toMillis());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** Retry-After as delta-seconds or an HTTP date. */
    static Optional<Duration> parseRetryAfter(String value) {
        String v = value.trim();
        try {
            long s = Long.parseLong(v);
            return s < 0 ? Optional.empty() : Optional.of(Duration.ofSeconds(s));
        } catch (NumberFormatException e) {
            try {
                ZonedDateTime when = ZonedDateTime.parse(v, DateTimeFormatter.RFC_1123_DATE_TIME);
                Duration d = Duration.between(ZonedDateTime.now(when.getZone()), when);
                return Optional.of(d.isNegative() ? Duration.ZERO : d);
            } catch (RuntimeException e2) {
                return Optional.empty();
            }
        }
    }
}
