#!/usr/bin/env bash
# The action's main step: turn the inputs (passed as INPUT_* environment variables, never
# interpolated into this script) into `migration-gate ci` arguments.
set -euo pipefail

bin="${MIGRATION_GATE_BIN:-}"
if [ -z "$bin" ]; then
  bin="migration-gate"
fi

# A yes/no input, read as actions/toolkit's getBooleanInput does. Anything else stops the step:
# `allow-any-branch: yes` silently read as false would be refused with a message telling the
# user to set what they believe they set.
flag() {
  local input="$1" value="$2" switch="$3"
  case "$value" in
    true | True | TRUE) args+=("$switch") ;;
    false | False | FALSE | "") ;;
    *)
      # One line: a line break in the value must not start a workflow command of its own.
      echo "::error::migration-gate: the \`$input\` input is \"${value//[$'\r\n']/ }\": set it to true or false"
      exit 2
      ;;
  esac
}

# An input with a fixed set of values: checked here so a wrong one names the input, not the
# CLI flag it becomes (clap's error speaks of --fail-on and --help).
choice() {
  local input="$1" value="$2" switch="$3" allowed="$4" shown="$5" word
  [ -z "$value" ] && return 0
  for word in $allowed; do
    if [ "$value" = "$word" ]; then
      args+=("$switch" "$value")
      return 0
    fi
  done
  echo "::error::migration-gate: the \`$input\` input is \"${value//[$'\r\n']/ }\": use $shown"
  exit 2
}

args=(ci)
choice mode "${INPUT_MODE:-}" --mode "check deploy manual-review rollback" \
  "check, deploy, manual-review or rollback"
# `--name=value`: a value that starts with `-` (a dispatch input `target: --allow-destructive`)
# stays a value instead of becoming a flag or a clap error.
[ -n "${INPUT_MIGRATIONS_DIR:-}" ] && args+=("--dir=$INPUT_MIGRATIONS_DIR")
[ -n "${INPUT_CONFIG:-}" ] && args+=("--config=$INPUT_CONFIG")
choice fail-on "${INPUT_FAIL_ON:-}" --fail-on "error warning never" "error, warning or never"
[ -n "${INPUT_TARGET:-}" ] && args+=("--target=$INPUT_TARGET")
[ -n "${INPUT_STATS_FILE:-}" ] && args+=("--stats=$INPUT_STATS_FILE")
choice deployer "${INPUT_DEPLOYER:-}" --deployer "migration-gate prisma" "migration-gate or prisma"
flag check-run "${INPUT_CHECK_RUN:-}" --check-run
flag allow-destructive "${INPUT_ALLOW_DESTRUCTIVE:-}" --allow-destructive
flag allow-any-branch "${INPUT_ALLOW_ANY_BRANCH:-}" --allow-any-branch

# Secrets travel in the environment, not on the command line.
if [ -n "${INPUT_DATABASE_URL:-}" ]; then
  export DIRECT_URL="$INPUT_DATABASE_URL"
fi
if [ -n "${INPUT_VERCEL_HOOK_URL:-}" ]; then
  export VERCEL_DEPLOY_HOOK_URL="$INPUT_VERCEL_HOOK_URL"
fi
if [ -n "${INPUT_STATS_DATABASE_URL:-}" ]; then
  export MIGRATION_GATE_STATS_DATABASE_URL="$INPUT_STATS_DATABASE_URL"
fi
if [ -n "${INPUT_TRACE_DATABASE_URL:-}" ]; then
  export MIGRATION_GATE_TRACE_DATABASE_URL="$INPUT_TRACE_DATABASE_URL"
fi
if [ -n "${INPUT_TOKEN:-}" ]; then
  export GITHUB_TOKEN="$INPUT_TOKEN"
fi

exec "$bin" "${args[@]}"
