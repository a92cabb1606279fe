#!/usr/bin/env bash
# Event sinks (C19): deliveries per second through the NATS JetStream sink
# and the PostgreSQL warehouse sink, each against a plain client doing the
# same work in the same run (bench/events/bench_sinks.c, bench/README.md).
# The servers are scripts/test-servers.sh's (127.0.0.1, a temp folder,
# stopped and removed at the end), PostgreSQL with fsync on.
#   bench/events/run.sh BUILD_DIR
# Knobs: BENCH_EVENTS_ROUNDS (5), BENCH_EVENTS_BATCHES (40 per round),
# BENCH_EVENTS_BATCH (256 events).
set -euo pipefail
BUILD=$(realpath "${1:-build}")
BIN="$BUILD/bench_sinks"
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
if [ ! -x "$BIN" ]; then
	echo "bench/events: $BIN is missing (ninja -C $BUILD)" >&2
	exit 2
fi
echo "bench/events: load average at start: $(cut -d' ' -f1-3 /proc/loadavg) ($(nproc) CPUs)"
# shellcheck disable=SC2016
TEST_PG_FSYNC=on bash "$ROOT/scripts/test-servers.sh" run -- sh -c \
	'"$0" "$BULWARK_TEST_NATS_URL" "$BULWARK_TEST_PG_URL" "$1" "$2" "$3" 2>&1 |
	 grep -v -e "^{\"time\"" -e "^NOTICE:" | sed "s/^/bench\/events: /"' \
	"$BIN" "${BENCH_EVENTS_ROUNDS:-5}" "${BENCH_EVENTS_BATCHES:-40}" "${BENCH_EVENTS_BATCH:-256}"
