package dev.airlock.testkit;

import dev.airlock.model.Digest;
import java.nio.charset.StandardCharsets;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Function;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * bundle.json's mandatory {@code files[].images} for hand-forged (possibly hostile) bundles: which
 * images reach each blob, found by scanning every reachable blob's bytes for {@code sha256:<hex>}
 * (no parsing, so content the reader must refuse still gets lists). A blob no image reaches is
 * listed under image 0. (bundle-format's own tests keep a copy in Forge: they cannot see testkit.)
 */
public final class Routes {
    private static final Pattern DIGEST = Pattern.compile("sha256:[0-9a-f]{64}");

    private Routes() {
    }

    /**
     * @param tops    each image's top digest, in image order
     * @param blobs   every blob of the bundle
     * @param content a blob's bytes, or null when it is not to be scanned (a layer, a huge blob)
     */
    public static Map<Digest, List<Integer>> of(List<Digest> tops, Set<Digest> blobs, Function<Digest, byte[]> content) {
        Map<Digest, List<Integer>> routes = new LinkedHashMap<>();
        for (Digest d : blobs) {
            routes.put(d, new ArrayList<>());
        }
        for (int i = 0; i < tops.size(); i++) {
            Set<Digest> seen = new HashSet<>();
            ArrayDeque<Digest> todo = new ArrayDeque<>(List.of(tops.get(i)));
            while (!todo.isEmpty()) {
                Digest d = todo.pop();
                if (!blobs.contains(d) || !seen.add(d)) {
                    continue;
                }
                routes.get(d).add(i);
                byte[] b = content.apply(d);
                if (b != null && b.length < (4 << 20)) {
                    Matcher m = DIGEST.matcher(new String(b, StandardCharsets.ISO_8859_1));
                    while (m.find()) {
                        todo.push(Digest.parse(m.group()));
                    }
                }
            }
        }
        routes.replaceAll((d, l) -> l.isEmpty() ? List.of(0) : List.copyOf(l));
        return routes;
    }
}
