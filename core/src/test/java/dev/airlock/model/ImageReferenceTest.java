package dev.airlock.model;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.airlock.error.UsageException;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

class ImageReferenceTest {
    private static final String D = "sha256:" + "a".repeat(64);

    @ParameterizedTest(name = "{0} → {1}")
    @CsvSource(delimiter = '|', textBlock = """
            busybox                                  | docker.io/library/busybox:latest
            busybox:1.36                             | docker.io/library/busybox:1.36
            rancher/pause:3.1                        | docker.io/rancher/pause:3.1
            docker.io/rancher/pause:3.1              | docker.io/rancher/pause:3.1
            index.docker.io/library/alpine           | docker.io/library/alpine:latest
            docker.io/alpine:3                       | docker.io/library/alpine:3
            quay.io/coreos/etcd:v3.5.0               | quay.io/coreos/etcd:v3.5.0
            localhost/app                            | localhost/app:latest
            localhost:5000/team/app:v1               | localhost:5000/team/app:v1
            127.0.0.1:5000/app                       | 127.0.0.1:5000/app:latest
            reg.local:5000/mirror/rancher/pause:3.1  | reg.local:5000/mirror/rancher/pause:3.1
            ghcr.io/a/b/c/d:1.0_rc-1                 | ghcr.io/a/b/c/d:1.0_rc-1
            registry.k8s.io/pause:3.9                | registry.k8s.io/pause:3.9
            rancher/mirrored-coredns-coredns:1.10.1  | docker.io/rancher/mirrored-coredns-coredns:1.10.1
            """)
    void normalisesLikeDocker(String in, String out) {
        assertEquals(out, ImageReference.parse(in).toString());
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', textBlock = """
            busybox@SHA                       | docker.io | library/busybox  | ''
            quay.io/x/y:1@SHA                 | quay.io   | x/y              | 1
            localhost:5000/app@SHA            | localhost:5000 | app         | ''
            """)
    void keepsDigests(String in, String registry, String repo, String tag) {
        ImageReference r = ImageReference.parse(in.replace("SHA", D));
        assertEquals(registry, r.registry());
        assertEquals(repo, r.repository());
        assertEquals(tag, r.tag());
        assertEquals(D, r.digest().orElseThrow().toString());
        assertEquals(D, r.reference());
    }

    @ParameterizedTest
    @ValueSource(strings = {"", " ", "Busybox", "a//b", "a/b:", "a:b:c", "app@sha256:xyz", "app@md5:" + "a", "-app", "app_", "a/b:-tag",
            "a/b:" + "t123456789012345678901234567890123456789012345678901234567890123456789012345678901234567890123456789012345678901234567890xxxxxxxxx"})
    void rejectsMalformed(String in) {
        assertThrows(UsageException.class, () -> ImageReference.parse(in));
    }
}
