#!/usr/bin/env bash
# Airlock receipt and delta benchmark (issue 14): `airlock receipt --from` of N images x 3
# platforms on loopback, timed next to `airlock --version` (JVM start) in the same run, and a
# delta's size against the new unique bytes it has to carry.
#
#   bench/receipt.sh [--images N] [--size-mib N] [--reps N] [--seed N] [--jobs N] [--baseline JAR]
#                    [--receipt-jobs N,N...] [--keep-work]
#
# Defaults: 100 images, 64 MiB of unique bytes, 5 repetitions, seed 1, airlock's default --jobs.
# --baseline JAR also times `airlock receipt` with that jar (e.g. a copy of main's cli/target/airlock.jar)
# in the same repetitions, alternating, so a change is compared in one run at the same load.
# --receipt-jobs 4,8,16 also times the receipt at each of these --jobs (parallelism sweep).
# The must-show-like case: the first half of the images is exported and imported with --receipt;
# then `export --since` that receipt of all images is the delta (the second half shares only the
# per-platform base layers with the first). Reported: full bundle bytes, delta bytes, new unique
# bytes (blobs and manifests the first half does not have, from the generator's listing) and the
# delta's overhead over them. Then the delta is imported (every image present at the target) and
# `airlock receipt --from` of all images is timed, alternating with `airlock --version`.
# Needs (Debian): apt-get install docker-registry skopeo curl openjdk-17-jdk-headless maven
# Scratch data goes to $BENCH_WORK (default bench/work/, gitignored); results to
# bench/results/receipt-<timestamp>.md and .json. Only processes this script starts are stopped, by PID.
set -euo pipefail

BENCH_DIR="$(cd -- "$(dirname -- "$(readlink -f -- "${BASH_SOURCE[0]}")")" && pwd -P)"
ROOT="$(dirname -- "$BENCH_DIR")"

IMAGES=100
SIZE_MIB=64
REPS=5
SEED=1
JOBS=""
BASELINE=""
RECEIPT_JOBS=""
KEEP_WORK=0
WORK="${BENCH_WORK:-$BENCH_DIR/work}"
RESULTS="$BENCH_DIR/results"
AIRLOCK="${AIRLOCK:-$ROOT/bin/airlock}"

usage() {
  sed -n '2,17p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'
  exit "${1:-0}"
}

while [[ $# -gt 0 ]]; do
  case "$1" in
    --images) IMAGES="$2"; shift 2 ;;
    --size-mib) SIZE_MIB="$2"; shift 2 ;;
    --reps) REPS="$2"; shift 2 ;;
    --seed) SEED="$2"; shift 2 ;;
    --jobs) JOBS="$2"; shift 2 ;;
    --baseline) BASELINE="$2"; shift 2 ;;
    --receipt-jobs) RECEIPT_JOBS="$2"; shift 2 ;;
    --keep-work) KEEP_WORK=1; shift ;;
    -h|--help) usage 0 ;;
    *) echo "receipt.sh: unknown option $1" >&2; usage 2 ;;
  esac
done
for v in IMAGES SIZE_MIB REPS; do
  [[ "${!v}" =~ ^[0-9]+$ && "${!v}" -ge 1 ]] || { echo "receipt.sh: --${v,,} needs a positive integer" >&2; exit 2; }
done
[[ "$IMAGES" -ge 2 ]] || { echo "receipt.sh: --images needs at least 2 (half of them cross first)" >&2; exit 2; }
[[ "$SEED" =~ ^[0-9]+$ ]] || { echo "receipt.sh: --seed needs a non-negative integer" >&2; exit 2; }
[[ -z "$JOBS" || "$JOBS" =~ ^[0-9]+$ ]] || { echo "receipt.sh: --jobs needs a positive integer" >&2; exit 2; }
[[ -z "$BASELINE" || -f "$BASELINE" ]] || { echo "receipt.sh: --baseline $BASELINE: no such jar" >&2; exit 2; }
[[ -z "$RECEIPT_JOBS" || "$RECEIPT_JOBS" =~ ^[0-9]+(,[0-9]+)*$ ]] || { echo "receipt.sh: --receipt-jobs needs N,N..." >&2; exit 2; }
[[ -z "$BASELINE" ]] || BASELINE="$(readlink -f -- "$BASELINE")"

log() { printf '[%s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }

missing=()
need() { command -v "$1" >/dev/null 2>&1 || missing+=("$1 (package $2)"); }
need docker-registry docker-registry
need skopeo skopeo
need curl curl
need java openjdk-17-jdk-headless
need javac openjdk-17-jdk-headless
if [[ ${#missing[@]} -gt 0 ]]; then
  echo "receipt.sh: missing tools:" >&2
  printf '  %s\n' "${missing[@]}" >&2
  echo "install them with apt-get install, then run again" >&2
  exit 1
fi
REGISTRY_BIN="$(command -v docker-registry)"
if ! ls "$ROOT"/cli/target/airlock*.jar >/dev/null 2>&1 && [[ -z "${AIRLOCK_JAR:-}" ]]; then
  need mvn maven
  [[ ${#missing[@]} -eq 0 ]] || die "missing: ${missing[*]}"
  log "building airlock (mvn -B -q -DskipTests -Ddist.skip package)"
  (cd "$ROOT" && mvn -B -q -DskipTests -Ddist.skip package)
fi

mkdir -p "$WORK" "$RESULTS"
WORK="$(cd -- "$WORK" && pwd -P)"
RW="$WORK/receipt"
rm -rf "$RW"
mkdir -p "$RW/logs"
export XDG_CACHE_HOME="$RW/xdg-cache"

declare -A REG_PID=() REG_PORT=()
cleanup() {
  local name
  for name in "${!REG_PID[@]}"; do
    kill "${REG_PID[$name]}" 2>/dev/null || true
    wait "${REG_PID[$name]}" 2>/dev/null || true
  done
  [[ $KEEP_WORK -eq 1 ]] || rm -rf "$RW"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# shellcheck source=../bin/lib/loopback-registry.sh
source "$ROOT/bin/lib/loopback-registry.sh"
start_registry() {
  loopback_registry_start "$RW/$1" || die "registry $1 did not start; see $RW/$1/registry.log"
  REG_PID[$1]=$LR_PID
  REG_PORT[$1]=$LR_PORT
}

# shellcheck source=lib/dataset.sh
source "$BENCH_DIR/lib/dataset.sh"
bench_dataset "$WORK" "$SIZE_MIB" "$SEED" "$IMAGES"
[[ ${#REPOS[@]} -eq $IMAGES ]] || die "the data set has ${#REPOS[@]} repositories, expected $IMAGES"
log "data set: ${#REPOS[@]} images x 3 platforms, $UNIQUE_BYTES unique bytes"

start_registry src
start_registry dst
SRC="127.0.0.1:${REG_PORT[src]}"
DST="127.0.0.1:${REG_PORT[dst]}"
TAG="1.0"
log "registries: src $SRC (pid ${REG_PID[src]}), dst $DST (pid ${REG_PID[dst]})"

log "pushing the data set to $SRC with skopeo (--preserve-digests)"
for repo in "${REPOS[@]}"; do
  skopeo copy -q --all --preserve-digests --dest-tls-verify=false "oci:$DATA:$repo" "docker://$SRC/bench/$repo:$TAG"
done

HALF=$((IMAGES / 2))
FIRST=()
ALL=()
for i in "${!REPOS[@]}"; do
  ALL+=("$SRC/bench/${REPOS[$i]}:$TAG")
  [[ $i -ge $HALF ]] || FIRST+=("$SRC/bench/${REPOS[$i]}:$TAG")
done
JOBS_ARGS=()
[[ -z "$JOBS" ]] || JOBS_ARGS=(--jobs "$JOBS")

"$AIRLOCK" keygen -q --out "$RW/ops" >/dev/null
"$AIRLOCK" keygen -q --out "$RW/site" >/dev/null

# run NAME CMD...: runs a command, its output to logs/NAME.log; dies when it fails.
run() {
  local name="$1"
  shift
  "$@" >"$RW/logs/$name.log" 2>&1 || die "$name failed (exit $?): $(tail -n 3 "$RW/logs/$name.log" | tr '\n' ' ')"
}

log "first crossing: $HALF images exported and imported with --receipt"
run export-first "$AIRLOCK" export -q "${FIRST[@]}" -o "$RW/first.tar" --sign-key "$RW/ops.key" "${JOBS_ARGS[@]}"
run import-first "$AIRLOCK" import -q "$RW/first.tar" --to "$DST" --trust "$RW/ops.pub.pem" \
  --receipt "$RW/site.receipt" --sign-key "$RW/site.key" "${JOBS_ARGS[@]}"
log "full bundle of all $IMAGES images, and the delta against the receipt"
run export-full "$AIRLOCK" export -q "${ALL[@]}" -o "$RW/full.tar" --sign-key "$RW/ops.key" "${JOBS_ARGS[@]}"
run export-delta "$AIRLOCK" export -q "${ALL[@]}" -o "$RW/delta.tar" --sign-key "$RW/ops.key" \
  --since "$RW/site.receipt" --trust "$RW/site.pub.pem" "${JOBS_ARGS[@]}"
FULL_BYTES="$(stat -c %s "$RW/full.tar")"
DELTA_BYTES="$(stat -c %s "$RW/delta.tar")"
# new unique bytes: every blob and manifest of the second half that the first half does not reference, once
FIRST_REPOS=" ${REPOS[*]:0:$HALF} "
NEW_BYTES="$(awk -v first="$FIRST_REPOS" -F'\t' '
  { if (index(first, " " $1 " ") > 0) { old[$3] = 1 } else if (!($3 in size)) { size[$3] = $4; order[n++] = $3 } }
  END { t = 0; for (i = 0; i < n; i++) if (!(order[i] in old)) t += size[order[i]]; print t }' "$DATA/bench-blobs.tsv")"
OVERHEAD="$(awk -v d="$DELTA_BYTES" -v n="$NEW_BYTES" 'BEGIN { printf "%.3f", 100 * (d - n) / n }')"
log "full bundle $FULL_BYTES bytes, delta $DELTA_BYTES bytes, new unique $NEW_BYTES bytes: overhead $OVERHEAD %"

log "importing the delta: the target then holds every image"
run import-delta "$AIRLOCK" import -q "$RW/delta.tar" --to "$DST" --trust "$RW/ops.pub.pem" "${JOBS_ARGS[@]}"

# seconds CMD...: wall seconds of one run (output to /dev/null); dies when it fails. The run's
# user+system CPU seconds go to $RW/logs/cpu (read by cpu_of after the call).
seconds() {
  local t0 t1
  t0="$(date +%s%N)"
  /usr/bin/time -f '%U %S' -o "$RW/logs/cpu" "$@" >/dev/null 2>"$RW/logs/timed.err" \
    || die "$* failed: $(tail -n 3 "$RW/logs/timed.err" | tr '\n' ' ')"
  t1="$(date +%s%N)"
  awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.3f", (b - a) / 1e9 }'
}
cpu_of() { awk 'END { printf "%.2f", $1 + $2 }' "$RW/logs/cpu"; }
# Each jar is timed from a copy of its own: the launcher writes a jar's class-data (CDS) archive on
# that jar's first command, here the first warm-up receipt. One written by keygen (the first command
# above) maps a third of a receipt's classes: the receipt then took 1.88 CPU-s instead of 1.64, the
# same as without any archive (1.89).
mkdir -p "$RW/jars/test" "$RW/jars/baseline"
cp "${AIRLOCK_JAR:-$ROOT/cli/target/airlock.jar}" "$RW/jars/test/airlock.jar"
TEST_JAR="$RW/jars/test/airlock.jar"
if [[ -n "$BASELINE" ]]; then
  cp "$BASELINE" "$RW/jars/baseline/airlock.jar"
  BASE_JAR="$RW/jars/baseline/airlock.jar"
fi
# receipt_with JAR [ARGS...]: one timed receipt with that jar (empty JAR: the one under test)
receipt_with() {
  local jar="${1:-$TEST_JAR}"
  shift
  AIRLOCK_JAR="$jar" seconds "$AIRLOCK" receipt -q --from "$DST" -o "$RW/now.receipt" "${ALL[@]}" "$@"
}

LOAD_BEFORE="$(cut -d' ' -f1-3 /proc/loadavg)"
log "timing: $REPS x (airlock --version, airlock receipt --from of $IMAGES images${BASELINE:+, the same with $BASELINE}); load before: $LOAD_BEFORE"
VERSION_T=()
RECEIPT_T=()
RECEIPT_CPU=()
BASE_T=()
BASE_CPU=()
AIRLOCK_JAR="$TEST_JAR" seconds "$AIRLOCK" --version >/dev/null   # warm-up: the jar into the page cache
# warm-up: two receipts per jar (the launcher writes its class-data archive on the first, takes it into use on the second)
for w in 1 2; do
  receipt_with "" "${JOBS_ARGS[@]}" >/dev/null
  [[ -z "$BASELINE" ]] || receipt_with "$BASE_JAR" "${JOBS_ARGS[@]}" >/dev/null
done
for rep in $(seq 1 "$REPS"); do
  if (( rep % 2 )); then
    VERSION_T+=("$(AIRLOCK_JAR="$TEST_JAR" seconds "$AIRLOCK" --version)")
    RECEIPT_T+=("$(receipt_with "" "${JOBS_ARGS[@]}")"); RECEIPT_CPU+=("$(cpu_of)")
    if [[ -n "$BASELINE" ]]; then BASE_T+=("$(receipt_with "$BASE_JAR" "${JOBS_ARGS[@]}")"); BASE_CPU+=("$(cpu_of)"); fi
  else
    if [[ -n "$BASELINE" ]]; then BASE_T+=("$(receipt_with "$BASE_JAR" "${JOBS_ARGS[@]}")"); BASE_CPU+=("$(cpu_of)"); fi
    RECEIPT_T+=("$(receipt_with "" "${JOBS_ARGS[@]}")"); RECEIPT_CPU+=("$(cpu_of)")
    VERSION_T+=("$(AIRLOCK_JAR="$TEST_JAR" seconds "$AIRLOCK" --version)")
  fi
  log "  rep $rep: --version ${VERSION_T[-1]} s, receipt ${RECEIPT_T[-1]} s (${RECEIPT_CPU[-1]} CPU-s)${BASELINE:+, baseline ${BASE_T[-1]} s (${BASE_CPU[-1]} CPU-s)}"
done
declare -A SWEEP=()
SWEEP_JOBS=()
if [[ -n "$RECEIPT_JOBS" ]]; then
  IFS=, read -r -a SWEEP_JOBS <<<"$RECEIPT_JOBS"
  for rep in $(seq 1 "$REPS"); do
    for k in "${!SWEEP_JOBS[@]}"; do   # the order rotates with the repetition
      j="${SWEEP_JOBS[$(( (k + rep) % ${#SWEEP_JOBS[@]} ))]}"
      SWEEP[$j]+="$(receipt_with "" --jobs "$j") "
    done
    log "  sweep rep $rep done"
  done
fi
# requests_of JAR: "REQUESTS CONNECTIONS" of one receipt, from the JDK HTTP client's own log
# (-Djdk.httpclient.HttpClient.log=requests: a REQUEST line per request, the local port in each RESPONSE line)
requests_of() {
  AIRLOCK_JAR="${1:-$TEST_JAR}" JAVA_OPTS="${JAVA_OPTS:-} -Djdk.httpclient.HttpClient.log=requests" \
    "$AIRLOCK" receipt -q --from "$DST" -o "$RW/now.receipt" "${ALL[@]}" "${JOBS_ARGS[@]}" >/dev/null 2>"$RW/logs/requests.log" \
    || die "logged receipt failed: $(tail -n 3 "$RW/logs/requests.log" | tr '\n' ' ')"
  printf '%s %s\n' "$(grep -c '^INFO: REQUEST: ' "$RW/logs/requests.log")" \
    "$(grep -o 'Local port: *[0-9]*' "$RW/logs/requests.log" | sort -u | wc -l)"
}
read -r REQUESTS CONNECTIONS < <(requests_of "")
B_REQUESTS=null; B_CONNECTIONS=null
[[ -z "$BASELINE" ]] || read -r B_REQUESTS B_CONNECTIONS < <(requests_of "$BASE_JAR")
LOAD_AFTER="$(cut -d' ' -f1-3 /proc/loadavg)"
PRESENT="$(grep -o '"present":true' "$RW/now.receipt" | wc -l)"
[[ "$PRESENT" -eq "$IMAGES" ]] || die "the receipt lists $PRESENT present images, expected $IMAGES"

stats() { printf '%s\n' "$@" | awk '{ s += $1; q += $1 * $1; n++ } END { m = s / n; v = n > 1 ? (q - n * m * m) / (n - 1) : 0; if (v < 0) v = 0; printf "%.3f %.3f\n", m, sqrt(v) }'; }
read -r V_MEAN V_SD < <(stats "${VERSION_T[@]}")
read -r R_MEAN R_SD < <(stats "${RECEIPT_T[@]}")
read -r RC_MEAN _ < <(stats "${RECEIPT_CPU[@]}")
BEYOND="$(awk -v r="$R_MEAN" -v v="$V_MEAN" 'BEGIN { printf "%.3f", r - v }')"
RECEIPT_OK="$(awk -v b="$BEYOND" 'BEGIN { print (b <= 2.0) ? "yes" : "NO" }')"
DELTA_OK="$(awk -v o="$OVERHEAD" 'BEGIN { print (o <= 1.0) ? "yes" : "NO" }')"
B_MEAN=null; B_SD=null; BC_MEAN=null; B_BEYOND=null
if [[ -n "$BASELINE" ]]; then
  read -r B_MEAN B_SD < <(stats "${BASE_T[@]}")
  read -r BC_MEAN _ < <(stats "${BASE_CPU[@]}")
  B_BEYOND="$(awk -v r="$B_MEAN" -v v="$V_MEAN" 'BEGIN { printf "%.3f", r - v }')"
fi

STAMP="$(date -u +%Y%m%dT%H%M%SZ)"
MD="$RESULTS/receipt-$STAMP.md"
JSON="$RESULTS/receipt-$STAMP.json"
{
  echo "# airlock receipt and delta, $STAMP"
  echo
  echo "Machine: $(nproc) cores, $(awk '/MemTotal/ { printf "%.1f GiB", $2 / 1048576 }' /proc/meminfo); load average before $LOAD_BEFORE, after $LOAD_AFTER."
  echo "Data set: $IMAGES images x 3 platforms, $UNIQUE_BYTES unique bytes (bench/src/BenchData.java, seed $SEED), two loopback Distribution registries."
  echo
  echo "| measure | value |"
  echo "|---|---|"
  echo "| \`airlock --version\` (JVM start), mean ± sd of $REPS | $V_MEAN ± $V_SD s |"
  echo "| \`airlock receipt --from\` of $IMAGES images, mean ± sd of $REPS | $R_MEAN ± $R_SD s |"
  echo "| receipt beyond JVM start (target ≤ 2 s) | $BEYOND s ($RECEIPT_OK) |"
  echo "| receipt CPU (user+system), mean of $REPS | $RC_MEAN s |"
  echo "| receipt HTTP requests (connections) | $REQUESTS ($CONNECTIONS) |"
  if [[ -n "$BASELINE" ]]; then
    echo "| baseline \`$BASELINE\` receipt, mean ± sd of $REPS | $B_MEAN ± $B_SD s ($B_BEYOND s beyond start, $BC_MEAN CPU-s, $B_REQUESTS requests, $B_CONNECTIONS connections) |"
  fi
  for j in "${SWEEP_JOBS[@]:-}"; do
    [[ -n "$j" ]] || continue
    # shellcheck disable=SC2086
    read -r S_MEAN S_SD < <(stats ${SWEEP[$j]})
    echo "| receipt --jobs $j, mean ± sd of $REPS | $S_MEAN ± $S_SD s |"
  done
  echo "| full bundle of all $IMAGES images | $FULL_BYTES bytes |"
  echo "| delta against the receipt of the first $HALF | $DELTA_BYTES bytes |"
  echo "| new unique bytes (blobs and manifests the first half lacks) | $NEW_BYTES bytes |"
  echo "| delta overhead over the new unique bytes (target ≤ 1 %) | $OVERHEAD % ($DELTA_OK) |"
  echo
  echo "Commands (\$W = the scratch directory):"
  echo
  echo "    bin/airlock --version"
  echo "    bin/airlock receipt -q --from $DST -o \$W/now.receipt <$IMAGES refs> ${JOBS_ARGS[*]}"
  echo "    bin/airlock export -q <$IMAGES refs> -o \$W/full.tar --sign-key \$W/ops.key ${JOBS_ARGS[*]}"
  echo "    bin/airlock export -q <$IMAGES refs> -o \$W/delta.tar --sign-key \$W/ops.key --since \$W/site.receipt --trust \$W/site.pub.pem ${JOBS_ARGS[*]}"
  echo
  echo "Runs (s): version ${VERSION_T[*]}; receipt ${RECEIPT_T[*]}${BASELINE:+; baseline ${BASE_T[*]}}"
} >"$MD"
cat >"$JSON" <<JSON
{"stamp":"$STAMP","images":$IMAGES,"platforms":3,"uniqueBytes":$UNIQUE_BYTES,"reps":$REPS,"loadBefore":"$LOAD_BEFORE","loadAfter":"$LOAD_AFTER",
 "versionSeconds":{"mean":$V_MEAN,"sd":$V_SD,"runs":[$(IFS=,; echo "${VERSION_T[*]}")]},
 "receiptSeconds":{"mean":$R_MEAN,"sd":$R_SD,"runs":[$(IFS=,; echo "${RECEIPT_T[*]}")]},
 "receiptCpuSeconds":$RC_MEAN,"receiptRequests":$REQUESTS,"receiptConnections":$CONNECTIONS,
 "baselineReceiptSeconds":{"mean":$B_MEAN,"sd":$B_SD,"cpu":$BC_MEAN,"beyondStart":$B_BEYOND,"requests":$B_REQUESTS,"connections":$B_CONNECTIONS},
 "receiptBeyondStartSeconds":$BEYOND,"fullBundleBytes":$FULL_BYTES,"deltaBytes":$DELTA_BYTES,"newUniqueBytes":$NEW_BYTES,"deltaOverheadPercent":$OVERHEAD}
JSON
cat "$MD"
log "results: $MD, $JSON"
