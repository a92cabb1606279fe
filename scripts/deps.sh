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
exit 0
