package dev.airlock.concurrent;

import dev.airlock.error.AirlockException;
import dev.airlock.error.LocalIoException;
import java.io.UncheckedIOException;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Future;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.atomic.AtomicInteger;

/** Thread and future helpers for worker pools (the engine's and its callers'). */
public final class Workers {
    private Workers() {
    }

    /** Daemon threads named {@code airlock-<what>-N}. */
    public static ThreadFactory named(String what) {
        AtomicInteger n = new AtomicInteger();
        return r -> {
            Thread t = new Thread(r, "airlock-" + what + "-" + n.incrementAndGet());
            t.setDaemon(true);
            return t;
        };
    }

    /** Waits for a future and rethrows its failure as the AirlockException it was. */
    public static <T> T join(Future<T> f) {
        try {
            return f.get();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new LocalIoException("interrupted");
        } catch (ExecutionException e) {
            throw unwrap(e.getCause());
        }
    }

    /** The AirlockException behind a worker failure. */
    public static AirlockException unwrap(Throwable t) {
        if (t instanceof AirlockException a) {
            return a;
        }
        if (t instanceof UncheckedIOException u) {
            return new LocalIoException(u.getCause().getMessage(), u);
        }
        if (t instanceof java.io.IOException io) {
            return new LocalIoException(io.getMessage(), io);
        }
        return new dev.airlock.error.InternalException(String.valueOf(t), t);
    }
}
