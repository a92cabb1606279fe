#!/usr/bin/env bash
# `make run`: a demo on SQLite in ./data, listening on 127.0.0.1.
# Prints the URLs (public first) and the one-time platform key.
set -euo pipefail
BIN=${1:-build/bulwark}
DATA=${BULWARK_DEMO_DATA:-./data}
LISTEN=${BULWARK_DEMO_LISTEN:-127.0.0.1:8080}
ADMIN=${BULWARK_DEMO_ADMIN:-127.0.0.1:9090}

key=""
if [ ! -d "$DATA" ]; then
  key=$("$BIN" init --data "$DATA" --json | sed -E 's/.*"platform_key":"([^"]+)".*/\1/')
fi

coproc SERVE { exec "$BIN" serve --data "$DATA" --listen "$LISTEN" --admin-listen "$ADMIN"; }
trap 'kill -TERM $SERVE_PID 2>/dev/null; wait $SERVE_PID 2>/dev/null' INT TERM EXIT
read -r ready <&"${SERVE[0]}"
pub=$(echo "$ready" | sed -E 's/.*"listening": "([^"]+)".*/\1/')
adm=$(echo "$ready" | sed -E 's/.*"admin": "([^"]+)".*/\1/')
echo "Bulwark is running."
echo "  public:  http://$pub/   (try: curl http://$pub/healthz)"
echo "  admin:   http://$adm/metrics"
if [ -n "$key" ]; then
  echo "  platform API key (shown once): $key"
  echo "  try: curl -H 'Authorization: Bearer $key' http://$pub/v1/platform-keys"
else
  echo "  $DATA already existed: its platform key was shown when it was created."
fi
echo "Press Ctrl-C to stop."
wait $SERVE_PID
