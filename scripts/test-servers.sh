#!/usr/bin/env bash
# The servers the event sinks are tested against (C19): a NATS server with
# JetStream and a PostgreSQL cluster, each on 127.0.0.1 and a free port,
# with all their files in one folder of the caller's. As root (CI) the
# PostgreSQL programs run as the postgres user, which they require.
#
#   scripts/test-servers.sh start DIR    start both; print the variables below
#                                        as shell exports (also in DIR/env)
#   scripts/test-servers.sh stop DIR     stop both (by their pids); DIR stays
#   scripts/test-servers.sh run [--] CMD ...
#                                        a fresh folder, start, run CMD with
#                                        the variables exported, then stop and
#                                        remove the folder, whatever CMD did
#                                        (exit status: CMD's)
#
# Variables: BULWARK_TEST_NATS_URL (nats://127.0.0.1:PORT),
# BULWARK_TEST_PG_URL (postgresql://postgres@127.0.0.1:PORT/bulwark_test),
# BULWARK_TEST_NATS_SERVER (the nats-server program, for tests that start
# their own), BULWARK_TEST_PG_BIN (PostgreSQL's programs),
# BULWARK_TEST_SERVERS_DIR (DIR).
# Knobs: TEST_PG_FSYNC=on (default off: tests need no durability; the
# warehouse benchmark turns it on).
set -euo pipefail

NATS_SERVER=${BULWARK_TEST_NATS_SERVER:-$(command -v nats-server || echo /usr/sbin/nats-server)}
PG_BIN=${BULWARK_TEST_PG_BIN:-$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)}
PG_DB=bulwark_test

die() {
	echo "test-servers: $*" >&2
	exit 1
}

# Runs a PostgreSQL program as the postgres user when we are root.
as_pg() {
	if [ "$(id -u)" -eq 0 ]; then
		runuser -u postgres -- "$@"
	else
		"$@"
	fi
}

free_port() {
	python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'
}

# wait_for SECONDS CMD...: polls CMD every 0.1 s until it succeeds.
wait_for() {
	local n=$(($1 * 10))
	shift
	for _ in $(seq "$n"); do
		"$@" >/dev/null 2>&1 && return 0
		sleep 0.1
	done
	return 1
}

start_nats() {
	local dir=$1
	[ -x "$NATS_SERVER" ] || die "no nats-server ($NATS_SERVER); run scripts/deps.sh"
	mkdir -p "$dir/nats/store"
	# -p -1: a free port (-p 0 would take 4222); the log says which.
	"$NATS_SERVER" -js -a 127.0.0.1 -p -1 -sd "$dir/nats/store" -l "$dir/nats/log" \
		</dev/null >/dev/null 2>&1 &
	echo $! >"$dir/nats/pid"
	wait_for 10 grep -q "Listening for client connections on" "$dir/nats/log" ||
		die "nats-server did not start (see $dir/nats/log)"
	wait_for 10 grep -q "Server is ready" "$dir/nats/log" ||
		die "nats-server is not ready (see $dir/nats/log)"
	NATS_PORT=$(sed -nE 's/.*Listening for client connections on [0-9.]+:([0-9]+).*/\1/p' \
		"$dir/nats/log" | head -1)
	[ -n "$NATS_PORT" ] || die "no port in $dir/nats/log"
}

start_pg() {
	local dir=$1 fsync=${TEST_PG_FSYNC:-off}
	[ -x "$PG_BIN/initdb" ] || die "no PostgreSQL programs in '$PG_BIN'; run scripts/deps.sh"
	mkdir -p "$dir/pg/data" "$dir/pg/sock"
	if [ "$(id -u)" -eq 0 ]; then
		chmod 755 "$dir" "$dir/pg"
		chown -R postgres: "$dir/pg"
	fi
	as_pg "$PG_BIN/initdb" -D "$dir/pg/data" -U postgres -A trust -E UTF8 --locale=C \
		--no-sync >"$dir/pg/initdb.log" 2>&1 || die "initdb failed (see $dir/pg/initdb.log)"
	PG_PORT=$(free_port)
	as_pg "$PG_BIN/pg_ctl" -D "$dir/pg/data" -l "$dir/pg/log" -w -t 30 \
		-o "-c listen_addresses=127.0.0.1 -p $PG_PORT -k $dir/pg/sock -c fsync=$fsync" \
		start >/dev/null || die "PostgreSQL did not start (see $dir/pg/log)"
	"$PG_BIN/createdb" -h 127.0.0.1 -p "$PG_PORT" -U postgres "$PG_DB" ||
		die "createdb failed"
}

cmd_start() {
	local dir
	dir=$(realpath "$1")
	mkdir -p "$dir"
	start_nats "$dir"
	start_pg "$dir"
	cat >"$dir/env" <<-EOF
		export BULWARK_TEST_NATS_URL=nats://127.0.0.1:$NATS_PORT
		export BULWARK_TEST_PG_URL=postgresql://postgres@127.0.0.1:$PG_PORT/$PG_DB
		export BULWARK_TEST_NATS_SERVER=$NATS_SERVER
		export BULWARK_TEST_PG_BIN=$PG_BIN
		export BULWARK_TEST_SERVERS_DIR=$dir
	EOF
	cat "$dir/env"
}

# A zombie (our own child, not yet reaped) counts as stopped.
gone() {
	[ ! -e "/proc/$1/stat" ] || grep -q ') Z ' "/proc/$1/stat"
}

stop_pid() {
	local pid=$1
	kill -TERM "$pid" 2>/dev/null || return 0
	wait_for 10 gone "$pid" || kill -KILL "$pid" 2>/dev/null || true
	wait "$pid" 2>/dev/null || true
}

cmd_stop() {
	local dir=$1
	if [ -f "$dir/nats/pid" ]; then
		stop_pid "$(cat "$dir/nats/pid")"
		rm -f "$dir/nats/pid"
	fi
	if [ -f "$dir/pg/data/postmaster.pid" ]; then
		local pid
		pid=$(head -1 "$dir/pg/data/postmaster.pid")
		as_pg "$PG_BIN/pg_ctl" -D "$dir/pg/data" -m fast -w -t 10 stop >/dev/null 2>&1 ||
			stop_pid "$pid"
	fi
}

cmd_run() {
	[ "${1:-}" = -- ] && shift
	[ $# -gt 0 ] || die "run: no command"
	RUN_DIR=$(mktemp -d /tmp/bulwark-servers.XXXXXX)
	trap 'rc=$?; set +e; cmd_stop "$RUN_DIR"; rm -rf "$RUN_DIR"; exit $rc' EXIT
	trap 'exit 130' INT
	trap 'exit 143' TERM
	cmd_start "$RUN_DIR" >/dev/null
	# shellcheck disable=SC1091
	. "$RUN_DIR/env"
	echo "test-servers: nats $BULWARK_TEST_NATS_URL, postgresql $BULWARK_TEST_PG_URL" >&2
	set +e
	"$@"
	local rc=$?
	set -e
	return $rc
}

case "${1:-}" in
start)
	[ $# -eq 2 ] || die "usage: $0 start DIR"
	# Half started: stop what did start.
	trap 'rc=$?; [ $rc -eq 0 ] || cmd_stop "$2"; exit $rc' EXIT
	cmd_start "$2"
	;;
stop) [ $# -eq 2 ] || die "usage: $0 stop DIR"; cmd_stop "$2" ;;
run) shift; cmd_run "$@" ;;
*) die "usage: $0 start DIR | stop DIR | run [--] CMD..." ;;
esac
