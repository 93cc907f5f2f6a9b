package dev.airlock.registry;

import java.io.IOException;
import java.io.InputStream;
import java.net.http.HttpResponse;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.Iterator;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.Flow;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * A response body as a blocking InputStream with a read timeout (java.net.http has none for
 * bodies) and back-pressure: one buffer list is requested at a time, so memory stays bounded
 * whatever the body size. {@code onDone} runs once when the stream ends, fails or is closed
 * (it releases the per-registry connection permit).
 */
final class StreamingBody extends dev.airlock.io.BulkInputStream implements HttpResponse.BodySubscriber<InputStream> {
    private static final Object END = new Object();

    private final BlockingQueue<Object> queue = new LinkedBlockingQueue<>();
    private final Duration idle;
    private final long timeoutNanos;
    private final Runnable onDone;
    private final AtomicBoolean done = new AtomicBoolean();
    private volatile Flow.Subscription subscription;
    private Iterator<ByteBuffer> current;
    private ByteBuffer buffer;
    private boolean finished;
    private IOException failure;
    private volatile boolean closed;

    StreamingBody(Duration idleTimeout, Runnable onDone) {
        this.idle = idleTimeout;
        this.timeoutNanos = idleTimeout.toNanos();
        this.onDone = onDone;
    }

    @Override
    public CompletionStage<InputStream> getBody() {
        return CompletableFuture.completedStage(this);
    }

    @Override
    public void onSubscribe(Flow.Subscription s) {
        this.subscription = s;
        if (closed) {
            s.cancel();
        } else {
            s.request(1);
        }
    }

    @Override
    public void onNext(List<ByteBuffer> item) {
        queue.add(item);
    }

    @Override
    public void onError(Throwable t) {
        queue.add(t);
    }

    @Override
    public void onComplete() {
        queue.add(END);
    }


    @Override
    public int read(byte[] b, int off, int len) throws IOException {
        if (closed) {
            throw new IOException("stream closed");
        }
        if (len == 0) {
            return 0;
        }
        while (buffer == null || !buffer.hasRemaining()) {
            if (current != null && current.hasNext()) {
                buffer = current.next();
                continue;
            }
            if (failure != null) {
                throw failure;
            }
            if (finished) {
                return -1;
            }
            if (current != null) {
                current = null;
                subscription.request(1);
            }
            Object next;
            try {
                next = queue.poll(timeoutNanos, TimeUnit.NANOSECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                close();
                throw new java.io.InterruptedIOException("interrupted while reading a response");
            }
            if (next == null) {
                failure = TimedExchange.receiveStall(idle);
                cancel();
                throw failure;
            }
            if (next == END) {
                finished = true;
                release();
                return -1;
            }
            if (next instanceof Throwable t) {
                failure = t instanceof IOException io ? io : new IOException(t.getMessage() == null ? t.toString() : t.getMessage(), t);
                release();
                throw failure;
            }
            @SuppressWarnings("unchecked")
            List<ByteBuffer> list = (List<ByteBuffer>) next;
            current = list.iterator();
        }
        int n = Math.min(len, buffer.remaining());
        buffer.get(b, off, n);
        return n;
    }

    @Override
    public int available() {
        return buffer == null ? 0 : buffer.remaining();
    }

    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        if (!finished) {
            cancel();
        }
        release();
    }

    private void cancel() {
        Flow.Subscription s = subscription;
        if (s != null) {
            s.cancel();
        }
        release();
    }

    private void release() {
        if (done.compareAndSet(false, true)) {
            onDone.run();
        }
    }
}
