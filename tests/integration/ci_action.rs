//! The composite action's own steps (action/install.sh, action/run.sh), run locally like the
//! runner runs them: inputs as INPUT_* variables, a temporary GITHUB_OUTPUT per step, a job
//! summary file, an event file.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use sha2::{Digest, Sha256};

use super::ci_fake::{fixture, FakeServer, Reply};
use super::support::{repo_root, stderr, stdout, Project, TestDb};

fn script(name: &str) -> Command {
    let mut cmd = Command::new("bash");
    cmd.arg(repo_root().join("action").join(name));
    for (var, _) in std::env::vars() {
        if var.starts_with("GITHUB_") || var.starts_with("INPUT_") || var.starts_with("RUNNER_") {
            cmd.env_remove(var);
        }
    }
    for var in [
        "DIRECT_URL",
        "DATABASE_URL",
        "VERCEL_DEPLOY_HOOK_URL",
        "MIGRATION_GATE_BIN",
    ] {
        cmd.env_remove(var);
    }
    cmd
}

fn show(out: &Output) -> String {
    format!("stdout:\n{}\nstderr:\n{}", stdout(out), stderr(out))
}

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_default()
}

#[test]
fn action_yml_passes_every_input_through_env_only() {
    let action = read(&repo_root().join("action.yml"));
    for line in action
        .lines()
        .filter(|l| l.trim_start().starts_with("run:"))
    {
        assert!(
            !line.contains("${{"),
            "expression inside a run script: {line}"
        );
    }
    let scripts =
        read(&repo_root().join("action/run.sh")) + &read(&repo_root().join("action/install.sh"));
    let mut used: Vec<&str> = scripts
        .match_indices("INPUT_")
        .map(|(i, _)| {
            let rest = &scripts[i..];
            let end = rest
                .find(|c: char| !(c.is_ascii_uppercase() || c == '_'))
                .unwrap_or(rest.len());
            &rest[..end]
        })
        .collect();
    used.retain(|v| v.len() > "INPUT_".len());
    used.sort();
    used.dedup();
    for var in used {
        let input = var
            .trim_start_matches("INPUT_")
            .to_lowercase()
            .replace('_', "-");
        assert!(
            action.contains(&format!("{var}: ${{{{ inputs.{input} }}}}")),
            "{var} is not mapped from inputs.{input} in action.yml"
        );
        assert!(
            action.contains(&format!("\n  {input}:\n")),
            "input {input} is not declared"
        );
    }
}

#[test]
fn install_uses_the_binary_input() {
    let dir = tempfile::tempdir().unwrap();
    let output = dir.path().join("out");
    let out = script("install.sh")
        .env("GITHUB_OUTPUT", &output)
        .env("INPUT_BINARY", env!("CARGO_BIN_EXE_migration-gate"))
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", show(&out));
    assert_eq!(
        read(&output),
        format!("path={}\n", env!("CARGO_BIN_EXE_migration-gate"))
    );

    let out = script("install.sh")
        .env("GITHUB_OUTPUT", &output)
        .env("INPUT_BINARY", dir.path().join("missing"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stdout(&out).contains("::error::binary input"),
        "{}",
        show(&out)
    );

    // A folder is "executable" to `test -x`, but not a binary.
    let out = script("install.sh")
        .env("GITHUB_OUTPUT", &output)
        .env("INPUT_BINARY", dir.path())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1), "{}", show(&out));
    assert_eq!(
        stdout(&out),
        format!(
            "::error::binary input: {} is not an executable file\n",
            dir.path().display()
        )
    );
}

/// A copy of the action (scripts + Cargo.toml + dist/checksums.txt) and a release archive laid
/// out as scripts/dist lays it out.
struct Release {
    action: tempfile::TempDir,
    archive: Vec<u8>,
}

const ASSET: &str = "migration-gate-0.9.1-x86_64-unknown-linux-gnu.tar.gz";
const INSTALLED: &str = "migration-gate/0.9.1/x86_64-unknown-linux-gnu/bin/migration-gate";

fn release(checksum_ok: bool) -> Release {
    let action = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(action.path().join("action")).unwrap();
    std::fs::create_dir_all(action.path().join("dist")).unwrap();
    std::fs::copy(
        repo_root().join("action/install.sh"),
        action.path().join("action/install.sh"),
    )
    .unwrap();
    // The action at its v0.9.1 tag: Cargo.toml says 0.9.1, as in the release it installs.
    let manifest = read(&repo_root().join("Cargo.toml")).replacen(
        &format!("version = \"{}\"", env!("CARGO_PKG_VERSION")),
        "version = \"0.9.1\"",
        1,
    );
    std::fs::write(action.path().join("Cargo.toml"), manifest).unwrap();
    // The "released binary": a script that says which build it is, in the archive's folder.
    let staging = tempfile::tempdir().unwrap();
    let folder = staging.path().join(ASSET.trim_end_matches(".tar.gz"));
    std::fs::create_dir(&folder).unwrap();
    let binary = folder.join("migration-gate");
    std::fs::File::create(&binary)
        .unwrap()
        .write_all(b"#!/bin/sh\necho 'migration-gate 0.9.1 (release)'\n")
        .unwrap();
    let status = Command::new("chmod")
        .arg("+x")
        .arg(&binary)
        .status()
        .unwrap();
    assert!(status.success());
    let tar = staging.path().join(ASSET);
    let status = Command::new("tar")
        .arg("-czf")
        .arg(&tar)
        .arg("-C")
        .arg(staging.path())
        .arg(folder.file_name().unwrap())
        .status()
        .unwrap();
    assert!(status.success());
    let archive = std::fs::read(&tar).unwrap();
    let mut sum = format!("{:x}", Sha256::digest(&archive));
    if !checksum_ok {
        sum = sum.replace(|c: char| c.is_ascii_digit(), "0");
    }
    std::fs::write(
        action.path().join("dist/checksums.txt"),
        format!("# sums\n{sum}  {ASSET}\n0000  migration-gate-0.9.1-aarch64-apple-darwin.tar.gz\n"),
    )
    .unwrap();
    Release { action, archive }
}

fn serve(archive: Vec<u8>) -> FakeServer {
    FakeServer::start(move |request, _| {
        if request.path == format!("/acme/migration-gate/releases/download/v0.9.1/{ASSET}") {
            Reply {
                status: 200,
                headers: vec![("content-type".into(), "application/octet-stream".into())],
                body: archive.clone(),
            }
        } else {
            Reply::json(404, &serde_json::json!({"message": "Not Found"}))
        }
    })
}

/// install.sh as a Linux x64 runner runs it, in a composite step: the repository comes from
/// `${{ github.action_repository }}` (ACTION_REPOSITORY), GITHUB_ACTION_REPOSITORY is empty.
fn install_step(release: &Release, runner: &Path) -> Command {
    let mut cmd = script("install.sh");
    cmd.env("GITHUB_ACTION_PATH", release.action.path())
        .env("ACTION_REPOSITORY", "acme/migration-gate")
        .env("GITHUB_ACTION_REPOSITORY", "")
        .env("GITHUB_OUTPUT", runner.join("output"))
        .env("GITHUB_PATH", runner.join("path"))
        .env("RUNNER_OS", "Linux")
        .env("RUNNER_ARCH", "X64")
        .env("RUNNER_TOOL_CACHE", runner)
        .env("INPUT_VERSION", "v0.9.1");
    cmd
}

fn install(release: &Release, server: &FakeServer, runner: &Path) -> Output {
    install_step(release, runner)
        .env("GITHUB_SERVER_URL", &server.url)
        .output()
        .unwrap()
}

/// PATH without the folders that hold cargo: a runner without a Rust toolchain.
fn path_without_cargo() -> String {
    let path = std::env::var_os("PATH").unwrap_or_default();
    let kept: Vec<PathBuf> = std::env::split_paths(&path)
        .filter(|dir| !dir.join("cargo").exists())
        .collect();
    std::env::join_paths(kept).unwrap().into_string().unwrap()
}

#[test]
fn install_downloads_verifies_and_caches_the_release_binary() {
    let release = release(true);
    let server = serve(release.archive.clone());
    let runner = tempfile::tempdir().unwrap();
    let out = install(&release, &server, runner.path());
    assert!(out.status.success(), "{}", show(&out));
    assert!(stdout(&out).contains("SHA-256 verified"), "{}", show(&out));
    assert_eq!(
        read(&runner.path().join("output")),
        format!("path={}\n", runner.path().join(INSTALLED).display())
    );
    assert_eq!(
        read(&runner.path().join("path")),
        format!(
            "{}\n",
            runner.path().join(INSTALLED).parent().unwrap().display()
        )
    );
    let ran = Command::new(runner.path().join(INSTALLED))
        .output()
        .unwrap();
    assert_eq!(stdout(&ran), "migration-gate 0.9.1 (release)\n");

    // Second job on the same runner: the tool cache, no download.
    let out = install(&release, &server, runner.path());
    assert!(out.status.success(), "{}", show(&out));
    assert!(stdout(&out).contains("tool cache"), "{}", show(&out));
    assert_eq!(server.requests().len(), 1);
}

#[test]
fn install_refuses_a_binary_that_does_not_match_the_committed_sum() {
    let release = release(false);
    let server = serve(release.archive.clone());
    let runner = tempfile::tempdir().unwrap();
    let out = install(&release, &server, runner.path());
    assert_eq!(out.status.code(), Some(1), "{}", show(&out));
    assert!(
        stdout(&out).contains(&format!("{ASSET} does not match")),
        "{}",
        show(&out)
    );
    assert_eq!(read(&runner.path().join("output")), "");
    assert!(!runner.path().join(INSTALLED).exists());
}

#[test]
fn install_takes_a_file_url_release_and_its_checksums_without_cargo() {
    let release = release(true);
    // The sums of the local release, and a committed dist/checksums.txt that knows nothing of it.
    let local = tempfile::tempdir().unwrap();
    let downloads = local.path().join("releases/v0.9.1");
    std::fs::create_dir_all(&downloads).unwrap();
    std::fs::write(downloads.join(ASSET), &release.archive).unwrap();
    let checksums = local.path().join("checksums.txt");
    std::fs::rename(release.action.path().join("dist/checksums.txt"), &checksums).unwrap();
    std::fs::write(release.action.path().join("dist/checksums.txt"), "").unwrap();
    let runner = tempfile::tempdir().unwrap();

    let out = install_step(&release, runner.path())
        .env("PATH", path_without_cargo())
        .env(
            "MIGRATION_GATE_DOWNLOAD_URL",
            format!("file://{}", local.path().join("releases").display()),
        )
        .env("MIGRATION_GATE_CHECKSUMS", &checksums)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", show(&out));
    assert!(
        stdout(&out).contains(&format!("installed {ASSET} (SHA-256 verified)")),
        "{}",
        show(&out)
    );
    let ran = Command::new(runner.path().join(INSTALLED))
        .output()
        .unwrap();
    assert_eq!(stdout(&ran), "migration-gate 0.9.1 (release)\n");
    assert!(!release.action.path().join("target").exists());
}

#[test]
fn install_without_a_sum_or_cargo_says_what_to_do() {
    let release = release(true);
    std::fs::write(
        release.action.path().join("dist/checksums.txt"),
        "# none yet\n",
    )
    .unwrap();
    let runner = tempfile::tempdir().unwrap();
    let out = install_step(&release, runner.path())
        .env("PATH", path_without_cargo())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1), "{}", show(&out));
    let text = stdout(&out);
    assert!(
        text.contains(&format!("has no sum for {ASSET}")),
        "{}",
        show(&out)
    );
    assert!(
        text.contains("::error::no verified release archive and cargo is not installed: use a released tag of the action"),
        "{}",
        show(&out)
    );
    assert_eq!(read(&runner.path().join("output")), "");
}

#[test]
fn composite_steps_deploy_with_the_binary_input() {
    let project = Project::new();
    project.migration(
        "20261101000000_init",
        "-- CreateTable\nCREATE TABLE \"users\" (\n    \"id\" SERIAL NOT NULL,\n    CONSTRAINT \"users_pkey\" PRIMARY KEY (\"id\")\n);\n",
    );
    let db = TestDb::new();
    let vercel =
        FakeServer::start(|_, _| Reply::json(201, &fixture("vercel/deploy_hook_created.json")));
    let hook = format!("{}/v1/integrations/deploy/prj_8Xq2mZ/kH3sd0Qw1", vercel.url);
    let runner = tempfile::tempdir().unwrap();
    let summary = runner.path().join("summary");
    let install_output = runner.path().join("install_output");
    let run_output = runner.path().join("run_output");

    let out = script("install.sh")
        .current_dir(project.path())
        .env("GITHUB_OUTPUT", &install_output)
        .env("INPUT_BINARY", env!("CARGO_BIN_EXE_migration-gate"))
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", show(&out));
    let bin = read(&install_output)
        .trim()
        .strip_prefix("path=")
        .unwrap()
        .to_string();

    let out = script("run.sh")
        .current_dir(project.path())
        .env("MIGRATION_GATE_BIN", &bin)
        .env("GITHUB_EVENT_NAME", "push")
        .env(
            "GITHUB_EVENT_PATH",
            repo_root().join("fixtures/events/push.json"),
        )
        .env("GITHUB_REPOSITORY", "acme/shop")
        .env("GITHUB_RUN_ID", "7001")
        .env("GITHUB_OUTPUT", &run_output)
        .env("GITHUB_STEP_SUMMARY", &summary)
        .env("INPUT_MODE", "")
        .env("INPUT_MIGRATIONS_DIR", "prisma/migrations")
        .env("INPUT_DATABASE_URL", &db.url)
        .env("INPUT_VERCEL_HOOK_URL", &hook)
        .env("INPUT_TOKEN", "ghs_testtoken123")
        .env("INPUT_FAIL_ON", "error")
        .env("INPUT_CHECK_RUN", "false")
        .env("INPUT_ALLOW_DESTRUCTIVE", "false")
        .env("INPUT_TARGET", "")
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", show(&out));
    assert_eq!(
        read(&run_output),
        "applied-count=1\npending-count=1\nneeds-review=false\ndeploy-hook-job-id=Q9bZ3kTqN2xWvY7hLmP4\n"
    );
    assert!(
        read(&summary).contains("| `20261101000000_init` |"),
        "{}",
        read(&summary)
    );
    let text = stdout(&out);
    for secret in [hook.as_str(), "ghs_testtoken123", db.url.as_str()] {
        assert!(
            text.contains(&format!("::add-mask::{secret}")),
            "{secret} not masked: {text}"
        );
    }
    assert_eq!(vercel.requests().len(), 1);
}

/// The arguments run.sh hands to the binary (an `echo` stand-in), and how it ended.
fn run_sh_with(inputs: &[(&str, &str)]) -> Output {
    let mut cmd = script("run.sh");
    cmd.env("MIGRATION_GATE_BIN", "echo");
    for (name, value) in inputs {
        cmd.env(name, value);
    }
    cmd.output().unwrap()
}

#[test]
fn boolean_inputs_read_like_githubs_own_actions_and_refuse_anything_else() {
    // actions/toolkit's getBooleanInput: true/True/TRUE and false/False/FALSE.
    for yes in ["true", "True", "TRUE"] {
        let out = run_sh_with(&[
            ("INPUT_CHECK_RUN", yes),
            ("INPUT_ALLOW_DESTRUCTIVE", yes),
            ("INPUT_ALLOW_ANY_BRANCH", yes),
        ]);
        assert!(out.status.success(), "{}", show(&out));
        assert_eq!(
            stdout(&out).trim(),
            "ci --check-run --allow-destructive --allow-any-branch",
            "{yes}"
        );
    }
    for no in ["false", "False", "FALSE", ""] {
        let out = run_sh_with(&[("INPUT_ALLOW_ANY_BRANCH", no)]);
        assert!(out.status.success(), "{}", show(&out));
        assert_eq!(stdout(&out).trim(), "ci", "{no:?}");
    }
    // A value the user meant as yes must not silently read as no (or the reverse).
    for unclear in ["yes", "1", "0", " true", "ture"] {
        let out = run_sh_with(&[("INPUT_ALLOW_ANY_BRANCH", unclear)]);
        assert_eq!(out.status.code(), Some(2), "{unclear:?}: {}", show(&out));
        let text = stdout(&out);
        assert!(
            text.starts_with("::error::migration-gate: the `allow-any-branch` input is "),
            "{text}"
        );
        assert!(text.contains("true or false"), "{text}");
        assert_eq!(text.lines().count(), 1, "{text}");
    }
}

/// The lines of a workflow's `on:` block.
fn triggers(workflow: &str) -> String {
    let text = read(&repo_root().join("examples/workflows").join(workflow));
    text.lines()
        .skip_while(|line| *line != "on:")
        .skip(1)
        .take_while(|line| line.is_empty() || line.starts_with(' '))
        .collect::<Vec<_>>()
        .join("\n")
}

#[test]
fn example_deploy_runs_on_every_push_to_main_since_vercel_waits_for_its_hook() {
    // examples/vercel.json turns off Vercel's own deploys of main: the workflow's hook is then
    // the only way code reaches production, so a push without a migration must run it too.
    let vercel = read(&repo_root().join("examples/vercel.json"));
    assert!(vercel.contains("\"main\": false"), "{vercel}");
    let on = triggers("deploy.yml");
    assert!(on.contains("branches: [main]"), "{on}");
    assert!(
        !on.contains("paths"),
        "a path filter skips code-only pushes: {on}"
    );
}

#[test]
fn example_pr_check_can_be_a_required_check() {
    // The merge queue needs the check required; a required check of a workflow skipped by a
    // path filter never reports, and the PR can never merge.
    let on = triggers("pr-check.yml");
    assert!(on.contains("merge_group"), "{on}");
    assert!(!on.contains("paths"), "{on}");
}

#[test]
fn choice_inputs_with_a_wrong_value_name_the_input_not_a_flag() {
    for (input, value, choices) in [
        ("INPUT_FAIL_ON", "Error", "error, warning or never"),
        (
            "INPUT_MODE",
            "Deploy",
            "check, deploy, manual-review or rollback",
        ),
    ] {
        let out = run_sh_with(&[(input, value)]);
        assert_eq!(out.status.code(), Some(2), "{}", show(&out));
        let text = stdout(&out);
        let name = input
            .trim_start_matches("INPUT_")
            .to_lowercase()
            .replace('_', "-");
        assert_eq!(
            text.trim(),
            format!("::error::migration-gate: the `{name}` input is \"{value}\": use {choices}")
        );
    }
    let out = run_sh_with(&[("INPUT_FAIL_ON", "never"), ("INPUT_MODE", "manual-review")]);
    assert_eq!(
        stdout(&out).trim(),
        "ci --mode manual-review --fail-on never",
        "{}",
        show(&out)
    );
}

#[test]
fn an_input_value_that_looks_like_a_flag_stays_a_value() {
    // A dispatch input `target: --allow-destructive` must not become a flag, nor a clap error
    // about flags: it is a (nonexistent) migration name.
    let dir = tempfile::tempdir().unwrap();
    let out = script("run.sh")
        .current_dir(dir.path())
        .env("MIGRATION_GATE_BIN", env!("CARGO_BIN_EXE_migration-gate"))
        .env("INPUT_MODE", "rollback")
        .env("INPUT_TARGET", "--allow-destructive")
        .env("INPUT_MIGRATIONS_DIR", "--allow-any-branch")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2), "{}", show(&out));
    let text = stderr(&out);
    assert!(!text.contains("a value is required"), "{text}");
    assert!(text.contains("--allow-any-branch does not exist"), "{text}");
}

/// A `cargo` for runners with a Rust toolchain: `cargo install --root R` leaves a binary in R/bin
/// that says it was built from source, and each call is logged in the folder's `calls`.
fn fake_cargo() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let cargo = dir.path().join("cargo");
    std::fs::write(
        &cargo,
        format!(
            "#!/bin/sh\necho \"$*\" >>'{calls}'\nwhile [ $# -gt 0 ]; do\n  if [ \"$1\" = --root ]; then root=\"$2\"; fi\n  shift\ndone\nmkdir -p \"$root/bin\"\nprintf '#!/bin/sh\\necho \"migration-gate (source build)\"\\n' >\"$root/bin/migration-gate\"\nchmod +x \"$root/bin/migration-gate\"\n",
            calls = dir.path().join("calls").display()
        ),
    )
    .unwrap();
    assert!(Command::new("chmod")
        .arg("+x")
        .arg(&cargo)
        .status()
        .unwrap()
        .success());
    dir
}

fn path_with(dir: &Path) -> String {
    format!("{}:{}", dir.display(), path_without_cargo())
}

fn installed_binary_says(runner: &Path) -> String {
    let path = read(&runner.join("output"))
        .lines()
        .last()
        .and_then(|l| l.strip_prefix("path="))
        .map(str::to_string)
        .unwrap_or_default();
    let ran = Command::new(&path).output();
    ran.map(|out| stdout(&out)).unwrap_or_default()
}

#[test]
fn install_reads_a_checksums_file_with_crlf_line_ends() {
    let release = release(true);
    let sums = release.action.path().join("dist/checksums.txt");
    std::fs::write(&sums, read(&sums).replace('\n', "\r\n")).unwrap();
    let server = serve(release.archive.clone());
    let runner = tempfile::tempdir().unwrap();
    let out = install(&release, &server, runner.path());
    assert!(out.status.success(), "{}", show(&out));
    assert!(
        stdout(&out).contains(&format!("installed {ASSET} (SHA-256 verified)")),
        "{}",
        show(&out)
    );
}

#[test]
fn install_does_not_trust_a_binary_it_did_not_finish_installing() {
    // A run killed while it copied the binary into the tool cache left this behind.
    let release = release(true);
    let server = serve(release.archive.clone());
    let runner = tempfile::tempdir().unwrap();
    let stale = runner.path().join(INSTALLED);
    std::fs::create_dir_all(stale.parent().unwrap()).unwrap();
    std::fs::write(&stale, "#!/bin/sh\necho 'half written'\n").unwrap();
    assert!(Command::new("chmod")
        .arg("+x")
        .arg(&stale)
        .status()
        .unwrap()
        .success());
    let out = install(&release, &server, runner.path());
    assert!(out.status.success(), "{}", show(&out));
    assert!(stdout(&out).contains("SHA-256 verified"), "{}", show(&out));
    assert_eq!(server.requests().len(), 1);
    assert_eq!(
        installed_binary_says(runner.path()),
        "migration-gate 0.9.1 (release)\n"
    );
}

#[test]
fn install_keeps_source_builds_and_release_binaries_apart_in_the_tool_cache() {
    let release = release(true);
    let sums = read(&release.action.path().join("dist/checksums.txt"));
    let server = serve(release.archive.clone());
    let cargo = fake_cargo();
    let runner = tempfile::tempdir().unwrap();

    // The action at @main (no sums committed) on a self-hosted runner: built from source.
    std::fs::write(release.action.path().join("dist/checksums.txt"), "").unwrap();
    let out = install_step(&release, runner.path())
        .env("GITHUB_SERVER_URL", &server.url)
        .env("PATH", path_with(cargo.path()))
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", show(&out));
    assert_eq!(
        installed_binary_says(runner.path()),
        "migration-gate (source build)\n"
    );

    // Later, a job on the same runner uses the released tag: it gets the verified release binary.
    std::fs::write(release.action.path().join("dist/checksums.txt"), &sums).unwrap();
    let out = install(&release, &server, runner.path());
    assert!(out.status.success(), "{}", show(&out));
    assert!(stdout(&out).contains("SHA-256 verified"), "{}", show(&out));
    assert_eq!(
        installed_binary_says(runner.path()),
        "migration-gate 0.9.1 (release)\n"
    );

    // And @main again: its source build, from the cache, not the release binary.
    std::fs::write(release.action.path().join("dist/checksums.txt"), "").unwrap();
    let out = install_step(&release, runner.path())
        .env("GITHUB_SERVER_URL", &server.url)
        .env("PATH", path_with(cargo.path()))
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", show(&out));
    assert!(stdout(&out).contains("tool cache"), "{}", show(&out));
    assert_eq!(
        installed_binary_says(runner.path()),
        "migration-gate (source build)\n"
    );
    assert_eq!(read(&cargo.path().join("calls")).lines().count(), 1);
}

#[test]
fn install_does_not_pass_off_the_actions_source_as_another_version() {
    let release = release(true);
    let server = serve(release.archive.clone());
    let cargo = fake_cargo();
    let runner = tempfile::tempdir().unwrap();
    let out = install_step(&release, runner.path())
        .env("GITHUB_SERVER_URL", &server.url)
        .env("PATH", path_with(cargo.path()))
        .env("INPUT_VERSION", "0.9.2")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1), "{}", show(&out));
    assert!(
        stdout(&out).contains(
            "::error::no verified release archive of migration-gate 0.9.2, and this action's source is 0.9.1"
        ),
        "{}",
        show(&out)
    );
    assert_eq!(read(&cargo.path().join("calls")), "");
    assert_eq!(read(&runner.path().join("output")), "");
}

#[test]
fn install_says_when_the_release_download_fails() {
    let release = release(true);
    let server = serve(Vec::new());
    let runner = tempfile::tempdir().unwrap();
    let out = install_step(&release, runner.path())
        .env("PATH", path_without_cargo())
        .env(
            "MIGRATION_GATE_DOWNLOAD_URL",
            format!("{}/nowhere", server.url),
        )
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1), "{}", show(&out));
    let text = stdout(&out);
    assert!(
        text.contains(&format!(
            "::error::could not download {}/nowhere/v0.9.1/{ASSET} and cargo is not installed",
            server.url
        )),
        "{}",
        show(&out)
    );
    assert_eq!(read(&runner.path().join("output")), "");
    assert!(!runner.path().join(INSTALLED).exists());
}

/// The npm package's launcher, run by node as `npx migration-gate` runs it, with the binary it
/// starts given by MIGRATION_GATE_BINARY.
fn launcher(binary: &Path) -> Command {
    let mut cmd = Command::new("node");
    cmd.arg(repo_root().join("npm/migration-gate/bin/migration-gate.js"))
        .env("MIGRATION_GATE_BINARY", binary)
        .env_remove("NODE_OPTIONS");
    cmd
}

fn shell_script(dir: &Path, name: &str, body: &str) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, format!("#!/bin/sh\n{body}")).unwrap();
    assert!(Command::new("chmod")
        .arg("+x")
        .arg(&path)
        .status()
        .unwrap()
        .success());
    path
}

#[test]
fn npm_launcher_passes_on_check_exit_codes_and_pipes() {
    let project = Project::new();
    project.migration(
        "20261101000000_init",
        "CREATE TABLE t (id int, name text);\n",
    );
    project.migration("20261102000000_drop", "ALTER TABLE t DROP COLUMN name;\n");
    let binary = Path::new(env!("CARGO_BIN_EXE_migration-gate"));
    let out = launcher(binary)
        .current_dir(project.path())
        .args(["check", "20261102000000_drop"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1), "{}", show(&out));
    assert!(
        stdout(&out).contains("error[drop-column]"),
        "{}",
        show(&out)
    );
    let out = launcher(binary)
        .current_dir(project.path())
        .args(["check", "no_such_migration"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2), "{}", show(&out));

    let dir = tempfile::tempdir().unwrap();
    let cat = shell_script(dir.path(), "cat with spaces", "exec cat\n");
    let mut child = launcher(&cat)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(b"SELECT 1;\n")
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success());
    assert_eq!(stdout(&out), "SELECT 1;\n");
}

#[test]
fn npm_launcher_fails_when_the_binary_dies_of_a_signal() {
    let dir = tempfile::tempdir().unwrap();
    // Node ignores SIGPIPE, so it cannot die of it as the binary did.
    let binary = shell_script(dir.path(), "migration-gate", "kill -PIPE $$\n");
    let out = launcher(&binary).output().unwrap();
    assert_eq!(out.status.code(), Some(128 + 13), "{}", show(&out));
}

#[test]
fn npm_launcher_hands_sigterm_to_the_binary_and_waits_for_it() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("log");
    let binary = shell_script(
        dir.path(),
        "migration-gate",
        &format!(
            "trap 'echo cleaned up >>\"{log}\"; exit 7' TERM\necho started >>\"{log}\"\ni=0\nwhile [ $i -lt 200 ]; do sleep 0.05; i=$((i + 1)); done\n",
            log = log.display()
        ),
    );
    let mut child = launcher(&binary).spawn().unwrap();
    let started = std::time::Instant::now();
    while !read(&log).contains("started") {
        assert!(started.elapsed().as_secs() < 10, "the binary never started");
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    // As `kill PID` or a process manager stopping `npx migration-gate deploy` does: the launcher
    // alone gets the signal.
    let status = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let status = child.wait().unwrap();
    assert_eq!(read(&log), "started\ncleaned up\n");
    assert_eq!(status.code(), Some(7));
}

#[test]
fn npm_launcher_names_the_platform_it_has_no_binary_for() {
    let dir = tempfile::tempdir().unwrap();
    // FreeBSD's Node, whose process report has no glibc version (as on macOS, or musl).
    let preload = dir.path().join("freebsd.js");
    std::fs::write(
        &preload,
        "Object.defineProperty(process, 'platform', { value: 'freebsd' });\n\
         process.report.getReport = () => ({ header: {} });\n",
    )
    .unwrap();
    let out = Command::new("node")
        .arg("--require")
        .arg(&preload)
        .arg(repo_root().join("npm/migration-gate/bin/migration-gate.js"))
        .arg("--version")
        .env_remove("MIGRATION_GATE_BINARY")
        .env_remove("NODE_OPTIONS")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1), "{}", show(&out));
    assert_eq!(
        stderr(&out),
        format!(
            "migration-gate: no prebuilt binary for freebsd-{}: install it with `cargo install migration-gate` or take a prebuilt archive from https://github.com/migration-gate/migration-gate/releases\n",
            std::env::consts::ARCH.replace("x86_64", "x64").replace("aarch64", "arm64")
        )
    );
}

#[test]
fn npm_launcher_without_its_platform_package_says_how_to_fix_it() {
    // `npm install --omit=optional`: the launcher is installed, its platform package is not.
    let dir = tempfile::tempdir().unwrap();
    let package = dir.path().join("node_modules/migration-gate/bin");
    std::fs::create_dir_all(&package).unwrap();
    std::fs::copy(
        repo_root().join("npm/migration-gate/bin/migration-gate.js"),
        package.join("migration-gate.js"),
    )
    .unwrap();
    let out = Command::new("node")
        .arg(package.join("migration-gate.js"))
        .arg("--version")
        .env_remove("MIGRATION_GATE_BINARY")
        .env_remove("NODE_OPTIONS")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1), "{}", show(&out));
    assert!(
        stderr(&out).contains(
            "(optional dependencies omitted?): reinstall migration-gate without --omit=optional"
        ),
        "{}",
        show(&out)
    );

    let out = Command::new("node")
        .arg(package.join("migration-gate.js"))
        .env("MIGRATION_GATE_BINARY", dir.path().join("nothing here"))
        .env_remove("NODE_OPTIONS")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1), "{}", show(&out));
    assert_eq!(
        stderr(&out),
        format!(
            "migration-gate: MIGRATION_GATE_BINARY is {}, which does not exist\n",
            dir.path().join("nothing here").display()
        )
    );
}

/// git in `dir`, with an identity, failing the test on error; returns stdout.
fn git(dir: &Path, args: &[&str]) -> String {
    let out = Command::new("git")
        .current_dir(dir)
        .args(args)
        .env("GIT_AUTHOR_NAME", "release")
        .env("GIT_AUTHOR_EMAIL", "release@example.com")
        .env("GIT_COMMITTER_NAME", "release")
        .env("GIT_COMMITTER_EMAIL", "release@example.com")
        .output()
        .unwrap();
    assert!(out.status.success(), "git {args:?}: {}", show(&out));
    stdout(&out).trim().to_string()
}

/// scripts/release-tags in a clone of `remote`, as the release job runs it.
fn release_tags(clone: &Path, args: &[&str]) -> Output {
    Command::new("bash")
        .arg(repo_root().join("scripts/release-tags"))
        .args(args)
        .current_dir(clone)
        .env("GIT_AUTHOR_NAME", "release")
        .env("GIT_AUTHOR_EMAIL", "release@example.com")
        .env("GIT_COMMITTER_NAME", "release")
        .env("GIT_COMMITTER_EMAIL", "release@example.com")
        .output()
        .unwrap()
}

/// The commit a tag of the remote points at.
fn remote_tag(remote: &Path, tag: &str) -> String {
    git(
        remote,
        &["rev-parse", &format!("refs/tags/{tag}^{{commit}}")],
    )
}

#[test]
fn release_tags_commit_the_sums_and_move_the_major_tag_only_forward() {
    let dir = tempfile::tempdir().unwrap();
    let remote = dir.path().join("remote.git");
    let clone = dir.path().join("clone");
    git(
        dir.path(),
        &["init", "-q", "--bare", remote.to_str().unwrap()],
    );
    git(
        dir.path(),
        &[
            "clone",
            "-q",
            remote.to_str().unwrap(),
            clone.to_str().unwrap(),
        ],
    );
    std::fs::create_dir(clone.join("dist")).unwrap();
    std::fs::write(clone.join("dist/checksums.txt"), "").unwrap();
    git(&clone, &["add", "."]);
    git(&clone, &["commit", "-qm", "C"]);
    git(&clone, &["push", "-q", "origin", "HEAD:main"]);
    let built = git(&clone, &["rev-parse", "HEAD"]);
    let sums = dir.path().join("checksums.txt");
    let release = |version: &str, sum: &str| {
        std::fs::write(
            &sums,
            format!("{sum}  migration-gate-{version}-x86_64-unknown-linux-gnu.tar.gz\n"),
        )
        .unwrap();
        git(&clone, &["checkout", "-q", "--detach", &built]);
        let out = release_tags(&clone, &["version", version, sums.to_str().unwrap()]);
        assert!(out.status.success(), "{}", show(&out));
        let out = release_tags(&clone, &["major", version]);
        assert!(out.status.success(), "{}", show(&out));
        out
    };

    release("0.2.0", "aa");
    let v020 = remote_tag(&remote, "v0.2.0");
    assert_eq!(git(&remote, &["rev-parse", &format!("{v020}^")]), built);
    assert_eq!(
        git(&remote, &["show", "v0.2.0:dist/checksums.txt"]),
        "# SHA-256 sums of the release archives the action installs, in `sha256sum` format.\n\
         # Written by the release workflow in the commit it tags v0.2.0 (see RELEASING.md).\n\
         aa  migration-gate-0.2.0-x86_64-unknown-linux-gnu.tar.gz"
    );
    assert_eq!(remote_tag(&remote, "v0"), v020);

    // A fix for an older line, and a pre-release: @v0 keeps the newest release.
    let out = release("0.1.5", "bb");
    assert!(
        stdout(&out).contains("v0.2.0 is newer than v0.1.5: v0 stays at v0.2.0"),
        "{}",
        show(&out)
    );
    assert_ne!(remote_tag(&remote, "v0.1.5"), v020);
    assert_eq!(remote_tag(&remote, "v0"), v020);
    release("0.3.0-rc.1", "cc");
    assert_eq!(remote_tag(&remote, "v0"), v020);
    // npm's `latest` too: `npx migration-gate` runs the newest release.
    for (version, dist_tag) in [
        ("0.2.0", "latest"),
        ("0.1.5", "maintenance"),
        ("0.3.0-rc.1", "next"),
    ] {
        let out = release_tags(&clone, &["npm-tag", version]);
        assert!(out.status.success(), "{}", show(&out));
        assert_eq!(stdout(&out), format!("{dist_tag}\n"), "{version}");
    }

    // A re-run of the job: what is done stays; other sums for a released version are refused.
    std::fs::write(
        &sums,
        "aa  migration-gate-0.2.0-x86_64-unknown-linux-gnu.tar.gz\n",
    )
    .unwrap();
    let out = release_tags(&clone, &["version", "0.2.0", sums.to_str().unwrap()]);
    assert!(out.status.success(), "{}", show(&out));
    assert_eq!(remote_tag(&remote, "v0.2.0"), v020);
    std::fs::write(
        &sums,
        "dd  migration-gate-0.2.0-x86_64-unknown-linux-gnu.tar.gz\n",
    )
    .unwrap();
    let out = release_tags(&clone, &["version", "0.2.0", sums.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1), "{}", show(&out));
    assert!(
        stdout(&out).contains(
            "::error::tag v0.2.0 exists with other sums than these archives: release a new version"
        ),
        "{}",
        show(&out)
    );
    // The major tag moved by a re-run after a first attempt stopped before moving it.
    git(&remote, &["tag", "-f", "v0", &built]);
    let out = release_tags(&clone, &["major", "0.2.0"]);
    assert!(out.status.success(), "{}", show(&out));
    assert_eq!(remote_tag(&remote, "v0"), v020);
}

/// The paths pre-commit passes to the published hook: those its `files` regex finds and its
/// `exclude` regex does not (pre-commit uses Python's `re.search`, which these regexes share).
fn pre_commit_selects(staged: &[&str]) -> Vec<String> {
    let hooks = read(&repo_root().join(".pre-commit-hooks.yaml"));
    let field = |name: &str| {
        let prefix = format!("  {name}: ");
        let value = hooks
            .lines()
            .find_map(|l| l.strip_prefix(&prefix))
            .unwrap_or_else(|| panic!("no {name} in .pre-commit-hooks.yaml"));
        regex::Regex::new(value).unwrap()
    };
    let (files, exclude) = (field("files"), field("exclude"));
    staged
        .iter()
        .filter(|path| files.is_match(path) && !exclude.is_match(path))
        .map(|path| path.to_string())
        .collect()
}

#[test]
fn pre_commit_hook_passes_the_up_scripts_of_each_layout() {
    assert_eq!(
        pre_commit_selects(&[
            "prisma/migrations/20260101_init/migration.sql",
            "prisma/migrations/migration_lock.toml",
            "prisma/migrations/20260101_init/down.sql",
            "apps/web/prisma/migrations/20260102_add/migration.sql",
            "db/migrations/001_init.sql",
            "db/migrations/001_init.down.sql",
            "db/migrations/README.md",
            "src/queries/report.sql",
        ]),
        [
            "prisma/migrations/20260101_init/migration.sql",
            "apps/web/prisma/migrations/20260102_add/migration.sql",
            "db/migrations/001_init.sql",
        ]
    );
}

#[test]
fn pre_commit_hook_in_a_monorepo_says_which_dir_to_pass() {
    // The root app's migrations and a second app's, staged in one commit.
    let project = Project::new();
    project.migration("20260101000000_init", "CREATE TABLE t (id int);\n");
    let web = project
        .path()
        .join("apps/web/prisma/migrations/20260102000000_drop");
    std::fs::create_dir_all(&web).unwrap();
    std::fs::write(web.join("migration.sql"), "ALTER TABLE t DROP COLUMN id;\n").unwrap();
    let staged = pre_commit_selects(&[
        "prisma/migrations/20260101000000_init/migration.sql",
        "apps/web/prisma/migrations/20260102000000_drop/migration.sql",
    ]);
    assert_eq!(staged.len(), 2);
    let out = Command::new(env!("CARGO_BIN_EXE_migration-gate"))
        .current_dir(project.path())
        .arg("check")
        .args(&staged)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2), "{}", show(&out));
    assert_eq!(
        stderr(&out),
        "error: `apps/web/prisma/migrations/20260102000000_drop/migration.sql` is not in \
         prisma/migrations but in apps/web/prisma/migrations: check one migrations folder at a \
         time, with --dir apps/web/prisma/migrations (pre-commit: one hook per folder, with its \
         own `files` and `args: [--dir, ...]`)\n"
    );

    // The hook entry the message asks for finds the DROP COLUMN.
    let out = Command::new(env!("CARGO_BIN_EXE_migration-gate"))
        .current_dir(project.path())
        .args(["check", "--dir", "apps/web/prisma/migrations"])
        .arg(&staged[1])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1), "{}", show(&out));
    assert!(
        stdout(&out).contains("error[drop-column]"),
        "{}",
        show(&out)
    );
}

#[test]
fn install_says_when_the_checksums_url_cannot_be_read() {
    let release = release(true);
    let server = serve(release.archive.clone());
    let runner = tempfile::tempdir().unwrap();
    let sums_url = format!("{}/mirror/checksums.txt", server.url);
    let out = install_step(&release, runner.path())
        .env("PATH", path_without_cargo())
        .env("MIGRATION_GATE_CHECKSUMS", &sums_url)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1), "{}", show(&out));
    assert!(
        stdout(&out).contains(&format!(
            "::error::could not download the checksums {sums_url}: check MIGRATION_GATE_CHECKSUMS"
        )),
        "{}",
        show(&out)
    );
    assert_eq!(read(&runner.path().join("output")), "");
}

#[test]
fn install_refuses_a_version_input_that_is_not_a_version() {
    let release = release(true);
    let server = serve(release.archive.clone());
    let cargo = fake_cargo();
    let runner = tempfile::tempdir().unwrap();
    // A path in the version would also be a path out of the tool cache.
    for version in ["latest", "0.9.1/../../../elsewhere"] {
        let out = install_step(&release, runner.path())
            .env("GITHUB_SERVER_URL", &server.url)
            .env("PATH", path_with(cargo.path()))
            .env("INPUT_VERSION", version)
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(1), "{}", show(&out));
        assert_eq!(
            stdout(&out),
            format!("::error::version input `{version}` is not a release version such as 0.9.1: give one, or leave it empty for this action's own (0.9.1)\n")
        );
    }
    assert_eq!(read(&cargo.path().join("calls")), "");
}

#[test]
fn install_reads_the_version_of_a_crlf_cargo_toml() {
    // The action checked out on a Windows runner, where git's core.autocrlf is true.
    let release = release(true);
    let manifest = release.action.path().join("Cargo.toml");
    std::fs::write(&manifest, read(&manifest).replace('\n', "\r\n")).unwrap();
    let server = serve(release.archive.clone());
    let runner = tempfile::tempdir().unwrap();
    let out = install_step(&release, runner.path())
        .env("GITHUB_SERVER_URL", &server.url)
        .env("INPUT_VERSION", "")
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", show(&out));
    assert!(
        stdout(&out).contains(&format!("installed {ASSET} (SHA-256 verified)")),
        "{}",
        show(&out)
    );
}

#[test]
fn release_builds_check_out_lf_line_ends_on_windows() {
    // Git on GitHub's Windows runners checks out with CRLF (core.autocrlf true): bash then fails
    // on scripts/dist (`set: pipefail\r`), the version check reads an empty version, and the
    // release job, which needs every build, never runs.
    let workflow = read(&repo_root().join(".github/workflows/release.yml"));
    let build =
        &workflow[workflow.find("\n  build:").unwrap()..workflow.find("\n  release:").unwrap()];
    let autocrlf = build.find("git config --global core.autocrlf false");
    let checkout = build.find("uses: actions/checkout@").unwrap();
    assert!(
        autocrlf.is_some_and(|at| at < checkout),
        "the build job checks out before turning core.autocrlf off:\n{build}"
    );
}

/// `npx migration-gate deploy` stopped by SIGTERM, sent to the launcher alone (`kill PID`, npm
/// passing it on, `docker stop` when npm is PID 1) or to the whole process group (`timeout`,
/// systemd): either way the binary gets it once, cancels the statement and says what state the
/// database is in. More than one SIGTERM would make it exit at once, without that report.
#[test]
fn npm_launcher_deploy_stopped_by_sigterm_reports_the_state() {
    use std::os::unix::process::CommandExt;
    for whole_group in [false, true] {
        let db = TestDb::new();
        let project = Project::new();
        project.migration("1_first", "CREATE TABLE first (id int);\n");
        project.migration(
            "2_slow",
            "CREATE TABLE sleepy (id int);\nSELECT pg_sleep(30);\n",
        );
        let child = launcher(Path::new(env!("CARGO_BIN_EXE_migration-gate")))
            .current_dir(project.path())
            .args(["deploy", "--database-url", &db.url])
            .process_group(0)
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        super::db_deploy::wait_for_query(&db, "SELECT pg_sleep(30)");
        let target = if whole_group {
            format!("-{}", child.id())
        } else {
            child.id().to_string()
        };
        let kill = Command::new("kill")
            .args(["-TERM", "--", &target])
            .status()
            .unwrap();
        assert!(kill.success());
        let out = child.wait_with_output().unwrap();
        let err = stderr(&out);
        assert!(
            err.contains("interrupted by SIGTERM while applying `2_slow`"),
            "whole group: {whole_group}: {}",
            show(&out)
        );
        assert_eq!(out.status.code(), Some(1), "{}", show(&out));
    }
}

#[test]
fn dist_without_a_target_value_says_how_to_call_it() {
    let out = Command::new("bash")
        .arg(repo_root().join("scripts/dist"))
        .arg("--target")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2), "{}", show(&out));
    assert_eq!(
        stderr(&out),
        "scripts/dist: --target needs a target triple (usage: scripts/dist [--target TRIPLE])\n"
    );
}
