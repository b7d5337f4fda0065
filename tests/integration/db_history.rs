//! The `_prisma_migrations` table we write is Prisma's, row for row; checksums survive CRLF/LF;
//! `resolve` with Prisma's semantics.

use sha2::{Digest, Sha256};

use crate::db_deploy::{assert_success, deploy, exists, run_db, states, status_json};
use crate::support::{stderr, stdout, Project, TestDb};

fn sha256_hex(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

#[test]
fn the_history_table_and_rows_have_exactly_prismas_shape() {
    let db = TestDb::new();
    let project = Project::new();
    let sql = "CREATE TABLE \"Team\" (\"id\" TEXT NOT NULL PRIMARY KEY);\n";
    project.migration("20240301120000_team", sql);
    assert_success(&deploy(&project, &db, &[]));

    // Column by column, as Prisma's DDL creates them.
    let columns = db.query(
        "SELECT column_name, data_type, coalesce(character_maximum_length::text, ''), \
         is_nullable, coalesce(column_default, '') FROM information_schema.columns \
         WHERE table_schema = 'public' AND table_name = '_prisma_migrations' ORDER BY ordinal_position",
    );
    let expected = [
        ["id", "character varying", "36", "NO", ""],
        ["checksum", "character varying", "64", "NO", ""],
        ["finished_at", "timestamp with time zone", "", "YES", ""],
        ["migration_name", "character varying", "255", "NO", ""],
        ["logs", "text", "", "YES", ""],
        ["rolled_back_at", "timestamp with time zone", "", "YES", ""],
        ["started_at", "timestamp with time zone", "", "NO", "now()"],
        ["applied_steps_count", "integer", "", "NO", "0"],
    ];
    let expected: Vec<Vec<String>> = expected
        .iter()
        .map(|row| row.iter().map(|s| s.to_string()).collect())
        .collect();
    assert_eq!(columns, expected);
    let primary_key = db.query(
        "SELECT tc.constraint_name, kcu.column_name FROM information_schema.table_constraints tc \
         JOIN information_schema.key_column_usage kcu USING (constraint_schema, constraint_name) \
         WHERE tc.table_name = '_prisma_migrations' AND tc.constraint_type = 'PRIMARY KEY'",
    );
    assert_eq!(
        primary_key,
        vec![vec![
            "_prisma_migrations_pkey".to_string(),
            "id".to_string()
        ]]
    );

    // The row: UUID v4 id, SHA-256 of the file's bytes, one step, finished, no logs.
    let rows = db.query(
        "SELECT id, checksum, migration_name, logs, rolled_back_at, applied_steps_count, \
         finished_at IS NOT NULL AND finished_at >= started_at FROM _prisma_migrations",
    );
    assert_eq!(rows.len(), 1);
    let row = &rows[0];
    let id = &row[0];
    assert_eq!(id.len(), 36);
    assert_eq!(id.as_bytes()[14], b'4', "UUID version 4: {id}");
    assert!(id
        .chars()
        .all(|c| c == '-' || c.is_ascii_digit() || ('a'..='f').contains(&c)));
    assert_eq!(row[1], sha256_hex(sql.as_bytes()));
    assert_eq!(row[2], "20240301120000_team");
    assert_eq!(row[3], "NULL");
    assert_eq!(row[4], "NULL");
    assert_eq!(row[5], "1");
    assert_eq!(row[6], "t");
}

#[test]
fn the_history_lives_in_the_urls_schema() {
    let db = TestDb::new();
    let project = Project::new();
    project.migration("1_init", "CREATE TABLE widget (id int);\n");
    let url = format!("{}?schema=tenant_a", db.url);
    let output = project.run(&["deploy", "--database-url", &url]);
    assert_success(&output);
    assert!(exists(&db, "tenant_a._prisma_migrations"));
    assert!(
        exists(&db, "tenant_a.widget"),
        "unqualified names go to the schema"
    );
    assert!(!exists(&db, "public._prisma_migrations"));
    let status = project.run(&["status", "--database-url", &url]);
    assert_eq!(status.status.code(), Some(0), "{}", stdout(&status));
}

#[test]
fn a_schema_named_like_a_keyword_holds_the_history() {
    // `?schema=user` is a valid schema name that must be quoted in SQL (Prisma always quotes).
    let db = TestDb::new();
    let project = Project::new();
    project.migration("1_init", "CREATE TABLE widget (id int);\n");
    let url = format!("{}?schema=user", db.url);
    let output = project.run(&["deploy", "--database-url", &url]);
    assert_success(&output);
    assert!(exists(&db, "\"user\"._prisma_migrations"));
    assert!(exists(&db, "\"user\".widget"));
    let status = project.run(&["status", "--database-url", &url]);
    assert_eq!(status.status.code(), Some(0), "{}", stdout(&status));
}

#[test]
fn a_role_without_create_on_the_database_can_deploy() {
    // Least privilege in production: the deploy role may create tables in its schema but not
    // schemas in the database. PostgreSQL checks that privilege before IF NOT EXISTS.
    let db = TestDb::new();
    let role = format!("{}_deployer", db.name);
    db.execute(&format!(
        "DROP ROLE IF EXISTS {role}; CREATE ROLE {role} LOGIN PASSWORD 'deployer-pw'; \
         GRANT USAGE, CREATE ON SCHEMA public TO {role}"
    ));
    let server =
        migration_gate::db::connection::url::DatabaseUrl::parse(&db.url).expect("test URL");
    let url = format!(
        "postgresql://{role}:deployer-pw@{}:{}/{}",
        server.host_display(),
        server.port(),
        db.name
    );
    let project = Project::new();
    project.migration("1_init", "CREATE TABLE widget (id int);\n");
    let output = project.run(&["deploy", "--database-url", &url]);
    let applied = exists(&db, "public._prisma_migrations") && exists(&db, "widget");
    db.execute(&format!("DROP OWNED BY {role}; DROP ROLE {role}"));
    assert_success(&output);
    assert!(applied);
}

#[test]
fn checksums_compare_equal_across_crlf_and_lf() {
    let db = TestDb::new();
    let project = Project::new();
    let lf = "CREATE TABLE a (id int);\nCREATE TABLE b (id int);\n";
    project.migration("1_init", lf);
    assert_success(&deploy(&project, &db, &[]));

    project.migration("1_init", &lf.replace('\n', "\r\n"));
    let (code, json) = status_json(&project, &db);
    assert_eq!(code, 0, "{json}");
    assert_eq!(json["migrations"][0]["state"], "applied");

    project.migration(
        "1_init",
        "CREATE TABLE a (id bigint);\nCREATE TABLE b (id int);\n",
    );
    let (code, json) = status_json(&project, &db);
    assert_eq!(code, 5);
    assert_eq!(json["migrations"][0]["state"], "edited");
}

#[test]
fn resolve_applied_baselines_an_existing_database() {
    let db = TestDb::new();
    db.execute("CREATE TABLE legacy (id int)");
    let project = Project::new();
    project.migration("1_baseline", "CREATE TABLE legacy (id int);\n");
    project.migration("2_next", "ALTER TABLE legacy ADD COLUMN note text;\n");
    assert_ne!(deploy(&project, &db, &[]).status.code(), Some(0));

    let resolved = run_db(&project, &db, &["resolve", "--applied", "1_baseline"]);
    assert_success(&resolved);
    assert!(stdout(&resolved).contains("Migration `1_baseline` marked as applied."));
    let row = db.query(
        "SELECT finished_at IS NOT NULL, applied_steps_count, rolled_back_at FROM _prisma_migrations",
    );
    assert_eq!(
        row,
        vec![vec!["t".to_string(), "0".to_string(), "NULL".to_string()]]
    );

    let output = deploy(&project, &db, &[]);
    assert_success(&output);
    assert!(stdout(&output).contains("Applying migration `2_next`"));
    assert!(!stdout(&output).contains("Applying migration `1_baseline`"));

    let again = run_db(&project, &db, &["resolve", "--applied", "1_baseline"]);
    assert_eq!(again.status.code(), Some(1));
    assert!(stderr(&again).contains("already recorded as applied"));
    // A precondition that does not hold: exit 1, as the README's table says.
    let unknown = run_db(&project, &db, &["resolve", "--applied", "9_nope"]);
    assert_eq!(unknown.status.code(), Some(1));
    assert!(stderr(&unknown).contains("could not be found"));
}

#[test]
fn resolve_rolled_back_lets_a_fixed_migration_be_reapplied() {
    let db = TestDb::new();
    let project = Project::new();
    project.migration("1_broken", "CREATE TABLE t (id nosuchtype);\n");
    assert_eq!(deploy(&project, &db, &[]).status.code(), Some(1));
    assert_eq!(
        states(&project, &db),
        vec![("1_broken".to_string(), "failed".to_string())]
    );

    let resolved = run_db(&project, &db, &["resolve", "--rolled-back", "1_broken"]);
    assert_success(&resolved);
    assert!(stdout(&resolved).contains("Migration `1_broken` marked as rolled back."));
    project.migration("1_broken", "CREATE TABLE t (id int);\n");
    assert_success(&deploy(&project, &db, &[]));
    assert!(exists(&db, "t"));
    let (code, _) = status_json(&project, &db);
    assert_eq!(code, 0);

    // An applied migration is not "failed": resolve refuses, as Prisma does.
    let refused = run_db(&project, &db, &["resolve", "--rolled-back", "1_broken"]);
    assert_eq!(refused.status.code(), Some(1));
    assert!(stderr(&refused).contains("not in a failed state"));
    let never = run_db(&project, &db, &["resolve", "--rolled-back", "2_never"]);
    assert_eq!(never.status.code(), Some(1));
    assert!(stderr(&never).contains("never applied"));
}

#[test]
fn resolve_applied_on_a_failed_migration_marks_the_failure_rolled_back() {
    let db = TestDb::new();
    let project = Project::new();
    project.migration("1_broken", "CREATE TABLE t (id nosuchtype);\n");
    assert_eq!(deploy(&project, &db, &[]).status.code(), Some(1));
    // The on-call engineer completed it by hand.
    db.execute("CREATE TABLE t (id int)");
    assert_success(&run_db(
        &project,
        &db,
        &["resolve", "--applied", "1_broken"],
    ));
    let rows = db.query(
        "SELECT finished_at IS NULL, rolled_back_at IS NULL FROM _prisma_migrations ORDER BY started_at, finished_at NULLS FIRST",
    );
    assert_eq!(
        rows,
        vec![
            vec!["t".to_string(), "f".to_string()],
            vec!["f".to_string(), "t".to_string()]
        ]
    );
    assert_eq!(status_json(&project, &db).0, 0);
}

#[test]
fn folder_names_reach_the_history_verbatim_without_standard_conforming_strings() {
    let db = TestDb::new();
    // With the setting off, a backslash escapes a quote inside '...': text spliced into SQL as
    // a standard literal ends early and the rest of the name runs as SQL.
    db.execute(&format!(
        "ALTER DATABASE {} SET standard_conforming_strings = off",
        db.name
    ));
    db.execute("CREATE TABLE victim (id int)");
    db.execute(
        "CREATE TABLE _prisma_migrations (id VARCHAR(36) PRIMARY KEY NOT NULL, \
         checksum VARCHAR(64) NOT NULL, finished_at TIMESTAMPTZ, \
         migration_name VARCHAR(255) NOT NULL, logs TEXT, rolled_back_at TIMESTAMPTZ, \
         started_at TIMESTAMPTZ NOT NULL DEFAULT now(), \
         applied_steps_count INTEGER NOT NULL DEFAULT 0)",
    );
    let project = Project::new();
    let atomic = r"1_a\', NULL, NULL, 1); DROP TABLE victim; --";
    let segmented = r"2_b\', NULL, NULL, 1); DROP TABLE victim; --";
    project.migration(atomic, "CREATE TABLE one (id int);\n");
    project.migration(
        segmented,
        "CREATE TABLE two (id int);\nCREATE INDEX CONCURRENTLY two_id ON two (id);\n",
    );
    assert_success(&deploy(&project, &db, &[]));
    assert!(exists(&db, "victim"), "the folder name ran as SQL");
    let names = db.query(
        "SELECT migration_name, finished_at IS NOT NULL FROM _prisma_migrations \
         ORDER BY migration_name",
    );
    assert_eq!(
        names,
        vec![
            vec![atomic.to_string(), "t".to_string()],
            vec![segmented.to_string(), "t".to_string()],
        ]
    );

    // resolve writes the name too.
    let third = r"3_c\', now(), 'x'); DROP TABLE victim; --";
    project.migration(third, "SELECT 1;\n");
    assert_success(&run_db(&project, &db, &["resolve", "--applied", third]));
    assert!(exists(&db, "victim"), "resolve ran the folder name as SQL");
    let stored =
        db.query("SELECT migration_name FROM _prisma_migrations WHERE migration_name LIKE '3%'");
    assert_eq!(stored, vec![vec![third.to_string()]]);
}

#[test]
fn unknown_names_are_a_precondition_failure_for_rollback_and_resolve() {
    let db = TestDb::new();
    let project = Project::new();
    project.migration("1_a", "CREATE TABLE a (id int);\n");
    assert_success(&deploy(&project, &db, &[]));
    let rollback = run_db(&project, &db, &["rollback", "--to", "9_unknown"]);
    assert_eq!(rollback.status.code(), Some(1), "{}", stderr(&rollback));
    assert!(stderr(&rollback).contains("9_unknown"));
    let resolve = run_db(&project, &db, &["resolve", "--applied", "9_unknown"]);
    assert_eq!(resolve.status.code(), Some(1), "{}", stderr(&resolve));
}
