package dev.airlock.sign;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.airlock.model.MediaType;
import dev.airlock.model.RawManifest;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Who signed a cosign signature manifest, as inspect shows it. */
class CosignSignatureTest {
    @TempDir
    Path tmp;

    private static RawManifest manifest(String layerAnnotations) {
        String m = "{\"schemaVersion\":2,\"mediaType\":\"application/vnd.oci.image.manifest.v1+json\",\"config\":{\"mediaType\":"
                + "\"application/vnd.oci.image.config.v1+json\",\"digest\":\"sha256:" + "a".repeat(64) + "\",\"size\":2},\"layers\":[{\"mediaType\":"
                + "\"application/vnd.dev.cosign.simplesigning.v1+json\",\"digest\":\"sha256:" + "b".repeat(64) + "\",\"size\":3,\"annotations\":{"
                + layerAnnotations + "}}]}";
        return RawManifest.of(MediaType.OCI_MANIFEST, m.getBytes(StandardCharsets.UTF_8));
    }

    @Test
    void aKeySignatureIsKeyACertificateNamesItsIdentityAndOtherManifestsAreNoSignatures() throws Exception {
        assertEquals(Optional.of(List.of("key")), CosignSignature.signers(manifest("\"dev.cosignproject.cosign/signature\":\"MEUC\"")));
        KeyGen.Result k = KeyGen.generate(tmp.resolve("signer"), Optional.of("CN=release team"));
        String pem = Files.readString(k.certificate()).replace("\n", "\\n");
        assertEquals(Optional.of(List.of("CN=release team")), CosignSignature.signers(manifest(
                "\"dev.cosignproject.cosign/signature\":\"MEUC\",\"dev.sigstore.cosign/certificate\":\"" + pem + "\"")));
        assertEquals(Optional.empty(), CosignSignature.signers(manifest("\"org.example\":\"x\"")), "no signature annotation");
    }
}
