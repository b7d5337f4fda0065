//! `migration-gate check` as a user runs it: exit codes, one-line errors, pending selection
//! (MIGRATION arguments, --since in a real git repository, start_after), and the exact findings
//! on the bundled demo history.

// Interim: the pipeline tests using these helpers land once analysis and report are in main.
#![allow(dead_code, unused_imports)]

use std::path::Path;
use std::process::{Command, Output};

use crate::support::{repo_root, run_in, stderr, stdout, Project};

/// Exit code 2 and exactly one line on stderr, `error: ...`, containing every fragment.
fn assert_usage_error(output: &Output, fragments: &[&str]) {
    let err = stderr(output);
    assert_eq!(output.status.code(), Some(2), "stderr: {err}");
    assert!(err.starts_with("error: "), "{err}");
    assert_eq!(err.lines().count(), 1, "one line expected: {err}");
    for fragment in fragments {
        assert!(err.contains(fragment), "`{fragment}` missing in: {err}");
    }
    assert!(!err.contains("panicked"), "{err}");
    assert_eq!(stdout(output), "");
}

const SAFE_INIT: &str = r#"-- CreateTable
CREATE TABLE "User" (
    "id" TEXT NOT NULL,
    "email" TEXT NOT NULL,
    "legacyHash" TEXT,

    CONSTRAINT "User_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE UNIQUE INDEX "User_email_key" ON "User"("email");
"#;

const DROP_LEGACY: &str = "-- AlterTable\nALTER TABLE \"User\" DROP COLUMN \"legacyHash\";\n";

const ADD_NICKNAME: &str = "-- AlterTable\nALTER TABLE \"User\" ADD COLUMN \"nickname\" TEXT;\n";

fn json(output: &Output) -> serde_json::Value {
    serde_json::from_slice(&output.stdout).unwrap_or_else(|e| {
        panic!(
            "stdout is not JSON ({e}): {}\nstderr: {}",
            stdout(output),
            stderr(output)
        )
    })
}

/// `(rule, severity, file, line)` of every finding.
fn findings(report: &serde_json::Value) -> Vec<(String, String, String, u64)> {
    report["findings"]
        .as_array()
        .expect("findings array")
        .iter()
        .map(|f| {
            (
                f["rule"].as_str().unwrap().to_string(),
                f["severity"].as_str().unwrap().to_string(),
                f["file"].as_str().unwrap().to_string(),
                f["line"].as_u64().unwrap(),
            )
        })
        .collect()
}

fn finding(rule: &str, severity: &str, file: &str, line: u64) -> (String, String, String, u64) {
    (rule.into(), severity.into(), file.into(), line)
}

// --- exit codes --------------------------------------------------------------------------

// --- one-line errors -------------------------------------------------------------------

#[test]
fn missing_dir_names_it_and_suggests_dir() {
    let dir = tempfile::tempdir().unwrap();
    // No prisma/migrations and no migrations: the default is `migrations`.
    let output = run_in(dir.path(), &["check"]);
    assert_usage_error(&output, &["migrations", "does not exist", "--dir"]);
    let output = run_in(dir.path(), &["check", "--dir", "db/missing"]);
    assert_usage_error(&output, &["db/missing", "does not exist", "--dir"]);
}

#[test]
fn folder_without_migration_sql_is_named() {
    let project = Project::new();
    project.migration("20240101000000_init", SAFE_INIT);
    std::fs::create_dir_all(project.migrations_dir().join("20240102000000_forgotten")).unwrap();
    let output = project.run(&["check"]);
    assert_usage_error(
        &output,
        &[
            "prisma/migrations/20240102000000_forgotten",
            "has no migration.sql",
        ],
    );
}

#[test]
fn wrong_provider_is_named() {
    let project = Project::new();
    project.write(
        "prisma/migrations/migration_lock.toml",
        "provider = \"mysql\"\n",
    );
    project.migration("20240101000000_init", "CREATE TABLE t (id int);");
    let output = project.run(&["check"]);
    assert_usage_error(
        &output,
        &[
            "prisma/migrations/migration_lock.toml",
            "provider = \"mysql\"",
            "postgresql",
        ],
    );
}

#[test]
fn invalid_utf8_names_the_file() {
    let project = Project::new();
    let path = project.migration("20240101000000_init", "");
    std::fs::write(&path, b"-- caf\xe9\nCREATE TABLE t (id int);\n").unwrap();
    let output = project.run(&["check"]);
    assert_usage_error(
        &output,
        &[
            "prisma/migrations/20240101000000_init/migration.sql",
            "not valid UTF-8",
        ],
    );
}

#[test]
fn unknown_rule_id_in_config_is_named() {
    let project = Project::new();
    project.migration("20240101000000_init", SAFE_INIT);
    project.write("migration-gate.toml", "[rules]\ndrop-colum = \"off\"\n");
    let output = project.run(&["check"]);
    assert_usage_error(
        &output,
        &[
            "migration-gate.toml",
            "unknown rule id `drop-colum`",
            "drop-column",
        ],
    );
}

#[test]
fn unknown_config_key_and_missing_config_file() {
    let project = Project::new();
    project.migration("20240101000000_init", SAFE_INIT);
    project.write("gate.toml", "pg_versoin = 14\n");
    let output = project.run(&["check", "--config", "gate.toml"]);
    assert_usage_error(
        &output,
        &["gate.toml", "unknown key `pg_versoin`", "pg_version"],
    );
    let output = project.run(&["check", "--config", "missing.toml"]);
    assert_usage_error(&output, &["missing.toml", "does not exist"]);
}

#[test]
fn unknown_migration_lists_close_names() {
    let project = Project::new();
    project.migration("20240101000000_init", SAFE_INIT);
    project.migration("20240102000000_drop_legacy", DROP_LEGACY);
    let output = project.run(&["check", "20240102000000_drop_legasy"]);
    assert_usage_error(
        &output,
        &[
            "unknown migration `20240102000000_drop_legasy`",
            "did you mean: 20240102000000_drop_legacy",
        ],
    );
}

// --- start_after -----------------------------------------------------------------------

// --- --since in a real git repository --------------------------------------------------

fn git(dir: &Path, args: &[&str]) {
    let output = Command::new("git")
        .args(["-c", "user.name=Test", "-c", "user.email=test@example.com"])
        .args(args)
        .current_dir(dir)
        .env_remove("GIT_DIR")
        .env_remove("GIT_WORK_TREE")
        .output()
        .expect("git");
    assert!(
        output.status.success(),
        "git {args:?}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
}

#[test]
fn since_outside_a_git_repository_is_a_clear_error() {
    let project = Project::new();
    project.migration("20240101000000_init", SAFE_INIT);
    let output = project.run(&["check", "--since", "main"]);
    assert_usage_error(&output, &["needs a git repository", "prisma/migrations"]);
}

// --- the bundled demo history ----------------------------------------------------------

const API_KEYS: &str = "migrations/20240416102233_api_keys_and_project_slugs/migration.sql";
const REVIEW_STATUS: &str = "migrations/20240430150912_task_review_status/migration.sql";
const DROP_HASH: &str = "migrations/20240514093045_drop_legacy_password_hash/migration.sql";
