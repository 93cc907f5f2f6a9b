package dev.airlock.registry;

import java.time.Duration;

/**
 * Connection behaviour towards one registry.
 *
 * @param maxAttempts             attempts per request including the first (connection resets, timeouts,
 *                                429, 5xx); at least 1
 * @param initialBackoff          wait before the first retry; doubled each time (with jitter), capped at
 *                                {@code maxBackoff}; a {@code Retry-After} answer is honoured up to {@code maxBackoff}
 * @param maxBackoff              longest wait between two attempts
 * @param connectTimeout          TCP + TLS connect timeout
 * @param readTimeout             longest wait for response headers or for the next bytes of a body
 * @param maxConcurrentRequests   requests in flight to this registry at once (an open blob stream counts)
 * @param chunkedUploadThreshold  blobs of this size or larger are uploaded in PATCH chunks, smaller ones
 *                                in one PUT
 * @param chunkSize               size of one PATCH chunk
 */
public record TransportOptions(int maxAttempts, Duration initialBackoff, Duration maxBackoff, Duration connectTimeout,
                               Duration readTimeout, int maxConcurrentRequests, long chunkedUploadThreshold,
                               long chunkSize) {
    public TransportOptions {
        if (maxAttempts < 1) {
            throw new IllegalArgumentException("maxAttempts must be at least 1");
        }
        if (maxConcurrentRequests < 1) {
            throw new IllegalArgumentException("maxConcurrentRequests must be at least 1");
        }
        if (chunkSize < 1 || chunkedUploadThreshold < 0) {
            throw new IllegalArgumentException("chunkSize must be positive and chunkedUploadThreshold not negative");
        }
        if (initialBackoff.isNegative() || maxBackoff.isNegative() || connectTimeout.isNegative() || connectTimeout.isZero()
                || readTimeout.isNegative() || readTimeout.isZero()) {
            throw new IllegalArgumentException("timeouts must be positive");
        }
    }

    /** 5 attempts, 0.5 s..15 s backoff, 30 s connect, 120 s read, 8 concurrent requests, chunks of 16 MiB above 64 MiB. */
    public static TransportOptions defaults() {
        return new TransportOptions(5, Duration.ofMillis(500), Duration.ofSeconds(15), Duration.ofSeconds(30),
                Duration.ofSeconds(120), 8, 64L << 20, 16L << 20);
    }

    public TransportOptions withMaxAttempts(int n) {
        return new TransportOptions(n, initialBackoff, maxBackoff, connectTimeout, readTimeout, maxConcurrentRequests, chunkedUploadThreshold, chunkSize);
    }

    public TransportOptions withBackoff(Duration initial, Duration max) {
        return new TransportOptions(maxAttempts, initial, max, connectTimeout, readTimeout, maxConcurrentRequests, chunkedUploadThreshold, chunkSize);
    }

    public TransportOptions withTimeouts(Duration connect, Duration read) {
        return new TransportOptions(maxAttempts, initialBackoff, maxBackoff, connect, read, maxConcurrentRequests, chunkedUploadThreshold, chunkSize);
    }

    public TransportOptions withMaxConcurrentRequests(int n) {
        return new TransportOptions(maxAttempts, initialBackoff, maxBackoff, connectTimeout, readTimeout, n, chunkedUploadThreshold, chunkSize);
    }

    /** Blobs of {@code threshold} bytes or more go up in chunks of {@code chunk} bytes. */
    public TransportOptions withChunking(long threshold, long chunk) {
        return new TransportOptions(maxAttempts, initialBackoff, maxBackoff, connectTimeout, readTimeout, maxConcurrentRequests, threshold, chunk);
    }
}
