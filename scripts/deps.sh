#!/usr/bin/env bash
# Installs every Debian package Bulwark builds, tests or benchmarks with.
# One list, in one place. Idempotent: installs only what is missing.
set -euo pipefail

PACKAGES=(
  # build
  build-essential pkg-config meson ninja-build clang libclang-rt-14-dev
  # runtime libraries
  libre-dev librem-dev libhttp-parser-dev libwslay-dev libjansson-dev
  libinih-dev libsqlite3-dev libsodium-dev libssl-dev
  liboath-dev libqrencode-dev libcurl4-openssl-dev libphonenumber-dev
  # tests and benchmarks
  libcmocka-dev nodejs prometheus oathtool sqlite3 wrk nginx-light curl
  sslscan # tests/api/tls-scan.test.mjs
  openssl # test certificates: tests/api/integrations-egress.test.mjs
  # event sinks (C19): the client libraries, and the servers the tests start
  # themselves (scripts/test-servers.sh)
  libnats-dev libpq-dev nats-server postgresql
)

# Debian's nodejs comes without npm (NodeSource's includes it): add it only if
# the command is missing, since the two packages conflict.
command -v npm >/dev/null 2>&1 || PACKAGES+=(npm)

missing=()
for p in "${PACKAGES[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done

if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi

echo "deps: installing ${missing[*]}" >&2
SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
# The prometheus package starts its own service; the tests need only promtool.
if command -v systemctl >/dev/null 2>&1; then
  $SUDO systemctl disable --now prometheus >/dev/null 2>&1 || true
fi
$SUDO pkill -x prometheus >/dev/null 2>&1 || true
# nats-server and postgresql start services of their own too; the tests run
# their own servers. Only right after installing them, so that no test
# server is touched: the package's clusters (pg_ctlcluster), and a
# nats-server the install started.
if [[ " ${missing[*]} " == *" postgresql "* ]]; then
  if command -v systemctl >/dev/null 2>&1; then
    $SUDO systemctl disable --now postgresql >/dev/null 2>&1 || true
  fi
  if command -v pg_lsclusters >/dev/null 2>&1; then
    pg_lsclusters --no-header 2>/dev/null | awk '$4 == "online" {print $1, $2}' |
      while read -r ver name; do $SUDO pg_ctlcluster "$ver" "$name" stop || true; done
  fi
fi
if [[ " ${missing[*]} " == *" nats-server "* ]]; then
  if command -v systemctl >/dev/null 2>&1; then
    $SUDO systemctl disable --now nats-server >/dev/null 2>&1 || true
  fi
  $SUDO pkill -x nats-server >/dev/null 2>&1 || true
fi
exit 0
