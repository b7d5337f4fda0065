//! `deploy` against real PostgreSQL: applying, atomicity, CONCURRENTLY, lock-timeout retries,
//! refusal states, the review gate, and a deploy killed mid-statement.

use std::process::Output;
use std::sync::mpsc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use crate::support::{stderr, stdout, Project, TestDb};

/// Run a database command of the binary against `db`.
pub fn run_db(project: &Project, db: &TestDb, args: &[&str]) -> Output {
    let mut all: Vec<&str> = args.to_vec();
    all.extend(["--database-url", &db.url]);
    project.run(&all)
}

/// `deploy` started in the background, its output piped, for tests that act while it runs.
pub fn spawn_deploy(project: &Project, db: &TestDb, extra: &[&str]) -> std::process::Child {
    crate::support::bin()
        .current_dir(project.path())
        .args(["deploy", "--database-url", &db.url])
        .args(extra)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap()
}

pub fn deploy(project: &Project, db: &TestDb, extra: &[&str]) -> Output {
    let mut args = vec!["deploy"];
    args.extend(extra);
    run_db(project, db, &args)
}

pub fn status_json(project: &Project, db: &TestDb) -> (u8, serde_json::Value) {
    let output = run_db(project, db, &["status", "--format", "json"]);
    let json = serde_json::from_slice(&output.stdout).unwrap_or_else(|e| {
        panic!(
            "status --format json is not JSON ({e}): {}{}",
            stdout(&output),
            stderr(&output)
        )
    });
    (output.status.code().unwrap() as u8, json)
}

/// Each migration's state from `status --format json`.
pub fn states(project: &Project, db: &TestDb) -> Vec<(String, String)> {
    let (_, json) = status_json(project, db);
    json["migrations"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| {
            (
                m["name"].as_str().unwrap().to_string(),
                m["state"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

pub fn exists(db: &TestDb, relation: &str) -> bool {
    db.query(&format!("SELECT to_regclass('{relation}') IS NOT NULL"))[0][0] == "t"
}

pub fn assert_success(output: &Output) {
    assert!(
        output.status.success(),
        "expected success, got {:?}\nstdout:\n{}\nstderr:\n{}",
        output.status.code(),
        stdout(output),
        stderr(output)
    );
}

/// Hold a session on `url` in a background thread: run `sql` (e.g. BEGIN + LOCK), keep the
/// session open for `hold`, then roll back. Returns once `sql` has run.
/// `deploy` with `args` while another session holds ACCESS EXCLUSIVE on `table` for `hold`.
fn deploy_behind_exclusive_lock(
    project: &Project,
    db: &TestDb,
    table: &str,
    hold: Duration,
    args: &[&str],
) -> Output {
    let holder = hold_session(
        &db.url,
        &format!("BEGIN; LOCK TABLE {table} IN ACCESS EXCLUSIVE MODE"),
        hold,
    );
    let output = deploy(project, db, args);
    holder.join().unwrap();
    output
}

pub fn hold_session(url: &str, sql: &str, hold: Duration) -> JoinHandle<()> {
    let (ready_tx, ready_rx) = mpsc::channel();
    let url = url.to_string();
    let sql = sql.to_string();
    let handle = std::thread::spawn(move || {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        runtime.block_on(async {
            let (client, connection) = tokio_postgres::connect(&url, tokio_postgres::NoTls)
                .await
                .unwrap();
            tokio::spawn(connection);
            client.batch_execute(&sql).await.unwrap();
            ready_tx.send(()).unwrap();
            tokio::time::sleep(hold).await;
            let _ = client.batch_execute("ROLLBACK").await;
        });
    });
    ready_rx.recv().expect("lock holder started");
    handle
}

const INIT: &str = "-- CreateTable\nCREATE TABLE \"User\" (\n    \"id\" SERIAL NOT NULL,\n    \"email\" TEXT NOT NULL,\n    CONSTRAINT \"User_pkey\" PRIMARY KEY (\"id\")\n);\n";

#[test]
fn fresh_deploy_applies_everything_and_a_redeploy_applies_nothing() {
    let db = TestDb::new();
    let project = Project::new();
    project.migration("20240101000000_init", INIT);
    project.migration(
        "20240102000000_posts",
        "CREATE TABLE \"Post\" (\"id\" SERIAL PRIMARY KEY, \"title\" TEXT NOT NULL);\n",
    );

    let first = deploy(&project, &db, &[]);
    assert_success(&first);
    let out = stdout(&first);
    assert!(
        out.contains("2 migrations found in prisma/migrations"),
        "{out}"
    );
    assert!(
        out.contains("Applying migration `20240101000000_init`"),
        "{out}"
    );
    assert!(
        out.contains("Applying migration `20240102000000_posts`"),
        "{out}"
    );
    assert!(
        out.contains("All migrations have been successfully applied."),
        "{out}"
    );
    assert!(exists(&db, "\"User\"") && exists(&db, "\"Post\""));

    let again = deploy(&project, &db, &[]);
    assert_success(&again);
    assert!(stdout(&again).contains("No pending migrations to apply."));
    let rows = db.query("SELECT migration_name FROM _prisma_migrations ORDER BY started_at");
    assert_eq!(
        rows,
        vec![
            vec!["20240101000000_init".to_string()],
            vec!["20240102000000_posts".to_string()]
        ]
    );
}

#[test]
fn a_failure_in_the_middle_of_a_file_leaves_nothing_of_it() {
    let db = TestDb::new();
    let project = Project::new();
    project.migration("1_ok", "CREATE TABLE kept (id int);\n");
    project.migration(
        "2_broken",
        "CREATE TABLE half (id int);\nINSERT INTO half VALUES (1);\nALTER TABLE half\n  ADD COLUMN x nosuchtype;\nCREATE TABLE after_error (id int);\n",
    );
    project.migration("3_later", "CREATE TABLE later (id int);\n");

    let output = deploy(&project, &db, &[]);
    assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));
    let err = stderr(&output);
    // The error position points at the unknown type on line 4.
    assert!(
        err.contains("prisma/migrations/2_broken/migration.sql:4:16"),
        "{err}"
    );
    assert!(err.contains("SQLSTATE 42704"), "{err}");
    assert!(err.contains("type \"nosuchtype\" does not exist"), "{err}");
    assert!(err.contains("resolve --rolled-back 2_broken"), "{err}");

    assert!(exists(&db, "kept"));
    assert!(
        !exists(&db, "half"),
        "a failed migration must leave nothing"
    );
    assert!(!exists(&db, "later"), "later migrations are not attempted");
    let rows = db.query(
        "SELECT migration_name, finished_at IS NULL, logs FROM _prisma_migrations ORDER BY started_at",
    );
    assert_eq!(rows.len(), 2, "{rows:?}");
    assert_eq!(rows[1][0], "2_broken");
    assert_eq!(rows[1][1], "t");
    assert!(
        rows[1][2].contains("Database error code: 42704"),
        "{}",
        rows[1][2]
    );
    assert!(rows[1][2].contains("nosuchtype"), "{}", rows[1][2]);
}

#[test]
fn a_failed_migration_is_recorded_with_the_time_it_started() {
    // The refusal message and status show started_at: it must be the start, not the failure.
    let db = TestDb::new();
    let project = Project::new();
    project.migration(
        "1_slow_broken",
        "SELECT pg_sleep(1.5);\nCREATE TABLE t (id nosuchtype);\n",
    );
    let before = db.query("SELECT clock_timestamp()::text")[0][0].clone();
    assert_eq!(deploy(&project, &db, &[]).status.code(), Some(1));
    let rows = db.query(&format!(
        "SELECT started_at >= '{before}'::timestamptz, \
         started_at < '{before}'::timestamptz + interval '1 second', finished_at IS NULL \
         FROM _prisma_migrations"
    ));
    assert_eq!(rows, vec![vec!["t", "t", "t"]]);
}

#[test]
fn a_failed_migration_in_the_history_blocks_the_next_deploy() {
    let db = TestDb::new();
    let project = Project::new();
    project.migration("1_broken", "CREATE TABLE t (id nosuchtype);\n");
    assert_eq!(deploy(&project, &db, &[]).status.code(), Some(1));

    project.migration("1_broken", "CREATE TABLE t (id int);\n");
    let output = deploy(&project, &db, &[]);
    assert_ne!(output.status.code(), Some(0));
    let err = stderr(&output);
    assert!(err.contains("`1_broken` started at"), "{err}");
    assert!(err.contains("resolve --rolled-back 1_broken"), "{err}");
    assert!(err.contains("resolve --applied 1_broken"), "{err}");
    assert_eq!(err.trim().lines().count(), 1, "one-line error: {err}");
    assert!(!exists(&db, "t"));
}

#[test]
fn concurrently_statements_run_alone_between_transactional_segments() {
    let db = TestDb::new();
    let project = Project::new();
    project.migration(
        "1_mixed",
        "CREATE TABLE item (id int, sku text);\nINSERT INTO item VALUES (1, 'a'), (2, 'b');\nCREATE INDEX CONCURRENTLY item_sku_idx ON item (sku);\nALTER TABLE item ADD COLUMN price int;\nCREATE UNIQUE INDEX CONCURRENTLY item_id_key ON item (id);\n",
    );
    let output = deploy(&project, &db, &[]);
    assert_success(&output);
    let indexes = db.query(
        "SELECT c.relname, i.indisvalid FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid \
         WHERE i.indrelid = 'item'::regclass ORDER BY 1",
    );
    assert_eq!(
        indexes,
        vec![
            vec!["item_id_key".to_string(), "t".to_string()],
            vec!["item_sku_idx".to_string(), "t".to_string()]
        ]
    );
    assert_eq!(
        db.query("SELECT count(*) FROM information_schema.columns WHERE table_name = 'item' AND column_name = 'price'")[0][0],
        "1"
    );
    let (code, _) = status_json(&project, &db);
    assert_eq!(code, 0);
}

#[test]
fn a_failed_concurrent_index_build_leaves_no_invalid_index() {
    let db = TestDb::new();
    let project = Project::new();
    project.migration(
        "1_table",
        "CREATE TABLE dup (v int);\nINSERT INTO dup VALUES (1), (1);\n",
    );
    project.migration(
        "2_unique",
        "CREATE UNIQUE INDEX CONCURRENTLY dup_v_key ON dup (v);\n",
    );
    let output = deploy(&project, &db, &[]);
    assert_eq!(output.status.code(), Some(1));
    assert!(
        stderr(&output).contains("SQLSTATE 23505"),
        "{}",
        stderr(&output)
    );
    assert!(
        stdout(&output).contains("Dropped the INVALID index public.dup_v_key"),
        "{}",
        stdout(&output)
    );
    assert!(!exists(&db, "dup_v_key"));
    assert_eq!(
        states(&project, &db),
        vec![
            ("1_table".to_string(), "applied".to_string()),
            ("2_unique".to_string(), "failed".to_string())
        ]
    );
}

#[test]
fn a_lock_timeout_is_retried_until_the_lock_is_released() {
    let db = TestDb::new();
    let project = Project::new();
    project.migration("1_accounts", "CREATE TABLE accounts (id int);\n");
    assert_success(&deploy(&project, &db, &[]));
    project.migration(
        "2_balance",
        "ALTER TABLE accounts ADD COLUMN balance int;\n",
    );

    let holder = hold_session(
        &db.url,
        "BEGIN; LOCK TABLE accounts IN ACCESS EXCLUSIVE MODE",
        Duration::from_millis(1500),
    );
    let started = Instant::now();
    let output = deploy(
        &project,
        &db,
        &["--lock-timeout", "300ms", "--lock-retries", "5"],
    );
    holder.join().unwrap();
    assert_success(&output);
    let out = stdout(&output);
    assert!(out.contains("Lock timeout (55P03)"), "{out}");
    assert!(out.contains("retry 1 of 5"), "{out}");
    // Progress and retries each on their own line.
    for line in out.lines().filter(|l| l.contains("Lock timeout")) {
        assert!(line.starts_with("Lock timeout (55P03)"), "{out}");
    }
    assert!(out.contains("Applied migration `2_balance` ("), "{out}");
    assert!(started.elapsed() >= Duration::from_millis(1000));
    assert_eq!(
        db.query("SELECT count(*) FROM information_schema.columns WHERE table_name = 'accounts' AND column_name = 'balance'")[0][0],
        "1"
    );
}

#[test]
fn lock_timeouts_beyond_the_retries_fail_cleanly() {
    let db = TestDb::new();
    let project = Project::new();
    project.migration("1_accounts", "CREATE TABLE accounts (id int);\n");
    assert_success(&deploy(&project, &db, &[]));
    project.migration(
        "2_balance",
        "ALTER TABLE accounts ADD COLUMN balance int;\n",
    );
    let output = deploy_behind_exclusive_lock(
        &project,
        &db,
        "accounts",
        Duration::from_secs(4),
        &["--lock-timeout", "200ms", "--lock-retries", "1"],
    );
    assert_eq!(output.status.code(), Some(1));
    assert!(stdout(&output).contains("retry 1 of 1"));
    assert!(
        stderr(&output).contains("SQLSTATE 55P03"),
        "{}",
        stderr(&output)
    );
}

#[test]
fn a_non_empty_database_without_history_is_refused_with_baselining_advice() {
    let db = TestDb::new();
    db.execute("CREATE TABLE legacy (id int)");
    let project = Project::new();
    project.migration("1_init", "CREATE TABLE legacy (id int);\n");
    let output = deploy(&project, &db, &[]);
    assert_ne!(output.status.code(), Some(0));
    let err = stderr(&output);
    assert!(err.contains("not empty"), "{err}");
    assert!(err.contains("resolve --applied"), "{err}");
    assert!(!exists(&db, "_prisma_migrations"));
}

#[test]
fn a_file_with_its_own_transaction_runs_as_written() {
    let db = TestDb::new();
    let project = Project::new();
    project.migration(
        "1_own_tx",
        "BEGIN;\nCREATE TABLE a (id int);\nCOMMIT;\nCREATE INDEX CONCURRENTLY a_id_idx ON a (id);\n",
    );
    assert_success(&deploy(&project, &db, &[]));
    assert!(exists(&db, "a") && exists(&db, "a_id_idx"));
}

#[test]
fn a_file_with_its_own_serializable_transaction_runs_as_written() {
    // SET TRANSACTION must be the transaction's first statement: nothing of ours may run
    // between the file's BEGIN and it.
    let db = TestDb::new();
    let project = Project::new();
    project.migration(
        "1_serializable",
        "BEGIN;\nSET TRANSACTION ISOLATION LEVEL SERIALIZABLE;\nCREATE TABLE a (id int);\nCOMMIT;\n",
    );
    assert_success(&deploy(&project, &db, &[]));
    assert!(exists(&db, "a"));
}

#[test]
fn a_file_with_its_own_commits_that_then_fails_lists_what_it_committed() {
    let db = TestDb::new();
    let project = Project::new();
    project.migration(
        "1_mixed",
        "CREATE TABLE a (id int);\nBEGIN;\nCREATE TABLE b (id int);\nCOMMIT;\n\
         BEGIN;\nCREATE TABLE c (id int);\nROLLBACK;\nCREATE TABLE d (id nosuchtype);\n",
    );
    let output = deploy(&project, &db, &[]);
    assert_eq!(output.status.code(), Some(1), "{}", stdout(&output));
    assert!(exists(&db, "a") && exists(&db, "b") && !exists(&db, "c"));
    let err = stderr(&output);
    assert!(!err.contains("Nothing of `1_mixed` was applied"), "{err}");
    assert!(err.contains("line 1: CREATE TABLE a (id int)"), "{err}");
    assert!(err.contains("transaction, lines 2-4"), "{err}");
    assert!(!err.contains("CREATE TABLE c"), "{err}");
    let status = stdout(&run_db(&project, &db, &["status"]));
    assert!(
        status.contains("line 1: CREATE TABLE a (id int)"),
        "{status}"
    );
    assert!(status.contains("transaction, lines 2-4"), "{status}");
}

#[test]
fn commit_and_chain_keeps_the_file_in_its_own_transaction() {
    // The chained transaction is the file's: nothing of ours may run before its SET
    // TRANSACTION, and a failure in it rolls back what followed the COMMIT AND CHAIN.
    let db = TestDb::new();
    let project = Project::new();
    project.migration(
        "1_chain",
        "BEGIN;\nCREATE TABLE a (id int);\nCOMMIT AND CHAIN;\n\
         SET TRANSACTION ISOLATION LEVEL SERIALIZABLE;\nCREATE TABLE b (id int);\nCOMMIT;\n",
    );
    project.migration(
        "2_chain_fails",
        "BEGIN;\nCREATE TABLE c (id int);\nCOMMIT AND CHAIN;\nCREATE TABLE d (id int);\n\
         CREATE TABLE e (id nosuchtype);\nCOMMIT;\n",
    );
    let output = deploy(&project, &db, &[]);
    assert_eq!(output.status.code(), Some(1), "{}", stdout(&output));
    assert!(exists(&db, "a") && exists(&db, "b"), "{}", stderr(&output));
    assert!(exists(&db, "c") && !exists(&db, "d"));
    let err = stderr(&output);
    assert!(err.contains("transaction, lines 1-3"), "{err}");
    assert!(!err.contains("CREATE TABLE d"), "{err}");
}

#[test]
fn a_file_that_begins_a_transaction_it_never_commits_fails() {
    // The session would end with the transaction open: the server rolls it back, so reporting
    // success would be a lie (the table and the finished history row both vanish).
    let db = TestDb::new();
    let project = Project::new();
    project.migration("1_open", "BEGIN;\nCREATE TABLE t (id int);\n");
    let output = deploy(&project, &db, &[]);
    assert_eq!(output.status.code(), Some(1), "{}", stdout(&output));
    assert!(stderr(&output).contains("COMMIT"), "{}", stderr(&output));
    assert!(!stdout(&output).contains("successfully applied"));
    assert!(!exists(&db, "t"));
    assert_eq!(
        states(&project, &db),
        vec![("1_open".to_string(), "failed".to_string())]
    );
}

#[test]
fn dry_run_prints_the_plan_and_writes_nothing() {
    let db = TestDb::new();
    let project = Project::new();
    project.migration(
        "1_mixed",
        "CREATE TABLE item (id int);\nCREATE INDEX CONCURRENTLY item_id_idx ON item (id);\n",
    );
    let output = deploy(&project, &db, &["--dry-run"]);
    assert_success(&output);
    let out = stdout(&output);
    assert!(out.contains("1_mixed"), "{out}");
    assert!(
        out.contains("transaction: 1 statement(s), lines 1-1"),
        "{out}"
    );
    assert!(
        out.contains("autocommit (cannot run in a transaction): line 2"),
        "{out}"
    );
    assert!(!exists(&db, "item"));
    assert!(!exists(&db, "_prisma_migrations"));
}

#[test]
fn error_findings_need_review_until_allow_destructive() {
    let db = TestDb::new();
    let project = Project::new();
    project.migration("1_init", "CREATE TABLE account (id int, legacy text);\n");
    assert_success(&deploy(&project, &db, &[]));
    project.migration("2_drop", "ALTER TABLE account DROP COLUMN legacy;\n");

    let gated = deploy(&project, &db, &[]);
    assert_eq!(gated.status.code(), Some(3), "{}", stderr(&gated));
    let err = stderr(&gated);
    assert!(err.contains("drop-column"), "{err}");
    assert!(
        err.contains("prisma/migrations/2_drop/migration.sql:1"),
        "{err}"
    );
    assert!(err.contains("--allow-destructive"), "{err}");
    assert_eq!(
        db.query("SELECT count(*) FROM _prisma_migrations WHERE migration_name = '2_drop'")[0][0],
        "0"
    );

    let approved = deploy(&project, &db, &["--allow-destructive"]);
    assert_success(&approved);
    assert_eq!(
        db.query("SELECT count(*) FROM information_schema.columns WHERE table_name = 'account' AND column_name = 'legacy'")[0][0],
        "0"
    );
}

#[test]
fn a_deploy_killed_mid_statement_leaves_nothing_applied() {
    let db = TestDb::new();
    let project = Project::new();
    project.migration(
        "1_slow",
        "CREATE TABLE sleepy (id int);\nSELECT pg_sleep(30);\n",
    );
    let mut child = crate::support::bin()
        .current_dir(project.path())
        .args(["deploy", "--database-url", &db.url])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let sleeping = db.query(
            "SELECT count(*) FROM pg_stat_activity WHERE query LIKE '%SELECT pg_sleep(30)%' \
             AND state = 'active' AND pid <> pg_backend_pid()",
        );
        if sleeping[0][0] != "0" {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the slow statement never started"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    child.kill().unwrap(); // SIGKILL
    child.wait().unwrap();

    let (code, json) = status_json(&project, &db);
    let state = json["migrations"][0]["state"].as_str().unwrap().to_string();
    assert!(
        state == "pending" || state == "failed",
        "state after kill -9: {state}"
    );
    assert_ne!(code, 0);
    assert!(
        !exists(&db, "sleepy"),
        "the killed migration left its table"
    );
}

#[test]
fn pooled_urls_are_refused_without_showing_the_password() {
    let project = Project::new();
    project.migration("1_init", INIT);
    let output = project.run(&[
        "deploy",
        "--database-url",
        "postgres://app:s3cr3t-pw@ep-cool-pooler.eu-central-1.aws.neon.tech:5432/app?pgbouncer=true",
    ]);
    assert_eq!(output.status.code(), Some(2));
    let err = stderr(&output);
    assert!(err.contains("DIRECT_URL"), "{err}");
    assert!(err.contains("--allow-pooled"), "{err}");
    assert!(!err.contains("s3cr3t-pw"), "{err}");
}

#[test]
fn destructive_deploys_are_backed_up_first_and_stop_when_the_backup_fails() {
    let db = TestDb::new();
    let project = Project::new();
    project.migration("1_init", "CREATE TABLE account (id int, legacy text);\n");
    assert_success(&deploy(&project, &db, &[]));
    project.migration("2_drop", "ALTER TABLE account DROP COLUMN legacy;\n");
    let backups = project.path().join("backups");
    let backups = backups.to_str().unwrap();

    let failing = crate::support::bin()
        .current_dir(project.path())
        .env("MIGRATION_GATE_PG_DUMP", "/nonexistent/pg_dump")
        .args(["deploy", "--allow-destructive", "--backup-dir", backups])
        .args(["--database-url", &db.url])
        .output()
        .unwrap();
    assert_eq!(failing.status.code(), Some(2), "{}", stderr(&failing));
    assert!(stderr(&failing).contains("pg_dump"), "{}", stderr(&failing));
    assert_eq!(
        db.query("SELECT count(*) FROM _prisma_migrations WHERE migration_name = '2_drop'")[0][0],
        "0",
        "nothing is applied without the backup"
    );

    let output = deploy(
        &project,
        &db,
        &["--allow-destructive", "--backup-dir", backups],
    );
    assert_success(&output);
    let dumps: Vec<_> = std::fs::read_dir(backups)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "dump"))
        .collect();
    assert_eq!(dumps.len(), 1, "{dumps:?}");
    // A dump holds every row: readable by its owner only.
    use std::os::unix::fs::PermissionsExt;
    let mode = std::fs::metadata(&dumps[0]).unwrap().permissions().mode();
    assert_eq!(mode & 0o777, 0o600, "{mode:o}");
    // The dump holds the column that the deploy then dropped.
    let listing = std::process::Command::new("pg_restore")
        .args(["--schema-only", "-f", "-"])
        .arg(&dumps[0])
        .output()
        .unwrap();
    assert!(String::from_utf8_lossy(&listing.stdout).contains("legacy text"));
}

#[test]
fn sigterm_during_the_backup_stops_the_dump_at_once_and_applies_nothing() {
    let db = TestDb::new();
    let project = Project::new();
    project.migration("1_init", "CREATE TABLE account (id int, legacy text);\n");
    assert_success(&deploy(&project, &db, &[]));
    project.migration("2_drop", "ALTER TABLE account DROP COLUMN legacy;\n");
    // A dump of a big database: announces that it runs, then takes its time.
    let started = project.path().join("dump-started");
    let slow_dump = project.write(
        "slow_pg_dump",
        &format!("#!/bin/sh\ntouch '{}'\nexec sleep 30\n", started.display()),
    );
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&slow_dump, std::fs::Permissions::from_mode(0o755)).unwrap();
    let backups = project.path().join("backups");
    let child = crate::support::bin()
        .current_dir(project.path())
        .env("MIGRATION_GATE_PG_DUMP", &slow_dump)
        .args(["deploy", "--allow-destructive", "--backup-dir"])
        .arg(&backups)
        .args(["--database-url", &db.url])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(20);
    while !started.exists() {
        assert!(Instant::now() < deadline, "the dump never started");
        std::thread::sleep(Duration::from_millis(50));
    }
    let signalled = Instant::now();
    let kill = std::process::Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(kill.success());
    let output = child.wait_with_output().unwrap();
    assert!(
        signalled.elapsed() < Duration::from_secs(10),
        "exited {:?} after the signal",
        signalled.elapsed()
    );
    assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));
    let err = stderr(&output);
    assert!(err.contains("interrupted by SIGTERM"), "{err}");
    assert!(err.contains("backup"), "{err}");
    assert!(err.contains("nothing was applied"), "{err}");
    assert_eq!(
        db.query("SELECT count(*) FROM _prisma_migrations WHERE migration_name = '2_drop'")[0][0],
        "0"
    );
    let leftovers: Vec<_> = std::fs::read_dir(&backups)
        .map(|entries| entries.map(|e| e.unwrap().path()).collect())
        .unwrap_or_default();
    assert!(
        leftovers.is_empty(),
        "a partial dump was left: {leftovers:?}"
    );
}

/// Wait until a backend other than the test's own runs a query containing `needle`.
pub(crate) fn wait_for_query(db: &TestDb, needle: &str) -> String {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let pids = db.query(&format!(
            "SELECT pid FROM pg_stat_activity WHERE query LIKE '%{needle}%' \
             AND state = 'active' AND pid <> pg_backend_pid() AND datname = current_database()"
        ));
        if let Some(row) = pids.first() {
            return row[0].clone();
        }
        assert!(Instant::now() < deadline, "`{needle}` never started");
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn a_locked_history_table_fails_fast_and_names_the_session_holding_it() {
    let db = TestDb::new();
    let project = Project::new();
    project.migration("1_init", INIT);
    assert_success(&deploy(&project, &db, &[]));
    project.migration("2_more", "CREATE TABLE more (id int);\n");
    let holder = hold_session(
        &db.url,
        "SET application_name = 'night-batch'; BEGIN; \
         LOCK TABLE _prisma_migrations IN ACCESS EXCLUSIVE MODE",
        Duration::from_secs(12),
    );
    for command in [&["status"][..], &["deploy"][..]] {
        let mut args = command.to_vec();
        args.extend(["--advisory-lock-timeout", "1"]);
        let started = Instant::now();
        let output = run_db(&project, &db, &args);
        assert!(
            started.elapsed() < Duration::from_secs(8),
            "{command:?} waited {:?}",
            started.elapsed()
        );
        assert_eq!(output.status.code(), Some(2), "{}", stderr(&output));
        let err = stderr(&output);
        assert_eq!(err.trim().lines().count(), 1, "one line: {err}");
        assert!(err.contains("_prisma_migrations"), "{err}");
        assert!(err.contains("application `night-batch`"), "{err}");
        assert!(err.contains("idle in transaction"), "{err}");
        assert!(err.contains("backend pid "), "{err}");
    }
    holder.join().unwrap();
    assert!(!exists(&db, "more"));
    assert_success(&deploy(&project, &db, &[]));
}

#[test]
fn a_database_holding_only_extension_objects_is_fresh() {
    let db = TestDb::new();
    db.execute("CREATE EXTENSION pgcrypto");
    let project = Project::new();
    project.migration("1_init", INIT);
    assert_success(&deploy(&project, &db, &[]));
    assert!(exists(&db, "\"User\""));
}

#[test]
fn a_non_empty_database_names_what_it_found() {
    let db = TestDb::new();
    db.execute(
        "CREATE TABLE legacy (id serial PRIMARY KEY); CREATE VIEW legacy_view AS SELECT 1 AS x; \
         CREATE TYPE mood AS ENUM ('ok')",
    );
    let project = Project::new();
    project.migration("1_init", INIT);
    let output = deploy(&project, &db, &[]);
    assert_eq!(output.status.code(), Some(1));
    let err = stderr(&output);
    assert!(err.contains("3 object(s)"), "{err}");
    assert!(err.contains("table legacy"), "{err}");
    assert!(err.contains("view legacy_view"), "{err}");
    assert!(err.contains("type mood"), "{err}");
}

#[test]
fn a_lock_timeout_is_recorded_so_the_next_deploy_retries() {
    let db = TestDb::new();
    let project = Project::new();
    project.migration("1_accounts", "CREATE TABLE accounts (id int);\n");
    assert_success(&deploy(&project, &db, &[]));
    project.migration(
        "2_balance",
        "ALTER TABLE accounts ADD COLUMN balance int;\n",
    );
    let output = deploy_behind_exclusive_lock(
        &project,
        &db,
        "accounts",
        Duration::from_secs(3),
        &["--lock-timeout", "200ms", "--lock-retries", "1"],
    );
    assert_eq!(output.status.code(), Some(1));
    let err = stderr(&output);
    assert!(err.contains("Nothing of `2_balance` was applied"), "{err}");
    assert!(err.contains("next deploy"), "{err}");
    assert!(!err.contains("Fix the database"), "{err}");
    // Prisma's reading of the row: rolled back, so pending again, not failed.
    let row = db.query(
        "SELECT finished_at IS NULL, rolled_back_at IS NOT NULL, logs LIKE '%55P03%' \
         FROM _prisma_migrations WHERE migration_name = '2_balance'",
    );
    assert_eq!(row, vec![vec!["t", "t", "t"]]);
    assert_eq!(
        states(&project, &db)[1],
        ("2_balance".to_string(), "rolled_back".to_string())
    );
    assert_success(&deploy(&project, &db, &[]));
    assert_eq!(
        states(&project, &db)[1],
        ("2_balance".to_string(), "applied".to_string())
    );
}

#[test]
fn an_atomic_failure_says_nothing_was_applied_and_how_to_recover() {
    let db = TestDb::new();
    let project = Project::new();
    project.migration(
        "1_broken",
        "CREATE TABLE t (id int);\nCREATE TABLE u (id nosuchtype);\n",
    );
    let output = deploy(&project, &db, &[]);
    assert_eq!(output.status.code(), Some(1));
    let err = stderr(&output);
    assert!(err.contains("Nothing of `1_broken` was applied"), "{err}");
    assert!(err.contains("fix the migration"), "{err}");
    assert!(err.contains("resolve --rolled-back 1_broken"), "{err}");
    assert!(!err.contains("Fix the database"), "{err}");
}

#[test]
fn sigterm_cancels_the_running_statement_and_reports_the_state() {
    let db = TestDb::new();
    let project = Project::new();
    project.migration("1_first", "CREATE TABLE first (id int);\n");
    project.migration(
        "2_slow",
        "CREATE TABLE sleepy (id int);\nSELECT pg_sleep(30);\n",
    );
    project.migration("3_later", "CREATE TABLE later (id int);\n");
    let child = spawn_deploy(&project, &db, &[]);
    wait_for_query(&db, "SELECT pg_sleep(30)");
    let signalled = Instant::now();
    let kill = std::process::Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(kill.success());
    let output = child.wait_with_output().unwrap();
    assert!(signalled.elapsed() < Duration::from_secs(10));
    assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));
    let err = stderr(&output);
    assert!(
        err.contains("interrupted by SIGTERM while applying `2_slow`"),
        "{err}"
    );
    assert!(err.contains("rolled back"), "{err}");
    assert!(err.contains("`1_first`"), "{err}");
    assert!(err.contains("Not attempted: `3_later`"), "{err}");
    assert_eq!(
        db.query(
            "SELECT count(*) FROM pg_stat_activity WHERE query LIKE '%SELECT pg_sleep(30)%' \
             AND pid <> pg_backend_pid() AND state = 'active'"
        )[0][0],
        "0",
        "the cancelled statement still runs on the server"
    );
    assert!(!exists(&db, "sleepy"));
    assert_eq!(
        db.query("SELECT migration_name FROM _prisma_migrations ORDER BY started_at"),
        vec![vec!["1_first".to_string()]]
    );
}

#[test]
fn a_connection_terminated_mid_migration_says_it_was_rolled_back() {
    let db = TestDb::new();
    let project = Project::new();
    project.migration(
        "1_slow",
        "CREATE TABLE sleepy (id int);\nSELECT pg_sleep(30);\n",
    );
    let child = spawn_deploy(&project, &db, &[]);
    let pid = wait_for_query(&db, "SELECT pg_sleep(30)");
    db.execute(&format!("SELECT pg_terminate_backend({pid})"));
    let output = child.wait_with_output().unwrap();
    assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));
    let err = stderr(&output);
    assert!(
        err.contains("closed the connection while applying `1_slow`"),
        "{err}"
    );
    assert!(err.contains("rolled back"), "{err}");
    assert!(!exists(&db, "sleepy"));
    assert_eq!(
        states(&project, &db),
        vec![("1_slow".to_string(), "pending".to_string())]
    );
}

#[test]
fn a_closed_stdout_does_not_stop_or_fail_a_deploy() {
    let db = TestDb::new();
    let project = Project::new();
    project.migration("1_init", INIT);
    project.migration("2_more", "CREATE TABLE more (id int);\n");
    let mut child = crate::support::bin()
        .current_dir(project.path())
        .args(["deploy", "--database-url", &db.url])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    drop(child.stdout.take()); // the reader went away, as `| head -0` does
    let status = child.wait().unwrap();
    assert_eq!(status.code(), Some(0));
    assert!(exists(&db, "more"));
}

#[test]
fn a_closed_stderr_does_not_stop_or_fail_a_deploy_with_findings_or_warnings() {
    let db = TestDb::new();
    let project = Project::new();
    project.migration("1_init", "CREATE TABLE old (id int);\n");
    assert_success(&deploy(&project, &db, &[]));
    // Both lead to lines on stderr before anything is applied: a warning and the findings.
    project.migration("1_init", "CREATE TABLE old (id int);\n-- edited\n");
    project.migration("2_drop", "DROP TABLE old;\n");
    let mut child = crate::support::bin()
        .current_dir(project.path())
        .args(["deploy", "--allow-destructive", "--database-url", &db.url])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    // `deploy 2>&1 | head -1`: the reader of both went away.
    drop(child.stdout.take());
    drop(child.stderr.take());
    let status = child.wait().unwrap();
    assert_eq!(status.code(), Some(0));
    assert!(!exists(&db, "old"), "the deploy stopped half way");
}

#[test]
fn an_invalid_leftover_index_is_not_a_successful_if_not_exists_build() {
    let db = TestDb::new();
    let project = Project::new();
    project.migration(
        "1_table",
        "CREATE TABLE dup (v int);\nINSERT INTO dup VALUES (1), (1);\n",
    );
    assert_success(&deploy(&project, &db, &[]));
    // A failed (or killed) build by hand leaves an INVALID index behind.
    let failed_build = std::process::Command::new("psql")
        .args([
            &db.url,
            "-c",
            "CREATE UNIQUE INDEX CONCURRENTLY dup_v_key ON dup (v)",
        ])
        .output()
        .unwrap();
    assert!(!failed_build.status.success());
    project.migration(
        "2_unique",
        "CREATE UNIQUE INDEX CONCURRENTLY IF NOT EXISTS dup_v_key ON dup (v);\n",
    );
    let output = deploy(&project, &db, &[]);
    assert_eq!(output.status.code(), Some(1), "{}", stdout(&output));
    let err = stderr(&output);
    assert!(err.contains("dup_v_key exists but is INVALID"), "{err}");
    assert!(err.contains("DROP INDEX CONCURRENTLY"), "{err}");
    let (code, json) = status_json(&project, &db);
    assert_eq!(code, 5);
    assert_eq!(json["invalid_indexes"][0], "public.dup_v_key");
}

#[test]
fn status_reports_what_a_killed_concurrently_build_left_behind() {
    let db = TestDb::new();
    let project = Project::new();
    project.migration(
        "1_split",
        "CREATE TABLE k (id int);\nCREATE INDEX CONCURRENTLY k_id ON k (id);\nCREATE TABLE after_k (id int);\n",
    );
    // An open snapshot makes the index build wait after it created the (INVALID) index.
    let holder = hold_session(
        &db.url,
        "BEGIN ISOLATION LEVEL REPEATABLE READ; SELECT 1",
        Duration::from_secs(8),
    );
    let child = spawn_deploy(&project, &db, &[]);
    let pid = wait_for_query(&db, "CREATE INDEX CONCURRENTLY k_id");
    db.execute(&format!("SELECT pg_terminate_backend({pid})"));
    let output = child.wait_with_output().unwrap();
    holder.join().unwrap();
    assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));

    let status = run_db(&project, &db, &["status"]);
    assert_eq!(status.status.code(), Some(5));
    let out = stdout(&status);
    assert!(out.contains("failed"), "{out}");
    assert!(
        out.contains("segment 1 of 3: transaction, lines 1-1"),
        "{out}"
    );
    assert!(out.contains("INVALID indexes"), "{out}");
    assert!(out.contains("public.k_id"), "{out}");
    let (_, json) = status_json(&project, &db);
    assert_eq!(json["invalid_indexes"][0], "public.k_id");
    assert_eq!(
        json["migrations"][0]["committed"][0],
        "segment 1 of 3: transaction, lines 1-1"
    );
}

#[test]
fn a_lock_timeout_before_any_segment_committed_is_retried_by_the_next_deploy() {
    let db = TestDb::new();
    let project = Project::new();
    project.migration("1_accounts", "CREATE TABLE accounts (id int);\n");
    assert_success(&deploy(&project, &db, &[]));
    project.migration(
        "2_split",
        "ALTER TABLE accounts ADD COLUMN balance int;\nCREATE INDEX CONCURRENTLY accounts_balance ON accounts (balance);\n",
    );
    let output = deploy_behind_exclusive_lock(
        &project,
        &db,
        "accounts",
        Duration::from_secs(2),
        &["--lock-timeout", "200ms", "--lock-retries", "0"],
    );
    assert_eq!(output.status.code(), Some(1));
    assert!(
        stderr(&output).contains("next deploy"),
        "{}",
        stderr(&output)
    );
    assert_eq!(
        states(&project, &db)[1],
        ("2_split".to_string(), "rolled_back".to_string())
    );
    assert_success(&deploy(&project, &db, &[]));
    assert!(exists(&db, "accounts_balance"));
}

#[test]
fn a_migration_that_resets_the_session_does_not_lift_the_lock_timeout_of_the_next() {
    let db = TestDb::new();
    let project = Project::new();
    project.migration("1_init", "CREATE TABLE t (id int);\n");
    assert_success(&deploy(&project, &db, &[]));
    project.migration("2_reset", "RESET ALL;\n");
    project.migration("3_alter", "ALTER TABLE t ADD COLUMN b int;\n");
    let holder = hold_session(
        &db.url,
        "BEGIN; LOCK TABLE t IN ACCESS EXCLUSIVE MODE",
        Duration::from_secs(8),
    );
    let started = Instant::now();
    let output = deploy(
        &project,
        &db,
        &["--lock-timeout", "1s", "--lock-retries", "0"],
    );
    let took = started.elapsed();
    holder.join().unwrap();
    assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));
    assert!(
        took < Duration::from_secs(6),
        "waited {took:?} for the lock despite --lock-timeout 1s"
    );
    assert!(stderr(&output).contains("55P03"), "{}", stderr(&output));
    assert_eq!(
        db.query(
            "SELECT migration_name FROM _prisma_migrations \
             WHERE finished_at IS NOT NULL ORDER BY 1"
        ),
        vec![vec!["1_init".to_string()], vec!["2_reset".to_string()]]
    );
}

#[test]
fn a_migration_that_changes_search_path_does_not_move_the_next_ones() {
    let db = TestDb::new();
    let project = Project::new();
    project.migration(
        "1_elsewhere",
        "CREATE SCHEMA audit;\nSET search_path TO audit;\nCREATE TABLE log (id int);\n",
    );
    project.migration("2_users", "CREATE TABLE users (id int);\n");
    assert_success(&deploy(&project, &db, &[]));
    // The same result as deploying them one at a time: `users` lands in the URL's schema.
    assert_eq!(
        db.query(
            "SELECT table_schema, table_name FROM information_schema.tables \
             WHERE table_name IN ('log', 'users') ORDER BY 2"
        ),
        vec![
            vec!["audit".to_string(), "log".to_string()],
            vec!["public".to_string(), "users".to_string()],
        ]
    );
}

#[test]
fn sigterm_during_a_lock_retry_pause_exits_at_once() {
    let db = TestDb::new();
    let project = Project::new();
    project.migration("1_accounts", "CREATE TABLE accounts (id int);\n");
    assert_success(&deploy(&project, &db, &[]));
    project.migration(
        "2_balance",
        "ALTER TABLE accounts ADD COLUMN balance int;\n",
    );
    let holder = hold_session(
        &db.url,
        "BEGIN; LOCK TABLE accounts IN ACCESS EXCLUSIVE MODE",
        Duration::from_secs(11),
    );
    let mut child = spawn_deploy(
        &project,
        &db,
        &["--lock-timeout", "100ms", "--lock-retries", "8"],
    );
    // The pauses double (0.5 s, 1 s, 2 s, 4 s, then 8 s before the fifth retry).
    let stdout_pipe = child.stdout.take().unwrap();
    let (lines_tx, lines_rx) = mpsc::channel();
    std::thread::spawn(move || {
        use std::io::BufRead;
        for line in std::io::BufReader::new(stdout_pipe).lines() {
            let _ = lines_tx.send(line.unwrap_or_default());
        }
    });
    loop {
        let line = lines_rx
            .recv_timeout(Duration::from_secs(20))
            .expect("the fifth retry was never announced");
        if line.contains("retry 5 of 8") {
            break;
        }
    }
    let signalled = Instant::now();
    let kill = std::process::Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(kill.success());
    let output = child.wait_with_output().unwrap();
    let took = signalled.elapsed();
    holder.join().unwrap();
    assert!(
        took < Duration::from_secs(3),
        "exited {took:?} after SIGTERM"
    );
    assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));
    assert!(
        stderr(&output).contains("interrupted by SIGTERM"),
        "{}",
        stderr(&output)
    );
    assert_eq!(
        db.query("SELECT count(*) FROM information_schema.columns WHERE table_name = 'accounts' AND column_name = 'balance'")[0][0],
        "0"
    );
}

#[test]
fn a_migration_that_sets_a_role_does_not_change_the_owner_of_the_next_ones() {
    let db = TestDb::new();
    let role = format!("{}_app", db.name);
    db.execute(&format!(
        "CREATE ROLE {role} NOLOGIN; GRANT ALL ON SCHEMA public TO {role}"
    ));
    let project = Project::new();
    project.migration("1_init", "CREATE TABLE t (id int);\n");
    assert_success(&deploy(&project, &db, &[]));
    db.execute(&format!("GRANT ALL ON _prisma_migrations TO {role}"));
    project.migration(
        "2_as_app",
        &format!("SET ROLE {role};\nCREATE TABLE app_t (id int);\n"),
    );
    project.migration("3_next", "CREATE TABLE next_t (id int);\n");
    let output = deploy(&project, &db, &[]);
    let owners = db.query(
        "SELECT tablename, tableowner FROM pg_tables WHERE tablename IN ('app_t', 'next_t') \
         ORDER BY 1",
    );
    let user = db.query("SELECT current_user")[0][0].clone();
    db.execute(&format!("DROP OWNED BY {role}"));
    crate::support::admin_execute(&crate::support::server_url(), &format!("DROP ROLE {role}"));
    assert_success(&output);
    // The same owners as when 2 and 3 are deployed one at a time.
    assert_eq!(
        owners,
        vec![
            vec!["app_t".to_string(), role.clone()],
            vec!["next_t".to_string(), user],
        ]
    );
}

#[test]
fn status_says_which_statement_ran_when_a_deploy_was_killed_outright() {
    let db = TestDb::new();
    let project = Project::new();
    project.migration("1_table", "CREATE TABLE k (id int);\n");
    assert_success(&deploy(&project, &db, &[]));
    project.migration(
        "2_index",
        "CREATE INDEX CONCURRENTLY k_id ON k (id);\nCREATE TABLE after_k (id int);\n",
    );
    // An open snapshot keeps the build waiting while the deploy is killed (SIGKILL: no
    // cancel reaches the server, which then finishes the build on its own).
    let holder = hold_session(
        &db.url,
        "BEGIN ISOLATION LEVEL REPEATABLE READ; SELECT 1",
        Duration::from_secs(3),
    );
    let mut child = crate::support::bin()
        .current_dir(project.path())
        .args(["deploy", "--database-url", &db.url])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let pid = wait_for_query(&db, "CREATE INDEX CONCURRENTLY k_id");
    child.kill().unwrap();
    child.wait().unwrap();
    holder.join().unwrap();
    let deadline = Instant::now() + Duration::from_secs(20);
    while !db
        .query(&format!(
            "SELECT pid FROM pg_stat_activity WHERE pid = {pid}"
        ))
        .is_empty()
    {
        assert!(Instant::now() < deadline, "the build never ended");
        std::thread::sleep(Duration::from_millis(50));
    }
    assert_eq!(
        db.query("SELECT indisvalid FROM pg_index WHERE indexrelid = 'k_id'::regclass"),
        vec![vec!["t".to_string()]],
        "the server completed the build after the client died"
    );

    let status = run_db(&project, &db, &["status"]);
    assert_eq!(status.status.code(), Some(5));
    let out = stdout(&status);
    // Not just "failed, nothing committed": the build may well have completed.
    assert!(
        out.contains("was running when it stopped")
            && out.contains("CREATE INDEX CONCURRENTLY k_id"),
        "{out}"
    );
    let (_, json) = status_json(&project, &db);
    assert!(
        json["migrations"][1]["running"]
            .as_str()
            .is_some_and(|s| s.contains("CREATE INDEX CONCURRENTLY k_id")),
        "{json}"
    );
}

#[test]
fn sigterm_while_the_history_row_is_written_finishes_the_row_and_stops_after_it() {
    let db = TestDb::new();
    let project = Project::new();
    project.migration("0_init", "CREATE TABLE k (id int);\n");
    assert_success(&deploy(&project, &db, &[]));
    // A slow history write (a busy server): the signal arrives while the row of a migration
    // whose segments all committed is being marked finished.
    db.execute(
        "CREATE FUNCTION slow_finish() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN \
           IF NEW.finished_at IS NOT NULL AND OLD.finished_at IS NULL THEN \
             PERFORM pg_sleep(2); \
           END IF; RETURN NEW; END $$; \
         CREATE TRIGGER slow_finish BEFORE UPDATE ON _prisma_migrations \
           FOR EACH ROW EXECUTE FUNCTION slow_finish()",
    );
    project.migration(
        "1_split",
        "CREATE INDEX CONCURRENTLY k_id ON k (id);\nCREATE TABLE after_k (id int);\n",
    );
    project.migration("2_later", "CREATE TABLE later (id int);\n");
    let child = spawn_deploy(&project, &db, &[]);
    wait_for_query(&db, "finished_at = clock_timestamp()");
    let kill = std::process::Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(kill.success());
    let output = child.wait_with_output().unwrap();
    let err = stderr(&output);
    assert_eq!(output.status.code(), Some(1), "{err}");
    assert!(err.contains("interrupted by SIGTERM"), "{err}");
    assert!(err.contains("`1_split`"), "{err}");
    assert!(err.contains("Not attempted: `2_later`"), "{err}");
    // Every segment of 1_split committed: its row says so, not "failed".
    assert_eq!(
        states(&project, &db),
        vec![
            ("0_init".to_string(), "applied".to_string()),
            ("1_split".to_string(), "applied".to_string()),
            ("2_later".to_string(), "pending".to_string()),
        ]
    );
    assert!(!exists(&db, "later"));
}

#[test]
fn standard_conforming_strings_off_cannot_smuggle_sql_past_the_gate() {
    // With the setting off, `'x\''` ends after `\'`, and the DROP below runs; the gate (like
    // PostgreSQL's default) reads `\` literally: one harmless SELECT.
    let sneaky = "SELECT 'x\\''; DROP TABLE users; --';\n";
    // The database's own setting, and one a previous migration of the same deploy set.
    for via_migration in [false, true] {
        let db = TestDb::new();
        let project = Project::new();
        project.migration("0_users", "CREATE TABLE users (id int);\n");
        assert_success(&deploy(&project, &db, &[]));
        if via_migration {
            project.migration("1_off", "SET standard_conforming_strings = off;\n");
        } else {
            db.execute(&format!(
                "ALTER DATABASE {} SET standard_conforming_strings = off",
                db.name
            ));
        }
        project.migration("2_sneaky", sneaky);
        let _ = deploy(&project, &db, &[]);
        assert!(
            exists(&db, "users"),
            "a DROP the gate never saw ran (via migration: {via_migration})"
        );
    }
}

#[test]
fn standard_conforming_strings_off_in_an_earlier_segment_cannot_smuggle_sql() {
    let db = TestDb::new();
    let project = Project::new();
    project.migration("0_users", "CREATE TABLE users (id int);\n");
    assert_success(&deploy(&project, &db, &[]));
    // The CONCURRENTLY statement splits the file: the SET commits in the first segment.
    project.migration(
        "1_sneaky",
        "SET standard_conforming_strings = off;\nCREATE INDEX CONCURRENTLY users_id ON users (id);\n\
         SELECT 'x\\''; DROP TABLE users; --';\n",
    );
    let _ = deploy(&project, &db, &[]);
    assert!(exists(&db, "users"), "a DROP the gate never saw ran");
}
