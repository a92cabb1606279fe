#!/usr/bin/env bash
# `make run`: a demo on SQLite in ./data, listening on 127.0.0.1.
# Prints the URLs (public first), then, on a fresh data folder, the one-time
# platform key and the demo instance's admin credential.
# Knobs: DEMO_DATA (./data), DEMO_LISTEN (127.0.0.1:8080), DEMO_ADMIN (127.0.0.1:9090).
# (Not BULWARK_*: serve reads every BULWARK_* variable as a setting.)
set -euo pipefail
BIN=${1:-build/bulwark}
DATA=${DEMO_DATA:-./data}
LISTEN=${DEMO_LISTEN:-127.0.0.1:8080}
ADMIN=${DEMO_ADMIN:-127.0.0.1:9090}

key=""
if [ ! -d "$DATA" ]; then
  key=$("$BIN" init --data "$DATA" --json | sed -E 's/.*"platform_key":"([^"]+)".*/\1/')
fi

coproc SERVE { exec "$BIN" serve --data "$DATA" --listen "$LISTEN" --admin-listen "$ADMIN"; }
trap 'kill -TERM "${SERVE_PID:-}" 2>/dev/null; wait "${SERVE_PID:-}" 2>/dev/null' INT TERM EXIT
read -r ready <&"${SERVE[0]}" || { echo "bulwark did not start" >&2; exit 1; }
pub=$(echo "$ready" | sed -E 's/.*"listening": "([^"]+)".*/\1/')
adm=$(echo "$ready" | sed -E 's/.*"admin": "([^"]+)".*/\1/')
echo "Bulwark is running."
echo "  public:  http://$pub/   (try: curl http://$pub/healthz)"
echo "  admin:   http://$adm/metrics"
if [ -n "$key" ]; then
  password=$(head -c 18 /dev/urandom | base64 | tr '+/' '-_')
  body=$(printf '{"alias":"demo","admin":{"username":"admin","password":"%s"}}' "$password")
  iid=$(curl -sf -H "Authorization: Bearer $key" -H 'content-type: application/json' \
    -d "$body" "http://$pub/v1/instances" | sed -E 's/.*"id":"([^"]+)".*/\1/')
  # The demo instance approves its own origin (for the chat widget).
  curl -sf -X PATCH -H "Authorization: Bearer $key" -H 'content-type: application/json' \
    -d "{\"approved_origins\":[\"http://$pub\"]}" "http://$pub/v1/instances/$iid/security-settings" >/dev/null
  echo "  platform API key (shown once): $key"
  echo "  demo instance $iid: user admin, password (shown once): $password"
  echo "  try: curl -H 'content-type: application/json' -d '{\"username\":\"admin\",\"password\":\"$password\"}' http://$pub/v1/instances/$iid/auth/login"
  # A working contact center: hours, a queue, a flow, entry points, an agent.
  python3 "$(dirname "$0")/demo-center.py" "http://$pub" "$iid" "$password"
else
  echo "  $DATA already existed: its credentials were shown when it was created."
fi
echo "Press Ctrl-C to stop."
wait "$SERVE_PID"
