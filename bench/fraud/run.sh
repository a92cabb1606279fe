#!/usr/bin/env bash
# Contact-filter decisions per second, in process on one core, against a
# plain open-addressing hash doing a decision's two lookups in the same run
# (see bench/fraud/bench_filter.c and bench/README.md). Goal: >= 1,000,000/s.
#   bench/fraud/run.sh BUILD_DIR
# Knobs: BENCH_FRAUD_RUNS (3), BENCH_FRAUD_DECISIONS (3000000), BENCH_FRAUD_CPU
# (the CPU to pin to with taskset; 0), BENCH_FRAUD_FLOOD (1; 0 skips the
# second benchmark, flood.sh: a flood of chat starts against a trickle of
# legitimate ones on a running daemon, about 60 s; its own knobs are in it).
set -euo pipefail
BUILD=$(realpath "${1:-build}")
BIN="$BUILD/bench_filter"
RUNS=${BENCH_FRAUD_RUNS:-3}
N=${BENCH_FRAUD_DECISIONS:-3000000}
CPU=${BENCH_FRAUD_CPU:-0}
if [ ! -x "$BIN" ]; then
	echo "bench/fraud: $BIN is missing (ninja -C $BUILD)" >&2
	exit 2
fi
pin=()
if command -v taskset >/dev/null; then
	pin=(taskset -c "$CPU")
fi

echo "bench/fraud: load average at start: $(cut -d' ' -f1-3 /proc/loadavg) ($(nproc) CPUs)"
rates=()
ratios=()
for i in $(seq "$RUNS"); do
	out=$("${pin[@]}" "$BIN" "$N")
	echo "$out" | sed "s/^/  run $i: /"
	rates+=("$(echo "$out" | sed -nE 's/.*: ([0-9]+) decisions\/s.*/\1/p')")
	ratios+=("$(echo "$out" | sed -nE 's/.*ratio ([0-9.]+).*/\1/p')")
done
median() { printf '%s\n' "$@" | sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
rate=$(median "${rates[@]}")
echo "fraud filter: median of $RUNS runs: $rate decisions/s (runs: ${rates[*]}), ratio to the" \
	"plain hash $(median "${ratios[@]}") (runs: ${ratios[*]}); goal >= 1,000,000/s:" \
	"$([ "$rate" -ge 1000000 ] && echo met || echo NOT met)"

if [ "${BENCH_FRAUD_FLOOD:-1}" != 0 ]; then
	echo
	bash "$(dirname "$0")/flood.sh" "$BUILD"
fi
