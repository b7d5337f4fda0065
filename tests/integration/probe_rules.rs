//! PostgreSQL checks for the claims of `rename-type`, `rename-enum-value`, `rename-schema`,
//! `lock-table`, `create-trigger` and the ALTER TABLE actions `unjudged-statement` calls harmless.

use crate::probe::probe;
use crate::support::TestDb;

const USERS: &str = "CREATE TYPE mood AS ENUM ('ok', 'sad');\n\
                     CREATE TABLE users (id int PRIMARY KEY, email text, m mood);\n\
                     INSERT INTO users SELECT g, 'u' || g, 'ok' FROM generate_series(1, 1000) g;\n\
                     CREATE SCHEMA legacy;\n\
                     CREATE TABLE legacy.notes (id int PRIMARY KEY);\n\
                     CREATE FUNCTION touch() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RETURN NEW; END $$;";

/// Nothing done to any table: no lock, no rewrite, no scan.
#[track_caller]
fn catalog_only(statement: &str) {
    let seen = probe(USERS, statement);
    assert_eq!(seen.failed_with, None, "{statement}");
    assert!(seen.locks.is_empty(), "{statement}: {seen:?}");
    assert!(seen.rewritten.is_empty(), "{statement}: {seen:?}");
    assert!(seen.scanned.is_empty(), "{statement}: {seen:?}");
}

#[test]
fn renaming_a_type_a_value_or_a_schema_locks_no_table() {
    catalog_only("ALTER TYPE mood RENAME TO feeling");
    catalog_only("ALTER TYPE mood RENAME VALUE 'ok' TO 'fine'");
    catalog_only("ALTER SCHEMA legacy RENAME TO archive");
}

#[test]
fn the_renamed_names_are_gone_for_the_running_app() {
    // What the app sends after each rename, and the error it gets.
    let db = TestDb::new();
    db.execute(USERS);
    db.execute(
        "ALTER TYPE mood RENAME VALUE 'sad' TO 'down'; ALTER TYPE mood RENAME TO feeling; \
         ALTER SCHEMA legacy RENAME TO archive;",
    );
    for (app_sql, sqlstate) in [
        ("SELECT 'ok'::mood", "42704"),
        ("INSERT INTO users VALUES (0, 'x', 'sad')", "22P02"),
        ("SELECT * FROM legacy.notes", "42P01"),
    ] {
        let failed = sqlstate_of(&db.url, app_sql);
        assert_eq!(failed.as_deref(), Some(sqlstate), "{app_sql}");
    }
}

#[test]
fn lock_table_takes_the_mode_written_and_access_exclusive_by_default() {
    for (statement, mode) in [
        ("LOCK users", "AccessExclusiveLock"),
        ("LOCK TABLE users IN SHARE MODE", "ShareLock"),
        (
            "LOCK TABLE users IN SHARE ROW EXCLUSIVE MODE",
            "ShareRowExclusiveLock",
        ),
        (
            "LOCK TABLE ONLY users IN EXCLUSIVE MODE NOWAIT",
            "ExclusiveLock",
        ),
        (
            "LOCK TABLE users IN ACCESS EXCLUSIVE MODE",
            "AccessExclusiveLock",
        ),
    ] {
        let seen = probe(USERS, statement);
        assert_eq!(seen.locks_on("users"), vec![mode], "{statement}");
        assert!(
            seen.rewritten.is_empty() && seen.scanned.is_empty(),
            "{seen:?}"
        );
    }
}

/// The SQLSTATE `sql` fails with on `url`, `None` when it succeeds.
fn sqlstate_of(url: &str, sql: &str) -> Option<String> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("tokio runtime");
    runtime.block_on(async {
        let (client, connection) = tokio_postgres::connect(url, tokio_postgres::NoTls)
            .await
            .expect("database reachable");
        tokio::spawn(connection);
        let result = client.batch_execute(sql).await;
        result.err().map(|err| {
            err.code()
                .map(|code| code.code().to_string())
                .unwrap_or_else(|| err.to_string())
        })
    })
}

/// Which of the app's statements wait while another session holds `LOCK TABLE users IN mode`.
fn waiting_while_locked(mode: &str) -> Vec<&'static str> {
    let db = TestDb::new();
    db.execute(USERS);
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("tokio runtime");
    runtime.block_on(async {
        let (holder, connection) = tokio_postgres::connect(&db.url, tokio_postgres::NoTls)
            .await
            .expect("database reachable");
        tokio::spawn(connection);
        let (app, connection) = tokio_postgres::connect(&db.url, tokio_postgres::NoTls)
            .await
            .expect("database reachable");
        tokio::spawn(connection);
        holder
            .batch_execute(&format!("BEGIN; LOCK TABLE users IN {mode} MODE"))
            .await
            .unwrap();
        app.batch_execute("SET lock_timeout = '200ms'")
            .await
            .unwrap();
        let mut waiting = Vec::new();
        for (what, sql) in [
            ("read", "SELECT count(*) FROM users"),
            (
                "select for update",
                "SELECT * FROM users WHERE id = 1 FOR UPDATE",
            ),
            ("write", "UPDATE users SET email = 'x' WHERE id = 1"),
        ] {
            let result = app.batch_execute(&format!("BEGIN; {sql}; ROLLBACK")).await;
            if let Err(err) = result {
                assert_eq!(err.code().map(|c| c.code()), Some("55P03"), "{sql}: {err}");
                waiting.push(what);
                app.batch_execute("ROLLBACK").await.unwrap();
            }
        }
        holder.batch_execute("ROLLBACK").await.unwrap();
        waiting
    })
}

#[test]
fn what_waits_behind_each_lock_table_mode() {
    assert_eq!(waiting_while_locked("SHARE"), vec!["write"]);
    assert_eq!(waiting_while_locked("SHARE ROW EXCLUSIVE"), vec!["write"]);
    assert_eq!(
        waiting_while_locked("EXCLUSIVE"),
        vec!["select for update", "write"]
    );
    assert_eq!(
        waiting_while_locked("ACCESS EXCLUSIVE"),
        vec!["read", "select for update", "write"]
    );
    assert!(waiting_while_locked("SHARE UPDATE EXCLUSIVE").is_empty());
    assert!(waiting_while_locked("ROW EXCLUSIVE").is_empty());
}

#[test]
fn create_trigger_takes_share_row_exclusive_without_scanning() {
    for statement in [
        "CREATE TRIGGER t BEFORE UPDATE ON users FOR EACH ROW EXECUTE FUNCTION touch()",
        "CREATE OR REPLACE TRIGGER t AFTER UPDATE OF email ON users FOR EACH ROW EXECUTE FUNCTION touch()",
        "CREATE CONSTRAINT TRIGGER t AFTER INSERT ON users DEFERRABLE FOR EACH ROW EXECUTE FUNCTION touch()",
    ] {
        let seen = probe(USERS, statement);
        assert_eq!(seen.locks_on("users"), vec!["ShareRowExclusiveLock"], "{statement}");
        assert!(seen.rewritten.is_empty() && seen.scanned.is_empty(), "{seen:?}");
    }
}

#[test]
fn alter_table_actions_called_harmless_neither_rewrite_nor_scan() {
    for statement in [
        "ALTER TABLE users OWNER TO CURRENT_USER",
        "ALTER TABLE users SET (fillfactor = 90)",
        "ALTER TABLE users RESET (fillfactor)",
        "ALTER TABLE users CLUSTER ON users_pkey",
        "ALTER TABLE users SET WITHOUT CLUSTER",
        "ALTER TABLE users REPLICA IDENTITY FULL",
        "ALTER TABLE users ALTER COLUMN email SET STATISTICS 500",
        "ALTER TABLE users ALTER COLUMN email SET STORAGE EXTERNAL",
        "ALTER TABLE users ALTER COLUMN id ADD GENERATED BY DEFAULT AS IDENTITY",
    ] {
        let seen = probe(USERS, statement);
        assert_eq!(seen.failed_with, None, "{statement}");
        assert!(!seen.rewrote("users"), "{statement}: {seen:?}");
        assert!(!seen.scanned("users"), "{statement}: {seen:?}");
    }
}

#[test]
fn set_logged_is_not_harmless_it_rewrites() {
    // Why `unjudged-statement` raises ALTER TABLE ... SET UNLOGGED / LOGGED until a rule judges it.
    let seen = probe(USERS, "ALTER TABLE users SET UNLOGGED");
    assert!(seen.rewrote("users"), "{seen:?}");
    assert!(seen.holds("users", "AccessExclusiveLock"), "{seen:?}");
}
