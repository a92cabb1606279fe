#!/usr/bin/env bash
# A flood of chat starts from a handful of client addresses, against a
# trickle of legitimate chat starts, on one daemon (issue 6, bench/README.md):
#   - the trickle's latency (POST .../chats -> 201) without the flood, then
#     under it (goal: p99 < 20 ms under the flood);
#   - how many flood requests each address gets accepted, against the limit
#     (goal: within 5%).
#
#   bench/fraud/flood.sh [BUILD_DIR]        (default build; also run by run.sh)
#
# Client addresses are stood in for with X-Forwarded-For: the daemon runs
# with trusted_proxies = 127.0.0.1/32. Everything listens on 127.0.0.1; the
# EXIT trap stops what this script started and removes its temp dir.
#
# Knobs (environment):
#   BENCH_FLOOD_MODE      throttle (default): the per-address throttle limits a
#                         key (public_rate_limit / public_rate_window_s), the
#                         contact filter is set out of reach; filter: the
#                         throttle is lifted and a contact-filter ADDRESS rule
#                         (limit per window, deny_s 0) limits a key.
#   BENCH_FLOOD_LIMIT     100  requests (throttle) or contacts (filter) per key
#   BENCH_FLOOD_WINDOW_S  10   per this many seconds (100/10 s: the throttle's defaults)
#   BENCH_FLOOD_WINDOWS   2    windows counted; the flood runs one more (see below)
#   BENCH_FLOOD_RATE      20000 requests per second offered
#   BENCH_FLOOD_KEYS      5    flood addresses (198.51.100.1 ...)
#   BENCH_FLOOD_CONNS     64   flood connections (one request in flight on each)
#   BENCH_TRICKLE_MS      50   one legitimate chat start every this many ms
#   BENCH_REF_S           10   length of the trickle without the flood
#   BENCH_FLOOD_WORKERS   (unset) the daemon's API workers (BULWARK_WORKERS; default 4)
set -euo pipefail
BUILD=$(realpath "${1:-build}")
HERE=$(cd "$(dirname "$0")" && pwd)
MODE=${BENCH_FLOOD_MODE:-throttle}
LIMIT=${BENCH_FLOOD_LIMIT:-100}
WINDOW=${BENCH_FLOOD_WINDOW_S:-10}
NWIN=${BENCH_FLOOD_WINDOWS:-2}
RATE=${BENCH_FLOOD_RATE:-20000}
NKEYS=${BENCH_FLOOD_KEYS:-5}
CONNS=${BENCH_FLOOD_CONNS:-64}
TRICKLE_MS=${BENCH_TRICKLE_MS:-50}
REF_S=${BENCH_REF_S:-10}
WORKERS=${BENCH_FLOOD_WORKERS:-}
# The counted windows start half a window into the flood, where every key
# is being refused: see bench/README.md. The flood runs NWIN + 1 windows.
FLOOD_S=$(((NWIN + 1) * WINDOW))

case $MODE in
throttle)
	SRV_RATE_LIMIT=$LIMIT SRV_RATE_WINDOW=$WINDOW
	FILTER="10000,1,0" ;; # one address cannot reach it through the throttle
filter)
	SRV_RATE_LIMIT=1000000 SRV_RATE_WINDOW=1
	FILTER="$LIMIT,$WINDOW,0" ;;
*) echo "bench/fraud/flood: BENCH_FLOOD_MODE is throttle or filter" >&2; exit 2 ;;
esac
if [[ $MODE == filter ]] && ((LIMIT > 10000 || WINDOW > 86400)); then
	echo "bench/fraud/flood: a contact-filter rule takes limit <= 10000, window <= 86400" >&2
	exit 2
fi

for tool in node curl cc; do
	command -v "$tool" >/dev/null || { echo "bench/fraud/flood: $tool not found" >&2; exit 2; }
done
[[ -x $BUILD/bulwark ]] || { echo "bench/fraud/flood: $BUILD/bulwark missing (ninja -C $BUILD)" >&2; exit 2; }

source "$HERE/../lib.sh" # T, PIDS, the cleanup trap

# A private copy of the daemon (a rebuild during the run cannot mix two
# builds) and the load generator, built here: it has no dependencies.
cp "$BUILD/bulwark" "$T/bulwark"
BIN_ID="$BUILD/bulwark, sha256 $(sha256sum "$T/bulwark" | cut -c1-12), built $(date -r "$BUILD/bulwark" '+%F %T')"
cc -O2 -Wall -o "$T/floodgen" "$HERE/floodgen.c"

LOAD_START=$(cut -d' ' -f1-3 /proc/loadavg)
echo "bench/fraud/flood: load average at start: $LOAD_START ($(nproc) CPUs); $BIN_ID"
if awk -v l="${LOAD_START%% *}" 'BEGIN{exit !(l > 0.5)}'; then
	echo "bench/fraud/flood: WARNING: the machine is busy; figures will be noisy" >&2
fi

"$T/bulwark" init --data "$T/data" --json >"$T/init.json" 2>"$T/init.err"
KEY=$(node -e 'console.log(JSON.parse(require("fs").readFileSync(process.argv[1],"utf8")).platform_key)' "$T/init.json")
[[ $KEY == bwp_* ]] || { echo "bench/fraud/flood: no platform key from init" >&2; exit 1; }

workers_env=()
[[ -n $WORKERS ]] && workers_env=(BULWARK_WORKERS="$WORKERS")
env "${workers_env[@]}" BULWARK_TRUSTED_PROXIES=127.0.0.1/32 \
	BULWARK_PUBLIC_RATE_LIMIT=$SRV_RATE_LIMIT BULWARK_PUBLIC_RATE_WINDOW_S=$SRV_RATE_WINDOW \
	BULWARK_MAX_CONNECTIONS=20000 BULWARK_MAX_CONNECTIONS_PER_ADDR=20000 \
	"$T/bulwark" serve --data "$T/data" --listen 127.0.0.1:0 --admin-listen 127.0.0.1:0 \
	--log-level warn >"$T/bulwark.out" 2>"$T/bulwark.err" &
BW_PID=$!
PIDS+=("$BW_PID")
for _ in $(seq 100); do
	grep -q '"listening"' "$T/bulwark.out" && break
	kill -0 "$BW_PID" 2>/dev/null || break
	sleep 0.1
done
PORT=$(sed -nE 's/.*"listening": *"127\.0\.0\.1:([0-9]+)".*/\1/p' "$T/bulwark.out")
ADMIN=$(sed -nE 's/.*"admin": *"127\.0\.0\.1:([0-9]+)".*/\1/p' "$T/bulwark.out")
if [[ -z $PORT || -z $ADMIN ]]; then
	echo "bench/fraud/flood: bulwark did not start:" >&2
	cat "$T/bulwark.out" "$T/bulwark.err" >&2 || true
	exit 1
fi

node "$HERE/flood_setup.mjs" --url "http://127.0.0.1:$PORT" --key "$KEY" --filter "$FILTER" >"$T/setup.json"
field() { node -e 'console.log(JSON.parse(require("fs").readFileSync(process.argv[1],"utf8"))[process.argv[2]])' "$T/setup.json" "$1"; }
IID=$(field instance_id)
EP=$(field entry_point_id)
CHATS="/v1/public/instances/$IID/chats"
KEYS=$(seq -s, -f '198.51.100.%g' 1 "$NKEYS")

# ---- the sampler: every 0.5 s the daemon's RSS, CPU ticks, API queue depth
# and run delay (ns its threads spent runnable, waiting for a CPU: what other
# processes on the machine cost it) ----
sampler() {
	while kill -0 "$BW_PID" 2>/dev/null; do
		local rss ticks qd delay
		rss=$(awk '/^VmRSS/ { print $2 }' "/proc/$BW_PID/status" 2>/dev/null) || break
		ticks=$(cut -d')' -f2- "/proc/$BW_PID/stat" 2>/dev/null | awk '{ print $12 + $13 }') || break
		qd=$(curl -s --max-time 1 "http://127.0.0.1:$ADMIN/metrics" |
			awk '/^bulwark_worker_queue_depth\{pool="api"\}/ { print $2 }')
		delay=$(cat /proc/"$BW_PID"/task/*/schedstat 2>/dev/null | awk '{ d += $2 } END { printf "%.0f", d }')
		echo "$(date +%s%3N) $rss $ticks ${qd:-NA} ${delay:-NA}"
		sleep 0.5
	done
}
sampler >"$T/samples" &
PIDS+=("$!")
mark() { echo "$1 $(date +%s%3N)" >>"$T/phases"; } # PHASE-start / PHASE-end
datadir_bytes() { du -sb "$T/data" | cut -f1; }
sleep 1

TRICKLE_BODY="{\"entry_point\":\"$EP\",\"display_name\":\"Ada\"}"
FLOOD_BODY="{\"entry_point\":\"$EP\",\"display_name\":\"Flood\"}"

# ---- 1. the trickle alone: the reference ----
echo "bench/fraud/flood: reference: one chat start every $TRICKLE_MS ms for $REF_S s, no flood"
mark ref-start
"$T/floodgen" trickle --addr "127.0.0.1:$PORT" --path "$CHATS" --body "$TRICKLE_BODY" \
	--interval-ms "$TRICKLE_MS" --duration "$REF_S" --first 0 >"$T/ref.json"
mark ref-end
sleep 1

# ---- 2. the flood, and the trickle under it ----
echo "bench/fraud/flood: flood: $RATE req/s offered from $NKEYS addresses over $CONNS connections" \
	"for $FLOOD_S s ($MODE mode, $LIMIT per $WINDOW s per key); the trickle runs from 1 s to $((FLOOD_S - 1)) s"
# rows in the audit log and in contacts (sqlite3 reads the live WAL database)
db_counts() {
	if command -v sqlite3 >/dev/null; then
		sqlite3 -readonly "$T/data/bulwark.db" "SELECT (SELECT count(*) FROM audit_events) || ',' ||
			(SELECT count(*) FROM contacts) || ',' ||
			(SELECT count(*) FROM contacts WHERE disconnect_reason = 'CONTACT_FILTER')" 2>/dev/null || echo NA,NA,NA
	else
		echo NA,NA,NA
	fi
}
BYTES0=$(datadir_bytes)
ROWS0=$(db_counts)
mark flood-start
"$T/floodgen" flood --addr "127.0.0.1:$PORT" --path "$CHATS" --body "$FLOOD_BODY" \
	--rate "$RATE" --duration "$FLOOD_S" --conns "$CONNS" --keys "$KEYS" >"$T/flood.json" &
FLOOD_PID=$!
PIDS+=("$FLOOD_PID")
sleep 1
"$T/floodgen" trickle --addr "127.0.0.1:$PORT" --path "$CHATS" --body "$TRICKLE_BODY" \
	--interval-ms "$TRICKLE_MS" --duration $((FLOOD_S - 2)) --first 1000000 >"$T/under.json"
rc=0
wait "$FLOOD_PID" || rc=$?
mark flood-end
((rc == 0)) || { echo "bench/fraud/flood: the flood generator exited $rc" >&2; exit 1; }
sleep 1
BYTES1=$(datadir_bytes)
alive=yes
kill -0 "$BW_PID" 2>/dev/null || alive="NO: the daemon died"
curl -s --max-time 5 "http://127.0.0.1:$ADMIN/metrics" >"$T/metrics" || true
ROWS1=$(db_counts)
grep -c . "$T/bulwark.err" >"$T/errlines" || true
sed -nE 's/.*"msg": *"([^"]*)".*/\1/p' "$T/bulwark.err" | sort | uniq -c | sort -rn | head -5 >"$T/errmsgs" || true

node "$HERE/flood_summary.mjs" --dir "$T" --mode "$MODE" --limit "$LIMIT" --window "$WINDOW" \
	--windows "$NWIN" --rate "$RATE" --conns "$CONNS" --trickle-ms "$TRICKLE_MS" \
	--bytes "$BYTES0,$BYTES1" --rows "$ROWS0,$ROWS1" --alive "$alive" --filter "$FILTER" \
	--load "$LOAD_START|$(cut -d' ' -f1-3 /proc/loadavg)" --binary "$BIN_ID"
