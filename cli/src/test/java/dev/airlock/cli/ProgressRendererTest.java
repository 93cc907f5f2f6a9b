package dev.airlock.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.airlock.cli.ProgressRenderer.Mode;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

class ProgressRendererTest {
    private final AtomicLong now = new AtomicLong(1_000_000_000L);
    private final StringWriter text = new StringWriter();

    private ProgressRenderer renderer(Mode mode) {
        return new ProgressRenderer(new PrintWriter(text, true), mode, now::get, 100);
    }

    private void advanceMillis(long ms) {
        now.addAndGet(TimeUnit.MILLISECONDS.toNanos(ms));
    }

    /** What a terminal would show: each \r returns to column 0, \033[K clears the line. */
    private List<String> screen() {
        List<String> lines = new ArrayList<>();
        for (String raw : text.toString().split("\n", -1)) {
            String[] redraws = raw.replace("\033[K", "").split("\r", -1);
            lines.add(redraws[redraws.length - 1]);
        }
        return lines;
    }

    @Test
    void liveLineShowsPhaseBytesRateItemsAndEta() {
        ProgressRenderer r = renderer(Mode.LIVE);
        r.begin("pushing", 100_000_000L, 4);
        advanceMillis(1000);
        r.bytes(30_000_000L);
        r.bytes(20_000_000L);
        r.itemDone("a");
        r.tick();
        String line = screen().get(0);
        assertEquals("pushing  50.0 MB / 100 MB  50.0 MB/s  1/4 items  ETA 0:01", line);
        assertTrue(text.toString().contains("\r\033[K"), "live line is redrawn in place");
        assertFalse(text.toString().contains("\n"), "no new line while the phase runs");
    }

    @Test
    void liveLineIsRedrawnAtMostTenTimesASecond() {
        ProgressRenderer r = renderer(Mode.LIVE);
        r.begin("fetching", 1000, 0);
        int before = count("\r");
        for (int i = 0; i < 10; i++) {
            advanceMillis(10);
            r.bytes(1);
            r.tick();
        }
        assertEquals(before + 1, count("\r"), "100 ms of ticks draw once");
        advanceMillis(99);
        r.tick();
        assertEquals(before + 1, count("\r"));
        advanceMillis(1);
        r.tick();
        assertEquals(before + 2, count("\r"));
    }

    @Test
    void noteIsPrintedAboveTheLiveLineWhichIsRedrawn() {
        ProgressRenderer r = renderer(Mode.LIVE);
        r.begin("fetching", 0, 3);
        advanceMillis(200);
        r.itemDone("x");
        r.tick();
        r.note("warning: skipping linux/s390x (not in index)");
        List<String> screen = screen();
        assertEquals("warning: skipping linux/s390x (not in index)", screen.get(0));
        assertTrue(screen.get(1).startsWith("fetching  0 B  0.0 MB/s  1/3 items"), screen.get(1));
    }

    @Test
    void phaseEndLeavesASummaryLine() {
        ProgressRenderer r = renderer(Mode.LIVE);
        r.begin("verifying", 2_000_000L, 2);
        advanceMillis(2000);
        r.bytes(2_000_000L);
        r.itemDone("a");
        r.itemDone("b");
        r.end();
        assertEquals(List.of("verifying done: 2.00 MB, 2/2 items in 0:02 (1.0 MB/s)", ""), screen());
    }

    @Test
    void plainModePrintsALineEveryFiveSecondsAndAtTheEnd() {
        ProgressRenderer r = renderer(Mode.PLAIN);
        r.begin("fetching", 10_000_000L, 0);
        assertEquals("", text.toString(), "nothing at begin");
        for (int s = 1; s <= 11; s++) {
            advanceMillis(1000);
            r.bytes(500_000L);
            r.tick();
        }
        r.end();
        List<String> lines = text.toString().lines().toList();
        assertEquals(List.of(
                "fetching  2.50 MB / 10.0 MB  0.5 MB/s  ETA 0:15",
                "fetching  5.00 MB / 10.0 MB  0.5 MB/s  ETA 0:10",
                "fetching done: 5.50 MB in 0:11 (0.5 MB/s)"), lines);
        assertFalse(text.toString().contains("\r"), "no carriage returns in a log");
    }

    @Test
    void rateFollowsTheLastSecondsNotTheWholePhase() {
        ProgressRenderer r = renderer(Mode.PLAIN);
        r.begin("pushing", 0, 0);
        r.bytes(900_000_000L); // blobs already present: counted at once
        for (int s = 1; s <= 20; s++) {
            advanceMillis(1000);
            r.bytes(1_000_000L);
            r.tick();
        }
        List<String> lines = text.toString().lines().toList();
        assertTrue(lines.get(lines.size() - 1).contains(" 1.0 MB/s"), lines.toString());
    }

    @Test
    void quietPrintsNoProgressButNotes() {
        ProgressRenderer r = renderer(Mode.QUIET);
        r.begin("fetching", 10, 1);
        advanceMillis(10_000);
        r.bytes(10);
        r.tick();
        r.note("warning: something");
        r.end();
        r.close();
        assertEquals("warning: something\n", text.toString());
    }

    @Test
    void liveLineIsCutToTheTerminalWidth() {
        ProgressRenderer r = new ProgressRenderer(new PrintWriter(text, true), Mode.LIVE, now::get, 30);
        r.begin("pushing a very long phase name indeed", 10, 10);
        assertEquals(29, screen().get(0).length());
    }

    @Test
    void concurrentWorkersAreAllCounted() throws InterruptedException {
        ProgressRenderer r = renderer(Mode.PLAIN);
        r.begin("hashing", 0, 0);
        List<Thread> threads = new ArrayList<>();
        for (int t = 0; t < 8; t++) {
            Thread th = new Thread(() -> {
                for (int i = 0; i < 10_000; i++) {
                    r.bytes(1);
                    if (i % 1000 == 0) {
                        r.tick();
                        r.note("n");
                    }
                }
                r.itemDone("t");
            });
            threads.add(th);
            th.start();
        }
        for (Thread th : threads) {
            th.join();
        }
        advanceMillis(1000);
        r.end();
        List<String> lines = text.toString().lines().toList();
        assertEquals(80, lines.stream().filter("n"::equals).count());
        assertEquals("hashing done: 80.0 kB in 0:01 (0.1 MB/s)", lines.get(lines.size() - 1));
    }

    @Test
    void formats() {
        assertEquals("999 B", ProgressRenderer.size(999));
        assertEquals("1.00 kB", ProgressRenderer.size(1000));
        assertEquals("12.3 MB", ProgressRenderer.size(12_345_678));
        assertEquals("123 GB", ProgressRenderer.size(123_456_789_012L));
        assertEquals("0:59", ProgressRenderer.duration(59));
        assertEquals("1:01:01", ProgressRenderer.duration(3661));
    }

    private int count(String s) {
        return text.toString().split(java.util.regex.Pattern.quote(s), -1).length - 1;
    }
}
