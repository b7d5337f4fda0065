//! The transaction and lock claims of the flow rules, checked on the server: how a file sent as
//! one simple query (`prisma migrate deploy` up to 7.3) groups its statements, which lock each
//! operation takes (src/lint/locks.rs), and that an earlier lock stays held while a later
//! statement of the same transaction runs (slow-under-lock).

use crate::probe::{probe, probe_autocommit};

const USERS: &str = "CREATE TABLE users (id int PRIMARY KEY, email text, team_id int);\n\
                     CREATE TABLE teams (id int PRIMARY KEY);\n\
                     INSERT INTO teams SELECT g FROM generate_series(1, 10) g;\n\
                     INSERT INTO users SELECT g, 'u' || g, 1 + g % 10 FROM generate_series(1, 1000) g;\n\
                     CREATE TYPE role AS ENUM ('user');\n\
                     CREATE INDEX users_email ON users (email);";

/// `probe_autocommit` sends its statement with `batch_execute`: one simple query, as Prisma up
/// to 7.3 sends a migration file.
fn as_one_query(sql: &str) -> Option<String> {
    probe_autocommit(USERS, sql).failed_with
}

#[test]
fn concurrently_fails_in_a_multi_statement_query_and_runs_alone() {
    let mixed = "ALTER TABLE users ADD COLUMN name text;\n\
                 CREATE INDEX CONCURRENTLY users_name ON users (name);";
    assert_eq!(as_one_query(mixed).as_deref(), Some("25001"));
    // Even after the file's own COMMIT: the query is still one implicit block.
    let after_commit = "ALTER TABLE users ADD COLUMN name text;\nCOMMIT;\n\
                        CREATE INDEX CONCURRENTLY users_name ON users (name);";
    assert_eq!(as_one_query(after_commit).as_deref(), Some("25001"));
    assert_eq!(
        as_one_query("CREATE INDEX CONCURRENTLY users_id2 ON users (id)"),
        None
    );
}

#[test]
fn a_new_enum_value_used_in_the_same_query_fails_unless_committed_first() {
    let used = "ALTER TYPE role ADD VALUE 'admin';\nSELECT 'admin'::role;";
    assert_eq!(as_one_query(used).as_deref(), Some("55P04"));
    // A BEGIN inside the query keeps the same transaction.
    let begin = "ALTER TYPE role ADD VALUE 'admin';\nBEGIN;\nSELECT 'admin'::role;\nCOMMIT;";
    assert_eq!(as_one_query(begin).as_deref(), Some("55P04"));
    // The file's own COMMIT ends it: the next statement starts another transaction.
    let committed = "ALTER TYPE role ADD VALUE 'admin';\nCOMMIT;\nSELECT 'admin'::role;";
    assert_eq!(as_one_query(committed), None);
}

#[test]
fn an_update_after_add_column_runs_under_the_add_columns_access_exclusive() {
    let seen = probe(
        USERS,
        "ALTER TABLE users ADD COLUMN nickname text;\nUPDATE users SET nickname = email;",
    );
    assert!(seen.holds("users", "AccessExclusiveLock"), "{seen:?}");
    assert!(seen.holds("users", "RowExclusiveLock"), "{seen:?}");
    // Alone, the UPDATE blocks nobody's reads.
    let alone = probe(USERS, "UPDATE users SET email = email || 'x'");
    assert!(!alone.holds("users", "AccessExclusiveLock"), "{alone:?}");
    assert!(alone.holds("users", "RowExclusiveLock"), "{alone:?}");
}

#[test]
fn validate_scans_under_share_update_exclusive_after_the_files_commit() {
    let seen = probe(
        USERS,
        "ALTER TABLE users ADD CONSTRAINT c CHECK (id > 0) NOT VALID",
    );
    assert!(seen.holds("users", "AccessExclusiveLock"), "{seen:?}");
    assert!(!seen.scanned("users"), "{seen:?}");
    let seen = probe(
        &format!("{USERS}\nALTER TABLE users ADD CONSTRAINT c CHECK (id > 0) NOT VALID;"),
        "ALTER TABLE users VALIDATE CONSTRAINT c",
    );
    assert!(seen.holds("users", "ShareUpdateExclusiveLock"), "{seen:?}");
    assert!(!seen.holds("users", "AccessExclusiveLock"), "{seen:?}");
    assert!(seen.scanned("users"), "{seen:?}");
}

/// ROLLBACK TO SAVEPOINT releases the locks taken after the savepoint; RELEASE keeps them.
#[test]
fn rollback_to_savepoint_releases_the_locks_taken_after_it() {
    let rolled_back = probe(
        USERS,
        "SAVEPOINT s;\nALTER TABLE users ADD COLUMN b int;\nROLLBACK TO SAVEPOINT s;",
    );
    assert!(
        !rolled_back.holds("users", "AccessExclusiveLock"),
        "{rolled_back:?}"
    );
    let released = probe(
        USERS,
        "SAVEPOINT s;\nALTER TABLE users ADD COLUMN b int;\nRELEASE SAVEPOINT s;",
    );
    assert!(
        released.holds("users", "AccessExclusiveLock"),
        "{released:?}"
    );
}

/// The modes of src/lint/locks.rs `locks_of`, one statement at a time.
#[test]
fn each_operation_takes_the_mode_the_lock_model_says() {
    let cases: &[(&str, &str, &str)] = &[
        (
            "ALTER TABLE users ADD COLUMN n text",
            "users",
            "AccessExclusiveLock",
        ),
        (
            "ALTER TABLE users ALTER COLUMN email SET NOT NULL",
            "users",
            "AccessExclusiveLock",
        ),
        (
            "ALTER TABLE users ALTER COLUMN email SET DEFAULT 'x'",
            "users",
            "AccessExclusiveLock",
        ),
        (
            "ALTER TABLE users ADD CONSTRAINT c CHECK (id > 0)",
            "users",
            "AccessExclusiveLock",
        ),
        (
            "ALTER TABLE users ADD CONSTRAINT u UNIQUE (email)",
            "users",
            "AccessExclusiveLock",
        ),
        (
            "ALTER TABLE users ADD CONSTRAINT f FOREIGN KEY (team_id) REFERENCES teams (id)",
            "users",
            "ShareRowExclusiveLock",
        ),
        (
            "ALTER TABLE users ADD CONSTRAINT f FOREIGN KEY (team_id) REFERENCES teams (id)",
            "teams",
            "ShareRowExclusiveLock",
        ),
        (
            "CREATE TABLE posts (id int, user_id int REFERENCES users (id))",
            "users",
            "ShareRowExclusiveLock",
        ),
        (
            "CREATE INDEX users_team ON users (team_id)",
            "users",
            "ShareLock",
        ),
        ("DROP INDEX users_email", "users", "AccessExclusiveLock"),
        (
            "ALTER TABLE users RENAME COLUMN email TO mail",
            "users",
            "AccessExclusiveLock",
        ),
        (
            "UPDATE users SET email = 'x' WHERE id = 1",
            "users",
            "RowExclusiveLock",
        ),
        (
            "DELETE FROM users WHERE id = 1",
            "users",
            "RowExclusiveLock",
        ),
        (
            "LOCK TABLE users IN EXCLUSIVE MODE",
            "users",
            "ExclusiveLock",
        ),
        (
            "CREATE TRIGGER t BEFORE UPDATE ON users FOR EACH ROW EXECUTE FUNCTION suppress_redundant_updates_trigger()",
            "users",
            "ShareRowExclusiveLock",
        ),
    ];
    // Dropping a foreign key, with its column or its table, locks the referenced table too.
    let with_fk = format!(
        "{USERS};\nALTER TABLE users ADD CONSTRAINT users_team_fkey FOREIGN KEY (team_id) REFERENCES teams (id)"
    );
    for statement in [
        "ALTER TABLE users DROP CONSTRAINT users_team_fkey",
        "ALTER TABLE users DROP COLUMN team_id",
        "DROP TABLE users",
    ] {
        let seen = probe(&with_fk, statement);
        assert!(
            seen.holds("teams", "AccessExclusiveLock"),
            "{statement}: {seen:?}"
        );
    }
    for (statement, table, mode) in cases {
        let seen = probe(USERS, statement);
        assert_eq!(seen.failed_with, None, "{statement}");
        assert!(
            seen.holds(table, mode),
            "{statement}: {table} {mode}: {seen:?}"
        );
    }
    // The scans and rewrites the model counts as slow work.
    let not_null = probe(USERS, "ALTER TABLE users ALTER COLUMN email SET NOT NULL");
    assert!(not_null.scanned("users"), "{not_null:?}");
    let retype = probe(USERS, "ALTER TABLE users ALTER COLUMN team_id TYPE bigint");
    assert!(retype.rewrote("users"), "{retype:?}");
    let add = probe(USERS, "ALTER TABLE users ADD COLUMN n text");
    assert!(!add.rewrote("users") && !add.scanned("users"), "{add:?}");
}

/// lock-timeout-missing: while ACCESS EXCLUSIVE waits for a long query, every new query on the
/// table queues behind it, reads included; with lock_timeout the migration gives up instead
/// (55P03). And SET LOCAL outside a transaction block (Prisma 7.4+ sends it alone) sets nothing.
#[test]
fn a_waiting_access_exclusive_queues_reads_and_lock_timeout_gives_up() {
    let db = crate::support::TestDb::new();
    db.execute(USERS);
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("tokio runtime");
    runtime.block_on(async {
        let connect = || async {
            let (client, connection) = tokio_postgres::connect(&db.url, tokio_postgres::NoTls)
                .await
                .expect("probe database reachable");
            tokio::spawn(connection);
            client
        };
        let (long, migration, app, observer) = (
            connect().await,
            connect().await,
            connect().await,
            connect().await,
        );
        // A long report holds ACCESS SHARE until it ends.
        long.batch_execute("BEGIN; SELECT count(*) FROM users;")
            .await
            .unwrap();

        // With lock_timeout the migration fails fast and nothing queues.
        migration
            .batch_execute("SET LOCAL lock_timeout = '5s'")
            .await
            .unwrap();
        let shown = migration.simple_query("SHOW lock_timeout").await.unwrap();
        let value = shown.iter().find_map(|m| match m {
            tokio_postgres::SimpleQueryMessage::Row(row) => row.get(0).map(str::to_string),
            _ => None,
        });
        assert_eq!(
            value.as_deref(),
            Some("0"),
            "SET LOCAL in autocommit sets nothing"
        );
        migration
            .batch_execute("SET lock_timeout = '200ms'")
            .await
            .unwrap();
        let err = migration
            .batch_execute("ALTER TABLE users ADD COLUMN n text")
            .await
            .unwrap_err();
        assert_eq!(err.code().map(|c| c.code()), Some("55P03"), "{err}");

        // Without it, the ALTER waits, and a plain SELECT arriving after it waits too.
        migration
            .batch_execute("SET lock_timeout = 0")
            .await
            .unwrap();
        let alter = tokio::spawn(async move {
            migration
                .batch_execute("ALTER TABLE users ADD COLUMN n text")
                .await
        });
        tokio::time::sleep(std::time::Duration::from_millis(300)).await;
        let read =
            tokio::spawn(async move { app.batch_execute("SELECT count(*) FROM users").await });
        tokio::time::sleep(std::time::Duration::from_millis(300)).await;
        let waiting = observer
            .query(
                "SELECT count(*) FROM pg_locks l JOIN pg_class c ON c.oid = l.relation \
                 WHERE c.relname = 'users' AND NOT l.granted",
                &[],
            )
            .await
            .unwrap();
        let waiting: i64 = waiting[0].get(0);
        assert_eq!(
            waiting, 2,
            "the ALTER and the SELECT queued behind it both wait"
        );
        assert!(
            !read.is_finished(),
            "the read waits behind the queued ALTER"
        );
        long.batch_execute("COMMIT").await.unwrap();
        alter.await.unwrap().unwrap();
        read.await.unwrap().unwrap();
    });
}
