#!/usr/bin/env bash
# Prints a Postgres URL for the tests. Uses $COSYNC_TEST_POSTGRES_URL or the
# server at 127.0.0.1:5432 when it answers; otherwise starts a throwaway
# cluster (Debian's postgresql, installed if missing) on 127.0.0.1:55432 in
# ${XDG_CACHE_HOME:-~/.cache}/cosync-auth/pg and prints its URL. Idempotent:
# a cluster it started earlier is reused. Logs go to stderr.
set -euo pipefail
answers() { pg_isready -q -h "$1" -p "$2" -t 3 2>/dev/null; }
if [ -n "${COSYNC_TEST_POSTGRES_URL:-}" ]; then echo "$COSYNC_TEST_POSTGRES_URL"; exit 0; fi
if ! command -v pg_isready >/dev/null && [ ! -x /usr/lib/postgresql/15/bin/pg_ctl ]; then
  echo "installing postgresql (Debian package) for the tests" >&2
  if [ "$(id -u)" = 0 ]; then SUDO=; else SUDO=sudo; fi
  $SUDO apt-get update -qq >&2 && $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >&2
fi
PATH="$PATH:$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n1)"
if answers 127.0.0.1 5432 && psql -h 127.0.0.1 -p 5432 -U postgres -d test -Atc 'select 1' >/dev/null 2>&1; then
  echo "postgres://postgres@127.0.0.1:5432/test?sslmode=disable"; exit 0
fi
dir="${XDG_CACHE_HOME:-$HOME/.cache}/cosync-auth/pg"
port=55432
if ! answers 127.0.0.1 $port; then
  echo "starting a throwaway Postgres in $dir on port $port" >&2
  mkdir -p "$dir"
  run=()
  if [ "$(id -u)" = 0 ]; then
    id postgres >/dev/null 2>&1 || useradd --system --home "$dir" postgres
    chown -R postgres "$dir"
    run=(runuser -u postgres --)
  fi
  if [ ! -f "$dir/data/PG_VERSION" ]; then
    "${run[@]}" initdb -D "$dir/data" -U postgres -A trust >&2
  fi
  "${run[@]}" pg_ctl -D "$dir/data" -l "$dir/log" -w -o "-h 127.0.0.1 -p $port -k $dir" start >&2
  "${run[@]}" psql -h 127.0.0.1 -p $port -U postgres -Atc "select 1 from pg_database where datname='test'" | grep -q 1 \
    || "${run[@]}" createdb -h 127.0.0.1 -p $port -U postgres test >&2
fi
echo "postgres://postgres@127.0.0.1:$port/test?sslmode=disable"
