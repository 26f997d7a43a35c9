#!/usr/bin/env bash
# Makes sure Debian's chromium is installed (the portal's browser journeys
# drive it through playwright-core, which downloads no browser of its own) and
# prints its path. Idempotent: when chromium is already there it only prints.
# Installing needs root (or sudo) and apt-get; `apt-get update` runs first so
# a fresh machine's empty package lists do not make the install fail.
set -euo pipefail
find_chromium() {
  local p
  for p in "${COSYNC_CHROMIUM:-}" /usr/bin/chromium "$(command -v chromium 2>/dev/null || true)"; do
    if [ -n "$p" ] && [ -x "$p" ]; then echo "$p"; return 0; fi
  done
  return 1
}
if path=$(find_chromium); then
  echo "$path"
  exit 0
fi
command -v apt-get >/dev/null || { echo "chromium is missing and apt-get is not available: install Chromium and set COSYNC_CHROMIUM" >&2; exit 1; }
sudo=""
[ "$(id -u)" -eq 0 ] || sudo="sudo"
echo "installing Debian's chromium with apt-get (once per machine)" >&2
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq >&2
$sudo apt-get install -y -qq --no-install-recommends chromium >&2
path=$(find_chromium) || { echo "chromium installed but not found on PATH" >&2; exit 1; }
echo "$path"
