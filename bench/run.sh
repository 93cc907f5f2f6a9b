#!/usr/bin/env bash
# Airlock benchmark: airlock export/import/verify side by side with skopeo, sha256sum and openssl
# on a reproducible multi-arch data set served by two loopback Distribution registries.
#
#   bench/run.sh [--size-mib N] [--reps N] [--seed N] [--warm] [--skopeo-only] [--no-jfr] [--keep-work]
#
# Defaults: 1024 MiB of unique bytes, 3 repetitions, seed 1; the page cache is dropped before every
# timed run when this is allowed (root), --warm keeps it.
# Needs (Debian): apt-get install docker-registry skopeo time curl openssl openjdk-17-jdk-headless
#                 maven (and gnuplot-nox for the chart, which is left out without it)
# Scratch data goes to $BENCH_WORK (default bench/work/, gitignored); results to bench/results/
# (<timestamp>.json, .md, -jfr-*.txt) and the chart to docs/benchmarks.png.
# AIRLOCK_BEFORE=/path/to/older/bin/airlock adds that build's export (tool airlock_before) to the
# same run, for a before/after beside the skopeo routes.
# Only processes this script starts are stopped, by PID.
set -euo pipefail

BENCH_DIR="$(cd -- "$(dirname -- "$(readlink -f -- "${BASH_SOURCE[0]}")")" && pwd -P)"
ROOT="$(dirname -- "$BENCH_DIR")"

SIZE_MIB=1024
REPS=3
SEED=1
SKOPEO_ONLY=0
JFR=1
KEEP_WORK=0
WARM=0
WORK="${BENCH_WORK:-$BENCH_DIR/work}"
RESULTS="$BENCH_DIR/results"
CHART="$ROOT/docs/benchmarks.png"
AIRLOCK="${AIRLOCK:-$ROOT/bin/airlock}"
# Extra arguments for the airlock commands (the registries are plain HTTP on loopback).
AIRLOCK_EXPORT_ARGS="${AIRLOCK_EXPORT_ARGS:-}"
AIRLOCK_IMPORT_ARGS="${AIRLOCK_IMPORT_ARGS:-}"
AIRLOCK_VERIFY_ARGS="${AIRLOCK_VERIFY_ARGS:-}"

usage() {
  sed -n '2,14p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'
  exit "${1:-0}"
}

while [[ $# -gt 0 ]]; do
  case "$1" in
    --size-mib) SIZE_MIB="$2"; shift 2 ;;
    --reps) REPS="$2"; shift 2 ;;
    --seed) SEED="$2"; shift 2 ;;
    --skopeo-only) SKOPEO_ONLY=1; shift ;;
    --no-jfr) JFR=0; shift ;;
    --keep-work) KEEP_WORK=1; shift ;;
    --warm) WARM=1; shift ;;
    --chart) CHART="$2"; shift 2 ;;
    -h|--help) usage 0 ;;
    *) echo "run.sh: unknown option $1" >&2; usage 2 ;;
  esac
done
[[ "$SIZE_MIB" =~ ^[0-9]+$ && "$SIZE_MIB" -ge 1 ]] || { echo "run.sh: --size-mib needs a positive integer" >&2; exit 2; }
[[ "$REPS" =~ ^[0-9]+$ && "$REPS" -ge 1 ]] || { echo "run.sh: --reps needs a positive integer" >&2; exit 2; }
[[ "$SEED" =~ ^[0-9]+$ ]] || { echo "run.sh: --seed needs a non-negative integer" >&2; exit 2; }

log() { printf '[%s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }

# ---------------------------------------------------------------- tools
missing=()
need() { command -v "$1" >/dev/null 2>&1 || missing+=("$1 (package $2)"); }
need docker-registry docker-registry
need skopeo skopeo
need curl curl
need openssl openssl
need sha256sum coreutils
need tar tar
need java openjdk-17-jdk-headless
need javac openjdk-17-jdk-headless
[[ -x /usr/bin/time ]] || missing+=("/usr/bin/time (package time)")
if [[ $JFR -eq 1 && $SKOPEO_ONLY -eq 0 ]]; then need jfr openjdk-17-jdk-headless; fi
if [[ ${#missing[@]} -gt 0 ]]; then
  echo "run.sh: missing tools:" >&2
  printf '  %s\n' "${missing[@]}" >&2
  echo "install them with apt-get install, then run again" >&2
  exit 1
fi
REGISTRY_BIN="$(command -v docker-registry)"

# airlock: build the jar when the launcher is there but the jar is not.
AIRLOCK_NOTE=""
if [[ $SKOPEO_ONLY -eq 0 ]]; then
  if [[ ! -x "$AIRLOCK" ]]; then
    AIRLOCK_NOTE="bin/airlock not found: skopeo-only run"
    SKOPEO_ONLY=1
  else
    if ! ls "$ROOT"/cli/target/airlock*.jar >/dev/null 2>&1 && [[ -z "${AIRLOCK_JAR:-}" ]]; then
      need mvn maven
      [[ ${#missing[@]} -eq 0 ]] || die "missing: ${missing[*]}"
      log "building airlock (mvn -B -q -DskipTests package)"
      (cd "$ROOT" && mvn -B -q -DskipTests package)
    fi
    for sub in export import verify; do
      if ! "$AIRLOCK" "$sub" --help >/dev/null 2>&1; then
        AIRLOCK_NOTE="airlock has no working '$sub' command yet: skopeo-only run"
        SKOPEO_ONLY=1
        break
      fi
    done
  fi
  [[ -z "$AIRLOCK_NOTE" ]] || log "$AIRLOCK_NOTE"
fi

# ---------------------------------------------------------------- scratch space, registries
mkdir -p "$WORK" "$RESULTS"
WORK="$(cd -- "$WORK" && pwd -P)"
export TMPDIR="$WORK/tmp"   # skopeo's oci-archive staging goes here, not to a small /tmp
mkdir -p "$TMPDIR"
# airlock export keeps a content-addressed blob cache under $XDG_CACHE_HOME/airlock; it is emptied
# before every timed export so that each one fetches everything, like skopeo does.
export XDG_CACHE_HOME="$WORK/xdg-cache"

# The bundle is signed (ECDSA P-256, a key made once by 'airlock keygen'); import and verify trust it.
if [[ $SKOPEO_ONLY -eq 0 ]]; then
  KEY="$WORK/keys/bench"
  if [[ ! -f "$KEY.key" ]]; then
    mkdir -p "$WORK/keys"
    "$AIRLOCK" keygen -o "$KEY" >/dev/null || die "airlock keygen -o $KEY failed"
  fi
  AIRLOCK_EXPORT_ARGS="--sign-key $KEY.key${AIRLOCK_EXPORT_ARGS:+ $AIRLOCK_EXPORT_ARGS}"
  AIRLOCK_IMPORT_ARGS="--trust $KEY.pub.pem${AIRLOCK_IMPORT_ARGS:+ $AIRLOCK_IMPORT_ARGS}"
  AIRLOCK_VERIFY_ARGS="--trust $KEY.pub.pem${AIRLOCK_VERIFY_ARGS:+ $AIRLOCK_VERIFY_ARGS}"
fi

declare -A REG_PID=() REG_PORT=()
cleanup() {
  local name
  for name in "${!REG_PID[@]}"; do
    kill "${REG_PID[$name]}" 2>/dev/null || true
    wait "${REG_PID[$name]}" 2>/dev/null || true
  done
  if [[ $KEEP_WORK -eq 0 ]]; then
    rm -rf "$WORK/out" "$WORK/tmp" "$WORK/src" "$WORK/dst" "$XDG_CACHE_HOME"
  fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# shellcheck source=../bin/lib/loopback-registry.sh
source "$ROOT/bin/lib/loopback-registry.sh"

# start_registry NAME: a registry on 127.0.0.1:<free port>, storage in $WORK/NAME/storage.
# Keeps the port it had if it already ran (restart after a wipe).
start_registry() {
  local name="$1"
  loopback_registry_start "$WORK/$name" "${REG_PORT[$name]:-}" || die "registry $name did not start; see $WORK/$name/registry.log"
  REG_PID[$name]=$LR_PID
  REG_PORT[$name]=$LR_PORT
}

stop_registry() {
  local name="$1"
  [[ -n "${REG_PID[$name]:-}" ]] || return 0
  kill "${REG_PID[$name]}" 2>/dev/null || true
  wait "${REG_PID[$name]}" 2>/dev/null || true
  unset "REG_PID[$name]"
}

# wipe_registry NAME: stop, delete its storage, start again on the same port.
wipe_registry() {
  stop_registry "$1"
  rm -rf "$WORK/$1/storage"
  start_registry "$1"
}

# registry CPU seconds (user+sys) so far, from /proc.
registry_cpu() {
  local pid="${REG_PID[$1]:-}" hz
  hz="$(getconf CLK_TCK)"
  if [[ -n "$pid" && -r "/proc/$pid/stat" ]]; then
    awk -v hz="$hz" '{ sub(/^.*\) /, ""); printf "%.2f", ($12 + $13) / hz }' "/proc/$pid/stat"
  else
    echo 0
  fi
}

# ---------------------------------------------------------------- data set
# shellcheck source=lib/dataset.sh
source "$BENCH_DIR/lib/dataset.sh"
bench_dataset "$WORK" "$SIZE_MIB" "$SEED"
UNIQUE_MB="$(awk -v b="$UNIQUE_BYTES" 'BEGIN { printf "%.1f", b / 1e6 }')"
log "data set: ${#REPOS[@]} repositories, $UNIQUE_BYTES unique bytes"

start_registry src
start_registry dst
SRC="127.0.0.1:${REG_PORT[src]}"
DST="127.0.0.1:${REG_PORT[dst]}"
TAG="1.0"
log "registries: src $SRC (pid ${REG_PID[src]}), dst $DST (pid ${REG_PID[dst]})"

# check_registry HOST: every blob and manifest of the data set is there with the generated digest.
check_registry() {
  local host="$1" repo kind digest size got bad=0 accept
  accept="application/vnd.oci.image.index.v1+json,application/vnd.oci.image.manifest.v1+json"
  while IFS=$'\t' read -r repo kind digest size; do
    case "$kind" in
      index|manifest)
        got="sha256:$(curl -sf -H "Accept: $accept" "http://$host/v2/bench/$repo/manifests/$digest" | sha256sum | cut -d' ' -f1)"
        [[ "$got" == "$digest" ]] || { log "$host bench/$repo: $kind $digest has digest $got"; bad=1; }
        ;;
      *)
        got="$(curl -sfI "http://$host/v2/bench/$repo/blobs/$digest" | tr -d '\r' | awk -F': ' 'tolower($1) == "content-length" { print $2 }')"
        [[ "$got" == "$size" ]] || { log "$host bench/$repo: $kind $digest missing or wrong size ($got)"; bad=1; }
        ;;
    esac
  done <"$DATA/bench-blobs.tsv"
  for repo in "${REPOS[@]}"; do
    digest="$(awk -v r="$repo" '$1 == r { print $2 }' "$DATA/generator.out")"
    got="$(curl -sfI -H "Accept: $accept" "http://$host/v2/bench/$repo/manifests/$TAG" | tr -d '\r' | awk -F': ' 'tolower($1) == "docker-content-digest" { print $2 }')"
    [[ "$got" == "$digest" ]] || { log "$host bench/$repo:$TAG points to '$got', expected $digest"; bad=1; }
  done
  return $bad
}

log "pushing the data set to $SRC with skopeo (--preserve-digests)"
for repo in "${REPOS[@]}"; do
  skopeo copy -q --all --preserve-digests --dest-tls-verify=false \
    "oci:$DATA:$repo" "docker://$SRC/bench/$repo:$TAG"
done
check_registry "$SRC" || die "source registry does not hold the generated bytes"
log "source registry holds the data set byte-exact"

# ---------------------------------------------------------------- page cache
CACHE_NOTE="warm: the page cache could not be dropped (no permission to write /proc/sys/vm/drop_caches); every run reads from memory"
DROP=0
if [[ $WARM -eq 1 ]]; then
  CACHE_NOTE="warm: --warm given, the page cache was not dropped; inputs are mostly read from memory"
elif sync && { echo 3 >/proc/sys/vm/drop_caches; } 2>/dev/null; then
  DROP=1
  CACHE_NOTE="cold: page cache dropped (sync; echo 3 > /proc/sys/vm/drop_caches) before every run"
fi
log "caches: $CACHE_NOTE"

# ---------------------------------------------------------------- the commands
OUT="$WORK/out"
rm -rf "$OUT"
mkdir -p "$OUT"
BUNDLE="$OUT/airlock/bundle.tar"
REFS=()
for repo in "${REPOS[@]}"; do REFS+=("$SRC/bench/$repo:$TAG"); done

# Each tool is a function; timed runs execute it in a child bash (export -f) under /usr/bin/time.
export SRC DST TAG OUT BUNDLE AIRLOCK AIRLOCK_EXPORT_ARGS AIRLOCK_IMPORT_ARGS AIRLOCK_VERIFY_ARGS
export REPOS_LIST="${REPOS[*]}"

export_airlock() {
  local refs=() r
  for r in $REPOS_LIST; do refs+=("$SRC/bench/$r:$TAG"); done
  # shellcheck disable=SC2086
  "$AIRLOCK" export -q "${refs[@]}" -o "$BUNDLE" $AIRLOCK_EXPORT_ARGS
}
# The same export without looking for attached artifacts: the cost of referrer discovery is the
# difference (the bench set has no artifacts, so both bundles are the same images).
export_airlock_noref() {
  local refs=() r
  for r in $REPOS_LIST; do refs+=("$SRC/bench/$r:$TAG"); done
  # shellcheck disable=SC2086
  "$AIRLOCK" export -q "${refs[@]}" -o "$OUT/airlock/noref.tar" --referrers none $AIRLOCK_EXPORT_ARGS
}
# With AIRLOCK_BEFORE=/path/to/older/bin/airlock: the same export by an older build, same run (before/after).
export_airlock_before() {
  local refs=() r
  for r in $REPOS_LIST; do refs+=("$SRC/bench/$r:$TAG"); done
  # shellcheck disable=SC2086
  "$AIRLOCK_BEFORE" export -q "${refs[@]}" -o "$OUT/airlock/before.tar" $AIRLOCK_EXPORT_ARGS
}
export_skopeo_copy() {
  local r
  for r in $REPOS_LIST; do
    skopeo copy -q --all --src-tls-verify=false "docker://$SRC/bench/$r:$TAG" "oci-archive:$OUT/skopeo/$r.tar:$r"
  done
  tar -cf "$OUT/skopeo-all.tar" -C "$OUT/skopeo" .
}
# skopeo's strongest export route: every image into ONE shared OCI layout (blobs deduplicated), then one tar
export_skopeo_layout() {
  local r
  for r in $REPOS_LIST; do
    skopeo copy -q --all --src-tls-verify=false "docker://$SRC/bench/$r:$TAG" "oci:$OUT/layout:$r"
  done
  tar -cf "$OUT/skopeo-layout.tar" -C "$OUT/layout" .
}
export_skopeo_sync() {
  local r
  for r in $REPOS_LIST; do
    skopeo sync --all --src docker --dest dir --src-tls-verify=false "$SRC/bench/$r" "$OUT/sync"
  done
}
import_airlock() {
  # shellcheck disable=SC2086
  "$AIRLOCK" import -q "$BUNDLE" --to "$DST" $AIRLOCK_IMPORT_ARGS
}
import_skopeo_copy() {
  local r
  for r in $REPOS_LIST; do
    skopeo copy -q --all --dest-tls-verify=false "oci-archive:$OUT/skopeo/$r.tar:$r" "docker://$DST/bench/$r:$TAG"
  done
}
verify_airlock() {
  # shellcheck disable=SC2086
  "$AIRLOCK" verify -q "$BUNDLE" $AIRLOCK_VERIFY_ARGS
}
verify_sha256sum() { sha256sum "$BUNDLE"; }
version_airlock() { "$AIRLOCK" --version; }
verify_openssl() { openssl dgst -sha256 "$BUNDLE"; }
export AIRLOCK_BEFORE="${AIRLOCK_BEFORE:-}"
export -f export_airlock export_airlock_before export_airlock_noref export_skopeo_copy export_skopeo_layout export_skopeo_sync import_airlock import_skopeo_copy \
  verify_airlock verify_sha256sum verify_openssl version_airlock

# The exact commands, for the report (scratch paths shown relative to $BENCH_WORK).
describe() { describe_raw "$1" | sed "s#$WORK/#\$BENCH_WORK/#g"; }
describe_raw() {
  local q="${REFS[*]}"
  case "$1" in
    export_airlock) echo "bin/airlock export -q $q -o bundle.tar $AIRLOCK_EXPORT_ARGS" ;;
    export_airlock_noref) echo "bin/airlock export -q $q -o noref.tar --referrers none $AIRLOCK_EXPORT_ARGS" ;;
    export_airlock_before) echo "$AIRLOCK_BEFORE export -q $q -o before.tar $AIRLOCK_EXPORT_ARGS ($(git -C "$(dirname "$AIRLOCK_BEFORE")/.." log -1 --format=%h 2>/dev/null || echo '?'))" ;;
    export_skopeo_copy) echo "for r in ${REPOS[*]}; do skopeo copy -q --all --src-tls-verify=false docker://$SRC/bench/\$r:$TAG oci-archive:skopeo/\$r.tar:\$r; done; tar -cf skopeo-all.tar -C skopeo ." ;;
    export_skopeo_layout) echo "for r in ${REPOS[*]}; do skopeo copy -q --all --src-tls-verify=false docker://$SRC/bench/\$r:$TAG oci:layout:\$r; done; tar -cf skopeo-layout.tar -C layout ." ;;
    version_airlock) echo "bin/airlock --version" ;;
    export_skopeo_sync) echo "for r in ${REPOS[*]}; do skopeo sync --all --src docker --dest dir --src-tls-verify=false $SRC/bench/\$r sync/; done" ;;
    import_airlock|reimport_airlock) echo "bin/airlock import -q bundle.tar --to $DST $AIRLOCK_IMPORT_ARGS" ;;
    import_skopeo_copy|reimport_skopeo_copy) echo "for r in ${REPOS[*]}; do skopeo copy -q --all --dest-tls-verify=false oci-archive:skopeo/\$r.tar:\$r docker://$DST/bench/\$r:$TAG; done" ;;
    verify_airlock) echo "bin/airlock verify -q bundle.tar $AIRLOCK_VERIFY_ARGS" ;;
    verify_sha256sum) echo "sha256sum bundle.tar" ;;
    verify_openssl) echo "openssl dgst -sha256 bundle.tar" ;;
  esac
}

STAMP="$(date -u +%Y%m%dT%H%M%SZ)"
RUNS="$WORK/runs-$STAMP.tsv"   # op tool rep wall user sys rss_kb exit src_cpu dst_cpu check out_bytes
: >"$RUNS"
mkdir -p "$WORK/logs"

# measure OP TOOL REP FUNCTION: one timed run; appends a line to $RUNS.
measure() {
  local op="$1" tool="$2" rep="$3" fn="$4" tf rc s0 d0 s1 d1 check="-"
  tf="$WORK/logs/$op-$tool-$rep.time"
  [[ $DROP -eq 0 ]] || { sync; echo 3 >/proc/sys/vm/drop_caches; }
  s0="$(registry_cpu src)"; d0="$(registry_cpu dst)"
  set +e
  /usr/bin/time -f '%e %U %S %M' -o "$tf" bash -c "$fn" >"$WORK/logs/$op-$tool-$rep.log" 2>&1
  rc=$?
  set -e
  s1="$(registry_cpu src)"; d1="$(registry_cpu dst)"
  if [[ $rc -ne 0 ]]; then
    log "  $op $tool rep $rep FAILED (exit $rc): $(tail -n 3 "$WORK/logs/$op-$tool-$rep.log" | tr '\n' ' ')"
  fi
  if [[ $op == import || $op == reimport ]]; then
    if check_registry "$DST"; then check=ok; else check=MISMATCH; fi
  fi
  local out_bytes=0
  case "$op-$tool" in
    export-airlock) out_bytes="$(stat -c %s "$BUNDLE" 2>/dev/null || echo 0)" ;;
    export-skopeo_copy) out_bytes="$(stat -c %s "$OUT/skopeo-all.tar" 2>/dev/null || echo 0)" ;;
    export-skopeo_sync) out_bytes="$(du -sb "$OUT/sync" | cut -f1)" ;;
    export-skopeo_layout) out_bytes="$(stat -c %s "$OUT/skopeo-layout.tar" 2>/dev/null || echo 0)" ;;
  esac
  read -r wall user sys rss < <(grep -v '^Command' "$tf" | tail -n 1)
  printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$op" "$tool" "$rep" "$wall" "$user" "$sys" "$rss" "$rc" \
    "$(awk -v a="$s0" -v b="$s1" 'BEGIN { printf "%.2f", b - a }')" \
    "$(awk -v a="$d0" -v b="$d1" 'BEGIN { printf "%.2f", b - a }')" "$check" "$out_bytes" >>"$RUNS"
  log "  $op $tool rep $rep: ${wall}s wall, $(awk -v u="$user" -v s="$sys" 'BEGIN { printf "%.2f", u + s }')s cpu, $((rss / 1024)) MB rss${check:+ $check}"
}

# rotate LIST REP: the tools in a different order each repetition (alternating, no tool always first).
rotate() {
  local -a items=($1)
  local n=${#items[@]} k=$(($2 % ${#items[@]})) i
  for ((i = 0; i < n; i++)); do printf '%s ' "${items[$(((i + k) % n))]}"; done
}

if [[ $SKOPEO_ONLY -eq 1 ]]; then
  EXPORT_TOOLS="skopeo_copy skopeo_layout skopeo_sync"
  IMPORT_TOOLS="skopeo_copy"
  VERIFY_TOOLS="sha256sum openssl"
else
  EXPORT_TOOLS="airlock airlock_noref skopeo_copy skopeo_layout skopeo_sync"
  if [[ -n "$AIRLOCK_BEFORE" ]]; then
    [[ -x "$AIRLOCK_BEFORE" ]] || { echo "run.sh: AIRLOCK_BEFORE=$AIRLOCK_BEFORE is not executable" >&2; exit 2; }
    EXPORT_TOOLS="airlock airlock_before airlock_noref skopeo_copy skopeo_layout skopeo_sync"
  fi
  IMPORT_TOOLS="airlock skopeo_copy"
  VERIFY_TOOLS="airlock sha256sum openssl"
fi

LOAD_BEFORE="$(cut -d' ' -f1-3 /proc/loadavg)"
log "load average before: $LOAD_BEFORE"

for rep in $(seq 1 "$REPS"); do
  log "repetition $rep/$REPS"
  for tool in $(rotate "$EXPORT_TOOLS" "$rep"); do
    rm -rf "$OUT/airlock" "$OUT/skopeo" "$OUT/skopeo-all.tar" "$OUT/layout" "$OUT/skopeo-layout.tar" "$OUT/sync" "$TMPDIR"/* "$XDG_CACHE_HOME"
    mkdir -p "$OUT/airlock" "$OUT/skopeo" "$OUT/sync"
    measure export "$tool" "$rep" "export_$tool"
  done
  # the inputs of import/verify: the last export of each tool is kept
  [[ $SKOPEO_ONLY -eq 1 || -f "$BUNDLE" ]] || { rm -rf "$OUT/airlock"; mkdir -p "$OUT/airlock"; bash -c export_airlock; }
  [[ -f "$OUT/skopeo-all.tar" ]] || { mkdir -p "$OUT/skopeo"; bash -c export_skopeo_copy; }
  for tool in $(rotate "$IMPORT_TOOLS" "$rep"); do
    wipe_registry dst
    measure import "$tool" "$rep" "import_$tool"
    measure reimport "$tool" "$rep" "import_$tool"
  done
  if [[ $SKOPEO_ONLY -eq 1 ]]; then
    # no airlock bundle: verify the skopeo archive set instead, so the hash baselines still run
    BUNDLE="$OUT/skopeo-all.tar"; export BUNDLE
  fi
  for tool in $(rotate "$VERIFY_TOOLS" "$rep"); do
    measure verify "$tool" "$rep" "verify_$tool"
  done
  # start-up alone: the floor under every command (re-import's cost beyond it is the target)
  [[ $SKOPEO_ONLY -eq 1 ]] || measure startup airlock "$rep" version_airlock
done
LOAD_AFTER="$(cut -d' ' -f1-3 /proc/loadavg)"
log "load average after: $LOAD_AFTER"

out_size() { awk -F'\t' -v t="$1" '$1 == "export" && $2 == t && $12 > m { m = $12 } END { print m + 0 }' "$RUNS"; }
BUNDLE_BYTES="$(out_size airlock)"
SKOPEO_TAR_BYTES="$(out_size skopeo_copy)"
SYNC_BYTES="$(out_size skopeo_sync)"
LAYOUT_TAR_BYTES="$(out_size skopeo_layout)"

# ---------------------------------------------------------------- JFR: where airlock's time goes
jfr_top() {
  # top frames of jdk.ExecutionSample: the innermost frame, and the innermost dev.airlock frame
  local file="$1"
  echo "# $(basename "$file"): jdk.ExecutionSample, top 15 innermost frames"
  jfr print --stack-depth 64 --events jdk.ExecutionSample "$file" | awk '
    /stackTrace = \[/ { inside = 1; first = 1; mine = 0; n++; next }
    inside && /^[[:space:]]*\]/ { inside = 0; next }
    inside {
      line = $0; sub(/^[[:space:]]+/, "", line); sub(/[[:space:]]+line:.*$/, "", line)
      if (first) { top[line]++; first = 0 }
      if (!mine && line ~ /^dev\.airlock\./) { own[line]++; mine = 1 }
    }
    END {
      printf "samples: %d\n", n
      for (f in top) printf "%6.1f%%  %s\n", 100 * top[f] / n, f | "sort -rn | head -15"
      close("sort -rn | head -15")
      print ""
      print "# innermost dev.airlock frame per sample, top 15"
      for (f in own) printf "%6.1f%%  %s\n", 100 * own[f] / n, f | "sort -rn | head -15"
    }'
  echo
  echo "# jdk.ExecutionSample by thread (digits in names folded), top 10"
  jfr print --events jdk.ExecutionSample "$file" | awk '
    /sampledThread = / { t = $0; sub(/^[^"]*"/, "", t); sub(/".*$/, "", t); gsub(/[0-9]+/, "N", t); c[t]++; n++ }
    END { for (t in c) printf "%6.1f%%  %s\n", 100 * c[t] / n, t | "sort -rn | head -10" }'
  echo
  echo "# jdk.NativeMethodSample (threads waiting in native code), top 10 innermost frames"
  jfr print --stack-depth 64 --events jdk.NativeMethodSample "$file" | awk '
    /stackTrace = \[/ { inside = 1; first = 1; n++; next }
    inside && /^[[:space:]]*\]/ { inside = 0; next }
    inside && first { line = $0; sub(/^[[:space:]]+/, "", line); sub(/[[:space:]]+line:.*$/, "", line); top[line]++; first = 0 }
    END { printf "samples: %d\n", n; for (f in top) printf "%6.1f%%  %s\n", 100 * top[f] / n, f | "sort -rn | head -10" }'
}
JFR_FILES=()
if [[ $SKOPEO_ONLY -eq 0 && $JFR -eq 1 ]]; then
  log "JFR recording of one airlock export and one import (not timed)"
  mkdir -p "$WORK/jfr"
  rm -rf "$OUT/airlock" "$XDG_CACHE_HOME"; mkdir -p "$OUT/airlock"
  JAVA_OPTS="${JAVA_OPTS:-} -XX:StartFlightRecording=filename=$WORK/jfr/export.jfr,settings=profile" \
    bash -c export_airlock >"$WORK/logs/jfr-export.log" 2>&1 || log "JFR export run failed"
  wipe_registry dst
  JAVA_OPTS="${JAVA_OPTS:-} -XX:StartFlightRecording=filename=$WORK/jfr/import.jfr,settings=profile" \
    bash -c import_airlock >"$WORK/logs/jfr-import.log" 2>&1 || log "JFR import run failed"
  for f in export import; do
    if [[ -f "$WORK/jfr/$f.jfr" ]]; then
      jfr_top "$WORK/jfr/$f.jfr" >"$RESULTS/$STAMP-jfr-$f.txt"
      JFR_FILES+=("bench/results/$STAMP-jfr-$f.txt")
    fi
  done
fi

# ---------------------------------------------------------------- summary
# summary lines: op tool n median_wall median_cpu max_rss_mb mb_s median_src_cpu median_dst_cpu failures checks
SUMMARY="$WORK/summary-$STAMP.tsv"
awk -F'\t' -v unique="$UNIQUE_BYTES" '
  function median(list,   a, n, i, j, t) {
    n = split(list, a, " ")
    for (i = 2; i <= n; i++) { t = a[i] + 0; for (j = i - 1; j >= 1 && a[j] + 0 > t; j--) a[j + 1] = a[j]; a[j + 1] = t }
    return n % 2 ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2
  }
  {
    k = $1 "\t" $2
    if (!(k in seen)) { seen[k] = 1; order[++m] = k }
    wall[k] = wall[k] " " $4; cpu[k] = cpu[k] " " ($5 + $6); sc[k] = sc[k] " " $9; dc[k] = dc[k] " " $10
    if ($7 > rss[k]) rss[k] = $7
    n[k]++
    if ($8 != 0) fail[k]++
    if ($11 == "MISMATCH") bad[k]++
  }
  END {
    for (i = 1; i <= m; i++) {
      k = order[i]; w = median(wall[k])
      printf "%s\t%d\t%.2f\t%.2f\t%.0f\t%.1f\t%.2f\t%.2f\t%d\t%d\n", k, n[k], w, median(cpu[k]), rss[k] / 1024,
        (w > 0 ? unique / 1e6 / w : 0), median(sc[k]), median(dc[k]), fail[k], bad[k]
    }
  }' "$RUNS" | awk -F'\t' '
    BEGIN { split("export import reimport verify startup", o, " "); for (i in o) orank[o[i]] = i
            split("airlock airlock_before airlock_noref skopeo_copy skopeo_layout skopeo_sync openssl sha256sum", t, " "); for (i in t) trank[t[i]] = i }
    { printf "%d%d\t%s\n", orank[$1], trank[$2], $0 }' | sort -n | cut -f2- >"$SUMMARY"

med() { awk -F'\t' -v op="$1" -v tool="$2" '$1 == op && $2 == tool { print $4 }' "$SUMMARY"; }
ratio() {
  local a b
  a="$(med "$1" "$2")"; b="$(med "$1" "$3")"
  if [[ -n "$a" && -n "$b" ]]; then awk -v a="$a" -v b="$b" 'BEGIN { printf "%.2f", (b > 0 ? a / b : 0) }'; fi
}
passmiss() { awk -v v="$1" -v t="$2" -v dir="$3" 'BEGIN { if (v == "") print "n/a"; else if ((dir == "le" && v <= t) || (dir == "lt" && v < t)) print "pass"; else print "miss" }'; }

T_EXPORT="$(ratio export airlock skopeo_copy)"
T_EXPORT_LAYOUT="$(ratio export airlock skopeo_layout)"
# re-import beyond start-up: seconds over `airlock --version`
T_REIMPORT=""
if [[ -n "$(med reimport airlock)" && -n "$(med startup airlock)" ]]; then
  T_REIMPORT="$(awk -v a="$(med reimport airlock)" -v b="$(med startup airlock)" 'BEGIN { printf "%.2f", a - b }')"
fi
T_REFERRERS="$(ratio export airlock airlock_noref)"
T_BEFORE="$(ratio export airlock airlock_before)"
T_IMPORT="$(ratio import airlock skopeo_copy)"
T_VERIFY="$(ratio verify airlock openssl)"
T_RSS=""
if [[ $SKOPEO_ONLY -eq 0 ]]; then
  T_RSS="$(awk -F'\t' '$2 == "airlock" && $6 + 0 > m { m = $6 + 0 } END { print m + 0 }' "$SUMMARY")"
fi
T_BUNDLE=""
if [[ "$BUNDLE_BYTES" -gt 0 ]]; then
  T_BUNDLE="$(awk -v b="$BUNDLE_BYTES" -v u="$UNIQUE_BYTES" 'BEGIN { d = (b - u) / u * 100; printf "%.2f", (d < 0 ? -d : d) }')"
fi

# ---------------------------------------------------------------- machine description
CPU_MODEL="$(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo 2>/dev/null || echo unknown)"
NPROC="$(nproc)"
MEM_G="$(free -g | awk '/^Mem:/ { print $2 }')"
KERNEL="$(uname -sr)"
DISK="$(df -h --output=source,fstype,size "$WORK" | tail -n 1 | tr -s ' ')"
DISK_DEV="$(basename "$(df --output=source "$WORK" | tail -n 1)")"
ROTA="$(cat "/sys/block/$DISK_DEV/queue/rotational" 2>/dev/null || echo '?')"
JAVA_VERSION="$(java -version 2>&1 | head -n 2 | tail -n 1)"
SKOPEO_VERSION="$(skopeo --version)"
REGISTRY_VERSION="$("$REGISTRY_BIN" --version 2>&1 | head -n 1)"
AIRLOCK_VERSION="(not run)"
if [[ $SKOPEO_ONLY -eq 0 ]]; then AIRLOCK_VERSION="$("$AIRLOCK" --version 2>&1 | head -n 1 || true) ($(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo '?'))"; fi

jstr() { printf '"%s"' "$(printf '%s' "$1" | sed -e 's/\\/\\\\/g' -e 's/"/\\"/g' | tr '\n\t' '  ')"; }

JSON="$RESULTS/$STAMP.json"
{
  echo "{"
  echo "  \"timestamp\": $(jstr "$STAMP"),"
  echo "  \"machine\": {\"nproc\": $NPROC, \"mem_gib\": $MEM_G, \"cpu\": $(jstr "$CPU_MODEL"), \"kernel\": $(jstr "$KERNEL"), \"disk\": $(jstr "$DISK rotational=$ROTA"), \"java\": $(jstr "$JAVA_VERSION"), \"skopeo\": $(jstr "$SKOPEO_VERSION"), \"registry\": $(jstr "$REGISTRY_VERSION"), \"airlock\": $(jstr "$AIRLOCK_VERSION"), \"load_before\": $(jstr "$LOAD_BEFORE"), \"load_after\": $(jstr "$LOAD_AFTER")},"
  echo "  \"params\": {\"size_mib\": $SIZE_MIB, \"reps\": $REPS, \"seed\": $SEED, \"repositories\": ${#REPOS[@]}, \"unique_bytes\": $UNIQUE_BYTES, \"bundle_bytes\": $BUNDLE_BYTES, \"skopeo_tar_bytes\": $SKOPEO_TAR_BYTES, \"skopeo_sync_dir_bytes\": $SYNC_BYTES, \"skopeo_layout_tar_bytes\": ${LAYOUT_TAR_BYTES:-0}, \"caches\": $(jstr "$CACHE_NOTE"), \"note\": $(jstr "$AIRLOCK_NOTE")},"
  echo "  \"commands\": {"
  first=1
  for fn in export_airlock export_airlock_noref export_skopeo_copy export_skopeo_layout export_skopeo_sync import_airlock import_skopeo_copy verify_airlock verify_sha256sum verify_openssl version_airlock; do
    [[ $first -eq 1 ]] || echo ","
    first=0
    printf '    "%s": %s' "$fn" "$(jstr "$(describe "$fn")")"
  done
  echo
  echo "  },"
  echo "  \"runs\": ["
  awk -F'\t' '{ printf "%s    {\"op\": \"%s\", \"tool\": \"%s\", \"rep\": %d, \"wall_s\": %s, \"user_s\": %s, \"sys_s\": %s, \"max_rss_kb\": %d, \"exit\": %d, \"src_registry_cpu_s\": %s, \"dst_registry_cpu_s\": %s, \"target_check\": \"%s\", \"output_bytes\": %d}", (NR > 1 ? ",\n" : ""), $1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12 } END { print "" }' "$RUNS"
  echo "  ],"
  echo "  \"summary\": ["
  awk -F'\t' '{ printf "%s    {\"op\": \"%s\", \"tool\": \"%s\", \"runs\": %d, \"median_wall_s\": %s, \"median_cpu_s\": %s, \"peak_rss_mb\": %s, \"mb_per_s\": %s, \"median_src_registry_cpu_s\": %s, \"median_dst_registry_cpu_s\": %s, \"failed_runs\": %d, \"target_mismatches\": %d}", (NR > 1 ? ",\n" : ""), $1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11 } END { print "" }' "$SUMMARY"
  echo "  ],"
  printf '  "targets": {"export_vs_skopeo_copy": %s, "export_vs_skopeo_layout": %s, "import_vs_skopeo_copy": %s, "verify_vs_openssl": %s, "reimport_beyond_startup_s": %s, "airlock_peak_rss_mb": %s, "bundle_vs_unique_pct": %s, "export_referrers_all_vs_none": %s}\n' \
    "${T_EXPORT:-null}" "${T_EXPORT_LAYOUT:-null}" "${T_IMPORT:-null}" "${T_VERIFY:-null}" "${T_REIMPORT:-null}" "${T_RSS:-null}" "${T_BUNDLE:-null}" "${T_REFERRERS:-null}"
  echo "}"
} >"$JSON"

# ---------------------------------------------------------------- markdown
MD="$RESULTS/$STAMP.md"
{
  echo "## Results $STAMP"
  echo
  echo "Data set: ${#REPOS[@]} repositories x 3 platforms x 3 layers, seed $SEED, $UNIQUE_BYTES unique bytes ($UNIQUE_MB MB); $REPS repetitions per tool, tools alternated; medians. Caches: $CACHE_NOTE. Load average before/after: $LOAD_BEFORE / $LOAD_AFTER."
  [[ -z "$AIRLOCK_NOTE" ]] || { echo; echo "**Note:** $AIRLOCK_NOTE."; }
  echo
  echo "| operation | tool | runs | median wall s | median CPU s (user+sys) | peak RSS MB | MB/s (unique bytes) | registry CPU s (src/dst) | failed | target check |"
  echo "|---|---|---:|---:|---:|---:|---:|---:|---:|---|"
  awk -F'\t' '{
    chk = ($1 == "import" || $1 == "reimport") ? ($11 > 0 ? $11 " mismatches" : "digests ok") : "-"
    printf "| %s | %s | %d | %.2f | %.2f | %d | %.1f | %.2f / %.2f | %d | %s |\n", $1, $2, $3, $4, $5, $6, $7, $8, $9, $10, chk }' "$SUMMARY"
  echo
  echo "Sizes: airlock bundle $BUNDLE_BYTES bytes; skopeo per-image oci-archives + tar $SKOPEO_TAR_BYTES bytes; skopeo shared layout + tar ${LAYOUT_TAR_BYTES:-0} bytes; skopeo sync dir $SYNC_BYTES bytes; unique bytes $UNIQUE_BYTES."
  echo
  echo "| target (performance issue) | measured | result |"
  echo "|---|---:|---|"
  echo "| export <= 0.35x skopeo's shared-layout route (copy --all into one oci: layout + tar) (wall) | ${T_EXPORT_LAYOUT:+${T_EXPORT_LAYOUT}x} | $(passmiss "$T_EXPORT_LAYOUT" 0.35 le) |"
  echo "| export vs skopeo per-image oci-archive route (wall, for reference) | ${T_EXPORT:+${T_EXPORT}x} | - |"
  echo "| export --referrers all <= 1.2x --referrers none (wall, no artifacts present) | ${T_REFERRERS:+${T_REFERRERS}x} | $(passmiss "$T_REFERRERS" 1.2 le) |"
  [[ -z "$T_BEFORE" ]] || echo "| export, this build against AIRLOCK_BEFORE (wall; information, no target) | ${T_BEFORE}x | |"
  echo "| import <= 0.45x skopeo copy --all (wall) | ${T_IMPORT:+${T_IMPORT}x} | $(passmiss "$T_IMPORT" 0.45 le) |"
  echo "| verify <= 1.2x openssl dgst -sha256 (wall) | ${T_VERIFY:+${T_VERIFY}x} | $(passmiss "$T_VERIFY" 1.2 le) |"
  echo "| re-import (all present) < 0.5 s beyond airlock --version | ${T_REIMPORT:+${T_REIMPORT} s} | $(passmiss "$T_REIMPORT" 0.5 lt) |"
  echo "| airlock peak RSS < 300 MB | ${T_RSS:+$T_RSS MB} | $(passmiss "$T_RSS" 300 lt) |"
  echo "| bundle size within 2% of unique bytes | ${T_BUNDLE:+${T_BUNDLE}%} | $(passmiss "$T_BUNDLE" 2 le) |"
  echo
  echo "Commands (\$SRC = $SRC, \$DST = $DST):"
  echo
  for fn in export_airlock export_airlock_before export_airlock_noref export_skopeo_copy export_skopeo_layout export_skopeo_sync import_airlock import_skopeo_copy verify_airlock verify_sha256sum verify_openssl version_airlock; do
    if [[ $SKOPEO_ONLY -eq 1 && $fn == *airlock ]]; then continue; fi
    if [[ -z "$AIRLOCK_BEFORE" && $fn == export_airlock_before ]]; then continue; fi
    echo "- \`$fn\`: \`$(describe "$fn")\`"
  done
  echo
  echo "Machine: $NPROC CPUs ($CPU_MODEL), $MEM_G GiB RAM, $KERNEL, disk $DISK (rotational=$ROTA); $JAVA_VERSION; $SKOPEO_VERSION; $REGISTRY_VERSION; airlock $AIRLOCK_VERSION."
  if [[ ${#JFR_FILES[@]} -gt 0 ]]; then echo; echo "JFR summaries: ${JFR_FILES[*]}"; fi
} >"$MD"

# ---------------------------------------------------------------- chart
DAT="$WORK/chart-$STAMP.dat"
awk -F'\t' '{ c = ($2 == "airlock") ? 1 : 2; printf "%d\t\"%s\\n%s\"\t%s\t%d\n", NR - 1, $1, $2, $4, c }' "$SUMMARY" >"$DAT"
mkdir -p "$(dirname "$CHART")"
command -v gnuplot >/dev/null 2>&1 || log "gnuplot not found (package gnuplot-nox): no chart"
command -v gnuplot >/dev/null 2>&1 && gnuplot <<EOF || log "gnuplot failed; no chart"
set terminal pngcairo size 1100,520 font ",10" noenhanced
set output "$CHART"
set title "Airlock vs skopeo / sha256sum / openssl: median wall time, $UNIQUE_MB MB unique, $REPS reps ($STAMP)"
set ylabel "seconds (lower is better)"
set style fill solid 0.8 border -1
set boxwidth 0.7
set grid ytics
set yrange [0:*]
set xtics nomirror
set bmargin 4
unset key
set linetype 1 lc rgb "#1f77b4"
set linetype 2 lc rgb "#aaaaaa"
plot "$DAT" using 1:3:4:xtic(2) with boxes lc variable, \
     "$DAT" using 1:3:(sprintf("%.1f", \$3)) with labels offset 0,0.7
EOF

cat "$MD"
log "results: $JSON, $MD, chart $CHART"
