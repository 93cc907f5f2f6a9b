package dev.airlock.export;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.airlock.error.UsageException;
import java.nio.file.Path;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** {@code --volume-size} parsing and volume file names, as tables. */
class VolumeSizeTest {
    @ParameterizedTest(name = "{0} = {1}")
    @CsvSource({
            "4GiB, 4294967296",
            "4gib, 4294967296",
            "4.7GB, 4700000000",
            "700MB, 700000000",
            "700 MB, 700000000",
            "1.5MiB, 1572864",
            "2097152, 2097152",
            "2097152B, 2097152",
            "3000GB, 3000000000000",
            "fat32, 4294967295",
            "FAT32, 4294967295",
            "dvd, 4700000000",
            "dvd-dl, 8500000000",
            "bd25, 25000000000",
            "bd50, 50000000000",
            "cd, 700000000",
            "1TiB, 1099511627776",
    })
    void sizes(String text, long bytes) {
        assertEquals(bytes, VolumeSize.parse(text));
    }

    @ParameterizedTest(name = "{0}")
    @CsvSource(delimiter = '|', value = {
            "4 GiBs|is not a size",
            "-4GiB|is not a size",
            "GiB|is not a size",
            "4,7GB|is not a size",
            "floppy|is not a size",
            "1000KB|too small",
            "512KiB|too small",
            "2PiB|is not a size",
            "2000TB|too large",
    })
    void refused(String text, String expected) {
        UsageException e = assertThrows(UsageException.class, () -> VolumeSize.parse(text));
        assertTrue(e.getMessage().contains(expected), e.getMessage());
        assertTrue(e.getMessage().startsWith("--volume-size"), e.getMessage());
    }

    @ParameterizedTest(name = "{0} -> {1}")
    @CsvSource({
            "k3s.tar, k3s.vol001.tar",
            "k3s.tar.zst, k3s.vol001.tar.zst",
            "K3S.TAR.ZST, K3S.vol001.TAR.ZST",
            "images.zst, images.vol001.zst",
            "bundle, bundle.vol001",
            "out/x.tar, out/x.vol001.tar",
    })
    void volumeNames(String output, String first) {
        assertEquals(Path.of(first), VolumeExport.volumeFile(Path.of(output), 1));
        assertEquals(Path.of(first.replace("vol001", "vol012")), VolumeExport.volumeFile(Path.of(output), 12));
    }
}
