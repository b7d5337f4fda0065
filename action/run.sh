#!/usr/bin/env bash
# The action's main step: turn the inputs (passed as INPUT_* environment variables, never
# interpolated into this script) into `migration-gate ci` arguments.
set -euo pipefail

bin="${MIGRATION_GATE_BIN:-}"
if [ -z "$bin" ]; then
  bin="migration-gate"
fi

args=(ci)
[ -n "${INPUT_MODE:-}" ] && args+=(--mode "$INPUT_MODE")
[ -n "${INPUT_MIGRATIONS_DIR:-}" ] && args+=(--dir "$INPUT_MIGRATIONS_DIR")
[ -n "${INPUT_CONFIG:-}" ] && args+=(--config "$INPUT_CONFIG")
[ -n "${INPUT_FAIL_ON:-}" ] && args+=(--fail-on "$INPUT_FAIL_ON")
[ -n "${INPUT_TARGET:-}" ] && args+=(--target "$INPUT_TARGET")
[ "${INPUT_CHECK_RUN:-false}" = "true" ] && args+=(--check-run)
[ "${INPUT_ALLOW_DESTRUCTIVE:-false}" = "true" ] && args+=(--allow-destructive)
[ "${INPUT_ALLOW_ANY_BRANCH:-false}" = "true" ] && args+=(--allow-any-branch)

# Secrets travel in the environment, not on the command line.
if [ -n "${INPUT_DATABASE_URL:-}" ]; then
  export DIRECT_URL="$INPUT_DATABASE_URL"
fi
if [ -n "${INPUT_VERCEL_HOOK_URL:-}" ]; then
  export VERCEL_DEPLOY_HOOK_URL="$INPUT_VERCEL_HOOK_URL"
fi
if [ -n "${INPUT_TOKEN:-}" ]; then
  export GITHUB_TOKEN="$INPUT_TOKEN"
fi

exec "$bin" "${args[@]}"
