#!/usr/bin/env bash
# Make a PostgreSQL server reachable for the tests and export TEST_DATABASE_URL.
# Order: a TEST_DATABASE_URL already given; the local server on 127.0.0.1:5432 (trust auth);
# the local Debian cluster, started; PostgreSQL installed from Debian's packages, started, and a
# password set for the postgres role. Sourced by scripts/test.

pg_reachable() {
  psql "$1" -Atqc 'select 1' >/dev/null 2>&1
}

ensure_postgres() {
  if [ -n "${TEST_DATABASE_URL:-}" ]; then
    pg_reachable "$TEST_DATABASE_URL" && return 0
    echo "TEST_DATABASE_URL is set but the server does not answer" >&2
    return 1
  fi
  local trust_url="postgres://postgres@127.0.0.1:5432/postgres"
  local password_url="postgres://postgres:postgres@127.0.0.1:5432/postgres"
  if ! command -v psql >/dev/null 2>&1 || ! ls /etc/postgresql/*/main >/dev/null 2>&1; then
    echo "installing PostgreSQL from Debian's packages..." >&2
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq >/dev/null && apt-get install -y -qq postgresql postgresql-client >/dev/null
  fi
  for url in "$trust_url" "$password_url"; do
    if pg_reachable "$url"; then export TEST_DATABASE_URL="$url"; return 0; fi
  done
  local version
  version=$(ls /etc/postgresql | sort -V | tail -n 1)
  pg_ctlcluster --skip-systemctl-redirect "$version" main start >/dev/null 2>&1 || true
  for _ in $(seq 1 30); do
    for url in "$trust_url" "$password_url"; do
      if pg_reachable "$url"; then export TEST_DATABASE_URL="$url"; return 0; fi
    done
    if pg_isready -q -h 127.0.0.1 -p 5432; then
      # Debian's default pg_hba asks TCP clients for a password: give the postgres role one.
      su postgres -c "psql -qc \"ALTER ROLE postgres PASSWORD 'postgres'\"" >/dev/null 2>&1 || true
    fi
    sleep 1
  done
  echo "could not reach or start PostgreSQL on 127.0.0.1:5432; set TEST_DATABASE_URL" >&2
  return 1
}

ensure_postgres
