package dev.airlock.model;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.airlock.error.UsageException;
import dev.airlock.model.ImageReference;
import org.junit.jupiter.api.Test;
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

    @Test
    void twoSourcesOntoOneTargetTagAreRefusedNamingBothAndTheOption() {
        TargetMapping m = TargetMapping.parse("reg.local:5000/mirror", false);
        List<ImageReference> refs = List.of(ImageReference.parse("hosta.example:5000/rancher/pause:3.1"),
                ImageReference.parse("hostb.example/rancher/pause:3.1"), ImageReference.parse("docker.io/library/busybox:1.36"));
        dev.airlock.error.UsageException e = org.junit.jupiter.api.Assertions.assertThrows(dev.airlock.error.UsageException.class,
                () -> m.checkDistinct(refs));
        assertTrue(e.getMessage().contains("hosta.example:5000/rancher/pause:3.1 and hostb.example/rancher/pause:3.1 both map to reg.local:5000/mirror/rancher/pause:3.1"), e.getMessage());
        assertTrue(e.getMessage().contains("--keep-registry-host"), e.getMessage());
        assertEquals(2, e.exitCode());
        // separated by the host, listed twice, or pinned by digest only: no collision
        TargetMapping.parse("reg.local:5000/mirror", true).checkDistinct(refs);
        m.checkDistinct(List.of(refs.get(0), refs.get(0)));
        m.checkDistinct(List.of(ImageReference.parse("hosta.example/app@sha256:" + "a".repeat(64)),
                ImageReference.parse("hostb.example/app@sha256:" + "b".repeat(64))));
    }
}
