#!/usr/bin/env bash
# Bulwark vs nginx on GET /healthz, and the RSS of idle WebSocket sessions.
#
#   bench/http/run.sh BULWARK_BIN        (or: make bench)
#
# Everything listens on 127.0.0.1 only, every run has a fixed length, and the
# EXIT trap stops every process this script started and removes its temp dir.
# Knobs (environment): BENCH_DURATION (s, default 8), BENCH_WARMUP (s, 2),
# BENCH_CONNS (64), BENCH_THREADS (1), BENCH_ROUNDS (2), BENCH_WS_SESSIONS
# (5000), BENCH_WS_LOCAL_ADDRS (127.0.0.1; comma list for more than ~28k
# sessions), BENCH_LOADED_DURATION (s, 5: the healthz run made while the idle
# sessions are held open), BENCH_PERF (0; 1 = one extra profiled bulwark run).
# See bench/README.md for what is measured and how to read it.
set -euo pipefail

if [[ $# -ne 1 || ! -x $1 ]]; then
	echo "usage: $0 BULWARK_BIN" >&2
	exit 2
fi
BIN=$(realpath "$1")
HERE=$(cd "$(dirname "$0")" && pwd)

DURATION=${BENCH_DURATION:-8}
WARMUP=${BENCH_WARMUP:-2}
CONNS=${BENCH_CONNS:-64}
THREADS=${BENCH_THREADS:-1}
ROUNDS=${BENCH_ROUNDS:-2}
WS_SESSIONS=${BENCH_WS_SESSIONS:-5000}
WS_LOCAL_ADDRS=${BENCH_WS_LOCAL_ADDRS:-127.0.0.1}
LOADED_DURATION=${BENCH_LOADED_DURATION:-5}
PERF=${BENCH_PERF:-0}
NGINX=${NGINX:-/usr/sbin/nginx}
WRK=${WRK:-wrk}
BODY='{"status":"ok"}'

for tool in "$NGINX" "$WRK" node curl; do
	command -v "$tool" >/dev/null || { echo "bench: $tool not found" >&2; exit 2; }
done

# ---- descriptors: 5,000 sessions need 5,000 on each side ----
want_fds=$((WS_SESSIONS + 1024))
hard=$(ulimit -Hn)
if [[ $hard != unlimited && $hard -lt $want_fds ]]; then
	echo "bench: ulimit -Hn is $hard, need $want_fds for $WS_SESSIONS sessions" >&2
	exit 2
fi
if [[ $hard == unlimited || $hard -gt 65536 ]]; then ulimit -n 65536; else ulimit -n "$hard"; fi

# ---- cleanup ----
source "$HERE/../lib.sh" # T, PIDS, the cleanup trap, free_port

stop_pid() { # stop one process we started, and forget it
	local pid=$1 keep=()
	kill -TERM "$pid" 2>/dev/null || true
	for _ in $(seq 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
	kill -KILL "$pid" 2>/dev/null || true
	wait "$pid" 2>/dev/null || true
	for p in "${PIDS[@]}"; do [[ $p == "$pid" ]] || keep+=("$p"); done
	PIDS=("${keep[@]}")
}


loadavg() { cut -d' ' -f1-3 /proc/loadavg; }

cpu_busy() { # percent of all CPUs busy over one second, from /proc/stat
	local a b
	a=$(head -1 /proc/stat)
	sleep 1
	b=$(head -1 /proc/stat)
	awk -v a="$a" -v b="$b" 'BEGIN {
		n = split(a, x); split(b, y); t = 0
		for (i = 2; i <= n; i++) t += y[i] - x[i]
		idle = (y[5] - x[5]) + (y[6] - x[6])
		printf "%.0f", t ? 100 * (t - idle) / t : 0 }'
}

LOAD_START=$(loadavg)
BUSY_START=$(cpu_busy)
echo "bench: load average at start: $LOAD_START, CPU busy ${BUSY_START}% over 1 s ($(nproc) CPUs)"
if ((BUSY_START > 10)) || awk -v l="${LOAD_START%% *}" 'BEGIN{exit !(l > 0.5)}'; then
	echo "bench: WARNING: the machine is busy; figures will be noisy" >&2
fi

# ---- nginx: 1 worker (headline) and 2 workers (for honesty) ----
mkdir -p "$T/www"
printf '%s' "$BODY" >"$T/www/healthz"
# nginx workers run as nobody when the master is root: make the docroot readable.
chmod 755 "$T" "$T/www"
chmod 644 "$T/www/healthz"

start_nginx() { # NAME WORKERS [LOCATION_BODY]; sets NGINX_PORT_<NAME>
	local name=$1 w=$2 loc=${3:-} dir="$T/nginx-$1" port
	port=$(free_port)
	mkdir -p "$dir/tmp"
	cat >"$dir/nginx.conf" <<-EOF
		worker_processes $w;
		daemon off;
		master_process on;
		pid $dir/nginx.pid;
		error_log $dir/error.log warn;
		worker_rlimit_nofile 65536;
		events { worker_connections 16384; }
		http {
		    access_log off;
		    server_tokens off;
		    sendfile on;
		    tcp_nopush on;
		    keepalive_timeout 15s;
		    keepalive_requests 1000000;
		    client_body_temp_path $dir/tmp/body;
		    proxy_temp_path $dir/tmp/proxy;
		    fastcgi_temp_path $dir/tmp/fastcgi;
		    uwsgi_temp_path $dir/tmp/uwsgi;
		    scgi_temp_path $dir/tmp/scgi;
		    server {
		        listen 127.0.0.1:$port backlog=4096;
		        root $T/www;
		        location = /healthz { default_type application/json; $loc }
		    }
		}
	EOF
	"$NGINX" -p "$dir" -c "$dir/nginx.conf" -e "$dir/error.log" >"$dir/stdout" 2>&1 &
	PIDS+=($!)
	printf -v "NGINX_PID_$name" '%s' "$!"
	for _ in $(seq 50); do
		curl -sf "http://127.0.0.1:$port/healthz" -o /dev/null 2>/dev/null && break
		sleep 0.1
	done
	if ! curl -sf "http://127.0.0.1:$port/healthz" -o /dev/null; then
		echo "bench: nginx $name ($w workers) did not start:" >&2
		cat "$dir/error.log" "$dir/stdout" >&2 || true
		exit 1
	fi
	printf -v "NGINX_PORT_$name" '%s' "$port"
}

# ---- bulwark ----
# Run a private copy, so a rebuild of BULWARK_BIN during the run (others may
# be compiling) cannot mix two binaries into one result.
cp "$BIN" "$T/bulwark"
BIN_ID="$BIN, sha256 $(sha256sum "$T/bulwark" | cut -c1-12), built $(date -r "$BIN" '+%F %T')"
BIN="$T/bulwark"
"$BIN" init --data "$T/data" --json >"$T/init.json" 2>"$T/init.err"
KEY=$(node -e 'console.log(JSON.parse(require("fs").readFileSync(process.argv[1],"utf8")).platform_key)' "$T/init.json")
[[ $KEY == bwp_* ]] || { echo "bench: no platform key from init" >&2; exit 1; }

start_bulwark() { # sets BW_PID, BW_PORT
	: >"$T/bulwark.out"
	"$BIN" serve --data "$T/data" --listen 127.0.0.1:0 --admin-listen 127.0.0.1:0 \
		--log-level warn --max-connections-per-addr 10000 --max-connections 20000 \
		>"$T/bulwark.out" 2>>"$T/bulwark.err" &
	BW_PID=$!
	PIDS+=("$BW_PID")
	for _ in $(seq 100); do
		grep -q '"listening"' "$T/bulwark.out" && break
		kill -0 "$BW_PID" 2>/dev/null || break
		sleep 0.1
	done
	BW_PORT=$(sed -nE 's/.*"listening": *"127\.0\.0\.1:([0-9]+)".*/\1/p' "$T/bulwark.out")
	if [[ -z $BW_PORT ]]; then
		echo "bench: bulwark did not start:" >&2
		cat "$T/bulwark.out" "$T/bulwark.err" >&2 || true
		exit 1
	fi
}

# cpu_ticks PID: user+system clock ticks of PID (all its threads) and of its
# direct children (nginx workers under their master).
cpu_ticks() {
	local p t=0 f
	for p in "$1" $(pgrep -P "$1" || true); do
		f=$(cut -d')' -f2- "/proc/$p/stat" 2>/dev/null) || continue
		t=$((t + $(echo "$f" | awk '{ print $12 + $13 }')))
	done
	echo "$t"
}
TCK=$(getconf CLK_TCK)

# run_wrk NAME URL SERVER_PID [SECONDS] -> appends
# "NAME rps p99_ms non2xx sockerr server_cpu_us_per_request" to $T/results
run_wrk() {
	local name=$1 url=$2 spid=$3 secs=${4:-$DURATION} out="$T/wrk-$1-$RANDOM.txt" c0 c1
	timeout $((WARMUP + 10)) "$WRK" -t"$THREADS" -c"$CONNS" -d"${WARMUP}s" "$url" >/dev/null
	c0=$(cpu_ticks "$spid")
	timeout $((secs + 15)) "$WRK" -t"$THREADS" -c"$CONNS" -d"${secs}s" --latency "$url" >"$out"
	c1=$(cpu_ticks "$spid")
	awk -v name="$name" -v ticks=$((c1 - c0)) -v tck="$TCK" '
		function ms(v) {
			if (v ~ /us$/) return substr(v, 1, length(v) - 2) / 1000
			if (v ~ /ms$/) return substr(v, 1, length(v) - 2) + 0
			if (v ~ /s$/) return substr(v, 1, length(v) - 1) * 1000
			return v + 0
		}
		/ requests in / { nreq = $1 }
		/Requests\/sec:/ { rps = $2 }
		/^ +99%/ { p99 = ms($2) }
		/Non-2xx or 3xx responses:/ { bad = $NF }
		/Socket errors:/ { err = $0; sub(/.*Socket errors: */, "", err); gsub(/ /, "", err) }
		END {
			if (rps == "" || nreq == 0) { print "bench: no Requests/sec from wrk" > "/dev/stderr"; exit 1 }
			printf "%s %.0f %.3f %d %s %.2f\n", name, rps, p99, bad + 0, (err == "" ? "none" : err),
			       ticks / tck * 1e6 / nreq
		}' "$out" | tee -a "$T/results"
}
: >"$T/results"

# ---- 1. idle WebSocket sessions, on a freshly started daemon ----
# The probe prints its JSON line once every session has its hello and the
# RSS is read, then holds the sessions open while wrk loads the same daemon.
start_bulwark
echo "bench: ws idle: opening $WS_SESSIONS sessions to /v1/events (bulwark pid $BW_PID)"
hold_ms=$(((WARMUP + LOADED_DURATION + 30) * 1000))
node "$HERE/ws_idle.mjs" --port "$BW_PORT" --key "$KEY" --pid "$BW_PID" \
	--sessions "$WS_SESSIONS" --checkpoint $((WS_SESSIONS / 5)) \
	--local-addrs "$WS_LOCAL_ADDRS" --timeout-ms 80000 --hold-ms "$hold_ms" \
	>"$T/ws.json" 2>"$T/ws.err" &
WS_NODE=$!
PIDS+=("$WS_NODE")
for _ in $(seq 900); do
	[[ -s $T/ws.json ]] && break
	kill -0 "$WS_NODE" 2>/dev/null || break
	sleep 0.1
done
WS_JSON=$(head -1 "$T/ws.json" 2>/dev/null || true)
wsf() { node -e 'const o=JSON.parse(process.argv[1]);console.log(o[process.argv[2]])' "$WS_JSON" "$1"; }
if [[ -z $WS_JSON ]] || [[ $(wsf hellos) != "$WS_SESSIONS" || $(wsf alive) != "$WS_SESSIONS" ]]; then
	echo "bench: ws idle probe failed: ${WS_JSON:-no output}" >&2
	cat "$T/ws.err" >&2 || true
	tail -5 "$T/bulwark.err" >&2 || true
	exit 1
fi
WS_LINE=$(printf 'ws idle: %d sessions, RSS +%d KiB total, %.2f KiB per session (goal <= 4 KiB)' \
	"$(wsf hellos)" "$(wsf rss_delta_kib)" "$(wsf per_session_kib)")
WS_DETAIL=$(printf 'ws idle detail: VmRSS %d -> %d KiB; marginal %.2f KiB/session between %d and %d sessions; opened in %d ms' \
	"$(wsf rss_before_kib)" "$(wsf rss_after_kib)" "$(wsf marginal_per_session_kib)" \
	"$(wsf checkpoint)" "$(wsf sessions)" "$(wsf open_ms)")
echo "$WS_LINE"
echo "$WS_DETAIL"
echo "bench: healthz on the same daemon while the $WS_SESSIONS sessions stay open (${LOADED_DURATION}s):"
run_wrk bulwark_ws_open "http://127.0.0.1:$BW_PORT/healthz" "$BW_PID" "$LOADED_DURATION"
stop_pid "$WS_NODE"
stop_pid "$BW_PID"

# ---- 2. HTTP: fresh daemon; nginx 1 worker (headline), 2 workers, and 1
# worker answering from memory (`return 200`, no file I/O) for reference ----
start_bulwark
start_nginx 1 1
start_nginx 2 2
start_nginx mem 1 "return 200 '$BODY';"
BW_URL="http://127.0.0.1:$BW_PORT/healthz"
NG1_URL="http://127.0.0.1:$NGINX_PORT_1/healthz"
NG2_URL="http://127.0.0.1:$NGINX_PORT_2/healthz"
NGM_URL="http://127.0.0.1:$NGINX_PORT_mem/healthz"

for u in "$BW_URL" "$NG1_URL" "$NG2_URL" "$NGM_URL"; do
	got=$(curl -sf "$u")
	[[ $got == "$BODY" ]] || { echo "bench: $u answered '$got', want '$BODY'" >&2; exit 1; }
done
hdr_bytes() { curl -s -o /dev/null -w '%{size_header}' "$1"; }
SIZES="response bytes (head+body): bulwark $(hdr_bytes "$BW_URL")+15, nginx static $(hdr_bytes "$NG1_URL")+15, nginx return $(hdr_bytes "$NGM_URL")+15"
echo "bench: $SIZES"

echo "bench: wrk -t$THREADS -c$CONNS -d${DURATION}s --latency (after a ${WARMUP}s warm-up each), $ROUNDS rounds, alternating"
echo "bench: columns: target req/s p99_ms non2xx socket_errors server_cpu_us/request"
# bulwark sits between the two nginx baselines; their order flips each round.
for r in $(seq "$ROUNDS"); do
	if ((r % 2)); then
		run_wrk nginx1 "$NG1_URL" "$NGINX_PID_1"
		run_wrk bulwark "$BW_URL" "$BW_PID"
		run_wrk nginxmem "$NGM_URL" "$NGINX_PID_mem"
	else
		run_wrk nginxmem "$NGM_URL" "$NGINX_PID_mem"
		run_wrk bulwark "$BW_URL" "$BW_PID"
		run_wrk nginx1 "$NG1_URL" "$NGINX_PID_1"
	fi
done
run_wrk nginx2 "$NG2_URL" "$NGINX_PID_2"

if ((PERF)) && command -v perf >/dev/null; then
	echo "bench: BENCH_PERF=1: one extra bulwark run under perf record -g"
	perf record -q -g -F 999 -p "$BW_PID" -o "$T/perf.data" -- sleep "$DURATION" 2>/dev/null &
	perf_pid=$!
	timeout $((DURATION + 15)) "$WRK" -t"$THREADS" -c"$CONNS" -d"${DURATION}s" "$BW_URL" >/dev/null
	wait "$perf_pid" || true
	perf report -i "$T/perf.data" --no-children --stdio --sort dso,symbol 2>/dev/null |
		grep -E '^ +[0-9]' | head -30
fi

# ---- summary ----
agg() { # agg NAME FIELD(2=rps,3=p99,6=cpu us/req) FUNC(mean|mean2|max)
	awk -v n="$1" -v f="$2" -v fn="$3" '$1 == n { s += $f; c++; if ($f > m) m = $f }
		END { if (fn == "max") printf "%.2f", m; else if (fn == "mean2") printf "%.2f", s / c; else printf "%.0f", s / c }' "$T/results"
}
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a / b }'; }
sum_bad() { awk -v n="$1" '$1 == n { s += $4 } END { print s + 0 }' "$T/results"; }
BW_RPS=$(agg bulwark 2 mean)
NG1_RPS=$(agg nginx1 2 mean)
NG2_RPS=$(agg nginx2 2 mean)
NGM_RPS=$(agg nginxmem 2 mean)
BWL_RPS=$(agg bulwark_ws_open 2 mean)
per_round() { # per_round NGINX_NAME -> "r1, r2, ..." (bulwark / nginx, round by round)
	awk -v n="$1" '$1 == "bulwark" { b[++nb] = $2 } $1 == n { g[++ng] = $2 }
		END { for (i = 1; i <= nb; i++) printf "%s%.2f", (i > 1 ? ", " : ""), b[i] / g[i] }' "$T/results"
}
LOAD_END=$(loadavg)

cat <<SUMMARY

==================== bulwark bench summary ====================
http healthz: bulwark $BW_RPS req/s, nginx $NG1_RPS req/s, ratio $(ratio "$BW_RPS" "$NG1_RPS") (goal >= 0.8)
http healthz p99: bulwark $(agg bulwark 3 max) ms, nginx $(agg nginx1 3 max) ms (worst of $ROUNDS rounds); ratio per round: $(per_round nginx1)
http healthz, nginx 1 worker return 200 (no file I/O): $NGM_RPS req/s, ratio $(ratio "$BW_RPS" "$NGM_RPS") (per round: $(per_round nginxmem)), p99 $(agg nginxmem 3 max) ms (reference)
http healthz, nginx 2 workers: $NG2_RPS req/s, ratio $(ratio "$BW_RPS" "$NG2_RPS"), p99 $(agg nginx2 3 max) ms (reference, one run)
http healthz server CPU per request: bulwark $(agg bulwark 6 mean2) us, nginx static $(agg nginx1 6 mean2) us, nginx return $(agg nginxmem 6 mean2) us (user+sys of the server processes / requests; less sensitive to other load than req/s)
http healthz, bulwark with $WS_SESSIONS idle ws open: $BWL_RPS req/s, p99 $(agg bulwark_ws_open 3 max) ms (${LOADED_DURATION}s run)
$WS_LINE
$WS_DETAIL
setup: wrk -t$THREADS -c$CONNS --latency, ${DURATION}s runs after a ${WARMUP}s warm-up each, mean of $ROUNDS alternating rounds (nginx 2 workers: one run at the end);
       bulwark --log-level warn (no access log lines), nginx access_log off; nginx 1 worker is the headline;
       $SIZES; non-2xx: bulwark $(sum_bad bulwark), nginx $(sum_bad nginx1)/$(sum_bad nginxmem)/$(sum_bad nginx2)
load average: start $LOAD_START (CPU busy ${BUSY_START}% before the run), end $LOAD_END (includes the bench itself; $(nproc) CPUs)
binary: $BIN_ID
================================================================
SUMMARY
