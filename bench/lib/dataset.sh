# Shared by bench/run.sh and bench/serve.sh (sourced, not run): the reproducible data set.
# bench_dataset WORK SIZE_MIB SEED [REPOS]: compiles BenchData and generates the data set once into
# WORK/data-<SIZE>m-s<SEED> (WORK/data-<SIZE>m-s<SEED>-r<REPOS> when REPOS is given and not 4; kept
# between runs, marked .complete); sets DATA, REPOS and UNIQUE_BYTES. Needs BENCH_DIR and a log function.
bench_dataset() {
  local work="$1" size="$2" seed="$3" repos="${4:-4}"
  DATA="$work/data-${size}m-s${seed}"
  [[ "$repos" == 4 ]] || DATA="$DATA-r$repos"
  mkdir -p "$work/classes"
  javac -encoding UTF-8 -d "$work/classes" "$BENCH_DIR/src/BenchData.java"
  if [[ ! -f "$DATA/.complete" ]]; then
    log "generating ${size} MiB data set (seed $seed, $repos repositories) in $DATA"
    rm -rf "$DATA"
    java -cp "$work/classes" BenchData "$DATA" "$size" "$seed" "$repos" >"$DATA.out"
    mv "$DATA.out" "$DATA/generator.out"
    touch "$DATA/.complete"
  fi
  UNIQUE_BYTES="$(awk '$1 == "unique_bytes" { print $2 }' "$DATA/generator.out")"
  mapfile -t REPOS < <(awk '$1 ~ /^app/ { print $1 }' "$DATA/generator.out")
}
