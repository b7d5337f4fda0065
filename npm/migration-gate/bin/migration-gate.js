#!/usr/bin/env node
// Runs the migration-gate binary from the platform package npm installed next to this one (an
// optional dependency chosen by its `os`/`cpu`/`libc` fields), so installing downloads nothing
// outside npm and needs no postinstall script.
"use strict";

const { spawn } = require("child_process");
const os = require("os");
const path = require("path");

function fail(message) {
  console.error(`migration-gate: ${message}`);
  process.exit(1);
}

function isMusl() {
  if (process.platform !== "linux") {
    return false;
  }
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
  if (!supported.includes(platform)) {
    fail(`no prebuilt binary for ${platform}: ${install}`);
  }
  if (isMusl()) {
    fail(`no prebuilt binary for ${platform} (musl): ${install}`);
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
const child = spawn(binary, process.argv.slice(2), { stdio: "inherit" });
// SIGTERM and SIGHUP often reach this process alone (`kill PID`, a process manager, PID 1 in a
// container): pass them on, or the binary (a deploy, say) would run on unwatched and never cancel
// its statement. Ctrl-C reaches the binary from the terminal itself, as one process group: the
// launcher only waits for it to finish, since a second SIGINT makes the binary stop at once.
const forwarded = ["SIGTERM", "SIGHUP"];
for (const signal of forwarded) {
  process.on(signal, () => child.kill(signal));
}
process.on("SIGINT", () => {});
child.on("error", (error) => {
  if (error.code === "ENOENT" && process.env.MIGRATION_GATE_BINARY) {
    fail(`MIGRATION_GATE_BINARY is ${binary}, which does not exist`);
  }
  fail(`cannot run ${binary}: ${error.message}`);
});
child.on("exit", (code, signal) => {
  if (signal) {
    // Die of the same signal, so a shell or CI runner sees what happened to the binary.
    for (const name of [...forwarded, "SIGINT"]) {
      process.removeAllListeners(name);
    }
    process.kill(process.pid, signal);
    // Node survives some signals (it ignores SIGPIPE; SIGUSR1 starts its inspector): then the
    // exit code a shell gives a process killed by that signal.
    process.exit(128 + (os.constants.signals[signal] || 0));
  }
  process.exit(code);
});
