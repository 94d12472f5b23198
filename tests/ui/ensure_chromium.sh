#!/usr/bin/env bash
# Make sure the browser of the UI tests (tests/ui) is there before `make test`: Debian's chromium, installed
# through apt when it is missing and this machine can (root, or sudo without a password); otherwise stop with
# one line saying how. CHROMIUM_PATH (any Chromium/Chrome binary) skips all of this. Never `playwright install`.
set -euo pipefail
if [ -n "${CHROMIUM_PATH:-}" ] || command -v chromium >/dev/null 2>&1 || command -v chromium-browser >/dev/null 2>&1; then
  exit 0
fi
how="the UI tests need Chromium: run 'sudo apt-get install -y chromium' (Debian) or set CHROMIUM_PATH to a Chromium/Chrome binary"
SUDO=""
if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then SUDO="sudo"; else echo "$how" >&2; exit 1; fi
fi
command -v apt-get >/dev/null 2>&1 || { echo "$how" >&2; exit 1; }
echo "installing chromium for the UI tests (apt-get, about a minute)" >&2
$SUDO apt-get update -q >/dev/null
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q -o DPkg::Lock::Timeout=120 chromium >/dev/null \
  || { echo "$how (apt-get install chromium failed)" >&2; exit 1; }
