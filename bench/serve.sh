#!/usr/bin/env bash
# airlock serve benchmark: `skopeo copy --all` of the bench data set from `airlock serve` and from
# a docker-registry holding the same images, same run; then N parallel pulls from each.
#
#   bench/serve.sh [--size-mib N] [--reps N] [--parallel N] [--seed N] [--warm] [--keep-work]
#                  [--fresh] [--compare JAR] [--serve-opts OPTS] [--serve-args ARGS]
#
# Defaults: 1024 MiB of unique bytes (bench/src/BenchData.java, the data set of bench/run.sh),
# 3 repetitions, 16 parallel pulls, seed 1; the page cache is dropped before every timed run when
# this is allowed (root), --warm keeps it. Reports wall seconds per copy (median), the ratio
# serve/registry, the CPU seconds of the client and of the server per copy, failures of the
# parallel pulls and the peak RSS (VmHWM) of both servers. --fresh starts airlock serve anew
# before each of its copies, so every copy is the first of a run (every blob hashed on its way
# out); without it only the first repetition is. --compare JAR adds a third side, airlock serve
# run from JAR (AIRLOCK_JAR), alternated with the others in the same run; --serve-opts passes
# JAVA_OPTS to every airlock serve started; --serve-args adds arguments to every airlock serve
# (e.g. --verify-all: every blob hashed before the listen line, not on its first read).
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
FRESH=0
COMPARE_JAR=""
SERVE_OPTS=""
SERVE_ARGS=""
WORK="${BENCH_WORK:-$BENCH_DIR/work}"
RESULTS="$BENCH_DIR/results"
AIRLOCK="${AIRLOCK:-$ROOT/bin/airlock}"

usage() { sed -n '2,20p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; exit "${1:-0}"; }
while [[ $# -gt 0 ]]; do
  case "$1" in
    --size-mib) SIZE_MIB="$2"; shift 2 ;;
    --reps) REPS="$2"; shift 2 ;;
    --parallel) PARALLEL="$2"; shift 2 ;;
    --seed) SEED="$2"; shift 2 ;;
    --warm) WARM=1; shift ;;
    --keep-work) KEEP_WORK=1; shift ;;
    --fresh) FRESH=1; shift ;;
    --compare) COMPARE_JAR="$(readlink -f -- "$2")"; shift 2 ;;
    --serve-opts) SERVE_OPTS="$2"; shift 2 ;;
    --serve-args) SERVE_ARGS="$2"; shift 2 ;;
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
[[ -z "$COMPARE_JAR" ]] || [[ -f "$COMPARE_JAR" ]] || die "--compare: no such jar: $COMPARE_JAR"

mkdir -p "$WORK" "$RESULTS"
WORK="$(cd -- "$WORK" && pwd -P)"
OUT="$WORK/serve-out"
export TMPDIR="$WORK/tmp"
export XDG_CACHE_HOME="$WORK/xdg-cache"
mkdir -p "$TMPDIR"
SRC_PID=""
declare -A SERVE_PID=() SERVE_JPID=() SERVE_ADDR=() SERVE_JAR=() SERVE_HWM=() SERVE_STARTS=()
cleanup() {
  local side
  for side in "${!SERVE_PID[@]}"; do stop_serve "$side"; done
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
SIDES=(registry serve)
SERVE_JAR[serve]="${AIRLOCK_JAR:-}"
if [[ -n "$COMPARE_JAR" ]]; then SIDES+=(serve-b); SERVE_JAR[serve-b]="$COMPARE_JAR"; fi
hwm() { awk '$1 == "VmHWM:" { printf "%.0f", $2 / 1024 }' "/proc/$1/status"; }
# cpu PID: user+system CPU seconds of that process so far
cpu() { awk -v t="$(getconf CLK_TCK)" '{ sub(/^.*\) /, ""); printf "%.2f", ($12 + $13) / t }' "/proc/$1/stat"; }
# start_serve SIDE: airlock serve (from SERVE_JAR[SIDE], else bin/airlock's jar) on a free port
start_serve() {
  local side="$1" port="" i p
  for i in 1 2 3 4 5; do
    p=$((20000 + RANDOM % 40000))
    port_in_use "$p" || { port=$p; break; }
  done
  [[ -n "$port" ]] || die "no free port for airlock serve"
  local t0; t0="$(date +%s.%N)"
  AIRLOCK_JAR="${SERVE_JAR[$side]}" JAVA_OPTS="$SERVE_OPTS" \
    "$AIRLOCK" serve -q "$BUNDLE" --allow-unsigned $SERVE_ARGS --listen "127.0.0.1:$port" >"$OUT/$side.out" 2>"$OUT/$side.err" &
  SERVE_PID[$side]=$!
  for i in $(seq 1 300); do
    curl -s -o /dev/null "http://127.0.0.1:$port/v2/" && break
    kill -0 "${SERVE_PID[$side]}" 2>/dev/null || die "airlock serve ($side) exited: $(cat "$OUT/$side.err")"
    sleep 0.1
  done
  SERVE_STARTS[$side]="${SERVE_STARTS[$side]:-}$(awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN { printf "%.2f ", b - a }')"
  # the JVM behind bin/airlock: the child java process when the launcher forks (it execs today)
  SERVE_JPID[$side]="$(pgrep -P "${SERVE_PID[$side]}" java || echo "${SERVE_PID[$side]}")"
  SERVE_ADDR[$side]="127.0.0.1:$port"
}
# stop_serve SIDE: keeps the largest peak RSS of the side's servers, stops it by PID
stop_serve() {
  local side="$1" h
  [[ -n "${SERVE_PID[$side]:-}" ]] || return 0
  h="$(hwm "${SERVE_JPID[$side]}" 2>/dev/null || echo 0)"
  (( h > ${SERVE_HWM[$side]:-0} )) && SERVE_HWM[$side]=$h
  kill "${SERVE_PID[$side]}" 2>/dev/null || true
  wait "${SERVE_PID[$side]}" 2>/dev/null || true
  unset "SERVE_PID[$side]"
}
for side in "${SIDES[@]:1}"; do
  start_serve "$side"
  log "airlock serve ($side) ${SERVE_ADDR[$side]} (pid ${SERVE_JPID[$side]}${SERVE_JAR[$side]:+, jar ${SERVE_JAR[$side]}}) serving $BUNDLE ($(du -h "$BUNDLE" | cut -f1))"
done
SERVE_ADDR[registry]="$SRC"
SERVE_JPID[registry]="$SRC_PID"

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

declare -A TIMES=() CLIENT_CPU=() SERVER_CPU=()
for rep in $(seq 1 "$REPS"); do
  for side in "${SIDES[@]}"; do
    if [[ $FRESH -eq 1 && $side != registry ]]; then stop_serve "$side"; start_serve "$side"; fi
    host="${SERVE_ADDR[$side]}"
    dir="$OUT/copy-$side-$rep"
    rm -rf "$dir"
    [[ $DROP -eq 0 ]] || { sync; echo 3 >/proc/sys/vm/drop_caches; }
    c0="$(cpu "${SERVE_JPID[$side]}")"
    /usr/bin/time -f '%e %U %S' -o "$OUT/t-$side-$rep" bash -c "$(declare -p REPOS); $(declare -f copy_all); copy_all $host $dir" \
      || die "skopeo copy from $side failed"
    c1="$(cpu "${SERVE_JPID[$side]}")"
    check_copy "$dir" || die "copy from $side (rep $rep) does not hold every generated digest"
    read -r t u sy <"$OUT/t-$side-$rep"
    cc="$(awk -v u="$u" -v s="$sy" 'BEGIN { printf "%.2f", u + s }')"
    sc="$(awk -v a="$c0" -v b="$c1" 'BEGIN { printf "%.2f", b - a }')"
    TIMES[$side]+="$t "
    CLIENT_CPU[$side]+="$cc "
    SERVER_CPU[$side]+="$sc "
    log "rep $rep: skopeo copy --all from $side: $t s (skopeo CPU $cc s, server CPU $sc s; load $(cut -d' ' -f1 /proc/loadavg))"
    rm -rf "$dir"
  done
done
declare -A MED=() RATIO=()
for side in "${SIDES[@]}"; do
  MED[$side]="$(tr ' ' '\n' <<<"${TIMES[$side]}" | grep . | median)"
  RATIO[$side]="$(awk -v a="${MED[$side]}" -v b="${MED[registry]}" 'BEGIN { printf "%.2f", a / b }')"
done

declare -A PAR_WALL=() PAR_FAIL=()
for side in "${SIDES[@]}"; do
  host="${SERVE_ADDR[$side]}"
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
SERVE_HWM[registry]="$(hwm "$SRC_PID")"
for side in "${SIDES[@]:1}"; do stop_serve "$side"; done
# row LABEL ARRAY: one table row with that array's value for every side
row() { local label="$1" side; local -n arr="$2"; printf '| %s |' "$label"; for side in "${SIDES[@]}"; do printf ' %s |' "${arr[$side]}"; done; echo; }
declare -A NAMES=([registry]="docker-registry" [serve]="airlock serve" [serve-b]="airlock serve (--compare)")

STAMP="$(date -u +%Y%m%dT%H%M%SZ)"
REPORT="$RESULTS/$STAMP-serve.md"
{
  echo "# airlock serve vs docker-registry ($STAMP)"
  echo
  echo "Data: ${#REPOS[@]} repositories x 3 platforms, $UNIQUE_BYTES unique bytes (bench/src/BenchData.java, --size-mib $SIZE_MIB, seed $SEED);"
  echo "bundle $(stat -c %s "$BUNDLE") bytes. $CACHE_NOTE. $(nproc) CPUs; $(skopeo --version); $("$AIRLOCK" --version | head -1)."
  echo
  printf '| |'; for side in "${SIDES[@]}"; do printf ' %s |' "${NAMES[$side]}"; done; echo
  printf '|---|'; for side in "${SIDES[@]}"; do printf -- '---:|'; done; echo
  row "skopeo copy --all, every repository, median of $REPS (s)" MED
  row "runs (s)" TIMES
  row "skopeo CPU per run, user+sys (s)" CLIENT_CPU
  row "server CPU per run, user+sys (s)" SERVER_CPU
  row "ratio / docker-registry" RATIO
  row "$PARALLEL parallel pulls of everything: wall (s)" PAR_WALL
  row "$PARALLEL parallel pulls: failed" PAR_FAIL
  row "peak RSS, VmHWM (MB)" SERVE_HWM
  echo
  [[ -z "$COMPARE_JAR" ]] || echo "serve-b: airlock serve from $COMPARE_JAR."
  [[ $FRESH -eq 0 ]] || echo "--fresh: airlock serve started anew before each of its copies (every copy hashes every blob on its first read)."
  [[ -z "$SERVE_OPTS" ]] || echo "JAVA_OPTS of airlock serve: $SERVE_OPTS"
  [[ -z "$SERVE_ARGS" ]] || echo "Arguments added to every airlock serve: $SERVE_ARGS"
  for side in "${SIDES[@]:1}"; do echo "${NAMES[$side]}: start to its first answer on /v2/ (s): ${SERVE_STARTS[$side]:-}"; done
  echo "Load average at the end: $(cut -d' ' -f1-3 /proc/loadavg)."
  echo
  echo "Command per side: \`for r in ${REPOS[*]}; do skopeo copy -q --all --src-tls-verify=false docker://HOST/bench/\$r:1.0 oci:DIR:\$r; done\`"
  echo "(each copy checked: every generated digest is in DIR/blobs/sha256)."
} >"$REPORT"
cat "$REPORT"
log "wrote $REPORT"
