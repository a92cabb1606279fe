#!/usr/bin/env bash
# Concurrent chats on one node: contacts per second, relay latency p50/p99,
# memory per live chat, and relay throughput against a raw WebSocket echo of
# the same build, at 2,000 and 10,000 live chats (bench/README.md).
#
#   bench/chat/run.sh [BUILD_DIR]        (default build; or: make bench)
#
# Knobs (environment): BENCH_CHAT_RUNS ("2000 10000"), BENCH_CHAT_INTERVAL_MS
# (2000: each chat sends one message every this often, alternately customer
# and agent), BENCH_CHAT_FLOOD_S (5: closed-loop throughput phase, 0 = skip),
# BENCH_CHAT_INFLIGHT (200 chats in setup or in teardown at once),
# BENCH_CHAT_WORKERS (4 API workers), BENCH_CHAT_OFFER_TIMEOUT_S (60).
# Everything listens on 127.0.0.1; the EXIT trap stops what this script
# started and removes its temp dir.
set -euo pipefail
BUILD=$(realpath "${1:-build}")
HERE=$(cd "$(dirname "$0")" && pwd)
RUNS=${BENCH_CHAT_RUNS:-2000 10000}
INTERVAL=${BENCH_CHAT_INTERVAL_MS:-2000}
FLOOD=${BENCH_CHAT_FLOOD_S:-5}
INFLIGHT=${BENCH_CHAT_INFLIGHT:-200}
WORKERS=${BENCH_CHAT_WORKERS:-4}
OFFER_TIMEOUT=${BENCH_CHAT_OFFER_TIMEOUT_S:-60}
CONCURRENCY=10 # the largest CHAT concurrency a routing profile takes (src/api/routing_profiles.c)

for tool in node curl; do
	command -v "$tool" >/dev/null || { echo "bench: $tool not found" >&2; exit 2; }
done
if [[ -f $BUILD/build.ninja ]] && ! ninja -C "$BUILD" bulwark chatload bench_chat_echo >/dev/null; then
	echo "bench: WARNING: ninja failed; running the binaries already in $BUILD (see their date below)" >&2
fi
for bin in bulwark chatload bench_chat_echo; do
	[[ -x $BUILD/$bin ]] || { echo "bench: $BUILD/$bin missing (meson setup + ninja)" >&2; exit 2; }
done

agents_for() { echo $(( ($1 * 105 / 100 + CONCURRENCY - 1) / CONCURRENCY )); }
max_n=0
for n in $RUNS; do ((n > max_n)) && max_n=$n; done
max_agents=$(agents_for "$max_n")

# descriptors: each side holds N customer sockets, 2 per agent, and a few more
want_fds=$((max_n + 2 * max_agents + 512))
hard=$(ulimit -Hn)
if [[ $hard != unlimited && $hard -lt $want_fds ]]; then
	echo "bench: ulimit -Hn is $hard, $want_fds needed for $max_n chats" >&2
	exit 2
fi
if [[ $hard == unlimited || $hard -gt 65536 ]]; then ulimit -n 65536; else ulimit -n "$hard"; fi

source "$HERE/../lib.sh" # T, PIDS, the cleanup trap, free_port

# Private copies: a rebuild during the run cannot mix two builds.
for bin in bulwark chatload bench_chat_echo; do cp "$BUILD/$bin" "$T/$bin"; done
BIN_ID="$BUILD/bulwark, sha256 $(sha256sum "$T/bulwark" | cut -c1-12), built $(date -r "$BUILD/bulwark" '+%F %T')"
LOAD_START=$(cut -d' ' -f1-3 /proc/loadavg)
echo "bench: load average at start: $LOAD_START ($(nproc) CPUs); $BIN_ID"
if awk -v l="${LOAD_START%% *}" 'BEGIN{exit !(l > 0.5)}'; then
	echo "bench: WARNING: the machine is busy; figures will be noisy" >&2
fi

stop_pid() { # stop one process we started (SIGTERM, then SIGKILL), and forget it
	local pid=$1 keep=()
	kill -TERM "$pid" 2>/dev/null || true
	for _ in $(seq 200); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
	kill -KILL "$pid" 2>/dev/null || true
	wait "$pid" 2>/dev/null || true
	for p in "${PIDS[@]}"; do [[ $p == "$pid" ]] || keep+=("$p"); done
	PIDS=("${keep[@]}")
}

# start_server BIN DATA NAME: serve with the bench's settings; sets SRV_PID, SRV_PORT
start_server() {
	local bin=$1 data=$2 name=$3 out="$T/$3.out"
	: >"$out"
	# All customers share 127.0.0.1: lift the per-address caps and the public
	# routes' per-address throttle (setup.mjs does the same for the contact filter).
	BULWARK_MAX_CONNECTIONS=$((want_fds * 2)) BULWARK_MAX_CONNECTIONS_PER_ADDR=$((want_fds * 2)) \
		BULWARK_PUBLIC_RATE_LIMIT=1000000 BULWARK_PUBLIC_RATE_WINDOW_S=1 \
		BULWARK_OFFER_TIMEOUT_S=$OFFER_TIMEOUT BULWARK_WORKERS=$WORKERS \
		"$bin" serve --data "$data" --listen 127.0.0.1:0 --admin-listen 127.0.0.1:0 \
		--log-level warn >"$out" 2>>"$T/$name.err" &
	SRV_PID=$!
	PIDS+=("$SRV_PID")
	for _ in $(seq 100); do
		grep -q '"listening"' "$out" && break
		kill -0 "$SRV_PID" 2>/dev/null || break
		sleep 0.1
	done
	SRV_PORT=$(sed -nE 's/.*"listening": *"127\.0\.0\.1:([0-9]+)".*/\1/p' "$out")
	if [[ -z $SRV_PORT ]]; then
		echo "bench: $name did not start:" >&2
		cat "$out" "$T/$name.err" >&2 || true
		exit 1
	fi
}

# ---- setup: one instance and enough agents for the largest run ----
"$T/bulwark" init --data "$T/data" --json >"$T/init.json" 2>"$T/init.err"
KEY=$(node -e 'console.log(JSON.parse(require("fs").readFileSync(process.argv[1],"utf8")).platform_key)' "$T/init.json")
"$T/bench_chat_echo" init --data "$T/echo-data" --json >/dev/null 2>&1
start_server "$T/bulwark" "$T/data" bulwark
node "$HERE/setup.mjs" --url "http://127.0.0.1:$SRV_PORT" --key "$KEY" --agents "$max_agents" \
	--concurrency "$CONCURRENCY" --tokens "$T/tokens" >"$T/setup.json"
field() { node -e 'console.log(JSON.parse(require("fs").readFileSync(process.argv[1],"utf8"))[process.argv[2]])' "$T/setup.json" "$1"; }
IID=$(field instance_id)
EP=$(field entry_point_id)
stop_pid "$SRV_PID"

: >"$T/results"
for n in $RUNS; do
	agents=$(agents_for "$n")
	echo
	echo "== $n chats, $agents agents (CHAT concurrency $CONCURRENCY), one message every $INTERVAL ms per chat"
	# a new daemon for each run, so that RSS starts from the same place
	start_server "$T/bulwark" "$T/data" bulwark
	rc=0
	"$T/chatload" chat --addr "127.0.0.1:$SRV_PORT" --instance "$IID" --entry-point "$EP" \
		--agents-file "$T/tokens" --agents "$agents" --chats "$n" --pid "$SRV_PID" \
		--interval-ms "$INTERVAL" --flood-s "$FLOOD" --inflight "$INFLIGHT" --label "$n" \
		>"$T/chat-$n.txt" 2>"$T/chat-$n.err" || rc=$?
	grep -v '^RESULT ' "$T/chat-$n.txt" || true
	grep '^RESULT ' "$T/chat-$n.txt" | cut -c8- >>"$T/results" || true
	if ((rc != 0)); then
		echo "bench: chatload exited $rc; its last progress lines:" >&2
		tail -5 "$T/chat-$n.err" >&2
	fi
	if ! kill -0 "$SRV_PID" 2>/dev/null; then
		echo "bench: bulwark died during the run:" >&2
		tail -20 "$T/bulwark.err" >&2
	fi
	stop_pid "$SRV_PID"
	if ((FLOOD > 0)); then
		start_server "$T/bench_chat_echo" "$T/echo-data" echo
		"$T/chatload" echo --addr "127.0.0.1:$SRV_PORT" --conns "$n" --window 2 \
			--flood-s "$FLOOD" --pid "$SRV_PID" --label "$n" \
			>"$T/echo-$n.txt" 2>"$T/echo-$n.err" || echo "bench: echo run failed" >&2
		grep -v '^RESULT ' "$T/echo-$n.txt" || true
		grep '^RESULT ' "$T/echo-$n.txt" | cut -c8- >>"$T/results" || true
		stop_pid "$SRV_PID"
	fi
done

echo
echo "== summary ($BIN_ID; load at start $LOAD_START, at end $(cut -d' ' -f1-3 /proc/loadavg))"
node "$HERE/summary.mjs" "$T/results"
