package dev.airlock.cli;

import dev.airlock.concurrent.Workers;
import dev.airlock.progress.ProgressListener;
import java.io.PrintWriter;
import java.util.ArrayDeque;
import java.util.Locale;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.LongSupplier;

/**
 * Shows a {@link ProgressListener}'s reports on the terminal. {@link Mode#LIVE} (a terminal): one
 * line redrawn at most ten times a second with phase, bytes done/total, rate, items done/total and
 * ETA. {@link Mode#PLAIN} (a pipe or a log file): a plain line every five seconds and one at the
 * end of each phase. {@link Mode#QUIET}: no progress. {@link #note} lines are printed in every
 * mode, above the live line.
 *
 * <p>Thread-safe: workers call {@link #bytes} and {@link #itemDone} concurrently (lock-free
 * counters); drawing happens in {@link #tick()}, called by a ticker thread (see {@link #start}) or
 * by a test with a fake clock, and in the phase and note events, all under one lock.
 */
public final class ProgressRenderer implements ProgressListener, AutoCloseable {

    /** How progress is shown. */
    public enum Mode { LIVE, PLAIN, QUIET }

    static final long LIVE_INTERVAL_NANOS = TimeUnit.MILLISECONDS.toNanos(100);
    static final long PLAIN_INTERVAL_NANOS = TimeUnit.SECONDS.toNanos(5);
    private static final long RATE_WINDOW_NANOS = TimeUnit.SECONDS.toNanos(5);

    private final PrintWriter out;
    private final Mode mode;
    private final LongSupplier clock;
    private final int width;
    private final LongAdder doneBytes = new LongAdder();
    private final AtomicInteger doneItems = new AtomicInteger();
    private final ArrayDeque<long[]> samples = new ArrayDeque<>();
    private ScheduledExecutorService ticker;

    // guarded by this
    private String phase;
    private long totalBytes;
    private int totalItems;
    private long phaseStart;
    private long lastDraw;
    private boolean lineShown;

    /**
     * @param out   where to print (the command's error stream: stdout stays for results)
     * @param mode  how to show progress
     * @param clock nanosecond clock ({@code System::nanoTime}; a fake in tests)
     * @param width terminal width; the live line is cut to {@code width - 1} characters
     */
    public ProgressRenderer(PrintWriter out, Mode mode, LongSupplier clock, int width) {
        this.out = out;
        this.mode = mode;
        this.clock = clock;
        this.width = Math.max(20, width);
    }

    /**
     * A renderer for this process's terminal, with its ticker thread running: LIVE when there is
     * a console and TERM is not "dumb", PLAIN otherwise, QUIET when {@code quiet}. Close it when
     * the work is done.
     */
    public static ProgressRenderer start(PrintWriter err, boolean quiet) {
        String term = System.getenv("TERM");
        boolean tty = System.console() != null && term != null && !term.isBlank() && !term.equals("dumb");
        Mode mode = quiet ? Mode.QUIET : tty ? Mode.LIVE : Mode.PLAIN;
        ProgressRenderer r = new ProgressRenderer(err, mode, System::nanoTime, columns());
        r.startTicker();
        return r;
    }

    private static int columns() {
        try {
            return Integer.parseInt(System.getenv().getOrDefault("COLUMNS", "80").trim());
        } catch (NumberFormatException e) {
            return 80;
        }
    }

    private void startTicker() {
        if (mode == Mode.QUIET) {
            return;
        }
        ticker = Executors.newSingleThreadScheduledExecutor(Workers.named("progress"));
        // tick twice per interval so scheduling jitter never skips a due redraw
        long period = mode == Mode.LIVE ? LIVE_INTERVAL_NANOS / 2 : TimeUnit.SECONDS.toNanos(1);
        ticker.scheduleAtFixedRate(this::tick, period, period, TimeUnit.NANOSECONDS);
    }

    public Mode mode() {
        return mode;
    }

    @Override
    public synchronized void begin(String phase, long totalBytes, int totalItems) {
        if (this.phase != null) {
            end();
        }
        this.phase = phase;
        this.totalBytes = totalBytes;
        this.totalItems = totalItems;
        doneBytes.reset();
        doneItems.set(0);
        phaseStart = clock.getAsLong();
        lastDraw = phaseStart;
        samples.clear();
        samples.add(new long[] {phaseStart, 0});
        if (mode == Mode.LIVE) {
            drawLive(phaseStart);
        }
    }

    @Override
    public void bytes(long delta) {
        doneBytes.add(delta);
    }

    @Override
    public void itemDone(String item) {
        doneItems.incrementAndGet();
    }

    @Override
    public synchronized void note(String line) {
        clearLive();
        out.println(ErrorHandlers.oneLine(line));
        if (mode == Mode.LIVE && phase != null) {
            drawLive(clock.getAsLong());
        }
        out.flush();
    }

    @Override
    public synchronized void end() {
        if (phase == null) {
            return;
        }
        long now = clock.getAsLong();
        if (mode != Mode.QUIET) {
            clearLive();
            out.println(summary(now));
            out.flush();
        }
        phase = null;
    }

    /** Draws if a line is due: LIVE every 100 ms at most, PLAIN every 5 s. */
    public synchronized void tick() {
        if (phase == null || mode == Mode.QUIET) {
            return;
        }
        long now = clock.getAsLong();
        if (mode == Mode.LIVE && now - lastDraw >= LIVE_INTERVAL_NANOS) {
            drawLive(now);
        } else if (mode == Mode.PLAIN && now - lastDraw >= PLAIN_INTERVAL_NANOS) {
            lastDraw = now;
            out.println(status(now));
            out.flush();
        }
    }

    @Override
    public synchronized void close() {
        if (ticker != null) {
            ticker.shutdownNow();
            ticker = null;
        }
        end();
        clearLive();
        out.flush();
    }

    private void drawLive(long now) {
        lastDraw = now;
        String line = status(now);
        if (line.length() > width - 1) {
            line = line.substring(0, width - 1);
        }
        out.print("\r\033[K" + line);
        out.flush();
        lineShown = true;
    }

    private void clearLive() {
        if (lineShown) {
            out.print("\r\033[K");
            lineShown = false;
        }
    }

    /** The progress line: phase, bytes done/total, rate, items, ETA. */
    String status(long now) {
        long done = doneBytes.sum();
        double rate = rate(now, done);
        StringBuilder sb = new StringBuilder(phase);
        sb.append("  ").append(size(done));
        if (totalBytes > 0) {
            sb.append(" / ").append(size(totalBytes));
        }
        sb.append("  ").append(rate(rate));
        if (totalItems > 0) {
            sb.append("  ").append(doneItems.get()).append('/').append(totalItems).append(" items");
        }
        if (totalBytes > 0 && done < totalBytes && rate > 0) {
            sb.append("  ETA ").append(duration((long) ((totalBytes - done) / rate)));
        }
        return sb.toString();
    }

    private String summary(long now) {
        long done = doneBytes.sum();
        double seconds = Math.max(1e-9, (now - phaseStart) / 1e9);
        StringBuilder sb = new StringBuilder(phase).append(" done: ").append(size(done));
        if (totalItems > 0) {
            sb.append(", ").append(doneItems.get()).append('/').append(totalItems).append(" items");
        }
        sb.append(" in ").append(duration((long) seconds)).append(" (").append(rate(done / seconds)).append(')');
        return sb.toString();
    }

    /** Bytes per second over the last few seconds (so a resumed job's skipped bytes fade out). */
    private double rate(long now, long done) {
        samples.addLast(new long[] {now, done});
        // drop the oldest sample while the next one still spans the whole window
        while (samples.size() > 2) {
            long[] oldest = samples.pollFirst();
            if (now - samples.peekFirst()[0] < RATE_WINDOW_NANOS) {
                samples.addFirst(oldest);
                break;
            }
        }
        long[] first = samples.peekFirst();
        long elapsed = now - first[0];
        return elapsed <= 0 ? 0 : (done - first[1]) * 1e9 / elapsed;
    }

    static String size(long bytes) {
        return dev.airlock.progress.Sizes.bytes(bytes);
    }

    static String rate(double bytesPerSecond) {
        return String.format(Locale.ROOT, "%.1f MB/s", bytesPerSecond / 1e6);
    }

    static String duration(long seconds) {
        long h = seconds / 3600;
        long m = seconds / 60 % 60;
        long s = seconds % 60;
        return h > 0 ? String.format(Locale.ROOT, "%d:%02d:%02d", h, m, s) : String.format(Locale.ROOT, "%d:%02d", m, s);
    }
}
