//! `migration-gate check` as a user runs it: exit codes, one-line errors, pending selection
//! (MIGRATION arguments, --since in a real git repository, start_after), and the exact findings
//! on the bundled demo history.

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

#[test]
fn safe_migrations_exit_0() {
    let project = Project::new();
    project.migration("20240101000000_init", SAFE_INIT);
    project.migration("20240102000000_nickname", ADD_NICKNAME);
    let output = project.run(&["check", "--format", "json"]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let report = json(&output);
    assert_eq!(findings(&report), []);
    assert_eq!(report["summary"]["files"], 2);
}

#[test]
fn an_error_finding_exits_1() {
    let project = Project::new();
    project.migration("20240101000000_init", SAFE_INIT);
    project.migration("20240102000000_drop_legacy", DROP_LEGACY);
    let output = project.run(&["check", "20240102000000_drop_legacy", "--format", "json"]);
    assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));
    assert_eq!(
        findings(&json(&output)),
        [finding(
            "drop-column",
            "error",
            "prisma/migrations/20240102000000_drop_legacy/migration.sql",
            2
        )]
    );
}

#[test]
fn config_can_turn_an_error_into_a_warning() {
    let project = Project::new();
    project.migration("20240101000000_init", SAFE_INIT);
    project.migration("20240102000000_drop_legacy", DROP_LEGACY);
    project.write(
        "migration-gate.toml",
        "[rules]\ndrop-column = \"warning\"\n",
    );
    let output = project.run(&["check", "20240102000000_drop_legacy", "--format", "json"]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let report = json(&output);
    assert_eq!(
        findings(&report),
        [finding(
            "drop-column",
            "warning",
            "prisma/migrations/20240102000000_drop_legacy/migration.sql",
            2
        )]
    );
}

#[test]
fn migration_arguments_accept_names_folders_and_files() {
    let project = Project::new();
    project.migration("20240101000000_init", SAFE_INIT);
    project.migration("20240102000000 drop legacy", DROP_LEGACY);
    for arg in [
        "20240102000000 drop legacy",
        "prisma/migrations/20240102000000 drop legacy",
        "prisma/migrations/20240102000000 drop legacy/migration.sql",
    ] {
        let output = project.run(&["check", arg, "--format", "json"]);
        assert_eq!(output.status.code(), Some(1), "{arg}: {}", stderr(&output));
        let report = json(&output);
        // Only the named migration is judged; the other one is history.
        assert_eq!(report["summary"]["files"], 1, "{arg}");
        assert_eq!(
            findings(&report),
            [finding(
                "drop-column",
                "error",
                "prisma/migrations/20240102000000 drop legacy/migration.sql",
                2
            )],
            "{arg}"
        );
    }
}

// --- one-line errors -------------------------------------------------------------------

#[test]
fn missing_dir_names_it_and_suggests_dir() {
    let dir = tempfile::tempdir().unwrap();
    // No prisma/migrations and no migrations: the default is `migrations`.
    let output = run_in(dir.path(), &["check"]);
    assert_usage_error(
        &output,
        &["neither prisma/migrations nor migrations exists", "--dir"],
    );
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
fn pg_version_must_be_a_major_version() {
    let project = Project::new();
    project.migration("20240101000000_init", SAFE_INIT);
    let output = project.run(&["check", "--pg-version", "3"]);
    assert_usage_error(&output, &["--pg-version 3", "major version"]);
    project.write("migration-gate.toml", "pg_version = 150\n");
    let output = project.run(&["check"]);
    assert_usage_error(&output, &["migration-gate.toml", "pg_version"]);
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

#[test]
fn start_after_makes_older_migrations_history() {
    let project = Project::new();
    project.migration("20240101000000_init", SAFE_INIT);
    project.migration("20240102000000_drop_legacy", DROP_LEGACY);
    project.migration("20240103000000_nickname", ADD_NICKNAME);

    project.write(
        "migration-gate.toml",
        "start_after = \"20240102000000_drop_legacy\"\n",
    );
    let output = project.run(&["check", "--format", "json"]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let report = json(&output);
    assert_eq!(report["summary"]["files"], 1);
    assert_eq!(findings(&report), []);

    project.write(
        "migration-gate.toml",
        "start_after = \"20240101000000_init\"\n",
    );
    let output = project.run(&["check", "--format", "json"]);
    assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));
    assert_eq!(
        findings(&json(&output)),
        [finding(
            "drop-column",
            "error",
            "prisma/migrations/20240102000000_drop_legacy/migration.sql",
            2
        )]
    );

    project.write("migration-gate.toml", "start_after = \"2024_nope\"\n");
    let output = project.run(&["check"]);
    assert_usage_error(&output, &["start_after", "2024_nope"]);
}

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
fn since_checks_added_and_edited_migrations() {
    let project = Project::new();
    let root = project.path();
    git(root, &["init", "-q", "-b", "main"]);
    project.migration("20240101000000_init", SAFE_INIT);
    project.migration("20240301000000_nickname", ADD_NICKNAME);
    git(root, &["add", "-A"]);
    git(root, &["commit", "-q", "-m", "base"]);
    git(root, &["checkout", "-q", "-b", "feature"]);

    // Nothing changed yet: nothing to judge.
    let output = project.run(&["check", "--since", "main", "--format", "json"]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    assert_eq!(json(&output)["summary"]["files"], 0);

    // A new migration (sorts before the newest at main) and an edit of a merged one.
    project.migration("20240201000000_drop_legacy", DROP_LEGACY);
    git(root, &["add", "-A"]);
    git(root, &["commit", "-q", "-m", "drop legacy"]);
    project.migration(
        "20240301000000_nickname",
        "-- AlterTable\nALTER TABLE \"User\" ADD COLUMN \"nickname\" VARCHAR(64);\n",
    );

    let output = project.run(&["check", "--since", "main", "--format", "json"]);
    assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));
    let report = json(&output);
    assert_eq!(report["summary"]["files"], 2);
    let mut got = findings(&report);
    got.sort();
    assert_eq!(
        got,
        [
            finding(
                "drop-column",
                "error",
                "prisma/migrations/20240201000000_drop_legacy/migration.sql",
                2
            ),
            finding(
                "edited-migration",
                "error",
                "prisma/migrations/20240301000000_nickname/migration.sql",
                1
            ),
            finding(
                "out-of-order-migration",
                "warning",
                "prisma/migrations/20240201000000_drop_legacy/migration.sql",
                1
            ),
        ]
    );

    let output = project.run(&["check", "--since", "no-such-branch"]);
    assert_usage_error(&output, &["--since no-such-branch", "no such commit"]);
}

#[test]
fn migration_arguments_and_since_together_are_a_usage_error() {
    let project = Project::new();
    project.migration("20240101000000_init", SAFE_INIT);
    let output = project.run(&["check", "20240101000000_init", "--since", "main"]);
    assert_usage_error(&output, &["either MIGRATION arguments or --since"]);
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

/// The README's main job: `check` in the repository root judges the three newest migrations
/// (root `migration-gate.toml`: start_after the seventh).
#[test]
fn bundled_migrations_exact_findings() {
    let output = run_in(&repo_root(), &["check", "--format", "json"]);
    assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));
    let report = json(&output);
    assert_eq!(
        findings(&report),
        [
            // ADD COLUMN "slug" TEXT NOT NULL on the existing Project table.
            finding("add-column-required", "error", API_KEYS, 9),
            // Unique index on the existing Project table, built without CONCURRENTLY.
            finding("create-index-blocking", "error", API_KEYS, 36),
            // ... while line 12's ACCESS EXCLUSIVE on "User" is still held (one transaction).
            finding("slow-under-lock", "error", API_KEYS, 36),
            // Index on the existing Task table, without CONCURRENTLY.
            finding("create-index-blocking", "error", API_KEYS, 39),
            // ... while line 9's ACCESS EXCLUSIVE on "Project" is still held.
            finding("slow-under-lock", "error", API_KEYS, 39),
            // Prisma's enum recreate: ALTER COLUMN TYPE ... USING ("status"::text::...).
            finding("alter-column-type", "error", REVIEW_STATUS, 11),
            finding("rename-column", "error", REVIEW_STATUS, 20),
            // The backfill runs in one transaction over the whole table.
            finding("unbatched-data-change", "warning", DROP_HASH, 2),
        ]
    );
    let allowed = report["allowed"].as_array().expect("allowed array");
    assert_eq!(allowed.len(), 1, "{allowed:?}");
    assert_eq!(allowed[0]["rule"], "drop-column");
    assert_eq!(allowed[0]["file"], DROP_HASH);
    assert_eq!(allowed[0]["line"], 6);
    assert_eq!(allowed[0]["allow_line"], 5);
    assert_eq!(
        allowed[0]["reason"],
        "password login removed in release 2024.05 (PR #412); no deployed code reads legacyPasswordHash"
    );
    assert_eq!(report["summary"]["files"], 3);
    assert_eq!(report["summary"]["errors"], 7);
    assert_eq!(report["summary"]["warnings"], 1);
    assert_eq!(report["summary"]["unparsed"], 0);
}

/// `--deployer prisma` judges the files as `prisma migrate deploy` sends them, at the version the
/// project's package.json names, and the report says which.
#[test]
fn deployer_prisma_follows_the_projects_prisma_version() {
    let project = Project::new();
    project.migration("20240101000000_init", SAFE_INIT);
    project.migration(
        "20240201000000_index",
        "CREATE TABLE \"Other\" (id INTEGER);\nCREATE INDEX CONCURRENTLY \"Other_id_idx\" ON \"Other\"(id);\n",
    );
    let check = |args: &[&str]| {
        let mut all = vec!["check", "--format", "json", "20240201000000_index"];
        all.extend_from_slice(args);
        project.run(&all)
    };
    // Unknown version: judged as Prisma up to 7.3 (one query per file), and said so.
    let output = check(&["--deployer", "prisma"]);
    assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));
    let report = json(&output);
    let rules: Vec<&str> = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["rule"].as_str().unwrap())
        .collect();
    assert_eq!(rules, ["concurrently-in-transaction"]);
    assert!(
        report["notes"].to_string().contains("unknown version"),
        "{report}"
    );
    // Prisma 7.4 sends the statements one by one: CONCURRENTLY works.
    project.write(
        "package.json",
        "{\"devDependencies\": {\"prisma\": \"^7.4.0\"}}",
    );
    let output = check(&["--deployer", "prisma"]);
    assert_eq!(output.status.code(), Some(0), "{}", stdout(&output));
    assert!(json(&output)["notes"].to_string().contains("7.4.0"));
    // Our deploy runs it alone in autocommit.
    assert_eq!(check(&[]).status.code(), Some(0));
    project.write("package.json", "{ \"devDependencies\": ");
    let output = check(&["--deployer", "prisma"]);
    assert_usage_error(&output, &["package.json is not valid JSON"]);
    let output = check(&["--deployer", "flyway"]);
    assert_eq!(output.status.code(), Some(2));
    assert!(
        stderr(&output).contains("not a deployer"),
        "{}",
        stderr(&output)
    );
}

/// With every migration pending (a fresh database) each table is created in the same pending
/// set, so nothing touches a table with rows: no finding, and the unused allow is not listed.
#[test]
fn bundled_migrations_on_an_empty_database_have_no_findings() {
    // A copy outside any git repository: in the checkout, a bare `check` on a branch judges
    // only what the branch changed.
    let elsewhere = tempfile::tempdir().unwrap();
    let dir = elsewhere.path().join("migrations");
    copy_dir(&repo_root().join("migrations"), &dir);
    let output = run_in(
        elsewhere.path(),
        &["check", "--dir", dir.to_str().unwrap(), "--format", "json"],
    );
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let report = json(&output);
    assert_eq!(report["summary"]["files"], 10);
    assert_eq!(findings(&report), []);
    assert_eq!(report["allowed"], serde_json::json!([]));
}

/// The demo history is real: every migration applies in order on PostgreSQL, and the newest
/// three's `down.sql` scripts bring the schema back to exactly what the first seven built.
#[test]
fn bundled_migrations_apply_and_roll_back_on_postgresql() {
    let db = crate::support::TestDb::new();
    let mut folders: Vec<_> = std::fs::read_dir(repo_root().join("migrations"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.is_dir())
        .collect();
    folders.sort();
    assert_eq!(folders.len(), 10);
    // One session for everything: the files hold BEGIN ... COMMIT blocks and CONCURRENTLY
    // statements, so each statement is sent on its own, the way psql runs a file.
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let client = runtime.block_on(async {
        let (client, connection) = tokio_postgres::connect(&db.url, tokio_postgres::NoTls)
            .await
            .expect("connect to the test database");
        tokio::spawn(connection);
        client
    });
    let run_file = |path: &Path| {
        let source = std::fs::read_to_string(path).unwrap();
        for statement in migration_gate::sql::split::split(&source) {
            let sql = statement.text(&source);
            runtime
                .block_on(client.simple_query(sql))
                .unwrap_or_else(|e| panic!("{}: {sql}: {e}", path.display()));
        }
    };
    for folder in &folders[..7] {
        run_file(&folder.join("migration.sql"));
    }
    let history_schema = schema_snapshot(&db);
    for folder in &folders[7..] {
        run_file(&folder.join("migration.sql"));
    }
    let newest_schema = schema_snapshot(&db);
    assert_ne!(history_schema, newest_schema);
    for folder in folders[7..].iter().rev() {
        run_file(&folder.join("down.sql"));
    }
    assert_eq!(schema_snapshot(&db), history_schema);
}

/// Columns (type, nullability, default), indexes, constraints and enum values of `public`.
fn schema_snapshot(db: &crate::support::TestDb) -> Vec<Vec<String>> {
    let mut rows = db.query(
        "SELECT 'column', table_name::text, column_name::text, udt_name::text, is_nullable::text, \
                coalesce(column_default, '') \
           FROM information_schema.columns WHERE table_schema = 'public'",
    );
    rows.extend(db.query(
        "SELECT 'index', indexname::text, indexdef FROM pg_indexes WHERE schemaname = 'public'",
    ));
    rows.extend(db.query(
        "SELECT 'constraint', conrelid::regclass::text, conname::text, pg_get_constraintdef(oid) \
           FROM pg_constraint WHERE connamespace = 'public'::regnamespace",
    ));
    rows.extend(db.query(
        "SELECT 'enum', t.typname::text, string_agg(e.enumlabel, ',' ORDER BY e.enumsortorder) \
           FROM pg_type t JOIN pg_enum e ON e.enumtypid = t.oid GROUP BY t.typname",
    ));
    rows.sort();
    rows
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), target).unwrap();
        }
    }
}

/// `(rule, line, column)` of every finding.
fn finding_positions(report: &serde_json::Value) -> Vec<(String, u64, u64)> {
    report["findings"]
        .as_array()
        .expect("findings array")
        .iter()
        .map(|f| {
            (
                f["rule"].as_str().unwrap().to_string(),
                f["line"].as_u64().unwrap(),
                f["column"].as_u64().unwrap(),
            )
        })
        .collect()
}

#[test]
fn unterminated_tokens_and_nul_bytes_are_errors_at_their_position_in_check() {
    let cases = [
        ("CREATE TABLE a (id int);\n  /* oops\nDROP TABLE a;\n", 2, 3),
        (
            "CREATE TABLE a (id int);\nSELECT 'it''s;\nDROP TABLE a;\n",
            2,
            8,
        ),
        ("CREATE TABLE a (id int);\nSELECT E'x\\';\n", 2, 8),
        ("CREATE TABLE \"a;\n", 1, 14),
        (
            "CREATE TABLE a (id int);\nDO $body$ BEGIN DROP TABLE a; END $$;\n",
            2,
            4,
        ),
        ("CREATE TABLE a (id int);\nSELECT 'a\0';\n", 2, 10),
    ];
    for (sql, line, column) in cases {
        let project = Project::new();
        project.migration("20240101000000_init", sql);
        let output = project.run(&["check", "--format", "json"]);
        assert_eq!(
            output.status.code(),
            Some(1),
            "{sql:?}: {}",
            stderr(&output)
        );
        let positions = finding_positions(&json(&output));
        assert!(
            positions.contains(&("malformed-sql".to_string(), line, column)),
            "{sql:?}: {positions:?}"
        );
    }
}

#[test]
fn deploy_refuses_a_pending_set_with_an_unterminated_comment_before_sending_anything() {
    use crate::db_deploy::{deploy, exists};
    let db = crate::support::TestDb::new();
    let project = Project::new();
    project.migration("20240101000000_ok", "CREATE TABLE first_ok (id int);\n");
    project.migration(
        "20240102000000_broken",
        "CREATE TABLE second_ok (id int);\n/* forgot to close\nDROP TABLE first_ok;\n",
    );
    let output = deploy(&project, &db, &[]);
    let err = stderr(&output);
    assert_eq!(output.status.code(), Some(1), "{err}");
    assert!(
        err.contains("20240102000000_broken/migration.sql:2:1: unterminated /* comment"),
        "{err}"
    );
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(!exists(&db, "first_ok") && !exists(&db, "second_ok"));
}

#[test]
fn deploy_refuses_unterminated_quotes_and_nul_bytes_pointing_into_the_users_file() {
    use crate::db_deploy::{deploy, exists};
    for (sql, expected) in [
        (
            "CREATE TABLE t1 (id int);\nINSERT INTO t1 VALUES (1), ('x);\n",
            "migration.sql:2:29: unterminated quoted string",
        ),
        (
            "CREATE TABLE t1 (id int);\nCOMMENT ON TABLE t1 IS 'a\0b';\n",
            "migration.sql:2:26: NUL byte",
        ),
    ] {
        let db = crate::support::TestDb::new();
        let project = Project::new();
        project.migration("20240101000000_init", sql);
        let output = deploy(&project, &db, &[]);
        let err = stderr(&output);
        assert_eq!(output.status.code(), Some(1), "{err}");
        assert!(err.contains(expected), "`{expected}` missing: {err}");
        assert!(!err.contains("_prisma_migrations"), "{err}");
        assert!(!exists(&db, "t1"));
    }
}

#[test]
fn long_operator_chains_never_abort_even_in_a_second_file() {
    let project = Project::new();
    let plus = vec!["1"; 150_000].join(" + ");
    project.migration("20240101000000_plus", &format!("SELECT {plus};\n"));
    let or = vec!["id = 1"; 40_000].join(" OR ");
    project.migration(
        "20240102000000_or",
        &format!("DELETE FROM \"User\" WHERE {or};\nDROP TABLE \"User\";\n"),
    );
    let concat = vec!["'a'"; 100_000].join(" || ");
    project.migration("20240103000000_concat", &format!("SELECT {concat};\n"));
    let nested = format!(
        "SELECT {}1;\n{}END;\nDO $$ BEGIN {} NULL; END $$;\n",
        "(".repeat(100_000),
        "IF x THEN ".repeat(40_000),
        "IF x THEN ".repeat(40_000)
    );
    project.migration("20240104000000_nested", &nested);
    let output = project.run(&["check", "--format", "json"]);
    assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));
    let report = json(&output);
    assert_eq!(report["summary"]["files"], 4);
    let rules: Vec<String> = finding_positions(&report)
        .into_iter()
        .map(|(rule, _, _)| rule)
        .collect();
    assert!(rules.contains(&"drop-table".to_string()), "{rules:?}");
}

#[test]
fn long_cast_chains_never_abort() {
    let project = Project::new();
    let casts = "::int".repeat(150_000);
    project.migration(
        "20240101000000_casts",
        &format!("SELECT 1{casts};\nDROP TABLE \"User\";\n"),
    );
    let output = project.run(&["check", "--format", "json"]);
    assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));
    let rules: Vec<String> = finding_positions(&json(&output))
        .into_iter()
        .map(|(rule, _, _)| rule)
        .collect();
    assert!(rules.contains(&"drop-table".to_string()), "{rules:?}");
}

#[test]
fn deploy_stops_for_review_on_a_call_of_a_routine_whose_body_drops_a_table() {
    use crate::db_deploy::{deploy, exists};
    let db = crate::support::TestDb::new();
    let project = Project::new();
    project.migration(
        "20240101000000_init",
        "CREATE TABLE users (id int);\nCREATE PROCEDURE wipe() LANGUAGE plpgsql AS $$\nBEGIN\n  DROP TABLE users;\nEND $$;\n",
    );
    crate::db_deploy::assert_success(&deploy(&project, &db, &[]));
    project.migration("20240102000000_cleanup", "CALL wipe();\n");
    let output = deploy(&project, &db, &[]);
    assert_eq!(output.status.code(), Some(3), "{}", stderr(&output));
    assert!(
        stderr(&output).contains("error[drop-table]"),
        "{}",
        stderr(&output)
    );
    assert!(
        exists(&db, "users"),
        "the gated migration must not have run"
    );
}

#[test]
fn rollback_refuses_a_down_script_with_an_unterminated_dollar_quote() {
    use crate::db_deploy::{assert_success, deploy, exists, run_db};
    let db = crate::support::TestDb::new();
    let project = Project::new();
    project.migration("20240101000000_a", "CREATE TABLE kept (id int);\n");
    project.migration("20240102000000_b", "CREATE TABLE also_kept (id int);\n");
    assert_success(&deploy(&project, &db, &[]));
    project.write(
        "prisma/migrations/20240102000000_b/down.sql",
        "DROP TABLE also_kept;\nDO $x$ BEGIN DROP TABLE kept; END $$;\n",
    );
    let output = run_db(&project, &db, &["rollback", "--steps", "1"]);
    let err = stderr(&output);
    assert_eq!(output.status.code(), Some(1), "{err}");
    assert!(
        err.contains("20240102000000_b/down.sql:2:4: unterminated dollar-quoted string"),
        "{err}"
    );
    assert!(exists(&db, "kept") && exists(&db, "also_kept"));
}
