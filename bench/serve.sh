#!/usr/bin/env bash
# airlock serve benchmark: `skopeo copy --all` of the bench data set from `airlock serve` and from
# a docker-registry holding the same images, same run; then N parallel pulls from each.
#
#   bench/serve.sh [--size-mib N] [--reps N] [--parallel N] [--seed N] [--warm] [--keep-work]
#
# Defaults: 1024 MiB of unique bytes (bench/src/BenchData.java, the data set of bench/run.sh),
# 3 repetitions, 16 parallel pulls, seed 1; the page cache is dropped before every timed run when
# this is allowed (root), --warm keeps it. Reports wall seconds per copy (median), the ratio
# serve/registry, failures of the parallel pulls and the peak RSS (VmHWM) of both servers.
# Needs (Debian): docker-registry skopeo curl time openjdk-17-jdk-headless; bin/airlock built.
# Scratch data goes to $BENCH_WORK (default bench/work/); the result to bench/results/<stamp>-serve.md.
# Only processes this script starts are stopped, by PID.
set -euo pipefail

BENCH_DIR="$(cd -- "$(dirname -- "$(readlink -f -- "${BASH_SOURCE[0]}")")" && pwd -P)"
ROOT="$(dirname -- "$BENCH_DIR")"
SIZE_MIB=1024
REPS=3
PARALLEL=16
SEED=1
WARM=0
KEEP_WORK=0
WORK="${BENCH_WORK:-$BENCH_DIR/work}"
RESULTS="$BENCH_DIR/results"
AIRLOCK="${AIRLOCK:-$ROOT/bin/airlock}"

usage() { sed -n '2,13p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; exit "${1:-0}"; }
while [[ $# -gt 0 ]]; do
  case "$1" in
    --size-mib) SIZE_MIB="$2"; shift 2 ;;
    --reps) REPS="$2"; shift 2 ;;
    --parallel) PARALLEL="$2"; shift 2 ;;
    --seed) SEED="$2"; shift 2 ;;
    --warm) WARM=1; shift ;;
    --keep-work) KEEP_WORK=1; shift ;;
    -h|--help) usage 0 ;;
    *) echo "serve.sh: unknown option $1" >&2; usage 2 ;;
  esac
done
for v in SIZE_MIB REPS PARALLEL; do
  [[ "${!v}" =~ ^[0-9]+$ && "${!v}" -ge 1 ]] || { echo "serve.sh: --${v,,} needs a positive integer" >&2; exit 2; }
done

log() { printf '[%s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }
for t in docker-registry skopeo curl java javac; do command -v "$t" >/dev/null || die "missing tool: $t"; done
[[ -x /usr/bin/time ]] || die "missing /usr/bin/time (package time)"
[[ -x "$AIRLOCK" ]] && "$AIRLOCK" serve --help >/dev/null 2>&1 || die "$AIRLOCK serve does not run: build with mvn -B -q -DskipTests package"

mkdir -p "$WORK" "$RESULTS"
WORK="$(cd -- "$WORK" && pwd -P)"
OUT="$WORK/serve-out"
export TMPDIR="$WORK/tmp"
export XDG_CACHE_HOME="$WORK/xdg-cache"
mkdir -p "$TMPDIR"
SRC_PID="" SERVE_PID=""
cleanup() {
  [[ -z "$SERVE_PID" ]] || { kill "$SERVE_PID" 2>/dev/null || true; wait "$SERVE_PID" 2>/dev/null || true; }
  [[ -z "$SRC_PID" ]] || { kill "$SRC_PID" 2>/dev/null || true; wait "$SRC_PID" 2>/dev/null || true; }
  [[ $KEEP_WORK -eq 1 ]] || rm -rf "$OUT" "$WORK/serve-src" "$TMPDIR" "$XDG_CACHE_HOME"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
# shellcheck source=../bin/lib/loopback-registry.sh
source "$ROOT/bin/lib/loopback-registry.sh"

# ---------------------------------------------------------------- data, registry, bundle
# shellcheck source=lib/dataset.sh
source "$BENCH_DIR/lib/dataset.sh"
bench_dataset "$WORK" "$SIZE_MIB" "$SEED"
rm -rf "$OUT" "$WORK/serve-src"
mkdir -p "$OUT"
loopback_registry_start "$WORK/serve-src" || die "docker-registry did not start; see $WORK/serve-src/registry.log"
SRC_PID=$LR_PID
SRC="127.0.0.1:$LR_PORT"
log "registry $SRC (pid $SRC_PID): pushing ${#REPOS[@]} repositories with skopeo --preserve-digests"
for r in "${REPOS[@]}"; do
  skopeo copy -q --all --preserve-digests --dest-tls-verify=false "oci:$DATA:$r" "docker://$SRC/bench/$r:1.0"
done
BUNDLE="$OUT/bundle.tar"
refs=(); for r in "${REPOS[@]}"; do refs+=("$SRC/bench/$r:1.0"); done
"$AIRLOCK" export -q "${refs[@]}" -o "$BUNDLE" >/dev/null
SERVE_PORT=""
for i in 1 2 3 4 5; do
  p=$((20000 + RANDOM % 40000))
  port_in_use "$p" || { SERVE_PORT=$p; break; }
done
[[ -n "$SERVE_PORT" ]] || die "no free port for airlock serve"
"$AIRLOCK" serve -q "$BUNDLE" --allow-unsigned --listen "127.0.0.1:$SERVE_PORT" >"$OUT/serve.out" 2>"$OUT/serve.err" &
SERVE_PID=$!
for i in $(seq 1 300); do
  curl -s -o /dev/null "http://127.0.0.1:$SERVE_PORT/v2/" && break
  kill -0 "$SERVE_PID" 2>/dev/null || die "airlock serve exited: $(cat "$OUT/serve.err")"
  sleep 0.1
done
# the JVM behind bin/airlock: the child java process when the launcher execs or forks
JPID="$(pgrep -P "$SERVE_PID" java || echo "$SERVE_PID")"
SERVE="127.0.0.1:$SERVE_PORT"
log "airlock serve $SERVE (pid $JPID) serving $BUNDLE ($(du -h "$BUNDLE" | cut -f1))"

DROP=0
if [[ $WARM -eq 0 ]] && sync && { echo 3 >/proc/sys/vm/drop_caches; } 2>/dev/null; then DROP=1; fi
CACHE_NOTE="$([[ $DROP -eq 1 ]] && echo "cold: page cache dropped before every timed run" || echo "warm: page cache not dropped")"

# copy_all HOST DIR: every repository, all platforms, into an OCI layout.
copy_all() {
  local host="$1" dir="$2" r
  for r in "${REPOS[@]}"; do
    skopeo copy -q --all --src-tls-verify=false "docker://$host/bench/$r:1.0" "oci:$dir:$r" || return 1
  done
}
# check_copy DIR: every generated manifest and blob arrived with its digest.
check_copy() {
  local dir="$1" want
  want="$(awk '{ print $3 }' "$DATA/bench-blobs.tsv" | sort -u | sed 's/^sha256://')"
  diff <(echo "$want") <(ls "$dir/blobs/sha256" | sort -u) >/dev/null
}
wall() { awk '{ print $1 }' "$1"; }
median() { sort -n | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }'; }

declare -A TIMES=()
for rep in $(seq 1 "$REPS"); do
  for side in registry serve; do
    host="$([[ $side == registry ]] && echo "$SRC" || echo "$SERVE")"
    dir="$OUT/copy-$side-$rep"
    rm -rf "$dir"
    [[ $DROP -eq 0 ]] || { sync; echo 3 >/proc/sys/vm/drop_caches; }
    /usr/bin/time -f '%e' -o "$OUT/t-$side-$rep" bash -c "$(declare -p REPOS); $(declare -f copy_all); copy_all $host $dir" \
      || die "skopeo copy from $side failed"
    check_copy "$dir" || die "copy from $side (rep $rep) does not hold every generated digest"
    TIMES[$side]+="$(wall "$OUT/t-$side-$rep") "
    log "rep $rep: skopeo copy --all from $side: $(wall "$OUT/t-$side-$rep") s"
    rm -rf "$dir"
  done
done
REG_MED="$(tr ' ' '\n' <<<"${TIMES[registry]}" | grep . | median)"
SRV_MED="$(tr ' ' '\n' <<<"${TIMES[serve]}" | grep . | median)"
RATIO="$(awk -v a="$SRV_MED" -v b="$REG_MED" 'BEGIN { printf "%.2f", a / b }')"

declare -A PAR_WALL=() PAR_FAIL=()
for side in registry serve; do
  host="$([[ $side == registry ]] && echo "$SRC" || echo "$SERVE")"
  [[ $DROP -eq 0 ]] || { sync; echo 3 >/proc/sys/vm/drop_caches; }
  start=$(date +%s.%N)
  pids=()
  for i in $(seq 1 "$PARALLEL"); do
    ( copy_all "$host" "$OUT/par-$side-$i" && check_copy "$OUT/par-$side-$i" ) >"$OUT/par-$side-$i.log" 2>&1 &
    pids+=($!)
  done
  fail=0
  for p in "${pids[@]}"; do wait "$p" || fail=$((fail + 1)); done
  PAR_WALL[$side]="$(awk -v s="$start" -v e="$(date +%s.%N)" 'BEGIN { printf "%.1f", e - s }')"
  PAR_FAIL[$side]=$fail
  log "$PARALLEL parallel pulls from $side: ${PAR_WALL[$side]} s, $fail failed"
  rm -rf "$OUT"/par-"$side"-*
done
hwm() { awk '$1 == "VmHWM:" { printf "%.0f", $2 / 1024 }' "/proc/$1/status"; }
SERVE_RSS="$(hwm "$JPID")"
REG_RSS="$(hwm "$SRC_PID")"

STAMP="$(date -u +%Y%m%dT%H%M%SZ)"
REPORT="$RESULTS/$STAMP-serve.md"
{
  echo "# airlock serve vs docker-registry ($STAMP)"
  echo
  echo "Data: ${#REPOS[@]} repositories x 3 platforms, $UNIQUE_BYTES unique bytes (bench/src/BenchData.java, --size-mib $SIZE_MIB, seed $SEED);"
  echo "bundle $(stat -c %s "$BUNDLE") bytes. $CACHE_NOTE. $(nproc) CPUs; $(skopeo --version); $("$AIRLOCK" --version | head -1)."
  echo
  echo "| | docker-registry | airlock serve |"
  echo "|---|---:|---:|"
  echo "| skopeo copy --all, every repository, median of $REPS (s) | $REG_MED | $SRV_MED |"
  echo "| runs (s) | ${TIMES[registry]}| ${TIMES[serve]}|"
  echo "| ratio serve / registry | | **$RATIO** |"
  echo "| $PARALLEL parallel pulls of everything: wall (s) | ${PAR_WALL[registry]} | ${PAR_WALL[serve]} |"
  echo "| $PARALLEL parallel pulls: failed | ${PAR_FAIL[registry]} | ${PAR_FAIL[serve]} |"
  echo "| peak RSS, VmHWM (MB) | $REG_RSS | $SERVE_RSS |"
  echo
  echo "Command per side: \`for r in ${REPOS[*]}; do skopeo copy -q --all --src-tls-verify=false docker://HOST/bench/\$r:1.0 oci:DIR:\$r; done\`"
  echo "(each copy checked: every generated digest is in DIR/blobs/sha256)."
} >"$REPORT"
cat "$REPORT"
log "wrote $REPORT"
