#!/usr/bin/env bash
# Benchmark: `migration-gate check` against squawk on the same synthetic Prisma history.
#
#   bench/check-vs-squawk.sh            # 5,000 migrations
#   N=2000 RUNS=3 bench/check-vs-squawk.sh
#
# Builds the release binary, installs squawk (pip install squawk-cli) and hyperfine (apt) when
# missing, generates the history with bench/gen_history.py (fixed seed), then times, side by side
# in the same run:
#   - every migration pending (a fresh database): `check --dir H` vs `squawk 'H/*/migration.sql'`
#   - the newest 50 pending (the PR case): `check --dir H <50 names>` vs `squawk <50 files>`
# Both tools print their default human report (to /dev/null under hyperfine). Exit status 1
# (findings) is expected from both and ignored. Peak RSS comes from `/usr/bin/time -v`.
# Targets (issue 2): check wall time <= 0.5x squawk's, peak memory < 100 MB; (issue 12) <= 0.3x
# squawk's with every migration pending, and the PR case 4x faster than the 0.48 s of 2026-11-30.
# Real histories: bench/real-history.sh.
set -euo pipefail

cd "$(dirname "$0")/.."
N="${N:-5000}"
RUNS="${RUNS:-5}"
WORK="${BENCH_DIR:-target/bench}"
HISTORY="$WORK/history"
mkdir -p "$WORK"

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

echo "== generate $N migrations"
python3 bench/gen_history.py "$N" "$HISTORY"

# Folder names sort in migration order (no spaces: the generator never makes them).
mapfile -t NEWEST < <(find "$HISTORY" -mindepth 1 -maxdepth 1 -type d -printf '%f\n' | LC_ALL=C sort | tail -n 50)
NEWEST_FILES=()
for name in "${NEWEST[@]}"; do
    NEWEST_FILES+=("$HISTORY/$name/migration.sql")
done

# The real squawk binary, not a pyenv shim (a shell script that would add its own start-up).
SQUAWK="$(pyenv which squawk 2>/dev/null || command -v squawk)"
# Run from the work directory with absolute paths: no migration-gate.toml of this repository
# (or .squawk.toml) applies to the synthetic history.
HISTORY="$(cd "$HISTORY" && pwd)"
cd "$WORK"
# Every migration pending in the first case: outside any git repository. Inside this one, on a
# branch other than main, a bare `check` would judge only what the branch changed (nothing).
export GIT_CEILING_DIRECTORIES="$(dirname "$HISTORY")"
CHECK_ALL="$CHECK check --dir $HISTORY"
SQUAWK_ALL="$SQUAWK '$HISTORY/*/migration.sql'"
CHECK_50="$CHECK check --dir $HISTORY ${NEWEST[*]}"
CHECK_50_COLD="$CHECK check --no-cache --dir $HISTORY ${NEWEST[*]}"
# The history's schema is cached per directory (a PR's second run onwards); the cache lives here,
# warmed by the sanity run below. The --no-cache row is a first run (e.g. a fresh CI runner).
export MIGRATION_GATE_CACHE_DIR="$PWD/cache"
rm -rf "$MIGRATION_GATE_CACHE_DIR"
SQUAWK_50="$SQUAWK ${NEWEST_FILES[*]}"

# Exit 1 means findings; anything else means the run did not do the work we want to time.
for label in CHECK_ALL SQUAWK_ALL CHECK_50 CHECK_50_COLD SQUAWK_50; do
    status=0
    bash -c "${!label}" >/dev/null 2>"$label.stderr" || status=$?
    if [ "$status" -gt 1 ]; then
        echo "$label exited with $status:" >&2
        head -n 5 "$label.stderr" >&2
        exit 1
    fi
done

echo "== versions"
"$CHECK" --version || true
"$SQUAWK" --version
echo "cpu: $(nproc) cores; $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//')"

echo "== wall time"
if command -v hyperfine >/dev/null; then
    hyperfine --warmup 1 --runs "$RUNS" --ignore-failure --style basic \
        --export-markdown results.md \
        -n "check, all $N pending" "$CHECK_ALL" \
        -n "squawk, all $N files" "$SQUAWK_ALL" \
        -n "check, newest 50 pending (cached history)" "$CHECK_50" \
        -n "check, newest 50 pending (--no-cache)" "$CHECK_50_COLD" \
        -n "squawk, newest 50 files" "$SQUAWK_50"
    cat results.md
else
    echo "(hyperfine not available: best of $RUNS runs with /usr/bin/time)"
    for label in CHECK_ALL SQUAWK_ALL CHECK_50 CHECK_50_COLD SQUAWK_50; do
        best=""
        for _ in $(seq "$RUNS"); do
            seconds=$( { /usr/bin/time -f '%e' bash -c "${!label} >/dev/null 2>&1" ; } 2>&1 | tail -n1)
            if [ -z "$best" ] || awk "BEGIN{exit !($seconds < $best)}"; then best="$seconds"; fi
        done
        printf '%-12s best %ss\n' "$label" "$best"
    done
fi

echo "== peak memory (maximum resident set size)"
for label in CHECK_ALL SQUAWK_ALL CHECK_50 CHECK_50_COLD SQUAWK_50; do
    kb=$( { /usr/bin/time -v bash -c "exec ${!label} >/dev/null 2>&1" || true; } 2>&1 \
        | awk -F: '/Maximum resident set size/ {gsub(/ /, "", $2); print $2}')
    awk -v label="$label" -v kb="$kb" 'BEGIN { printf "%-12s %7d KB  (%.1f MB)\n", label, kb, kb / 1024 }'
done

echo "== findings (sanity: both tools read the same files)"
SUMMARY_PY='import json, sys
s = json.load(sys.stdin)["summary"]
print("%(files)d files, %(statements)d statements, %(errors)d errors, %(warnings)d warnings, %(unparsed)d not understood" % s)'
echo "check:  $("$CHECK" check --dir "$HISTORY" --format json 2>/dev/null | python3 -c "$SUMMARY_PY" || echo 'no JSON report')"
echo "squawk: $("$SQUAWK" "$HISTORY/*/migration.sql" 2>&1 | tail -n 1 || true)"
