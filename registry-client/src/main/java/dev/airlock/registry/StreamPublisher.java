package dev.airlock.registry;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.net.http.HttpRequest;
import java.nio.ByteBuffer;
import java.util.concurrent.Flow;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Supplier;

/**
 * A request body of {@code length} bytes read from a fresh stream per subscription, in pieces of
 * up to {@value #CHUNK} bytes (java.net.http's {@code BodyPublishers.ofInputStream} reads 16 KiB
 * at a time: one allocation, one read and one socket write per 16 KiB). Reads happen on the
 * thread that signals demand, only as much as is demanded, so memory stays bounded (the HTTP/1.1
 * client asks for one piece at a time). A failing stream ends the body with {@code onError}.
 */
final class StreamPublisher implements HttpRequest.BodyPublisher {
    static final int CHUNK = 256 * 1024;

    private final Supplier<InputStream> stream;
    private final long length;

    StreamPublisher(Supplier<InputStream> stream, long length) {
        this.stream = stream;
        this.length = length;
    }

    @Override
    public long contentLength() {
        return length;
    }

    @Override
    public void subscribe(Flow.Subscriber<? super ByteBuffer> subscriber) {
        subscriber.onSubscribe(new Subscription(subscriber));
    }

    private final class Subscription implements Flow.Subscription {
        private final Flow.Subscriber<? super ByteBuffer> subscriber;
        private final AtomicLong demand = new AtomicLong();
        private final AtomicInteger work = new AtomicInteger();
        private volatile boolean cancelled;
        // touched only by the one thread inside drain() (guarded by work)
        private boolean done;
        private InputStream in;

        Subscription(Flow.Subscriber<? super ByteBuffer> subscriber) {
            this.subscriber = subscriber;
        }

        @Override
        public void request(long n) {
            if (n <= 0) {
                cancelled = true;
                subscriber.onError(new IllegalArgumentException("non-positive request: " + n));
                return;
            }
            demand.getAndUpdate(d -> d + n < 0 ? Long.MAX_VALUE : d + n);
            if (work.getAndIncrement() != 0) {
                return; // the thread already draining sees the new demand
            }
            do {
                drain();
            } while (work.decrementAndGet() != 0);
        }

        @Override
        public void cancel() {
            cancelled = true;
        }

        private void drain() {
            while (!done && !cancelled && demand.get() > 0) {
                byte[] buf = new byte[CHUNK];
                int filled = 0;
                boolean end = false;
                try {
                    if (in == null) {
                        in = stream.get();
                    }
                    while (filled < buf.length) {
                        int r = in.read(buf, filled, buf.length - filled);
                        if (r < 0) {
                            end = true;
                            break;
                        }
                        filled += r;
                    }
                } catch (IOException | RuntimeException e) {
                    finish();
                    subscriber.onError(e instanceof UncheckedIOException u ? u.getCause() : e);
                    return;
                }
                if (filled > 0) {
                    demand.decrementAndGet();
                    subscriber.onNext(ByteBuffer.wrap(buf, 0, filled));
                }
                if (end) {
                    finish();
                    if (!cancelled) {
                        subscriber.onComplete();
                    }
                    return;
                }
            }
            if (cancelled && !done) {
                finish();
            }
        }

        private void finish() {
            done = true;
            if (in != null) {
                try {
                    in.close();
                } catch (IOException ignored) {
                    // the content stream's own close; nothing was written
                }
            }
        }
    }
}
