#!/usr/bin/env bash
# Runs each libFuzzer target for a while on a copy of its seed corpus.
#   scripts/fuzz-smoke.sh BUILD_DIR SECONDS [TARGET...]
# New inputs and crash artifacts go to a temporary folder, never into the
# repository. Exits non-zero if any target crashes; prints where the
# reproducers are.
set -uo pipefail

if [ $# -lt 2 ]; then
  echo "usage: $0 BUILD_DIR SECONDS [TARGET...]" >&2
  exit 2
fi
build=$(cd "$1" && pwd) || exit 2
seconds=$2
shift 2
repo=$(cd "$(dirname "$0")/.." && pwd)
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(fuzz_http fuzz_ws fuzz_json fuzz_config fuzz_flow fuzz_phone fuzz_tz fuzz_time fuzz_fraud fuzz_csv fuzz_esdk fuzz_redact fuzz_integ fuzz_events)

work=$(mktemp -d "${TMPDIR:-/tmp}/bulwark-fuzz.XXXXXX")
# Sanitizer reports become crashes libFuzzer records.
export ASAN_OPTIONS=${ASAN_OPTIONS:-abort_on_error=1:detect_leaks=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-halt_on_error=1:print_stacktrace=1}

failed=()
for t in "${targets[@]}"; do
  bin="$build/tests/fuzz/$t"
  if [ ! -x "$bin" ]; then
    echo "fuzz-smoke: $bin is missing (ninja -C $build)" >&2
    failed+=("$t")
    continue
  fi
  mkdir -p "$work/$t/corpus" "$work/$t/artifacts"
  cp "$repo/tests/fuzz/corpus/$t/"* "$work/$t/corpus/" 2>/dev/null || true
  log="$work/$t/fuzz.log"
  # One process at a time (-jobs/-workers unset): the machine is small.
  "$bin" "$work/$t/corpus" -max_total_time="$seconds" -max_len=65536 -timeout=10 \
    -rss_limit_mb=2048 -artifact_prefix="$work/$t/artifacts/" -print_final_stats=1 \
    >"$log" 2>&1
  rc=$?
  runs=$(grep -Eo 'stat::number_of_executed_units: *[0-9]+' "$log" | grep -Eo '[0-9]+$')
  cov=$(grep -Eo 'cov: [0-9]+ ft: [0-9]+' "$log" | tail -1)
  if [ $rc -ne 0 ] || ls "$work/$t/artifacts/"* >/dev/null 2>&1; then
    echo "fuzz-smoke: $t FAILED (exit $rc)"
    grep -E 'ERROR|SUMMARY|runtime error|invariant failed|^#0|^    #[0-9]' "$log" | head -30
    echo "  artifacts: $work/$t/artifacts/"
    for a in "$work/$t/artifacts/"*; do
      [ -e "$a" ] && echo "  reproduce: $bin $a"
    done
    echo "  log:       $log"
    failed+=("$t")
  else
    echo "fuzz-smoke: $t ok (${runs:-?} runs in ${seconds}s, ${cov:-no coverage line})"
  fi
done

if [ ${#failed[@]} -gt 0 ]; then
  echo "fuzz-smoke: crashes in: ${failed[*]} (kept in $work)" >&2
  exit 1
fi
rm -rf "$work"
echo "fuzz-smoke: all targets clean"
