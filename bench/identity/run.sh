#!/usr/bin/env bash
# Identity benchmarks, each against a reference measured in the same run:
#  1. authenticated GET /v1/me (session lookup, permissions, IP ranges) vs nginx
#     serving a static file of the same size (goal >= 0.5);
#  2. audit appends with group commit vs raw batched SQLite inserts;
#  3. logins per second at the argon2id cost, and ms per hash.
#   bench/identity/run.sh BUILD_DIR
set -euo pipefail
BUILD=$(realpath "${1:-build}")
HERE=$(cd "$(dirname "$0")" && pwd)
source "$HERE/../lib.sh"
SECS=${BENCH_DURATION:-8}
PASSWORD='bench passphrase 2026'

echo "bench: load average at start: $(cut -d' ' -f1-3 /proc/loadavg) ($(nproc) CPUs)"
bench_bulwark "$BUILD/bulwark"
URL="http://127.0.0.1:$BW_PORT"
IID=$(curl -sf -H "Authorization: Bearer $BW_KEY" -H 'content-type: application/json' \
	-d "{\"alias\":\"bench\",\"admin\":{\"username\":\"admin\",\"password\":\"$PASSWORD\"}}" \
	"$URL/v1/instances" | sed -E 's/.*"id":"([^"]+)".*/\1/')
curl -sf -H "Authorization: Bearer $BW_KEY" -H 'content-type: application/json' -X PATCH \
	-d '{"lockout":{"max_failures":100,"address_max_failures":100000}}' \
	"$URL/v1/instances/$IID/security-settings" >/dev/null
TOKEN=$(curl -sf -H 'content-type: application/json' \
	-d "{\"username\":\"admin\",\"password\":\"$PASSWORD\"}" \
	"$URL/v1/instances/$IID/auth/login" | sed -E 's/.*"token":"([^"]+)".*/\1/')
ME=$(curl -sf -H "Authorization: Bearer $TOKEN" "$URL/v1/me")
bench_nginx 1 "$ME"

me=$(bench_wrk "$SECS" 32 "$URL/v1/me" -H "Authorization: Bearer $TOKEN")
ng=$(bench_wrk "$SECS" 32 "http://127.0.0.1:$NGINX_PORT/file")
echo "GET /v1/me: bulwark $me req/s, nginx static (${#ME} bytes) $ng req/s, ratio $(bench_ratio "$me" "$ng") (goal >= 0.5)"

cat >"$T/login.lua" <<LUA
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.body = '{"username":"admin","password":"$PASSWORD"}'
LUA
logins=$(bench_wrk "$SECS" 8 "$URL/v1/instances/$IID/auth/login" -s "$T/login.lua")
echo "logins: $logins per second (2 hash workers, each login one argon2id verify)"
"$BUILD/bench_hash"
"$BUILD/bench_audit" "$T" 16 2000 2>/dev/null
