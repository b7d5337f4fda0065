#!/usr/bin/env bash
# The action's install step: use INPUT_BINARY if given; else the release archive for this
# runner's OS and architecture, verified against dist/checksums.txt (committed in the tagged
# action) and kept in the tool cache; else build the action's own source with cargo.
# Writes `path=<binary>` to GITHUB_OUTPUT and the binary's folder to GITHUB_PATH.
#
# ACTION_REPOSITORY is `${{ github.action_repository }}` from action.yml: the runner leaves
# GITHUB_ACTION_REPOSITORY empty inside composite steps. MIGRATION_GATE_DOWNLOAD_URL (the base
# under which v<version>/<asset> lives) and MIGRATION_GATE_CHECKSUMS (a checksums file) let a
# mirror or a local file:// release stand in for GitHub's.
set -euo pipefail

action_dir="${GITHUB_ACTION_PATH:-$(cd "$(dirname "$0")/.." && pwd)}"
output="${GITHUB_OUTPUT:-/dev/stdout}"

add_to_path() {
  if [ -n "${GITHUB_PATH:-}" ]; then
    dirname "$1" >>"$GITHUB_PATH"
  fi
}

if [ -n "${INPUT_BINARY:-}" ]; then
  if [ ! -f "$INPUT_BINARY" ] || [ ! -x "$INPUT_BINARY" ]; then
    echo "::error::binary input: $INPUT_BINARY is not an executable file"
    exit 1
  fi
  echo "path=$INPUT_BINARY" >>"$output"
  exit 0
fi

action_version="$(sed -n 's/^version = "\([^"]*\)".*/\1/p' "$action_dir/Cargo.toml" | head -n 1)"
version="${INPUT_VERSION:-}"
version="${version#v}"
version="${version:-$action_version}"
# A release version such as 1.2.3 or 1.2.3-rc.1; never a path, which would lead out of the
# tool cache too.
case "$version" in
  *[!0-9A-Za-z.+-]*) release_version="" ;;
  [0-9]*.[0-9]*.[0-9]*) release_version=yes ;;
  *) release_version="" ;;
esac
if [ -z "$release_version" ]; then
  echo "::error::version input \`${INPUT_VERSION:-}\` is not a release version such as $action_version: give one, or leave it empty for this action's own ($action_version)"
  exit 1
fi

exe=""
archive_ext="tar.gz"
case "${RUNNER_OS:-$(uname -s)}/${RUNNER_ARCH:-$(uname -m)}" in
  Linux/X64 | Linux/x86_64) target=x86_64-unknown-linux-gnu ;;
  Linux/ARM64 | Linux/aarch64) target=aarch64-unknown-linux-gnu ;;
  macOS/ARM64 | Darwin/arm64) target=aarch64-apple-darwin ;;
  macOS/X64 | Darwin/x86_64) target=x86_64-apple-darwin ;;
  Windows/X64) target=x86_64-pc-windows-msvc; exe=".exe"; archive_ext="zip" ;;
  *) target="" ;;
esac

# sha256sum, or shasum on macOS runners without coreutils; both print "<hex>  <file>".
sums() {
  if command -v sha256sum >/dev/null 2>&1; then sha256sum "$@"; else shasum -a 256 "$@"; fi
}

tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT

name="migration-gate-${version}-${target}"
asset="$name.$archive_ext"
checksums="${MIGRATION_GATE_CHECKSUMS:-$action_dir/dist/checksums.txt}"
case "$checksums" in
  *://*)
    if ! curl -fsSL --retry 3 --retry-delay 2 -o "$tmp/checksums.txt" "$checksums"; then
      echo "::error::could not download the checksums $checksums: check MIGRATION_GATE_CHECKSUMS"
      exit 1
    fi
    checksums_file="$tmp/checksums.txt"
    ;;
  *) checksums_file="$checksums" ;;
esac
expected=""
if [ -n "$target" ] && [ -f "$checksums_file" ]; then
  # sha256sum writes "<hex>  <file>" or, in binary mode, "<hex> *<file>"; a checksums file
  # edited or checked out on Windows may end its lines with CR.
  expected="$(awk -v asset="$asset" '{ sub(/\r$/, "") } $2 == asset || $2 == "*" asset { print $1 }' "$checksums_file")"
fi

# The tool cache folder is the cache key. A release binary is reused only if the sum of the
# archive it came from (written last, after the binary is in place) is the expected one; a
# source build has a folder of its own per source tree, so a job at @main never runs a release
# binary of the same version number, nor a job at the released tag a source build.
cache_base="${RUNNER_TOOL_CACHE:-${HOME:-/tmp}/.cache}/migration-gate/${version}"

# Moves a finished binary into place with a rename inside its folder, so a run killed midway
# never leaves a partial file at the path later runs look at.
place_binary() {
  mkdir -p "$(dirname "$binary")"
  cp "$1" "$binary.partial.$$"
  chmod 755 "$binary.partial.$$"
  mv -f "$binary.partial.$$" "$binary"
}

use_binary() {
  echo "path=$binary" >>"$output"
  add_to_path "$binary"
  exit 0
}

if [ -n "$expected" ]; then
  cache_root="$cache_base/$target"
  binary="$cache_root/bin/migration-gate$exe"
  if [ -x "$binary" ] && [ "$(cat "$cache_root/archive.sha256" 2>/dev/null)" = "$expected" ]; then
    echo "migration-gate $version: using the tool cache ($cache_root)"
    use_binary
  fi
fi

repository="${ACTION_REPOSITORY:-${GITHUB_ACTION_REPOSITORY:-}}"
base="${MIGRATION_GATE_DOWNLOAD_URL:-}"
if [ -z "$base" ] && [ -n "$repository" ]; then
  base="${GITHUB_SERVER_URL:-https://github.com}/${repository}/releases/download"
fi

download_failed=""
if [ -n "$expected" ] && [ -n "$base" ]; then
  url="$base/v${version}/${asset}"
  if curl -fsSL --retry 3 --retry-delay 2 -o "$tmp/$asset" "$url"; then
    actual="$(sums "$tmp/$asset" | cut -d ' ' -f 1)"
    if [ "$actual" != "$expected" ]; then
      echo "::error::$asset does not match $checksums (expected $expected, got $actual): refusing to run it"
      exit 1
    fi
    mkdir -p "$tmp/unpacked"
    if [ "$archive_ext" = "zip" ]; then
      unzip -q "$tmp/$asset" -d "$tmp/unpacked"
    else
      tar -xzf "$tmp/$asset" -C "$tmp/unpacked"
    fi
    rm -f "$cache_root/archive.sha256"
    place_binary "$tmp/unpacked/$name/migration-gate$exe"
    echo "$expected" >"$cache_root/archive.sha256"
    echo "migration-gate $version: installed $asset (SHA-256 verified)"
    use_binary
  fi
  download_failed=yes
  echo "::warning::could not download $url; building migration-gate from source instead"
elif [ -z "$target" ]; then
  echo "::notice::no release archive of migration-gate for this runner (${RUNNER_OS:-$(uname -s)}/${RUNNER_ARCH:-$(uname -m)}): building from source"
elif [ -z "$expected" ]; then
  echo "::notice::$checksums has no sum for $asset (an untagged ref such as @main, or a version input other than the action's): building from source"
else
  echo "::notice::cannot tell which repository this action comes from (ACTION_REPOSITORY is empty): building from source"
fi

# The source at hand is the action's own: building it for another version input would install
# the wrong code under that version's name.
if [ "$version" != "$action_version" ]; then
  echo "::error::no verified release archive of migration-gate $version, and this action's source is $action_version: use the action at @v$version (or drop the version input)"
  exit 1
fi

source_sum="$(
  cd "$action_dir"
  { find Cargo.toml Cargo.lock src -type f 2>/dev/null || true; } | LC_ALL=C sort |
    while IFS= read -r file; do sums "$file"; done | sums | cut -c 1-16
)"
cache_root="$cache_base/source-$source_sum-${target:-other}"
binary="$cache_root/bin/migration-gate$exe"
if [ -x "$binary" ]; then
  echo "migration-gate $version: using the tool cache ($cache_root, built from this action's source)"
  use_binary
fi
if ! command -v cargo >/dev/null 2>&1; then
  if [ -n "$download_failed" ]; then
    echo "::error::could not download $url and cargo is not installed: re-run the job, add dtolnay/rust-toolchain before the action, or pass the binary input"
  else
    echo "::error::no verified release archive and cargo is not installed: use a released tag of the action (such as @v0), add dtolnay/rust-toolchain before it, or pass the binary input"
  fi
  exit 1
fi
echo "::notice::compiling migration-gate $version from source: about 4 minutes on a 2-core runner, in every job whose runner has no cached build; a released tag of the action installs in seconds"
# Build outside the action's folder, so no target/ is left behind in it.
cargo install --locked --path "$action_dir" --root "$tmp/root" --target-dir "$tmp/target"
place_binary "$tmp/root/bin/migration-gate$exe"
use_binary
