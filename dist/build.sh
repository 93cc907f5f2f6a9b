#!/usr/bin/env bash
# Builds the self-contained distribution dist/airlock-VERSION-linux-ARCH.tar.gz (+ .sha256) from
# cli/target/airlock.jar. Run by Maven in the dist module's package phase (dist/pom.xml); by hand:
#   dist/build.sh VERSION JDK_HOME CLASSPATH_FILE
# CLASSPATH_FILE lists the jars bundled in airlock.jar (maven-dependency-plugin build-classpath);
# their LICENSE/NOTICE files go into share/doc/airlock/licenses/.
#
# Layout of the tarball (one top directory, airlock/):
#   bin/airlock, bin/airlock-jit.json   the launcher (prefers runtime/ below) and its JIT directives
#   lib/airlock.jar                     the shaded jar
#   runtime/                            a jlink-ed Java runtime with only the modules airlock uses,
#                                       with its own CDS archive of JDK classes (-Xshare:dump)
#   share/man/man1/airlock*.1           man pages, generated from the picocli model (ShellDocs)
#   share/bash-completion/completions/airlock, share/zsh/site-functions/_airlock
#   share/doc/airlock/                  README, user guide, licenses of everything bundled
set -euo pipefail

version="$1"
jdk="$2"
classpath_file="$3"

DIST="$(cd -- "$(dirname -- "$(readlink -f -- "${BASH_SOURCE[0]}")")" && pwd -P)"
ROOT="$(dirname -- "$DIST")"
JAR="$ROOT/cli/target/airlock.jar"
WORK="$DIST/target"
STAGE="$WORK/stage/airlock"
case "$(uname -m)" in
  x86_64|amd64) arch=x86_64 ;;
  aarch64|arm64) arch=aarch64 ;;
  *) arch="$(uname -m)" ;;
esac
NAME="airlock-$version-linux-$arch"
TARBALL="$DIST/$NAME.tar.gz"

[[ -f "$JAR" ]] || { echo "dist/build.sh: $JAR not found (build cli first)" >&2; exit 1; }
for tool in jlink jdeps jar; do
  [[ -x "$jdk/bin/$tool" ]] || { echo "dist/build.sh: $jdk/bin/$tool not found: a full JDK 17+ is needed" >&2; exit 1; }
done

rm -rf "$WORK/stage" "$TARBALL" "$TARBALL.sha256"
mkdir -p "$STAGE/bin" "$STAGE/lib" "$STAGE/share/man" "$STAGE/share/bash-completion/completions" \
  "$STAGE/share/zsh/site-functions" "$STAGE/share/doc/airlock/licenses"

# Modules: what jdeps finds in the shaded jar, without java.desktop, plus the providers jdeps
# cannot see because they are loaded as services.
# - java.desktop (19 MB of the image) is referenced only for java.beans by optional code paths
#   (Jackson's databind.ext Java7 annotations, commons-compress pack200, commons-lang3
#   concurrent), which airlock never takes; the distribution test runs every command without it.
# - jdk.crypto.ec: the SunEC provider. TLS with ECDHE and ECDSA certificates (most registries)
#   and the JDK side of EC key handling need it; without it the TLS handshake fails.
modules="$("$jdk/bin/jdeps" --print-module-deps --ignore-missing-deps --multi-release 17 "$JAR")"
modules="$(tr ',' '\n' <<<"$modules" | grep -vx 'java.desktop' | paste -sd, -),jdk.crypto.ec"
echo "dist: jlink --add-modules $modules"
"$jdk/bin/jlink" --add-modules "$modules" --strip-debug --no-header-files --no-man-pages \
  --output "$STAGE/runtime"
# CDS archive of the runtime's own classes (what a JDK ships as lib/server/classes.jsa; jlink of
# JDK 17 does not make one). Found by the runtime wherever it is unpacked.
"$STAGE/runtime/bin/java" -Xshare:dump -XX:+UseSerialGC >/dev/null

cp "$JAR" "$STAGE/lib/airlock.jar"
cp "$ROOT/bin/airlock" "$ROOT/bin/airlock-jit.json" "$STAGE/bin/"
chmod 0755 "$STAGE/bin/airlock"

# Man pages and completion from the picocli model (never drift from the options).
"$STAGE/runtime/bin/java" -cp "$JAR" dev.airlock.cli.ShellDocs "$WORK/shell-docs"
cp -r "$WORK/shell-docs/man/man1" "$STAGE/share/man/"
cp "$WORK/shell-docs/bash-completion/airlock" "$STAGE/share/bash-completion/completions/airlock"
cp "$WORK/shell-docs/zsh/_airlock" "$STAGE/share/zsh/site-functions/_airlock"
rm -rf "$WORK/shell-docs"

cp "$ROOT/README.md" "$ROOT"/docs/*.md "$STAGE/share/doc/airlock/"

# Licenses of the bundled dependencies: each jar's own LICENSE/NOTICE files, and for the jars that
# carry none the texts kept in dist/licenses/ (picocli: Apache-2.0; zstd-jni: BSD-2-Clause;
# BouncyCastle: its licence, printed by org.bouncycastle.LICENSE from the jar itself).
licenses="$STAGE/share/doc/airlock/licenses"
{
  echo "Third-party software bundled in lib/airlock.jar (licence texts in this directory)"
  echo "The Java runtime in runtime/ is OpenJDK; its licences are in runtime/legal/."
  echo
} >"$licenses/README"
tr ':' '\n' <"$classpath_file" | sort | while read -r jar; do
  [[ -n "$jar" && -f "$jar" ]] || continue
  base="$(basename "$jar" .jar)"
  # Airlock's own modules (built in this tree, or installed under dev/airlock in a Maven
  # repository) carry no third-party licence: only what other projects wrote is listed
  case "$(readlink -f -- "$jar")" in "$ROOT"/*|*/dev/airlock/*) continue ;; esac
  dir="$licenses/$base"
  mkdir -p "$dir"
  mapfile -t entries < <("$jdk/bin/jar" tf "$jar" | grep -E '^META-INF/[^/]*(LICENSE|NOTICE)[^/]*$' || true)
  if [[ ${#entries[@]} -gt 0 ]]; then
    rm -rf "$WORK/unpack" && mkdir -p "$WORK/unpack"
    (cd "$WORK/unpack" && "$jdk/bin/jar" xf "$jar" "${entries[@]}")
    for entry in "${entries[@]}"; do
      mv "$WORK/unpack/$entry" "$dir/"
    done
    rm -rf "$WORK/unpack"
  fi
  case "$base" in
    picocli-*) cp "$DIST/licenses/Apache-2.0.txt" "$dir/LICENSE" ;;
    zstd-jni-*) cp "$DIST/licenses/zstd-jni-LICENSE" "$dir/LICENSE" ;;
    bcprov-*|bcpkix-*|bcutil-*) "$STAGE/runtime/bin/java" -cp "$jar" org.bouncycastle.LICENSE >"$dir/LICENSE" 2>/dev/null \
        || "$STAGE/runtime/bin/java" -cp "$JAR" org.bouncycastle.LICENSE >"$dir/LICENSE" ;;
  esac
  if [[ -z "$(ls -A "$dir")" ]]; then
    echo "dist/build.sh: no licence text for $base: add one to dist/licenses/ and to this script" >&2
    exit 1
  fi
  echo "$base" >>"$licenses/README"
done

# Reproducible archive: fixed mtimes (the commit time when there is git), owners and order.
epoch="${SOURCE_DATE_EPOCH:-$(git -C "$ROOT" log -1 --format=%ct 2>/dev/null || date +%s)}"
find "$WORK/stage" -exec touch -h -d "@$epoch" {} +
tar -C "$WORK/stage" --sort=name --owner=0 --group=0 --numeric-owner --mtime="@$epoch" -cf - airlock \
  | gzip -n -6 >"$TARBALL.tmp"
mv "$TARBALL.tmp" "$TARBALL"
(cd "$DIST" && sha256sum "$NAME.tar.gz" >"$NAME.tar.gz.sha256")
echo "dist: $TARBALL ($(du -h "$TARBALL" | cut -f1); unpacked $(du -sh "$STAGE" | cut -f1))"
