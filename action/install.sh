#!/usr/bin/env bash
# The action's install step: use INPUT_BINARY if given; else the release binary for this
# runner's OS and architecture, verified against dist/checksums.txt (committed in this
# repository) and kept in the tool cache; else build the action's own source with cargo.
# Writes `path=<binary>` to GITHUB_OUTPUT.
set -euo pipefail

action_dir="${GITHUB_ACTION_PATH:-$(cd "$(dirname "$0")/.." && pwd)}"
output="${GITHUB_OUTPUT:-/dev/stdout}"

if [ -n "${INPUT_BINARY:-}" ]; then
  if [ ! -x "$INPUT_BINARY" ]; then
    echo "::error::binary input: $INPUT_BINARY is not an executable file"
    exit 1
  fi
  echo "path=$INPUT_BINARY" >>"$output"
  exit 0
fi

version="${INPUT_VERSION:-}"
version="${version#v}"
if [ -z "$version" ]; then
  version="$(sed -n 's/^version = "\(.*\)"$/\1/p' "$action_dir/Cargo.toml" | head -n 1)"
fi

case "${RUNNER_OS:-$(uname -s)}/${RUNNER_ARCH:-$(uname -m)}" in
  Linux/X64 | Linux/x86_64) target=x86_64-unknown-linux-musl ;;
  Linux/ARM64 | Linux/aarch64) target=aarch64-unknown-linux-gnu ;;
  macOS/ARM64 | Darwin/arm64) target=aarch64-apple-darwin ;;
  macOS/X64 | Darwin/x86_64) target=x86_64-apple-darwin ;;
  *) target="" ;;
esac

cache_root="${RUNNER_TOOL_CACHE:-${HOME}/.cache}/migration-gate/${version}/${target:-source}"
binary="$cache_root/bin/migration-gate"
if [ -x "$binary" ]; then
  echo "migration-gate $version: using the tool cache"
  echo "path=$binary" >>"$output"
  exit 0
fi

sha256() {
  if command -v sha256sum >/dev/null 2>&1; then
    sha256sum "$1" | cut -d ' ' -f 1
  else
    shasum -a 256 "$1" | cut -d ' ' -f 1
  fi
}

asset="migration-gate-v${version}-${target}.tar.gz"
expected=""
if [ -n "$target" ] && [ -f "$action_dir/dist/checksums.txt" ]; then
  expected="$(awk -v asset="$asset" '$2 == asset { print $1 }' "$action_dir/dist/checksums.txt")"
fi

if [ -n "$expected" ]; then
  repository="${GITHUB_ACTION_REPOSITORY:-}"
  base="${MIGRATION_GATE_DOWNLOAD_URL:-${GITHUB_SERVER_URL:-https://github.com}/${repository}/releases/download}"
  tmp="$(mktemp -d)"
  trap 'rm -rf "$tmp"' EXIT
  if curl -fsSL --retry 3 --retry-delay 2 -o "$tmp/$asset" "$base/v${version}/${asset}"; then
    actual="$(sha256 "$tmp/$asset")"
    if [ "$actual" != "$expected" ]; then
      echo "::error::$asset does not match dist/checksums.txt (expected $expected, got $actual): refusing to run it"
      exit 1
    fi
    mkdir -p "$cache_root/bin"
    tar -xzf "$tmp/$asset" -C "$cache_root/bin" migration-gate
    echo "migration-gate $version: installed $asset (SHA-256 verified)"
    echo "path=$binary" >>"$output"
    exit 0
  fi
  echo "::warning::could not download $asset; building migration-gate from source instead"
else
  echo "no released binary of migration-gate $version for ${target:-this runner}: building from source"
fi

if ! command -v cargo >/dev/null 2>&1; then
  echo "::error::no release binary matches and cargo is not installed: add dtolnay/rust-toolchain before this action, or pass the binary input"
  exit 1
fi
cargo install --locked --path "$action_dir" --root "$cache_root"
echo "path=$binary" >>"$output"
