# Shared pieces of the benchmark scripts (sourced): cleanup, free ports, an
# nginx reference serving a static file, a bulwark daemon, and wrk runs.
# Everything listens on 127.0.0.1 and every run has a fixed length.

T=$(mktemp -d /tmp/bulwark-bench.XXXXXX)
PIDS=()
cleanup() {
	local rc=$?
	set +e
	for pid in "${PIDS[@]}"; do kill -TERM "$pid" 2>/dev/null; done
	for pid in "${PIDS[@]}"; do
		for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
		kill -KILL "$pid" 2>/dev/null
		wait "$pid" 2>/dev/null
	done
	rm -rf "$T"
	exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

free_port() {
	node -e 'const s=require("net").createServer();s.listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})'
}

# bench_nginx WORKERS FILE_BODY [LOCATIONS]: serves /file on a free port, and
# any further nginx location blocks given; sets NGINX_PORT.
bench_nginx() {
	local w=$1 body=$2 more=${3:-} dir="$T/nginx$1"
	NGINX_PORT=$(free_port)
	mkdir -p "$dir/tmp" "$dir/www"
	printf '%s' "$body" >"$dir/www/file"
	chmod 755 "$T" "$dir" "$dir/www"
	chmod 644 "$dir/www/file"
	cat >"$dir/nginx.conf" <<-EOF
		worker_processes $w;
		daemon off;
		pid $dir/nginx.pid;
		error_log $dir/error.log warn;
		events { worker_connections 16384; }
		http {
		    access_log off;
		    keepalive_requests 1000000;
		    client_body_temp_path $dir/tmp/body;
		    proxy_temp_path $dir/tmp/proxy;
		    fastcgi_temp_path $dir/tmp/fastcgi;
		    uwsgi_temp_path $dir/tmp/uwsgi;
		    scgi_temp_path $dir/tmp/scgi;
		    server {
		        listen 127.0.0.1:$NGINX_PORT backlog=4096;
		        root $dir/www;
		        location = /file { default_type application/json; }
		        $more
		    }
		}
	EOF
	/usr/sbin/nginx -p "$dir" -c "$dir/nginx.conf" -e "$dir/error.log" >/dev/null 2>&1 &
	PIDS+=($!)
	for _ in $(seq 50); do
		curl -sf "http://127.0.0.1:$NGINX_PORT/file" -o /dev/null && return 0
		sleep 0.1
	done
	echo "bench: nginx did not start" >&2
	exit 1
}

# bench_bulwark BIN [ARGS...]: init + serve; sets BW_KEY, BW_PORT, BW_PID.
bench_bulwark() {
	local bin=$1
	shift
	"$bin" init --data "$T/data" --json >"$T/init.json"
	BW_KEY=$(sed -E 's/.*"platform_key":"([^"]+)".*/\1/' "$T/init.json")
	"$bin" serve --data "$T/data" --listen 127.0.0.1:0 --admin-listen 127.0.0.1:0 \
		--log-level warn "$@" >"$T/bulwark.out" 2>>"$T/bulwark.err" &
	BW_PID=$!
	PIDS+=("$BW_PID")
	for _ in $(seq 100); do
		grep -q '"listening"' "$T/bulwark.out" && break
		sleep 0.1
	done
	BW_PORT=$(sed -nE 's/.*"listening": *"127\.0\.0\.1:([0-9]+)".*/\1/p' "$T/bulwark.out")
	[[ -n $BW_PORT ]] || { echo "bench: bulwark did not start" >&2; cat "$T/bulwark.err" >&2; exit 1; }
}

# bench_wrk SECONDS CONNS URL [wrk args...]: prints requests per second.
bench_wrk() {
	local secs=$1 conns=$2 url=$3
	shift 3
	wrk -t1 -c"$conns" -d2s "$@" "$url" >/dev/null
	wrk -t1 -c"$conns" -d"${secs}s" "$@" "$url" | awk '/Requests\/sec:/ { printf "%.0f\n", $2 }'
}

bench_ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", (b > 0 ? a / b : 0) }'; }
