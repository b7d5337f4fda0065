#!/usr/bin/env bash
# `check` on one DO block of N and 4N statements (UPDATEs, then IFs around UPDATEs): the two
# times should differ by about 4x, not 16x. Usage: bench/do-block.sh [N] (default 5000).
set -euo pipefail
cd "$(dirname "$0")/.."
n="${1:-5000}"
bin=target/release/migration-gate
[ -x "$bin" ] || cargo build --release --locked
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
for kind in update if; do
  for size in "$n" $((4 * n)); do
    dir="$work/$kind-$size/20240101000000_block"
    mkdir -p "$dir"
    python3 - "$kind" "$size" > "$dir/migration.sql" <<'PY'
import sys
kind, n = sys.argv[1], int(sys.argv[2])
line = ("UPDATE t SET a = 1 WHERE id = {i};" if kind == "update"
        else "IF x = {i} THEN UPDATE t SET a = 1 WHERE id = {i}; END IF;")
print("DO $$ BEGIN")
for i in range(n):
    print(line.format(i=i))
print("END $$;")
PY
    printf '%-7s %6d statements: ' "$kind" "$size"
    ( cd "$work" && /usr/bin/time -f '%e s, %M KB peak' "$OLDPWD/$bin" check --dir "$kind-$size" >/dev/null 2>"$work/err" || true; tail -1 "$work/err" )
  done
done
