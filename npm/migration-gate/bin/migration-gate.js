#!/usr/bin/env node
// Runs the migration-gate binary from the platform package npm installed next to this one (an
// optional dependency chosen by its `os`/`cpu`/`libc` fields), so installing downloads nothing
// outside npm and needs no postinstall script.
"use strict";

const { spawnSync } = require("child_process");
const path = require("path");

function fail(message) {
  console.error(`migration-gate: ${message}`);
  process.exit(1);
}

function isMusl() {
  // Node built against glibc reports its runtime glibc version; on musl the field is missing.
  const report = process.report && process.report.getReport ? process.report.getReport() : null;
  return report ? !report.header.glibcVersionRuntime : false;
}

function binaryPath() {
  if (process.env.MIGRATION_GATE_BINARY) {
    return process.env.MIGRATION_GATE_BINARY;
  }
  const platform = `${process.platform}-${process.arch}`;
  const supported = ["linux-x64", "linux-arm64", "darwin-x64", "darwin-arm64", "win32-x64"];
  const install =
    "install it with `cargo install migration-gate` or take a prebuilt archive from " +
    "https://github.com/migration-gate/migration-gate/releases";
  if (!supported.includes(platform) || (process.platform === "linux" && isMusl())) {
    fail(`no prebuilt binary for ${platform}${isMusl() ? " (musl)" : ""}: ${install}`);
  }
  const pkg = `@migration-gate/${platform}`;
  const file = process.platform === "win32" ? "migration-gate.exe" : "migration-gate";
  try {
    return path.join(path.dirname(require.resolve(`${pkg}/package.json`)), "bin", file);
  } catch {
    fail(
      `the package ${pkg} is not installed (optional dependencies omitted?): reinstall ` +
        "migration-gate without --omit=optional / --no-optional, or set MIGRATION_GATE_BINARY",
    );
  }
}

const binary = binaryPath();
const result = spawnSync(binary, process.argv.slice(2), { stdio: "inherit" });
if (result.error) {
  fail(`cannot run ${binary}: ${result.error.message}`);
}
if (result.signal) {
  // Die of the same signal, so a shell or CI runner sees what happened to the binary.
  process.kill(process.pid, result.signal);
}
process.exit(result.status);
