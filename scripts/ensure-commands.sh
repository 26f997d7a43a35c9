#!/usr/bin/env bash
# Installs, from Debian's packages, the command-line tools the tests run
# (the docs' curl walkthroughs use curl, jq and openssl) when one is missing.
# Idempotent: on a machine that has them it only looks.
set -euo pipefail
missing=()
for cmd in curl jq openssl; do
  command -v "$cmd" >/dev/null || missing+=("$cmd")
done
[ ${#missing[@]} -eq 0 ] && exit 0
echo "installing ${missing[*]} (Debian packages) for the tests" >&2
if [ "$(id -u)" = 0 ]; then SUDO=; else SUDO=sudo; fi
$SUDO apt-get update -qq >&2
$SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >&2
