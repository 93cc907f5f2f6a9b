package dev.airlock.registry;

import java.io.IOException;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.HttpTimeoutException;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Flow;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import javax.net.ssl.SSLException;

/**
 * One HTTP exchange under the response and idle timeouts of {@link TransportOptions}
 * (java.net.http has a connect timeout, and a request timeout that would also cut a long but
 * moving upload). A {@link Watch} follows the request: until its body is taken, and after it, the
 * response must start within the response timeout; while the body is being taken, the connection
 * must take some of it within the idle timeout. The waiting thread cancels the exchange (which
 * closes its connection) when a limit passes, and throws a {@link StallException} naming it. The
 * response body's idle timeout is {@link StreamingBody}'s.
 */
final class TimedExchange {
    private TimedExchange() {
    }

    /** No answer, or no byte moving, for longer than a configured timeout. Retryable. */
    static final class StallException extends HttpTimeoutException {
        private static final long serialVersionUID = 1L;

        StallException(String message) {
            super(message);
        }
    }

    /** The message for a response body that stopped arriving. */
    static StallException receiveStall(Duration idle) {
        return new StallException("no data of the response body for " + format(idle) + " (--timeout-idle)");
    }

    /** "120 s", "1.5 s", "200 ms". */
    static String format(Duration d) {
        long ms = d.toMillis();
        if (ms < 1000) {
            return ms + " ms";
        }
        if (ms % 1000 == 0) {
            return ms / 1000 + " s";
        }
        return String.format(java.util.Locale.ROOT, "%.1f s", ms / 1000.0);
    }

    /** The progress of one request: when something last moved and whether its body is being sent. */
    static final class Watch {
        private final Duration response;
        private final Duration idle;
        private volatile long since = System.nanoTime();
        private volatile boolean sending;
        /** Threads inside the body's own read (a local file, or a source registry's stream with its own timeouts). */
        private final java.util.concurrent.atomic.AtomicInteger producing = new java.util.concurrent.atomic.AtomicInteger();

        Watch(TransportOptions t) {
            this.response = t.responseTimeout();
            this.idle = t.idleTimeout();
        }

        private void moved() {
            since = System.nanoTime();
            sending = true;
        }

        private void bodySent() {
            since = System.nanoTime();
            sending = false;
        }

        long deadline() {
            if (producing.get() > 0) {
                // waiting for our own content, not for the registry: the source's own timeouts apply
                return System.nanoTime() + idle.toNanos();
            }
            return since + (sending ? idle : response).toNanos();
        }

        StallException stall() {
            return sending
                    ? new StallException("the registry took no data of the request body for " + format(idle) + " (--timeout-idle)")
                    : new StallException("no response within " + format(response) + " (--timeout-response)");
        }

        /**
         * {@code p}, reporting to this watch whenever the connection asks for or takes a piece of
         * it. The body counts as sent when its last byte was taken (the client may cancel instead
         * of waiting for {@code onComplete} once it has Content-Length bytes).
         */
        HttpRequest.BodyPublisher wrap(HttpRequest.BodyPublisher p) {
            long length = p.contentLength();
            java.util.concurrent.atomic.AtomicLong taken = new java.util.concurrent.atomic.AtomicLong();
            java.util.concurrent.atomic.AtomicBoolean complete = new java.util.concurrent.atomic.AtomicBoolean();
            return new HttpRequest.BodyPublisher() {
                @Override
                public long contentLength() {
                    return p.contentLength();
                }

                @Override
                public void subscribe(Flow.Subscriber<? super ByteBuffer> s) {
                    p.subscribe(new Flow.Subscriber<ByteBuffer>() {
                        @Override
                        public void onSubscribe(Flow.Subscription sub) {
                            s.onSubscribe(new Flow.Subscription() {
                                @Override
                                public void request(long n) {
                                    // a stream publisher reads the content inside request(): that time is not the registry's
                                    producing.incrementAndGet();
                                    try {
                                        sub.request(n);
                                    } finally {
                                        producing.decrementAndGet();
                                        if (!complete.get()) {
                                            moved();
                                        }
                                    }
                                }

                                @Override
                                public void cancel() {
                                    sub.cancel();
                                }
                            });
                        }

                        @Override
                        public void onNext(ByteBuffer item) {
                            long total = taken.addAndGet(item.remaining());
                            if (length >= 0 && total >= length) {
                                complete.set(true);
                                bodySent();
                            } else {
                                moved();
                            }
                            s.onNext(item);
                        }

                        @Override
                        public void onError(Throwable t) {
                            s.onError(t);
                        }

                        @Override
                        public void onComplete() {
                            complete.set(true);
                            bodySent();
                            s.onComplete();
                        }
                    });
                }
            };
        }
    }

    /**
     * Sends {@code request} (whose body publisher came from {@code watch.wrap}) and returns once
     * the response headers are in; throws a {@link StallException} when a timeout passed first.
     */
    static <T> HttpResponse<T> send(HttpClient client, HttpRequest request, HttpResponse.BodyHandler<T> handler, Watch watch)
            throws IOException, InterruptedException {
        CompletableFuture<HttpResponse<T>> f = client.sendAsync(request, handler);
        while (true) {
            long wait = watch.deadline() - System.nanoTime();
            if (wait <= 0) {
                StallException stall = watch.stall();
                if (f.cancel(true)) {
                    throw stall;
                }
                wait = 0; // it completed meanwhile: take the result
            }
            try {
                return f.get(wait, TimeUnit.NANOSECONDS);
            } catch (TimeoutException e) {
                // the deadline may have moved with progress; look again
            } catch (InterruptedException e) {
                f.cancel(true);
                throw e;
            } catch (CancellationException e) {
                throw watch.stall();
            } catch (ExecutionException e) {
                throw unwrap(e.getCause());
            }
        }
    }

    /** The exception the exchange failed with, as the synchronous {@code send} would throw it. */
    private static IOException unwrap(Throwable cause) {
        for (Throwable t = cause; t != null; t = t.getCause()) {
            if (t instanceof SSLException ssl) {
                return ssl;
            }
            if (t.getCause() == t) {
                break;
            }
        }
        if (cause instanceof IOException io) {
            return io;
        }
        if (cause instanceof RuntimeException r) {
            throw r;
        }
        if (cause instanceof Error err) {
            throw err;
        }
        return new IOException(cause);
    }
}
