#!/usr/bin/env bash
# Webhook deliveries per second (C19) against nginx answering the same POSTs
# to wrk on one connection, side by side in one run. The dispatcher sends one
# webhook at a time (bw_egress_call), so wrk -c1 is the like-for-like
# reference: the ratio says what signing, opening the sealed row, the store
# and the hop through the loop cost per delivery.
#   bench/events/webhook.sh BUILD_DIR [EVENTS]
set -euo pipefail
BUILD=$(cd "${1:-build}" && pwd)
EVENTS=${2:-3000}
cd "$(dirname "$0")/../.."
. bench/lib.sh

cp "$BUILD/bulwark" "$T/bulwark"
# nginx answers the webhooks: 200 at /up, 503 at /down.
bench_nginx 1 '' 'location = /up { return 200; } location = /down { return 503; }'

bench_bulwark "$T/bulwark" --event-max-attempts 1
out=$(node bench/events/webhook_setup.mjs --url "http://127.0.0.1:$BW_PORT" --key "$BW_KEY" \
	--receiver "http://127.0.0.1:$NGINX_PORT" --events "$EVENTS")
echo "$out"
per_s=$(node -e "console.log(JSON.parse(process.argv[1]).per_s)" "$out")
bytes=$(node -e "console.log(JSON.parse(process.argv[1]).body_bytes_approx)" "$out")

# The reference: the same receiver, POSTs of the same size, one connection.
cat >"$T/post.lua" <<-LUA
	wrk.method = "POST"
	wrk.body = string.rep("x", $bytes)
	wrk.headers["Content-Type"] = "application/json"
LUA
ref=$(bench_wrk 5 1 "http://127.0.0.1:$NGINX_PORT/up" -s "$T/post.lua")
echo "== webhook deliveries: bulwark $per_s/s, wrk -c1 POST ${bytes} B to the same nginx $ref/s, ratio $(bench_ratio "$per_s" "$ref") (sha256 $(sha256sum "$T/bulwark" | cut -c1-12))"
