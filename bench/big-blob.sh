#!/usr/bin/env bash
# One image with one big layer: airlock export (ranged GETs in parallel, the default) side by side
# with airlock as one stream (-j 1, 16 KiB HTTP buffers: the client before issue 19), skopeo's
# shared-layout route (copy --all into an oci: layout + tar) and curl's plain GET of the blob.
#
#   bench/big-blob.sh [--size-mib N] [--reps N] [--keep-work]
#
# AIRLOCK_BEFORE=/path/to/older/bin/airlock adds the route airlock_before: the same export by an
# older build (e.g. a worktree of an earlier commit), for a before/after in the same run.
#
# Defaults: 2048 MiB, 2 repetitions. The layer is pseudo-random bytes (openssl's AES-CTR stream
# from a fixed key, so the same size gives the same digest). Scratch data in $BENCH_WORK (default
# bench/work/big-blob); the table goes to stdout and bench/results/<timestamp>-big-blob.md. Only
# the registry this script starts is stopped, by PID.
set -euo pipefail

BENCH_DIR="$(cd -- "$(dirname -- "$(readlink -f -- "${BASH_SOURCE[0]}")")" && pwd -P)"
ROOT="$(dirname -- "$BENCH_DIR")"
SIZE_MIB=2048
REPS=2
KEEP=0
while [[ $# -gt 0 ]]; do
  case "$1" in
    --size-mib) SIZE_MIB="$2"; shift 2 ;;
    --reps) REPS="$2"; shift 2 ;;
    --keep-work) KEEP=1; shift ;;
    -h|--help) sed -n '2,11p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "big-blob.sh: unknown option $1" >&2; exit 2 ;;
  esac
done
[[ "$SIZE_MIB" =~ ^[0-9]+$ && "$SIZE_MIB" -ge 1 && "$REPS" =~ ^[0-9]+$ && "$REPS" -ge 1 ]] \
  || { echo "big-blob.sh: --size-mib and --reps need positive integers" >&2; exit 2; }
log() { printf '[%s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
for t in docker-registry skopeo curl openssl sha256sum tar; do
  command -v "$t" >/dev/null || { echo "big-blob.sh: $t is missing" >&2; exit 1; }
done
[[ -x /usr/bin/time ]] || { echo "big-blob.sh: /usr/bin/time is missing (package time)" >&2; exit 1; }
AIRLOCK="${AIRLOCK:-$ROOT/bin/airlock}"
WORK="${BENCH_WORK:-$BENCH_DIR/work}/big-blob"
RESULTS="$BENCH_DIR/results"
mkdir -p "$WORK" "$RESULTS"
export TMPDIR="$WORK/tmp" XDG_CACHE_HOME="$WORK/xdg-cache"
mkdir -p "$TMPDIR"

REG_PID=""
cleanup() {
  [[ -z "$REG_PID" ]] || { kill "$REG_PID" 2>/dev/null || true; wait "$REG_PID" 2>/dev/null || true; }
  [[ $KEEP -eq 1 ]] || rm -rf "$WORK/reg" "$WORK/out" "$TMPDIR" "$XDG_CACHE_HOME"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
# shellcheck source=../bin/lib/loopback-registry.sh
source "$ROOT/bin/lib/loopback-registry.sh"
loopback_registry_start "$WORK/reg" || { log "registry did not start"; exit 1; }
REG_PID=$LR_PID
REG="127.0.0.1:$LR_PORT"

# ---------------------------------------------------------------- the image
BYTES=$((SIZE_MIB * 1024 * 1024))
LAYER="$WORK/layer-${SIZE_MIB}m"
if [[ ! -f "$LAYER.sha256" ]]; then
  log "generating a $SIZE_MIB MiB layer"
  # openssl ends on SIGPIPE when head has enough: not a failure
  { openssl enc -aes-128-ctr -nosalt -K 000102030405060708090a0b0c0d0e0f -iv 0 -in /dev/zero 2>/dev/null || true; } \
    | head -c "$BYTES" >"$LAYER"
  [[ "$(stat -c %s "$LAYER")" -eq "$BYTES" ]] || { log "generating the layer failed"; exit 1; }
  sha256sum "$LAYER" | cut -d' ' -f1 >"$LAYER.sha256"
fi
LDIG="sha256:$(cat "$LAYER.sha256")"
push_blob() { # FILE DIGEST
  local loc
  loc="$(curl -sf -i -X POST "http://$REG/v2/bench/big/blobs/uploads/" | tr -d '\r' | awk -F': ' 'tolower($1) == "location" { print $2 }')"
  case "$loc" in http*) ;; *) loc="http://$REG$loc" ;; esac
  curl -sf -o /dev/null -X PUT -H 'Content-Type: application/octet-stream' -T "$1" "$loc&digest=$2"
}
log "pushing it to $REG"
push_blob "$LAYER" "$LDIG"
CONFIG="$WORK/config.json"
printf '{"architecture":"amd64","os":"linux","rootfs":{"type":"layers","diff_ids":["%s"]}}' "$LDIG" >"$CONFIG"
CDIG="sha256:$(sha256sum "$CONFIG" | cut -d' ' -f1)"
push_blob "$CONFIG" "$CDIG"
printf '{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"%s","size":%d},"layers":[{"mediaType":"application/vnd.oci.image.layer.v1.tar","digest":"%s","size":%d}]}' \
  "$CDIG" "$(stat -c %s "$CONFIG")" "$LDIG" "$BYTES" >"$WORK/manifest.json"
curl -sf -o /dev/null -X PUT -H 'Content-Type: application/vnd.oci.image.manifest.v1+json' \
  --data-binary @"$WORK/manifest.json" "http://$REG/v2/bench/big/manifests/1.0"
REF="$REG/bench/big:1.0"

# ---------------------------------------------------------------- the runs
OUT="$WORK/out"
export AIRLOCK REF OUT REG LDIG
airlock_ranged() { "$AIRLOCK" export -q "$REF" -o "$OUT/bundle.tar"; }
airlock_one_stream() { JAVA_OPTS="-Djdk.httpclient.bufsize=16384 ${JAVA_OPTS:-}" "$AIRLOCK" export -q -j 1 "$REF" -o "$OUT/bundle.tar"; }
skopeo_layout() { skopeo copy -q --all --src-tls-verify=false "docker://$REF" "oci:$OUT/layout:big" && tar -cf "$OUT/layout.tar" -C "$OUT/layout" .; }
curl_get() { curl -sf -o "$OUT/blob" "http://$REG/v2/bench/big/blobs/$LDIG"; }
airlock_before() { "$AIRLOCK_BEFORE" export -q "$REF" -o "$OUT/bundle.tar"; }
export -f airlock_ranged airlock_one_stream skopeo_layout curl_get airlock_before
TOOLS="airlock_ranged airlock_one_stream skopeo_layout curl_get"
if [[ -n "${AIRLOCK_BEFORE:-}" ]]; then
  [[ -x "$AIRLOCK_BEFORE" ]] || { echo "big-blob.sh: AIRLOCK_BEFORE=$AIRLOCK_BEFORE is not executable" >&2; exit 1; }
  export AIRLOCK_BEFORE
  TOOLS="airlock_ranged airlock_before airlock_one_stream skopeo_layout curl_get"
fi
STAMP="$(date -u +%Y%m%dT%H%M%SZ)"
ROWS="$WORK/rows-$STAMP.tsv"
: >"$ROWS"
LOAD_BEFORE="$(cut -d' ' -f1-3 /proc/loadavg)"
for rep in $(seq 1 "$REPS"); do
  for tool in $TOOLS; do
    rm -rf "$OUT" "$XDG_CACHE_HOME" "${TMPDIR:?}"/*
    mkdir -p "$OUT"
    sync
    { echo 3 >/proc/sys/vm/drop_caches; } 2>/dev/null || true
    /usr/bin/time -f '%e %U %S %M' -o "$WORK/time" bash -c "$tool" >"$WORK/$tool.log" 2>&1 || { log "$tool failed: $(tail -n 2 "$WORK/$tool.log")"; continue; }
    read -r wall user sys rss <"$WORK/time"
    printf '%s\t%s\t%s\t%s\t%s\n' "$tool" "$wall" "$user" "$sys" "$rss" >>"$ROWS"
    log "  $tool rep $rep: ${wall}s, $(awk -v b="$BYTES" -v w="$wall" 'BEGIN { printf "%.0f", b / 1e6 / w }') MB/s, rss $((rss / 1024)) MB"
  done
done
LOAD_AFTER="$(cut -d' ' -f1-3 /proc/loadavg)"

MD="$RESULTS/$STAMP-big-blob.md"
{
  echo "## One $SIZE_MIB MiB layer, $STAMP"
  echo
  echo "$REPS repetitions, page cache dropped before each run when allowed; medians. Load average before/after: $LOAD_BEFORE / $LOAD_AFTER; $(nproc) CPUs."
  echo
  echo "| route | median wall s | MB/s | median CPU s | peak RSS MB |"
  echo "|---|---:|---:|---:|---:|"
  for tool in $TOOLS; do
    awk -F'\t' -v t="$tool" -v b="$BYTES" '
      function med(s,   a, n, i, j, x) { n = split(s, a, " "); for (i = 2; i <= n; i++) { x = a[i] + 0; for (j = i - 1; j >= 1 && a[j] + 0 > x; j--) a[j + 1] = a[j]; a[j + 1] = x } return n % 2 ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2 }
      $1 == t { w = w " " $2; c = c " " ($3 + $4); if ($5 > r) r = $5; n++ }
      END { if (n) printf "| %s | %.2f | %.0f | %.2f | %d |\n", t, med(w), b / 1e6 / med(w), med(c), r / 1024 }' "$ROWS"
  done
  echo
  echo "Routes: airlock_ranged \`bin/airlock export -q $REF -o bundle.tar\`; airlock_one_stream the same with \`-j 1\` and"
  echo "\`JAVA_OPTS=-Djdk.httpclient.bufsize=16384\`; skopeo_layout \`skopeo copy --all docker://$REF oci:layout:big && tar -cf layout.tar -C layout .\`;"
  echo "curl_get \`curl -o blob http://$REG/v2/bench/big/blobs/$LDIG\`."
  [[ -z "${AIRLOCK_BEFORE:-}" ]] || echo "airlock_before: the same export by \`$AIRLOCK_BEFORE\` ($(git -C "$(dirname "$AIRLOCK_BEFORE")/.." log -1 --format=%h 2>/dev/null || echo "unknown commit"))."
} >"$MD"
cat "$MD"
