package dev.airlock.registry;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.airlock.testkit.RegistryProcess;
import java.util.Set;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;

/**
 * Closing a store ends its HTTP client's selector thread (Java 17's HttpClient has no close; a
 * JVM exiting while that thread waits in native code waits 300 ms for it), and only that one.
 */
class SelectorStopTest {
    private static Set<Thread> selectors() {
        return Thread.getAllStackTraces().keySet().stream()
                .filter(t -> t.isAlive() && t.getName().matches("HttpClient-[0-9]+-SelectorManager")).collect(Collectors.toSet());
    }

    @Test
    void closeEndsOnlyItsOwnSelectorThread() throws Exception {
        try (RegistryProcess registry = RegistryProcess.start()) {
            Set<Thread> before = selectors();
            RegistryStore other = RegistryStore.open(registry.host(), RegistryOptions.anonymous());
            Set<Thread> afterOther = selectors();
            afterOther.removeAll(before);
            assertEquals(1, afterOther.size(), "one selector thread per store");
            Thread otherSelector = afterOther.iterator().next();
            RegistryStore store = RegistryStore.open(registry.host(), RegistryOptions.anonymous());
            Set<Thread> mine = selectors();
            mine.removeAll(before);
            mine.remove(otherSelector);
            assertEquals(1, mine.size(), "one selector thread per store");
            Thread selector = mine.iterator().next();
            // a request first, so that the thread has a connection to close on its way out
            assertFalse(store.headManifest("sel/none", "latest").isPresent());

            store.close();
            selector.join(5_000);
            assertFalse(selector.isAlive(), selector.getName() + " still runs after close");
            assertTrue(otherSelector.isAlive(), "closing one store must not stop another store's client");
            assertFalse(other.headManifest("sel/none", "latest").isPresent());
            other.close();
            otherSelector.join(5_000);
            assertFalse(otherSelector.isAlive());
        }
    }
}
