package dev.airlock.importer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.airlock.error.RegistryException;
import dev.airlock.model.TargetMapping;
import dev.airlock.progress.ProgressListener;
import dev.airlock.registry.RegistryOptions;
import dev.airlock.registry.RegistryStore;
import dev.airlock.sign.TrustPolicy;
import dev.airlock.testkit.NamedBundles;
import dev.airlock.testkit.RegistryAudit;
import dev.airlock.testkit.RegistryProcess;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The hook the CLI runs its target preflight in: once, after the bundle was checked, before the first write. */
class BeforeFirstUploadTest {
    @TempDir
    Path dir;

    @Test
    void runsOnceBeforeWritingAndNeverWhenNothingIsWritten() {
        Path bundle = NamedBundles.write(dir.resolve("b.tar"), NamedBundles.mixed());
        try (RegistryProcess reg = RegistryProcess.start(); RegistryStore target = RegistryStore.open(reg.host(), RegistryOptions.anonymous())) {
            TargetMapping m = TargetMapping.parse(reg.host() + "/mirror", false);
            AtomicInteger calls = new AtomicInteger();
            ImportRequest dry = new ImportRequest(bundle, m, TrustPolicy.allowUnsignedOnly(), 2, true);
            new Importer(target, ProgressListener.NONE).beforeFirstUpload(calls::incrementAndGet).run(dry);
            assertEquals(0, calls.get(), "a dry run writes nothing");
            RegistryAudit.assertEmpty(reg);

            ImportRequest real = new ImportRequest(bundle, m, TrustPolicy.allowUnsignedOnly(), 2, false);
            int[] tagsWhenCalled = {-1};
            ImportResult r = new Importer(target, ProgressListener.NONE).beforeFirstUpload(() -> {
                calls.incrementAndGet();
                tagsWhenCalled[0] = RegistryAudit.of(reg).tagCount() + RegistryAudit.of(reg).storedBlobs();
            }).run(real);
            assertTrue(r.tagged());
            assertEquals(1, calls.get());
            assertEquals(0, tagsWhenCalled[0], "nothing was written when the hook ran");

            ImportResult again = new Importer(target, ProgressListener.NONE).beforeFirstUpload(calls::incrementAndGet).run(real);
            assertTrue(again.upToDate());
            assertEquals(1, calls.get(), "an up-to-date re-run writes nothing, so no check");
        }
    }

    @Test
    void aRefusalEndsTheImportUnchangedWithNothingWritten() {
        Path bundle = NamedBundles.write(dir.resolve("r.tar"), NamedBundles.mixed());
        try (RegistryProcess reg = RegistryProcess.start(); RegistryStore target = RegistryStore.open(reg.host(), RegistryOptions.anonymous())) {
            RegistryException refusal = new RegistryException("preflight: no", 403, List.of("DENIED"));
            ImportRequest real = new ImportRequest(bundle, TargetMapping.parse(reg.host() + "/mirror", false), TrustPolicy.allowUnsignedOnly(), 2, false);
            RegistryException e = assertThrows(RegistryException.class,
                    () -> new Importer(target, ProgressListener.NONE).beforeFirstUpload(() -> {
                        throw refusal;
                    }).run(real));
            assertSame(refusal, e);
            RegistryAudit.assertEmpty(reg);
        }
    }
}
