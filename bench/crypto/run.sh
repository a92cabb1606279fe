#!/usr/bin/env bash
# Encryption at rest (C14): contact-record writes and transcript appends
# sealed against the same path with sealing switched off (a switch of this
# benchmark only), in process on one core, as the engine's writer does them
# (see bench/crypto/bench_crypto.c and bench/README.md). Goal: ratio >= 0.8.
#   bench/crypto/run.sh BUILD_DIR
# Knobs: BENCH_CRYPTO_RUNS (3), BENCH_CRYPTO_WRITES (5000 per round),
# BENCH_CRYPTO_ROUNDS (5), BENCH_CRYPTO_DURABILITY (normal|full),
# BENCH_CRYPTO_CPU (the CPU to pin to with taskset; 0).
set -euo pipefail
BUILD=$(realpath "${1:-build}")
BIN="$BUILD/bench_crypto"
RUNS=${BENCH_CRYPTO_RUNS:-3}
N=${BENCH_CRYPTO_WRITES:-5000}
ROUNDS=${BENCH_CRYPTO_ROUNDS:-5}
DUR=${BENCH_CRYPTO_DURABILITY:-normal}
CPU=${BENCH_CRYPTO_CPU:-0}
if [ ! -x "$BIN" ]; then
	echo "bench/crypto: $BIN is missing (ninja -C $BUILD)" >&2
	exit 2
fi
pin=()
if command -v taskset >/dev/null; then
	pin=(taskset -c "$CPU")
fi
extra=()
[ "$DUR" = full ] && extra=(full)

echo "bench/crypto: load average at start: $(cut -d' ' -f1-3 /proc/loadavg) ($(nproc) CPUs)"
contact=()
transcript=()
for i in $(seq "$RUNS"); do
	out=$("${pin[@]}" "$BIN" "$N" "$ROUNDS" "${extra[@]}")
	echo "$out" | sed "s/^/  run $i: /"
	contact+=("$(echo "$out" | sed -nE 's/^contact-record writes:.*ratio ([0-9.]+).*/\1/p')")
	transcript+=("$(echo "$out" | sed -nE 's/^transcript appends:.*ratio ([0-9.]+).*/\1/p')")
done
median() { printf '%s\n' "$@" | sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
met() { awk -v r="$1" 'BEGIN {print (r >= 0.8) ? "met" : "NOT met"}'; }
c=$(median "${contact[@]}")
t=$(median "${transcript[@]}")
echo "encryption at rest ($DUR durability): sealed/plain ratio, median of $RUNS runs:" \
	"contact-record writes $c (runs: ${contact[*]}), transcript appends $t" \
	"(runs: ${transcript[*]}); goal >= 0.8: contact records $(met "$c"), transcript $(met "$t")"

# Encrypted customer input (C15): Encryption SDK messages per second, to one
# and two keys, against the raw RSA-OAEP encryption of the data key.
"${pin[@]}" "$BUILD/bench_esdk" 3 | sed 's/^/bench\/crypto: /'
