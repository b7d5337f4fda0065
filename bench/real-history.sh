#!/usr/bin/env bash
# Benchmark: `migration-gate check` against squawk on real Prisma histories (whole folders, every
# migration pending), which flatter us less than the synthetic one: longer files, more varied SQL.
#
#   bench/real-history.sh                      # every folder under target/bench/real/
#   REAL=path/to/prisma/migrations bench/real-history.sh
#   RUNS=10 bench/real-history.sh
#
# The folders are third-party files: they are not in this repository. Get them once (needs
# internet), one folder per project under target/bench/real/<name>, e.g.:
#
#   git clone --depth 1 --filter=blob:none --sparse https://github.com/triggerdotdev/trigger.dev /tmp/t
#   git -C /tmp/t sparse-checkout set internal-packages/database/prisma/migrations
#   mkdir -p target/bench/real && cp -r /tmp/t/internal-packages/database/prisma/migrations target/bench/real/trigger.dev
#
# The figures in the README used (HEAD of each, 2026-12-04): triggerdotdev/trigger.dev
# (internal-packages/database/prisma/migrations), langfuse/langfuse
# (packages/shared/prisma/migrations), elie222/inbox-zero (apps/web/prisma/migrations),
# documenso/documenso (packages/prisma/migrations), mfts/papermark (prisma/migrations).
# Without any folder, the script says so and exits 0 (CI has no internet).
set -euo pipefail

cd "$(dirname "$0")/.."
RUNS="${RUNS:-10}"
WORK="${BENCH_DIR:-target/bench}"
mkdir -p "$WORK"

if [ -n "${REAL:-}" ]; then
    FOLDERS=("$REAL")
else
    FOLDERS=()
    for dir in "$WORK"/real/*/; do
        [ -d "$dir" ] && FOLDERS+=("${dir%/}")
    done
fi
if [ "${#FOLDERS[@]}" -eq 0 ]; then
    echo "no real history under $WORK/real/ (and no REAL=dir): skipped."
    echo "See the top of $0 for how to fetch a few public Prisma histories."
    exit 0
fi

echo "== build (release)"
cargo build --release --locked --quiet
CHECK="$PWD/target/release/migration-gate"
if ! command -v squawk >/dev/null; then
    echo "== install squawk"
    pip install --quiet squawk-cli
fi
if ! command -v hyperfine >/dev/null; then
    echo "== install hyperfine"
    apt-get install -y -qq hyperfine >/dev/null 2>&1 || sudo -n apt-get install -y -qq hyperfine >/dev/null 2>&1 || true
fi
if ! command -v hyperfine >/dev/null; then
    echo "hyperfine is needed for this benchmark" >&2
    exit 1
fi
SQUAWK="$(pyenv which squawk 2>/dev/null || command -v squawk)"

echo "== versions"
"$CHECK" --version || true
"$SQUAWK" --version
echo "cpu: $(nproc) cores; $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//'); load: $(cut -d' ' -f1-3 /proc/loadavg)"

# Absolute folders, then run from the work directory: no migration-gate.toml of this repository
# (or .squawk.toml) applies to them.
for i in "${!FOLDERS[@]}"; do FOLDERS[$i]="$(cd "${FOLDERS[$i]}" && pwd)"; done
WORK="$(cd "$WORK" && pwd)"
cd "$WORK"

printf '\n| history | migrations | SQL | check | squawk | ratio | check MB/s |\n|---|---|---|---|---|---|---|\n' >"$WORK/real-results.md"
for folder in "${FOLDERS[@]}"; do
    name="$(basename "$folder")"
    # Every migration pending, as on a fresh database: outside any git repository, `check`
    # does not narrow the set to what a branch changed (the folders sit inside this one).
    export GIT_CEILING_DIRECTORIES="$(dirname "$folder")"
    files=$(find "$folder" -mindepth 2 -maxdepth 2 -name migration.sql | wc -l)
    bytes=$(find "$folder" -mindepth 2 -maxdepth 2 -name migration.sql -exec cat {} + | wc -c)
    status=0
    "$CHECK" check --dir "$folder" >/dev/null 2>"$WORK/real.stderr" || status=$?
    if [ "$status" -gt 1 ]; then
        echo "check exited with $status on $folder:" >&2
        head -n 5 "$WORK/real.stderr" >&2
        exit 1
    fi
    echo "== $name: $files migrations, $bytes bytes of SQL"
    # -N: no shell in between; both commands get the same glob of files (squawk expands it).
    hyperfine -N --warmup 2 --runs "$RUNS" --ignore-failure --style basic \
        --export-json "$WORK/real-$name.json" \
        -n "check $name" "$CHECK check --dir $folder" \
        -n "squawk $name" "$SQUAWK '$folder/*/migration.sql'"
    python3 - "$WORK/real-$name.json" "$name" "$files" "$bytes" >>"$WORK/real-results.md" <<'EOF'
import json, sys
results = json.load(open(sys.argv[1]))["results"]
check, squawk = (r["mean"] for r in results)
name, files, size = sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
print(f"| {name} | {files:,} | {size / 1e6:.2f} MB | {check * 1e3:.1f} ms | {squawk * 1e3:.1f} ms "
      f"| **{check / squawk:.2f}×** | {size / 1e6 / check:.1f} |")
EOF
done
cat "$WORK/real-results.md"
