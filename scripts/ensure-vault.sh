#!/usr/bin/env bash
# Prints the path of a real Vault binary for the Transit tests, building the
# pinned release once into ${XDG_CACHE_HOME:-~/.cache}/cosync-auth/vault-1.19.5
# when it is not there yet. Vault is not in Debian and its newer releases do
# not build from published modules; 1.19.5 does with the replaces in
# scripts/vault/go.mod (see docs/vault.md).
# A cold build takes ~20-25 minutes on 2 idle cores (up to 40 when they are
# shared) and ~4.4 GB of memory; later runs reuse the binary. $COSYNC_VAULT_BIN short-cuts everything.
set -euo pipefail
if [ -n "${COSYNC_VAULT_BIN:-}" ]; then echo "$COSYNC_VAULT_BIN"; exit 0; fi
src="$(cd "$(dirname "$0")/vault" && pwd)"
dir="${XDG_CACHE_HOME:-$HOME/.cache}/cosync-auth/vault-1.19.5"
bin="$dir/vault"
if [ -x "$bin" ] && "$bin" version >/dev/null 2>&1; then echo "$bin"; exit 0; fi
# COSYNC_VAULT_CHECK_ONLY=1: only say whether a good binary is there (exit 1: no).
if [ -n "${COSYNC_VAULT_CHECK_ONLY:-}" ]; then exit 1; fi
mkdir -p "$dir"
exec 9>"$dir/.lock"
flock 9
# Re-check under the lock: another run may have finished the build meanwhile.
# A binary that does not answer `version` (a copy cut short, a foreign file)
# is not trusted: it is removed and built again.
if [ -e "$bin" ] && ! "$bin" version >/dev/null 2>&1; then
  echo "removing $bin: it does not run" >&2
  rm -f "$bin"
fi
if [ ! -x "$bin" ]; then
  echo "building Vault 1.19.5 into $dir for the Transit tests." >&2
  echo "This is a one-time cost per machine: ~20-25 minutes on 2 idle cores, ~4.4 GB of memory," >&2
  echo "~10 GB of Go module and build cache. Later runs reuse the binary." >&2
  start=$(date +%s)
  # The module proxy has been seen to leave a download hanging forever; a
  # bound turns that into a failure that names itself (run again to resume:
  # Go's module cache keeps what arrived).
  if ! (cd "$src" && GOFLAGS=-mod=mod GONOSUMDB=github.com/hashicorp/vault-plugin-database-snowflake \
     timeout "${COSYNC_VAULT_BUILD_TIMEOUT:-60m}" go build -ldflags "-s -w" -o "$bin.tmp" github.com/hashicorp/vault) >&2; then
    echo "building Vault failed or timed out after $(( $(date +%s) - start ))s; run scripts/ensure-vault.sh again to resume" >&2
    rm -f "$bin.tmp"
    exit 1
  fi
  # Only a binary that runs is moved into place, and the move is atomic, so an
  # interrupted build never leaves something a later run mistakes for Vault.
  if ! "$bin.tmp" version >/dev/null 2>&1; then
    echo "the Vault build produced a binary that does not run" >&2
    rm -f "$bin.tmp"
    exit 1
  fi
  mv "$bin.tmp" "$bin"
  echo "built Vault in $(( $(date +%s) - start ))s" >&2
fi
echo "$bin"
