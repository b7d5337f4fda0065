//! PostgreSQL is the judge: run one statement on a real server and read what it did to the
//! relations that existed before it: the locks its transaction holds (`pg_locks`), the tables it
//! rewrote (`pg_class.relfilenode` changed) and the tables it scanned sequentially
//! (`pg_stat_xact_user_tables.seq_scan`). Rule claims are checked against this, one probe test
//! per claim (`probe_*.rs`).

use std::collections::{BTreeMap, BTreeSet};

use crate::support::TestDb;

/// What one statement did, as the server reports it.
#[derive(Debug, Default)]
pub struct Observed {
    /// Relation name → the lock modes held on it (`AccessExclusiveLock`, `ShareLock`, ...).
    pub locks: BTreeMap<String, BTreeSet<String>>,
    /// Relations whose storage was replaced (a rewrite, or a rebuilt index).
    pub rewritten: BTreeSet<String>,
    /// Tables read by at least one sequential scan.
    pub scanned: BTreeSet<String>,
    /// The SQLSTATE the statement failed with, if it failed.
    pub failed_with: Option<String>,
}

impl Observed {
    /// The strongest-first list of modes held on `relation` (empty when none).
    pub fn locks_on(&self, relation: &str) -> Vec<&str> {
        self.locks
            .get(relation)
            .map(|modes| modes.iter().map(String::as_str).collect())
            .unwrap_or_default()
    }

    pub fn holds(&self, relation: &str, mode: &str) -> bool {
        self.locks_on(relation).contains(&mode)
    }

    pub fn rewrote(&self, relation: &str) -> bool {
        self.rewritten.contains(relation)
    }

    pub fn scanned(&self, relation: &str) -> bool {
        self.scanned.contains(relation)
    }
}

/// Run `setup` (the history: tables, rows, then ANALYZE), then `statement` in a transaction, and
/// report what it did to the relations `setup` created. The transaction is rolled back.
pub fn probe(setup: &str, statement: &str) -> Observed {
    run(setup, statement, true)
}

/// [`probe`] for a statement PostgreSQL refuses inside a transaction block (VACUUM FULL,
/// CONCURRENTLY): it runs in autocommit, so only rewrites and failures can be observed.
pub fn probe_autocommit(setup: &str, statement: &str) -> Observed {
    run(setup, statement, false)
}

fn run(setup: &str, statement: &str, in_transaction: bool) -> Observed {
    let db = TestDb::new();
    db.execute(setup);
    db.execute("ANALYZE");
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("tokio runtime");
    runtime.block_on(async {
        let (client, connection) = tokio_postgres::connect(&db.url, tokio_postgres::NoTls)
            .await
            .expect("probe database reachable");
        tokio::spawn(connection);
        let storage_sql = "SELECT c.oid::int8, c.relname, c.relfilenode::int8 FROM pg_class c \
                           JOIN pg_namespace n ON n.oid = c.relnamespace \
                           WHERE n.nspname NOT IN ('pg_catalog', 'information_schema', 'pg_toast') \
                           AND c.relkind IN ('r', 'm', 'i', 'p')";
        let storage = |rows: Vec<tokio_postgres::Row>| -> BTreeMap<i64, (String, i64)> {
            rows.iter()
                .map(|row| (row.get(0), (row.get(1), row.get(2))))
                .collect()
        };
        let before = storage(client.query(storage_sql, &[]).await.unwrap());
        let mut observed = Observed::default();
        if in_transaction {
            client.batch_execute("BEGIN").await.unwrap();
        }
        if let Err(err) = client.batch_execute(statement).await {
            observed.failed_with = Some(
                err.code()
                    .map(|code| code.code().to_string())
                    .unwrap_or_else(|| err.to_string()),
            );
            return observed;
        }
        let locks = client
            .query(
                "SELECT l.relation::int8, l.mode FROM pg_locks l \
                 WHERE l.pid = pg_backend_pid() AND l.locktype = 'relation' AND l.granted",
                &[],
            )
            .await
            .unwrap();
        for row in locks {
            let oid: i64 = row.get(0);
            if let Some((name, _)) = before.get(&oid) {
                observed
                    .locks
                    .entry(name.clone())
                    .or_default()
                    .insert(row.get(1));
            }
        }
        let after = storage(client.query(storage_sql, &[]).await.unwrap());
        for (oid, (name, filenode)) in &before {
            if after.get(oid).is_some_and(|(_, now)| now != filenode) {
                observed.rewritten.insert(name.clone());
            }
        }
        if in_transaction {
            for row in client
                .query(
                    "SELECT relname FROM pg_stat_xact_user_tables WHERE seq_scan > 0",
                    &[],
                )
                .await
                .unwrap()
            {
                observed.scanned.insert(row.get(0));
            }
            client.batch_execute("ROLLBACK").await.unwrap();
        }
        observed
    })
}

/// The probe itself is checked against statements whose behaviour PostgreSQL documents.
mod tests {
    use super::*;

    const USERS: &str = "CREATE TABLE users (id int PRIMARY KEY, email text);\n\
                         INSERT INTO users SELECT g, 'u' || g FROM generate_series(1, 1000) g;";

    #[test]
    fn a_plain_index_build_takes_share_and_scans_without_rewriting() {
        let seen = probe(USERS, "CREATE INDEX users_email ON users (email)");
        assert!(seen.holds("users", "ShareLock"), "{seen:?}");
        assert!(!seen.holds("users", "AccessExclusiveLock"), "{seen:?}");
        assert!(!seen.rewrote("users"), "{seen:?}");
        assert!(seen.scanned("users"), "{seen:?}");
    }

    #[test]
    fn a_volatile_default_rewrites_under_access_exclusive() {
        let seen = probe(
            USERS,
            "ALTER TABLE users ADD COLUMN token float8 DEFAULT random()",
        );
        assert!(seen.holds("users", "AccessExclusiveLock"), "{seen:?}");
        assert!(seen.rewrote("users"), "{seen:?}");
        let constant = probe(USERS, "ALTER TABLE users ADD COLUMN n int DEFAULT 0");
        assert!(!constant.rewrote("users"), "{constant:?}");
    }

    #[test]
    fn a_failing_statement_reports_its_sqlstate() {
        let seen = probe(USERS, "ALTER TABLE users ADD COLUMN n int NOT NULL");
        assert_eq!(seen.failed_with.as_deref(), Some("23502"), "{seen:?}");
        let seen = probe(
            "CREATE TABLE t (id int); INSERT INTO t VALUES (NULL);",
            "ALTER TABLE t ALTER COLUMN id SET NOT NULL",
        );
        assert_eq!(seen.failed_with.as_deref(), Some("23502"), "{seen:?}");
    }

    #[test]
    fn vacuum_full_rewrites_outside_a_transaction() {
        let seen = probe_autocommit(USERS, "VACUUM FULL users");
        assert_eq!(seen.failed_with, None);
        assert!(seen.rewrote("users"), "{seen:?}");
    }
}

/// The suggested SQL quotes exactly the words the server cannot take as bare names.
#[test]
fn the_keywords_we_quote_are_the_servers_reserved_ones() {
    let db = TestDb::new();
    let server: Vec<String> = db
        .query("SELECT word FROM pg_get_keywords() WHERE catcode IN ('R', 'T') ORDER BY word")
        .into_iter()
        .map(|row| row[0].clone())
        .collect();
    let version: u32 = db.query("SHOW server_version_num")[0][0].parse().unwrap();
    let ours = migration_gate::sql::ident::RESERVED_KEYWORDS;
    if version / 10000 == 15 {
        assert_eq!(server, ours);
    } else {
        // The list is PostgreSQL 15's; other majors may reserve more words, never fewer.
        let missing: Vec<&&str> = ours
            .iter()
            .filter(|w| !server.iter().any(|s| s == **w))
            .collect();
        assert!(missing.is_empty(), "{missing:?}");
    }
}
