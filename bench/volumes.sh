#!/usr/bin/env bash
# airlock export --volume-size benchmark: the same export of the bench data set with and without
# --volume-size, side by side in one run (interleaved repetitions), with skopeo copy --all into one
# OCI layout as the peer's reference on the same data.
#
#   bench/volumes.sh [--size-mib N] [--reps N] [--volumes N] [--seed N] [--warm] [--keep-work]
#
# Defaults: 1024 MiB of unique bytes (bench/src/BenchData.java, the data set of bench/run.sh),
# 3 repetitions, a volume size giving about 4 volumes (--volumes N: about N), seed 1. The blob cache
# is emptied before every timed export (each fetches everything); the page cache is dropped before
# every timed run when this is allowed (root), --warm keeps it. Reports the median wall seconds of
# each, the ratio volumes / one bundle (target <= 1.1), every volume's size against the limit, and
# the sum of the volumes against the unique bytes.
# Needs (Debian): docker-registry skopeo curl time openjdk-17-jdk-headless; bin/airlock built.
# Scratch data goes to $BENCH_WORK (default bench/work/); the result to bench/results/<stamp>-volumes.md.
# Only processes this script starts are stopped, by PID.
set -euo pipefail

BENCH_DIR="$(cd -- "$(dirname -- "$(readlink -f -- "${BASH_SOURCE[0]}")")" && pwd -P)"
ROOT="$(dirname -- "$BENCH_DIR")"
SIZE_MIB=1024
REPS=3
VOLUMES=4
SEED=1
WARM=0
KEEP_WORK=0
WORK="${BENCH_WORK:-$BENCH_DIR/work}"
RESULTS="$BENCH_DIR/results"
AIRLOCK="${AIRLOCK:-$ROOT/bin/airlock}"

usage() { sed -n '2,16p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; exit "${1:-0}"; }
while [[ $# -gt 0 ]]; do
  case "$1" in
    --size-mib) SIZE_MIB="$2"; shift 2 ;;
    --reps) REPS="$2"; shift 2 ;;
    --volumes) VOLUMES="$2"; shift 2 ;;
    --seed) SEED="$2"; shift 2 ;;
    --warm) WARM=1; shift ;;
    --keep-work) KEEP_WORK=1; shift ;;
    -h|--help) usage 0 ;;
    *) echo "volumes.sh: unknown option $1" >&2; usage 2 ;;
  esac
done
for v in SIZE_MIB REPS VOLUMES; do
  [[ "${!v}" =~ ^[0-9]+$ && "${!v}" -ge 1 ]] || { echo "volumes.sh: --${v,,} needs a positive integer" >&2; exit 2; }
done

log() { printf '[%s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }
for t in docker-registry skopeo curl java javac; do command -v "$t" >/dev/null || die "missing tool: $t"; done
[[ -x /usr/bin/time ]] || die "missing /usr/bin/time (package time)"
[[ -x "$AIRLOCK" ]] && "$AIRLOCK" export --help 2>/dev/null | grep -q -- --volume-size \
  || die "$AIRLOCK export has no --volume-size: build with mvn -B -q -DskipTests package"

mkdir -p "$WORK" "$RESULTS"
WORK="$(cd -- "$WORK" && pwd -P)"
OUT="$WORK/volumes-out"
export TMPDIR="$WORK/tmp"
export XDG_CACHE_HOME="$WORK/xdg-cache"
mkdir -p "$TMPDIR"
SRC_PID=""
cleanup() {
  [[ -z "$SRC_PID" ]] || { kill "$SRC_PID" 2>/dev/null || true; wait "$SRC_PID" 2>/dev/null || true; }
  [[ $KEEP_WORK -eq 1 ]] || rm -rf "$OUT" "$WORK/volumes-src" "$TMPDIR" "$XDG_CACHE_HOME"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
# shellcheck source=../bin/lib/loopback-registry.sh
source "$ROOT/bin/lib/loopback-registry.sh"

# ---------------------------------------------------------------- data, registry
# shellcheck source=lib/dataset.sh
source "$BENCH_DIR/lib/dataset.sh"
bench_dataset "$WORK" "$SIZE_MIB" "$SEED"
rm -rf "$OUT" "$WORK/volumes-src"
mkdir -p "$OUT"
loopback_registry_start "$WORK/volumes-src" || die "docker-registry did not start; see $WORK/volumes-src/registry.log"
SRC_PID=$LR_PID
SRC="127.0.0.1:$LR_PORT"
log "registry $SRC (pid $SRC_PID): pushing ${#REPOS[@]} repositories with skopeo --preserve-digests"
for r in "${REPOS[@]}"; do
  skopeo copy -q --all --preserve-digests --dest-tls-verify=false "oci:$DATA:$r" "docker://$SRC/bench/$r:1.0"
done
REFS=(); for r in "${REPOS[@]}"; do REFS+=("$SRC/bench/$r:1.0"); done
# about VOLUMES volumes: the unique bytes split evenly, plus 2% for packing (whole layers)
VOLUME_SIZE=$(( UNIQUE_BYTES / VOLUMES + UNIQUE_BYTES / VOLUMES / 50 ))

DROP=0
if [[ $WARM -eq 0 ]] && sync && { echo 3 >/proc/sys/vm/drop_caches; } 2>/dev/null; then DROP=1; fi
CACHE_NOTE="$([[ $DROP -eq 1 ]] && echo "cold: page cache dropped before every timed run" || echo "warm: page cache not dropped")"

wall() { awk '{ print $1 }' "$1"; }
rss_mb() { awk '{ printf "%d", $2 / 1024 }' "$1"; }
median() { sort -n | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }'; }
# run_timed NAME REP COMMAND...: empties the airlock cache and OUT/NAME, then times COMMAND.
run_timed() {
  local name="$1" rep="$2"; shift 2
  rm -rf "$XDG_CACHE_HOME" "$OUT/$name"
  mkdir -p "$OUT/$name"
  [[ $DROP -eq 0 ]] || { sync; echo 3 >/proc/sys/vm/drop_caches; }
  /usr/bin/time -f '%e %M' -o "$OUT/t-$name-$rep" "$@" >"$OUT/$name.log" 2>&1 || die "$name failed: $(tail -3 "$OUT/$name.log")"
  TIMES[$name]+="$(wall "$OUT/t-$name-$rep") "
  local m; m="$(rss_mb "$OUT/t-$name-$rep")"
  (( m > ${RSS[$name]:-0} )) && RSS[$name]=$m
  log "rep $rep: $name: $(wall "$OUT/t-$name-$rep") s"
}
skopeo_layout() {
  local r
  for r in "${REPOS[@]}"; do
    skopeo copy -q --all --src-tls-verify=false "docker://$SRC/bench/$r:1.0" "oci:$OUT/skopeo/layout:$r" || return 1
  done
}

declare -A TIMES=() RSS=()
for rep in $(seq 1 "$REPS"); do
  run_timed bundle "$rep" "$AIRLOCK" export -q "${REFS[@]}" -o "$OUT/bundle/set.tar"
  run_timed volumes "$rep" "$AIRLOCK" export -q "${REFS[@]}" -o "$OUT/volumes/set.tar" --volume-size "$VOLUME_SIZE"
  run_timed skopeo "$rep" bash -c "$(declare -p REPOS SRC OUT); $(declare -f skopeo_layout); skopeo_layout"
done
BUNDLE_BYTES="$(stat -c %s "$OUT/bundle/set.tar")"
mapfile -t VOLS < <(ls "$OUT/volumes/"set.vol*.tar | sort)
VOL_SUM=0; VOL_MAX=0; VOL_LINES=""
for v in "${VOLS[@]}"; do
  s="$(stat -c %s "$v")"
  VOL_SUM=$((VOL_SUM + s)); (( s > VOL_MAX )) && VOL_MAX=$s
  (( s <= VOLUME_SIZE )) || die "$v has $s bytes, over the volume size $VOLUME_SIZE"
  VOL_LINES+="$(basename "$v") $s, "
done
"$AIRLOCK" verify -q "${VOLS[@]}" --allow-unsigned || die "the volumes do not verify as one set"
B_MED="$(tr ' ' '\n' <<<"${TIMES[bundle]}" | grep . | median)"
V_MED="$(tr ' ' '\n' <<<"${TIMES[volumes]}" | grep . | median)"
S_MED="$(tr ' ' '\n' <<<"${TIMES[skopeo]}" | grep . | median)"
RATIO="$(awk -v a="$V_MED" -v b="$B_MED" 'BEGIN { printf "%.3f", a / b }')"
OVER="$(awk -v a="$VOL_SUM" -v b="$UNIQUE_BYTES" 'BEGIN { printf "%.4f", a / b }')"

STAMP="$(date -u +%Y%m%dT%H%M%SZ)"
REPORT="$RESULTS/$STAMP-volumes.md"
{
  echo "# airlock export with and without --volume-size ($STAMP)"
  echo
  echo "Data: ${#REPOS[@]} repositories x 3 platforms, $UNIQUE_BYTES unique bytes (bench/src/BenchData.java, --size-mib $SIZE_MIB, seed $SEED)."
  echo "$CACHE_NOTE; blob cache emptied before every export. $(nproc) CPUs; load before: $(cut -d' ' -f1-3 /proc/loadavg); $(skopeo --version); $("$AIRLOCK" --version | head -1)."
  echo
  echo "| | one bundle | ${#VOLS[@]} volumes of at most $VOLUME_SIZE bytes | skopeo copy --all (one OCI layout, no tar) |"
  echo "|---|---:|---:|---:|"
  echo "| wall, median of $REPS (s) | $B_MED | $V_MED | $S_MED |"
  echo "| runs (s) | ${TIMES[bundle]}| ${TIMES[volumes]}| ${TIMES[skopeo]}|"
  echo "| ratio to one bundle | 1 | **$RATIO** | |"
  echo "| peak RSS, largest of the runs (MB) | ${RSS[bundle]} | ${RSS[volumes]} | ${RSS[skopeo]} (bash and skopeo) |"
  echo "| bytes written | $BUNDLE_BYTES | $VOL_SUM ($OVER x unique; largest $VOL_MAX) | |"
  echo
  echo "Volumes: ${VOL_LINES%, }. All verified as one set (\`airlock verify vol*.tar\`)."
  echo "Commands: \`airlock export -q REFS -o set.tar\` and the same with \`--volume-size $VOLUME_SIZE\`;"
  echo "skopeo: \`for r in ${REPOS[*]}; do skopeo copy -q --all docker://$SRC/bench/\$r:1.0 oci:DIR:\$r; done\`."
} >"$REPORT"
cat "$REPORT"
log "wrote $REPORT"
