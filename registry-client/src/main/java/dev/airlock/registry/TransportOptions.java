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
 * @param connectTimeout          longest wait for a TCP connection to be established (CLI {@code --timeout-connect})
 * @param responseTimeout         longest wait for the response headers, counted from the moment the request
 *                                (with its whole body) was handed to the connection, or from the start of the
 *                                exchange for a request without a body: covers a TLS handshake or a request the
 *                                server never answers (CLI {@code --timeout-response})
 * @param idleTimeout             longest time without a single byte moving while a body is sent or received:
 *                                a registry that stops reading an upload or stops sending a download; a slow
 *                                but moving transfer is never cut (CLI {@code --timeout-idle})
 * @param maxConcurrentRequests   requests in flight to this registry at once (an open blob stream counts)
 * @param chunkedUploadThreshold  blobs of this size or larger are uploaded in PATCH chunks, smaller ones
 *                                in one PUT
 * @param chunkSize               size of one PATCH chunk
 * @param rangedDownloadThreshold blobs of this size or larger are fetched into a file as several ranged GETs
 *                                at once (when the caller allows more than one), smaller ones as one stream
 * @param rangeSize               bytes asked for by one ranged GET
 */
public record TransportOptions(int maxAttempts, Duration initialBackoff, Duration maxBackoff, Duration connectTimeout,
                               Duration responseTimeout, Duration idleTimeout, int maxConcurrentRequests, long chunkedUploadThreshold,
                               long chunkSize, long rangedDownloadThreshold, long rangeSize) {
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
        if (rangeSize < 1 || rangedDownloadThreshold < 0) {
            throw new IllegalArgumentException("rangeSize must be positive and rangedDownloadThreshold not negative");
        }
        if (initialBackoff.isNegative() || maxBackoff.isNegative() || connectTimeout.isNegative() || connectTimeout.isZero()
                || responseTimeout.isNegative() || responseTimeout.isZero() || idleTimeout.isNegative() || idleTimeout.isZero()) {
            throw new IllegalArgumentException("timeouts must be positive");
        }
    }

    /** Default connect timeout: a TCP handshake over a slow WAN or a satellite link takes well under that. */
    public static final Duration DEFAULT_CONNECT_TIMEOUT = Duration.ofSeconds(30);
    /**
     * Default response timeout: a registry may take a while to answer a large manifest PUT or the
     * final PUT of a multi-GiB upload (it checks the digest of everything it received).
     */
    public static final Duration DEFAULT_RESPONSE_TIMEOUT = Duration.ofSeconds(120);
    /** Default idle timeout: two minutes without one byte is a stall on any link that still works. */
    public static final Duration DEFAULT_IDLE_TIMEOUT = Duration.ofSeconds(120);

    /**
     * 5 attempts, 0.5 s..15 s backoff, 30 s connect, 120 s response, 120 s idle, 8 concurrent
     * requests, chunks of 16 MiB above 64 MiB, ranged downloads of 32 MiB pieces from 64 MiB on.
     */
    public static TransportOptions defaults() {
        return new TransportOptions(5, Duration.ofMillis(500), Duration.ofSeconds(15), DEFAULT_CONNECT_TIMEOUT,
                DEFAULT_RESPONSE_TIMEOUT, DEFAULT_IDLE_TIMEOUT, 8, 64L << 20, 16L << 20, 64L << 20, 32L << 20);
    }

    public TransportOptions withMaxAttempts(int n) {
        return new TransportOptions(n, initialBackoff, maxBackoff, connectTimeout, responseTimeout, idleTimeout, maxConcurrentRequests, chunkedUploadThreshold, chunkSize, rangedDownloadThreshold, rangeSize);
    }

    public TransportOptions withBackoff(Duration initial, Duration max) {
        return new TransportOptions(maxAttempts, initial, max, connectTimeout, responseTimeout, idleTimeout, maxConcurrentRequests, chunkedUploadThreshold, chunkSize, rangedDownloadThreshold, rangeSize);
    }

    /** The connect timeout and {@code read} as both the response and the idle timeout. */
    public TransportOptions withTimeouts(Duration connect, Duration read) {
        return withTimeouts(connect, read, read);
    }

    public TransportOptions withTimeouts(Duration connect, Duration response, Duration idle) {
        return new TransportOptions(maxAttempts, initialBackoff, maxBackoff, connect, response, idle, maxConcurrentRequests, chunkedUploadThreshold, chunkSize, rangedDownloadThreshold, rangeSize);
    }

    public TransportOptions withMaxConcurrentRequests(int n) {
        return new TransportOptions(maxAttempts, initialBackoff, maxBackoff, connectTimeout, responseTimeout, idleTimeout, n, chunkedUploadThreshold, chunkSize, rangedDownloadThreshold, rangeSize);
    }

    /** Blobs of {@code threshold} bytes or more go up in chunks of {@code chunk} bytes. */
    public TransportOptions withChunking(long threshold, long chunk) {
        return new TransportOptions(maxAttempts, initialBackoff, maxBackoff, connectTimeout, responseTimeout, idleTimeout, maxConcurrentRequests, threshold, chunk, rangedDownloadThreshold, rangeSize);
    }

    /** Blobs of {@code threshold} bytes or more come down as ranged GETs of {@code range} bytes, several at once. */
    public TransportOptions withRangedDownloads(long threshold, long range) {
        return new TransportOptions(maxAttempts, initialBackoff, maxBackoff, connectTimeout, responseTimeout, idleTimeout, maxConcurrentRequests,
                chunkedUploadThreshold, chunkSize, threshold, range);
    }
}
