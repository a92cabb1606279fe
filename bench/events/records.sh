#!/usr/bin/env bash
# Contact records delivered per second to NATS JetStream through the whole
# daemon (outbox, nats lane, sink), against raw libnats publish loops
# (bench_sinks: js_PublishAsync of envelopes of the same size, with and
# without Nats-Msg-Id) in the same run, on scripts/test-servers.sh's servers.
#   bench/events/records.sh BUILD_DIR [EVENTS]
set -euo pipefail
BUILD=$(cd "${1:-build}" && pwd)
EVENTS=${2:-3000}
cd "$(dirname "$0")/../.."
. bench/lib.sh

cp "$BUILD/bulwark" "$T/bulwark"
chmod 755 "$T"
mkdir -p "$T/servers"
bash scripts/test-servers.sh start "$T/servers" >/dev/null
stop_servers() { bash scripts/test-servers.sh stop "$T/servers" >/dev/null 2>&1 || true; }
trap 'stop_servers; cleanup' EXIT
# shellcheck disable=SC1091
. "$T/servers/env"
bench_nginx 1 '' 'location = /down { return 503; }'
bench_bulwark "$T/bulwark" --event-max-attempts 1 --nats-url "$BULWARK_TEST_NATS_URL" \
	--trusted-proxies 127.0.0.1/32 --public-rate-limit 1000000
out=$(node bench/events/records_setup.mjs --url "http://127.0.0.1:$BW_PORT" --key "$BW_KEY" \
	--receiver "http://127.0.0.1:$NGINX_PORT" --events "$EVENTS")
echo "$out"
per_s=$(node -e "console.log(JSON.parse(process.argv[1]).per_s)" "$out")
ref=$("$BUILD/bench_sinks" "$BULWARK_TEST_NATS_URL" "$BULWARK_TEST_PG_URL" 1 10 256 2>/dev/null |
	sed -nE 's/^nats: sink ([0-9]+) deliveries\/s, js_PublishAsync ([0-9]+)\/s, with Nats-Msg-Id ([0-9]+)\/s.*/\2 \3/p')
raw=${ref% *}
hdr=${ref#* }
echo "== contact records to JetStream through the daemon: $per_s/s; raw js_PublishAsync $raw/s (ratio $(bench_ratio "$per_s" "$raw")), with Nats-Msg-Id $hdr/s (ratio $(bench_ratio "$per_s" "$hdr")) (sha256 $(sha256sum "$T/bulwark" | cut -c1-12))"
