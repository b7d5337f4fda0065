#!/usr/bin/env bash
# Measure, on this PostgreSQL server, how fast the work behind a blocking finding goes: a full
# scan (validating a CHECK), an index build, a table rewrite (ALTER COLUMN TYPE) and a
# whole-table UPDATE. `check --stats` turns a table's size into a duration with these figures:
# the constants in src/lint/sizes.rs cite this script's output.
#
#   bench/calibrate-sizes.sh                 # 1,000,000 rows
#   ROWS=3000000 bench/calibrate-sizes.sh
#
# Server: TEST_DATABASE_URL, else postgres://postgres@127.0.0.1:5432/postgres (as the tests).
# It creates a database of its own and drops it at the end.
set -euo pipefail

ROWS=${ROWS:-1000000}
SERVER=${TEST_DATABASE_URL:-postgres://postgres@127.0.0.1:5432/postgres}

with_db() {
  local base=${1%%\?*} query=""
  [[ "$1" == *\?* ]] && query="?${1#*\?}"
  echo "${base%/*}/$2$query"
}

db="calibrate_sizes_$$"
psql -qAt "$SERVER" -c "CREATE DATABASE $db" >/dev/null
trap 'psql -qAt "$SERVER" -c "DROP DATABASE IF EXISTS $db" >/dev/null' EXIT
url=$(with_db "$SERVER" "$db")
run() { psql -qAt -v ON_ERROR_STOP=1 "$url" -c "$1"; }

# A table shaped like an app's: a key, an email, a timestamp, a counter.
run "CREATE TABLE t (id bigint PRIMARY KEY, email text NOT NULL, created_at timestamptz NOT NULL, n int NOT NULL)"
run "INSERT INTO t SELECT i, 'user' || i || '@example.com', now() - i * interval '1 second', i % 1000 FROM generate_series(1, $ROWS) AS i"
run "VACUUM ANALYZE t"
# The size `migration-gate stats` records: the table with its indexes and TOAST.
mb=$(run "SELECT pg_total_relation_size('t') / 1048576.0")

# Seconds the statement takes, measured by the server (no client round trip).
timed() {
  run "DO \$\$ DECLARE started timestamptz := clock_timestamp(); BEGIN EXECUTE \$q\$$1\$q\$; RAISE NOTICE '%', extract(epoch FROM clock_timestamp() - started); END \$\$" 2>&1 \
    | sed -n 's/.*NOTICE: *//p'
}

scan=$(timed "ALTER TABLE t ADD CONSTRAINT n_positive CHECK (n >= 0)")
index=$(timed "CREATE INDEX t_email_idx ON t (email)")
rewrite=$(timed "ALTER TABLE t ALTER COLUMN n TYPE bigint")
run "VACUUM ANALYZE t"
update=$(timed "UPDATE t SET n = n + 1")

awk -v rows="$ROWS" -v mb="$mb" -v scan="$scan" -v build="$index" -v rewrite="$rewrite" -v update="$update" 'BEGIN {
  printf "table: %d rows, %.1f MB (pg_total_relation_size, as stats records it)\n", rows, mb
  printf "scan (ADD CHECK):            %6.2f s  %8.0f MB/s\n", scan, mb / scan
  printf "index build (CREATE INDEX):  %6.2f s  %8.0f MB/s\n", build, mb / build
  printf "rewrite (ALTER COLUMN TYPE): %6.2f s  %8.0f MB/s\n", rewrite, mb / rewrite
  printf "UPDATE of every row:         %6.2f s  %8.0f rows/s\n", update, rows / update
}'
