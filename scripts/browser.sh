#!/usr/bin/env bash
# Make sure Debian's headless-capable Chromium is installed (the HTML report is tested in it).
# Idempotent and quiet: nothing happens when `chromium` is already on PATH.
set -euo pipefail
command -v chromium >/dev/null 2>&1 && exit 0
say() { printf 'browser.sh: %s\n' "$*" >&2; }
if [ "$(id -u)" != 0 ] || [ ! -f /etc/debian_version ]; then
    say "chromium is missing and cannot be installed here (not root on Debian); install it and retry"
    exit 1
fi
say "installing chromium with apt-get"
export DEBIAN_FRONTEND=noninteractive
log=$(mktemp)
trap 'rm -f "$log"' EXIT
if ! { apt-get update -qq && apt-get install -y -qq --no-install-recommends chromium; } >"$log" 2>&1; then
    tail -n 20 "$log" >&2
    say "installing chromium failed"
    exit 1
fi
command -v chromium >/dev/null 2>&1 || { say "chromium still not on PATH"; exit 1; }
