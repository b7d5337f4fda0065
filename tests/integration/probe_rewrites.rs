//! What PostgreSQL really does for the statements of `table-rewrite`, `reindex-blocking`,
//! `refresh-materialized-view-blocking`, `add-exclusion-constraint` and
//! `alter-domain-add-constraint`: each claim their messages make is checked here.

use crate::probe::{probe, probe_autocommit};

const USERS: &str = "CREATE TABLE users (id int PRIMARY KEY, email text);\n\
                     CREATE INDEX users_email ON users (email);\n\
                     INSERT INTO users SELECT g, 'u' || g FROM generate_series(1, 1000) g;";

/// SQLSTATE 25001: "cannot run inside a transaction block".
const ACTIVE_SQL_TRANSACTION: &str = "25001";

#[test]
fn cluster_rewrites_the_table_and_its_indexes_under_access_exclusive() {
    let seen = probe(USERS, "CLUSTER users USING users_pkey");
    assert_eq!(seen.failed_with, None, "{seen:?}");
    assert!(seen.holds("users", "AccessExclusiveLock"), "{seen:?}");
    assert!(seen.rewrote("users"), "{seen:?}");
    assert!(seen.rewrote("users_pkey"), "{seen:?}");
    assert!(seen.rewrote("users_email"), "{seen:?}");
}

#[test]
fn bare_cluster_and_vacuum_full_refuse_a_transaction_block() {
    let clustered = format!("{USERS}\nALTER TABLE users CLUSTER ON users_pkey;");
    let seen = probe(&clustered, "CLUSTER");
    assert_eq!(seen.failed_with.as_deref(), Some(ACTIVE_SQL_TRANSACTION));
    let seen = probe_autocommit(&clustered, "CLUSTER");
    assert_eq!(seen.failed_with, None, "{seen:?}");
    assert!(seen.rewrote("users"), "{seen:?}");
    let seen = probe(USERS, "VACUUM FULL users");
    assert_eq!(seen.failed_with.as_deref(), Some(ACTIVE_SQL_TRANSACTION));
    let seen = probe_autocommit(USERS, "VACUUM FULL");
    assert!(
        seen.rewrote("users") && seen.rewrote("users_email"),
        "{seen:?}"
    );
}

#[test]
fn plain_vacuum_rewrites_nothing() {
    let seen = probe_autocommit(USERS, "VACUUM ANALYZE users");
    assert_eq!(seen.failed_with, None, "{seen:?}");
    assert!(seen.rewritten.is_empty(), "{seen:?}");
}

#[test]
fn set_logged_and_set_unlogged_rewrite_under_access_exclusive() {
    let seen = probe(USERS, "ALTER TABLE users SET UNLOGGED");
    assert!(seen.holds("users", "AccessExclusiveLock"), "{seen:?}");
    assert!(
        seen.rewrote("users") && seen.rewrote("users_email"),
        "{seen:?}"
    );
    let unlogged = USERS.replace("CREATE TABLE", "CREATE UNLOGGED TABLE");
    let seen = probe(&unlogged, "ALTER TABLE users SET LOGGED");
    assert!(seen.holds("users", "AccessExclusiveLock"), "{seen:?}");
    assert!(
        seen.rewrote("users") && seen.rewrote("users_email"),
        "{seen:?}"
    );
}

#[test]
fn set_tablespace_to_where_the_table_already_is_copies_nothing_but_still_locks() {
    let seen = probe(USERS, "ALTER TABLE users SET TABLESPACE pg_default");
    assert_eq!(seen.failed_with, None, "{seen:?}");
    assert!(seen.holds("users", "AccessExclusiveLock"), "{seen:?}");
    assert!(!seen.rewrote("users"), "{seen:?}");
}

#[test]
fn set_access_method_rewrites_into_the_new_method() {
    // A second table access method: the built-in heap under another name.
    let with_heap2 =
        format!("{USERS}\nCREATE ACCESS METHOD heap2 TYPE TABLE HANDLER heap_tableam_handler;");
    let seen = probe(&with_heap2, "ALTER TABLE users SET ACCESS METHOD heap2");
    assert_eq!(seen.failed_with, None, "{seen:?}");
    assert!(seen.holds("users", "AccessExclusiveLock"), "{seen:?}");
    assert!(
        seen.rewrote("users") && seen.rewrote("users_email"),
        "{seen:?}"
    );
    // To the method it already has: only the lock.
    let seen = probe(USERS, "ALTER TABLE users SET ACCESS METHOD heap");
    assert!(seen.holds("users", "AccessExclusiveLock"), "{seen:?}");
    assert!(!seen.rewrote("users"), "{seen:?}");
}

#[test]
fn reindex_index_locks_the_index_exclusively_and_blocks_writes_on_the_table() {
    let seen = probe(USERS, "REINDEX INDEX users_email");
    assert_eq!(seen.failed_with, None, "{seen:?}");
    assert!(seen.holds("users_email", "AccessExclusiveLock"), "{seen:?}");
    assert!(seen.holds("users", "ShareLock"), "{seen:?}");
    assert!(!seen.holds("users", "AccessExclusiveLock"), "{seen:?}");
    assert!(
        seen.rewrote("users_email") && !seen.rewrote("users"),
        "{seen:?}"
    );
}

#[test]
fn reindex_table_locks_each_index_exclusively_and_blocks_writes_on_the_table() {
    let seen = probe(USERS, "REINDEX TABLE users");
    assert!(seen.holds("users", "ShareLock"), "{seen:?}");
    assert!(!seen.holds("users", "AccessExclusiveLock"), "{seen:?}");
    assert!(seen.holds("users_email", "AccessExclusiveLock"), "{seen:?}");
    assert!(seen.holds("users_pkey", "AccessExclusiveLock"), "{seen:?}");
    assert!(
        seen.rewrote("users_email") && seen.rewrote("users_pkey"),
        "{seen:?}"
    );
}

#[test]
fn reindex_concurrently_and_reindex_schema_refuse_a_transaction_block() {
    let seen = probe(USERS, "REINDEX INDEX CONCURRENTLY users_email");
    assert_eq!(seen.failed_with.as_deref(), Some(ACTIVE_SQL_TRANSACTION));
    let seen = probe(USERS, "REINDEX SCHEMA public");
    assert_eq!(seen.failed_with.as_deref(), Some(ACTIVE_SQL_TRANSACTION));
    let seen = probe_autocommit(USERS, "REINDEX INDEX CONCURRENTLY users_email");
    assert_eq!(seen.failed_with, None, "{seen:?}");
}

const TOTALS: &str = "CREATE TABLE users (id int PRIMARY KEY, email text);\n\
                      INSERT INTO users SELECT g, 'u' || g FROM generate_series(1, 1000) g;\n\
                      CREATE MATERIALIZED VIEW totals AS SELECT count(*) AS n FROM users;";

#[test]
fn refresh_takes_access_exclusive_on_the_view_and_runs_its_query() {
    let seen = probe(TOTALS, "REFRESH MATERIALIZED VIEW totals");
    assert_eq!(seen.failed_with, None, "{seen:?}");
    assert!(seen.holds("totals", "AccessExclusiveLock"), "{seen:?}");
    assert!(seen.rewrote("totals"), "{seen:?}");
    assert!(seen.scanned("users"), "{seen:?}");
    assert!(!seen.holds("users", "AccessExclusiveLock"), "{seen:?}");
}

#[test]
fn refresh_concurrently_needs_a_unique_index_and_leaves_reads_alone() {
    let seen = probe(TOTALS, "REFRESH MATERIALIZED VIEW CONCURRENTLY totals");
    assert_eq!(seen.failed_with.as_deref(), Some("55000"), "{seen:?}");
    let indexed = format!("{TOTALS}\nCREATE UNIQUE INDEX totals_n ON totals (n);");
    let seen = probe(&indexed, "REFRESH MATERIALIZED VIEW CONCURRENTLY totals");
    assert_eq!(
        seen.failed_with, None,
        "it runs inside a transaction block: {seen:?}"
    );
    assert!(seen.holds("totals", "ExclusiveLock"), "{seen:?}");
    assert!(!seen.holds("totals", "AccessExclusiveLock"), "{seen:?}");
}

#[test]
fn refresh_with_no_data_leaves_the_view_unreadable() {
    let seen = probe(TOTALS, "REFRESH MATERIALIZED VIEW totals WITH NO DATA");
    assert_eq!(seen.failed_with, None, "{seen:?}");
    assert!(seen.holds("totals", "AccessExclusiveLock"), "{seen:?}");
    assert!(!seen.scanned("users"), "{seen:?}");
    let emptied = format!("{TOTALS}\nREFRESH MATERIALIZED VIEW totals WITH NO DATA;");
    let seen = probe(&emptied, "SELECT * FROM totals");
    assert_eq!(seen.failed_with.as_deref(), Some("55000"), "{seen:?}");
}

#[test]
fn an_exclusion_constraint_builds_its_index_under_access_exclusive() {
    let seen = probe(
        USERS,
        "ALTER TABLE users ADD CONSTRAINT users_email_excl EXCLUDE USING btree (email WITH =)",
    );
    assert_eq!(seen.failed_with, None, "{seen:?}");
    assert!(seen.holds("users", "AccessExclusiveLock"), "{seen:?}");
    assert!(seen.scanned("users"), "{seen:?}");
    // Existing rows are checked: a duplicate makes it fail.
    let duplicate = format!("{USERS}\nINSERT INTO users VALUES (1001, 'u1');");
    let seen = probe(
        &duplicate,
        "ALTER TABLE users ADD CONSTRAINT users_email_excl EXCLUDE USING btree (email WITH =)",
    );
    assert_eq!(seen.failed_with.as_deref(), Some("23P01"), "{seen:?}");
    // There is no NOT VALID form.
    let seen = probe(
        USERS,
        "ALTER TABLE users ADD CONSTRAINT users_email_excl EXCLUDE USING btree (email WITH =) NOT VALID",
    );
    assert!(seen.failed_with.is_some(), "{seen:?}");
}

const EMAILS: &str = "CREATE DOMAIN email AS text;\n\
                      CREATE TABLE users (id int PRIMARY KEY, email email);\n\
                      CREATE TABLE teams (id int PRIMARY KEY, name text);\n\
                      INSERT INTO users SELECT g, 'u' || g || '@x' FROM generate_series(1, 1000) g;\n\
                      INSERT INTO teams SELECT g, 't' || g FROM generate_series(1, 1000) g;";

#[test]
fn alter_domain_add_check_scans_each_table_using_it_under_share() {
    let seen = probe(
        EMAILS,
        "ALTER DOMAIN email ADD CONSTRAINT email_at CHECK (VALUE LIKE '%@%')",
    );
    assert_eq!(seen.failed_with, None, "{seen:?}");
    assert!(seen.holds("users", "ShareLock"), "{seen:?}");
    assert!(!seen.holds("users", "AccessExclusiveLock"), "{seen:?}");
    assert!(seen.scanned("users"), "{seen:?}");
    assert!(
        seen.locks_on("teams").is_empty() && !seen.scanned("teams"),
        "{seen:?}"
    );
    let bad = format!("{EMAILS}\nINSERT INTO users VALUES (0, 'nobody');");
    let seen = probe(
        &bad,
        "ALTER DOMAIN email ADD CONSTRAINT email_at CHECK (VALUE LIKE '%@%')",
    );
    assert_eq!(seen.failed_with.as_deref(), Some("23514"), "{seen:?}");
}

#[test]
fn alter_domain_add_check_not_valid_reads_no_rows() {
    let seen = probe(
        EMAILS,
        "ALTER DOMAIN email ADD CONSTRAINT email_at CHECK (VALUE LIKE '%@%') NOT VALID",
    );
    assert_eq!(seen.failed_with, None, "{seen:?}");
    assert!(!seen.scanned("users"), "{seen:?}");
    assert!(seen.locks_on("users").is_empty(), "{seen:?}");
    // Unlike a table's VALIDATE CONSTRAINT, a domain's still scans under SHARE: writes wait.
    let added = format!(
        "{EMAILS}\nALTER DOMAIN email ADD CONSTRAINT email_at CHECK (VALUE LIKE '%@%') NOT VALID;"
    );
    let seen = probe(&added, "ALTER DOMAIN email VALIDATE CONSTRAINT email_at");
    assert_eq!(seen.failed_with, None, "{seen:?}");
    assert!(seen.scanned("users"), "{seen:?}");
    assert!(seen.holds("users", "ShareLock"), "{seen:?}");
}

#[test]
fn alter_domain_set_not_null_scans_each_table_using_it_under_share() {
    let seen = probe(EMAILS, "ALTER DOMAIN email SET NOT NULL");
    assert_eq!(seen.failed_with, None, "{seen:?}");
    assert!(seen.holds("users", "ShareLock"), "{seen:?}");
    assert!(seen.scanned("users"), "{seen:?}");
    let seen = probe(
        EMAILS,
        "ALTER DOMAIN email ADD CONSTRAINT email_nn NOT NULL NOT VALID",
    );
    assert!(
        seen.failed_with.is_some(),
        "NOT NULL has no NOT VALID form: {seen:?}"
    );
}

/// Whether `query`, run by another session while `statement`'s transaction is still open, has
/// to wait for a lock (it gives up after a short `lock_timeout` with SQLSTATE 55P03).
fn waits_behind(setup: &str, statement: &str, query: &str) -> bool {
    let db = crate::support::TestDb::new();
    db.execute(setup);
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
        let holder = connect().await;
        let other = connect().await;
        holder.batch_execute("BEGIN").await.unwrap();
        holder.batch_execute(statement).await.unwrap();
        other
            .batch_execute("SET lock_timeout = '200ms'")
            .await
            .unwrap();
        let waited = match other.batch_execute(query).await {
            Ok(()) => false,
            Err(err) => {
                let code = err.code().map(|c| c.code().to_string());
                assert_eq!(code.as_deref(), Some("55P03"), "{err}");
                true
            }
        };
        holder.batch_execute("ROLLBACK").await.unwrap();
        waited
    })
}

#[test]
fn reindex_index_makes_reads_that_do_not_use_the_index_wait_too() {
    // The planner locks every index of the table: even a primary-key lookup waits.
    let read = "SELECT id FROM users WHERE id = 1";
    assert!(waits_behind(USERS, "REINDEX INDEX users_email", read));
    assert!(waits_behind(
        USERS,
        "REINDEX INDEX users_email",
        "INSERT INTO users VALUES (0, 'new')"
    ));
    // The same read goes on beside a plain index build (SHARE on the table only).
    assert!(!waits_behind(
        USERS,
        "CREATE INDEX users_email_2 ON users (email)",
        read
    ));
}

#[test]
fn alter_domain_add_check_blocks_writes_but_not_reads() {
    let add = "ALTER DOMAIN email ADD CONSTRAINT email_at CHECK (VALUE LIKE '%@%')";
    assert!(waits_behind(
        EMAILS,
        add,
        "INSERT INTO users VALUES (0, 'new@x')"
    ));
    assert!(!waits_behind(EMAILS, add, "SELECT count(*) FROM users"));
}

#[test]
fn refresh_blocks_reads_of_the_view_and_concurrently_does_not() {
    let read = "SELECT n FROM totals";
    assert!(waits_behind(
        TOTALS,
        "REFRESH MATERIALIZED VIEW totals",
        read
    ));
    let indexed = format!("{TOTALS}\nCREATE UNIQUE INDEX totals_n ON totals (n);");
    assert!(!waits_behind(
        &indexed,
        "REFRESH MATERIALIZED VIEW CONCURRENTLY totals",
        read
    ));
}
