package dev.airlock.model;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.airlock.error.UsageException;
import dev.airlock.model.ImageReference;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

class TargetMappingTest {

    @ParameterizedTest(name = "{0} --to {1} keepHost={2} → {3}")
    @CsvSource(delimiter = '|', textBlock = """
            docker.io/rancher/pause:3.1            | reg.local:5000/mirror    | false | reg.local:5000/mirror/rancher/pause:3.1
            rancher/pause:3.1                      | reg.local:5000/mirror    | false | reg.local:5000/mirror/rancher/pause:3.1
            busybox                                | reg.local:5000/mirror    | false | reg.local:5000/mirror/library/busybox:latest
            docker.io/library/busybox:1.36         | reg.local:5000/mirror/   | false | reg.local:5000/mirror/library/busybox:1.36
            docker.io/rancher/pause:3.1            | reg.local:5000/mirror    | true  | reg.local:5000/mirror/docker.io/rancher/pause:3.1
            docker.io/rancher/pause:3.1            | reg.local:5000           | false | reg.local:5000/rancher/pause:3.1
            docker.io/rancher/pause:3.1            | reg.local:5000           | true  | reg.local:5000/docker.io/rancher/pause:3.1
            ghcr.io/org/tool:v2                    | registry.internal/a/b    | false | registry.internal/a/b/org/tool:v2
            127.0.0.1:5000/team/app:1.0            | localhost:5001/m         | true  | localhost:5001/m/127.0.0.1_5000/team/app:1.0
            quay.io/x/y@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef | reg:5000/p | false | reg:5000/p/x/y@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef
            quay.io/x/y:1@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef | reg:5000 | false | reg:5000/x/y:1@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef
            """)
    void mapsSourceToTarget(String source, String to, boolean keepHost, String expected) {
        assertEquals(expected, TargetMapping.parse(to, keepHost).map(ImageReference.parse(source)).toString());
    }

    @ParameterizedTest
    @ValueSource(strings = {"", "  ", "https://reg.local:5000", "reg.local:5000/Mirror", "reg.local:5000/a//b",
            "/mirror", "reg.local:5000/app:1.0", "reg local", "reg.local:5000/a@sha256:00"})
    void refusesBadTargets(String to) {
        UsageException e = assertThrows(UsageException.class, () -> TargetMapping.parse(to, false));
        assertTrue(e.getMessage().contains("--to") || e.getMessage().contains("prefix"), e.getMessage());
    }
}
