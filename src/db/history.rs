//! The `_prisma_migrations` history table, byte-compatible with Prisma Migrate: the same DDL, the
//! same row per applied migration, the same checksum, so teams can switch tools in either direction.

use std::time::Duration;

use sha2::{Digest, Sha256};
use tokio_postgres::Client;

use crate::error::{AppError, Result};
use crate::sql::ident::quote;

/// Prisma's history table.
pub const TABLE: &str = "_prisma_migrations";

/// Prefix of the logs of an applied row whose `down.sql` is running or committed only part of
/// its segments (Prisma ignores the logs of applied rows).
pub const ROLLBACK_INCOMPLETE: &str = "migration-gate: rollback incomplete";

/// In the logs of a multi-segment script, the statement outside a transaction that was running
/// when the process stopped: the server may have completed it (nothing cancels it when the
/// process is killed outright).
pub const RUNNING_WHEN_STOPPED: &str = "Running outside a transaction";

/// Prisma's PostgreSQL DDL for the history table, column for column.
const COLUMNS_DDL: &str = "(
    id                      VARCHAR(36) PRIMARY KEY NOT NULL,
    checksum                VARCHAR(64) NOT NULL,
    finished_at             TIMESTAMPTZ,
    migration_name          VARCHAR(255) NOT NULL,
    logs                    TEXT,
    rolled_back_at          TIMESTAMPTZ,
    started_at              TIMESTAMPTZ NOT NULL DEFAULT now(),
    applied_steps_count     INTEGER NOT NULL DEFAULT 0
)";

/// Lowercase hex SHA-256 of the file's bytes, as Prisma stores it.
pub fn checksum(source: &str) -> String {
    let digest = Sha256::digest(source.as_bytes());
    digest.iter().map(|b| format!("{b:02x}")).collect()
}

/// Prisma compares checksums across line-ending conversions: a file checked out with CRLF on one
/// machine and LF on another is the same migration.
pub fn checksum_matches(source: &str, stored: &str) -> bool {
    // Rows written by Prisma engines before prisma-engines#1887 hold the digest without zero
    // padding (`{:x}` per byte, fewer than 64 characters); Prisma still accepts them.
    let render: fn(&str) -> String = if !stored.is_empty() && stored.len() != 64 {
        checksum_unpadded
    } else {
        checksum
    };
    if render(source) == stored {
        return true;
    }
    let lf = source.replace("\r\n", "\n");
    let crlf = lf.replace('\n', "\r\n");
    render(&lf) == stored || render(&crlf) == stored
}

fn checksum_unpadded(source: &str) -> String {
    let digest = Sha256::digest(source.as_bytes());
    digest.iter().map(|b| format!("{b:x}")).collect()
}

/// One row of `_prisma_migrations`; timestamps as ISO 8601 UTC text.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct HistoryRow {
    /// A random UUID, as Prisma writes it.
    pub id: String,
    /// SHA-256 of the migration file, lowercase hex.
    pub checksum: String,
    /// The migration's folder name.
    pub migration_name: String,
    /// When the migration started.
    pub started_at: String,
    /// When it finished; `None`: failed or still running.
    pub finished_at: Option<String>,
    /// When it was rolled back; `None`: not rolled back.
    pub rolled_back_at: Option<String>,
    /// What went wrong (or, during a rollback, how far it got).
    pub logs: Option<String>,
    /// 1 when applied, 0 otherwise (Prisma's column).
    pub applied_steps_count: i32,
}

impl HistoryRow {
    /// Applied: finished and not rolled back.
    pub fn is_applied(&self) -> bool {
        self.finished_at.is_some() && self.rolled_back_at.is_none()
    }

    /// Applied, and a `rollback` of it committed part of its `down.sql` before it stopped.
    pub fn is_rollback_incomplete(&self) -> bool {
        self.is_applied()
            && self
                .logs
                .as_deref()
                .is_some_and(|logs| logs.starts_with(ROLLBACK_INCOMPLETE))
    }

    /// Failed: started, never finished, not resolved as rolled back.
    pub fn is_failed(&self) -> bool {
        self.finished_at.is_none() && self.rolled_back_at.is_none()
    }
}

/// The history table of one schema.
#[derive(Debug, Clone)]
pub struct History {
    schema: String,
    /// `"schema"._prisma_migrations`, ready to splice into SQL. The schema is always quoted:
    /// `?schema=user` (or `order`, `group`) is a keyword that would otherwise not parse.
    qualified: String,
}

/// A query failure as one line: `context`, the server's message and its SQLSTATE.
pub fn db_error(context: &str, err: &tokio_postgres::Error) -> AppError {
    match err.as_db_error() {
        Some(db) => AppError::usage(format!(
            "{context}: {} (SQLSTATE {})",
            db.message(),
            db.code().code()
        )),
        None => AppError::usage(format!("{context}: {err}")),
    }
}

const ISO: &str = r#"'YYYY-MM-DD"T"HH24:MI:SS.US"Z"'"#;

impl History {
    /// The history table in `schema`.
    pub fn new(schema: &str) -> History {
        History {
            schema: schema.to_string(),
            qualified: format!("{}.{}", quote(schema), TABLE),
        }
    }

    /// The table name, schema-qualified and quoted, for SQL text.
    pub fn qualified(&self) -> &str {
        &self.qualified
    }

    /// Put `search_path` back on the history's schema, where the session started.
    pub async fn restore_search_path(&self, client: &Client) -> Result<()> {
        client
            .query_one(
                "SELECT set_config('search_path', $1, false)",
                &[&quote(&self.schema)],
            )
            .await
            .map(|_| ())
            .map_err(|e| db_error("cannot prepare the database session", &e))
    }

    /// Whether the table exists yet.
    pub async fn exists(&self, client: &Client) -> Result<bool> {
        let row = client
            .query_one(
                "SELECT EXISTS (SELECT 1 FROM pg_catalog.pg_tables \
                 WHERE schemaname = $1 AND tablename = $2)",
                &[&self.schema, &TABLE],
            )
            .await
            .map_err(|e| db_error("cannot read the migration history", &e))?;
        Ok(row.get(0))
    }

    /// Create the schema (as Prisma does) and the table if missing. Called under the advisory
    /// lock; a concurrent first run of another tool can still race us to the catalog row, which
    /// PostgreSQL reports as 42P06 / 42P07 / 23505: the object exists then, which is all we need.
    pub async fn ensure(&self, client: &Client) -> Result<()> {
        // PostgreSQL checks CREATE on the database before IF NOT EXISTS: a deploy role without
        // it must still be able to use an existing schema.
        let schema_exists = client
            .query_opt(
                "SELECT 1 FROM pg_catalog.pg_namespace WHERE nspname = $1",
                &[&self.schema],
            )
            .await
            .map_err(|e| db_error("cannot create the migration history table", &e))?
            .is_some();
        if !schema_exists {
            let sql = format!("CREATE SCHEMA IF NOT EXISTS {}", quote(&self.schema));
            tolerate_duplicate(client.batch_execute(&sql).await)
                .map_err(|e| db_error("cannot create the migration history schema", &e))?;
        }
        let sql = format!(
            "CREATE TABLE IF NOT EXISTS {} {COLUMNS_DDL}",
            self.qualified
        );
        tolerate_duplicate(client.batch_execute(&sql).await)
            .map_err(|e| db_error("cannot create the migration history table", &e))
    }

    /// What the schema holds besides the history table and objects that belong to extensions
    /// (a platform's `CREATE EXTENSION pgcrypto` does not make a database "in use"): the first
    /// few names (kind and name) and the total count. A non-empty database without history must
    /// be baselined first.
    pub async fn user_objects(&self, client: &Client) -> Result<(Vec<String>, i64)> {
        let rows = client
            .query(
                "WITH objects AS (
                    SELECT CASE c.relkind WHEN 'r' THEN 'table' WHEN 'p' THEN 'table'
                             WHEN 'v' THEN 'view' WHEN 'm' THEN 'materialized view'
                             WHEN 'S' THEN 'sequence' WHEN 'i' THEN 'index'
                             WHEN 'I' THEN 'index' WHEN 'f' THEN 'foreign table'
                             ELSE 'relation' END AS kind,
                           c.relname::text AS name, 'pg_class'::regclass AS catalog, c.oid
                    FROM pg_catalog.pg_class c
                    JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
                    WHERE n.nspname = $1 AND c.relname <> $2 AND c.relkind <> 't'
                    UNION ALL
                    SELECT 'type', t.typname::text, 'pg_type'::regclass, t.oid
                    FROM pg_catalog.pg_type t
                    JOIN pg_catalog.pg_namespace n ON n.oid = t.typnamespace
                    WHERE n.nspname = $1 AND t.typtype IN ('e', 'd', 'r', 'm')
                    UNION ALL
                    SELECT 'function', p.proname::text, 'pg_proc'::regclass, p.oid
                    FROM pg_catalog.pg_proc p
                    JOIN pg_catalog.pg_namespace n ON n.oid = p.pronamespace
                    WHERE n.nspname = $1
                 ), mine AS (
                    SELECT o.kind, o.name FROM objects o
                    WHERE NOT EXISTS (
                        SELECT 1 FROM pg_catalog.pg_depend d
                        WHERE d.classid = o.catalog AND d.objid = o.oid AND d.deptype = 'e')
                    -- The indexes, sequences and array/row types of a table come with it.
                    AND NOT EXISTS (
                        SELECT 1 FROM pg_catalog.pg_depend d
                        WHERE d.classid = o.catalog AND d.objid = o.oid
                          AND d.deptype IN ('i', 'a') AND o.kind IN ('index', 'sequence', 'type'))
                 )
                 SELECT kind || ' ' || name, count(*) OVER () FROM mine ORDER BY kind, name LIMIT 5",
                &[&self.schema, &TABLE],
            )
            .await
            .map_err(|e| db_error("cannot inspect the database schema", &e))?;
        let total = rows.first().map_or(0, |row| row.get::<_, i64>(1));
        Ok((rows.iter().map(|row| row.get(0)).collect(), total))
    }

    /// Every row, oldest first. Empty when the table does not exist. The session's
    /// `lock_timeout` (`waited`) bounds the wait for a session that locked the table.
    pub async fn rows(&self, client: &Client, waited: Duration) -> Result<Vec<HistoryRow>> {
        if !self.exists(client).await? {
            return Ok(Vec::new());
        }
        let sql = format!(
            "SELECT id, checksum, migration_name,
                    to_char(started_at AT TIME ZONE 'UTC', {ISO}),
                    to_char(finished_at AT TIME ZONE 'UTC', {ISO}),
                    to_char(rolled_back_at AT TIME ZONE 'UTC', {ISO}),
                    logs, applied_steps_count
             FROM {} ORDER BY started_at, finished_at NULLS LAST, migration_name",
            self.qualified
        );
        let rows = match client.query(&sql, &[]).await {
            Ok(rows) => rows,
            Err(e)
                if e.as_db_error()
                    .is_some_and(|db| db.code().code() == "55P03") =>
            {
                return Err(self.locked(client, waited).await);
            }
            Err(e) => {
                // Our own cancel (SIGTERM / SIGINT) of a read waiting for a locked table.
                if let Some(signal) = super::session::interrupted() {
                    return Err(AppError::failed(format!(
                        "interrupted by {signal} while reading the migration history: nothing \
                         was changed"
                    )));
                }
                return Err(db_error("cannot read the migration history", &e));
            }
        };
        Ok(rows
            .iter()
            .map(|row| HistoryRow {
                id: row.get(0),
                checksum: row.get(1),
                migration_name: row.get(2),
                started_at: row.get(3),
                finished_at: row.get(4),
                rolled_back_at: row.get(5),
                logs: row.get(6),
                applied_steps_count: row.get(7),
            })
            .collect())
    }

    /// The history table stayed locked longer than we wait: name the session holding it.
    async fn locked(&self, client: &Client, waited: Duration) -> AppError {
        let holder = client
            .query_opt(
                "SELECT a.pid, coalesce(a.application_name, ''), coalesce(a.usename::text, ''), \
                        coalesce(a.state, ''), \
                        coalesce(extract(epoch FROM now() - coalesce(a.xact_start, \
                                 a.state_change))::bigint, 0) \
                 FROM pg_catalog.pg_locks l \
                 JOIN pg_catalog.pg_stat_activity a ON a.pid = l.pid \
                 WHERE l.locktype = 'relation' AND l.relation = to_regclass($1) AND l.granted \
                   AND l.pid <> pg_backend_pid() \
                 ORDER BY l.mode = 'AccessExclusiveLock' DESC, a.xact_start LIMIT 1",
                &[&self.qualified],
            )
            .await
            .ok()
            .flatten()
            .map(|row| {
                let pid: i32 = row.get(0);
                let app: String = row.get(1);
                let user: String = row.get(2);
                let state: String = row.get(3);
                let seconds: i64 = row.get(4);
                let app = if app.is_empty() {
                    String::new()
                } else {
                    format!("application `{app}`, ")
                };
                format!(
                    "backend pid {pid} ({app}user {user}, state `{state}`, for {seconds} s): that \
                     session must commit or roll back (or be ended with \
                     SELECT pg_terminate_backend({pid}))"
                )
            })
            .unwrap_or_else(|| "another session (it has let go since)".to_string());
        AppError::usage(format!(
            "timed out after {}s waiting for a lock on {} held by {holder}; nothing was \
             changed. Run again afterwards, or raise --advisory-lock-timeout",
            waited.as_secs_f64(),
            self.qualified
        ))
    }

    /// Every value below reaches the server as a bind parameter, never spliced into SQL text:
    /// a folder name or log may hold quotes and backslashes, and how the server reads those in
    /// a literal depends on `standard_conforming_strings`.
    ///
    /// A started migration (finished_at NULL), as Prisma writes it before the script runs.
    /// Returns the new row's id.
    pub async fn insert_started(
        &self,
        client: &Client,
        name: &str,
        checksum: &str,
    ) -> Result<String> {
        let _uncancelled = super::session::uncancelled();
        let id = uuid::Uuid::new_v4().to_string();
        let sql = format!(
            "INSERT INTO {} (id, checksum, started_at, finished_at, migration_name, logs, \
             rolled_back_at, applied_steps_count) VALUES ($1, $2, now(), NULL, $3, NULL, NULL, 0)",
            self.qualified
        );
        client
            .execute(&sql, &[&id, &checksum, &name])
            .await
            .map_err(|e| db_error("cannot write the migration history", &e))?;
        Ok(id)
    }

    /// The finished row of a migration applied in one transaction (written inside it, so the
    /// row commits with the script or not at all): one applied step, `finished_at` now.
    pub async fn insert_finished(&self, client: &Client, name: &str, checksum: &str) -> Result<()> {
        let _uncancelled = super::session::uncancelled();
        let id = uuid::Uuid::new_v4().to_string();
        let sql = format!(
            "INSERT INTO {} (id, checksum, started_at, finished_at, migration_name, logs, \
             rolled_back_at, applied_steps_count) \
             VALUES ($1, $2, now(), clock_timestamp(), $3, NULL, NULL, 1)",
            self.qualified
        );
        client
            .execute(&sql, &[&id, &checksum, &name])
            .await
            .map(|_| ())
            .map_err(|e| db_error("cannot write the migration history", &e))
    }

    /// Mark a started row finished: one applied step, `finished_at` now.
    pub async fn mark_finished(&self, client: &Client, id: &str) -> Result<()> {
        let _uncancelled = super::session::uncancelled();
        let sql = format!(
            "UPDATE {} SET applied_steps_count = applied_steps_count + 1, \
             finished_at = clock_timestamp() WHERE id = $1",
            self.qualified
        );
        client
            .execute(&sql, &[&id])
            .await
            .map(|_| ())
            .map_err(|e| db_error("cannot write the migration history", &e))
    }

    /// Mark every applied row of `name` rolled back (used by `rollback`).
    pub async fn mark_rolled_back(&self, client: &Client, name: &str) -> Result<()> {
        let _uncancelled = super::session::uncancelled();
        let sql = format!(
            "UPDATE {} SET rolled_back_at = clock_timestamp() WHERE migration_name = $1 \
             AND finished_at IS NOT NULL AND rolled_back_at IS NULL",
            self.qualified
        );
        client
            .execute(&sql, &[&name])
            .await
            .map(|_| ())
            .map_err(|e| db_error("cannot write the migration history", &e))
    }

    /// A migration whose transaction failed, written after the rollback: started `ran_for`
    /// seconds ago, not finished, with the logs. `rolled_back`: the failure undid everything and
    /// a plain retry can succeed (a lock timeout), so the row gets `rolled_back_at` too: Prisma
    /// and we then treat the migration as pending, not as a failure that blocks deploys.
    pub async fn insert_failed(
        &self,
        client: &Client,
        name: &str,
        checksum: &str,
        ran_for: f64,
        logs: &str,
        rolled_back: bool,
    ) -> Result<()> {
        let _uncancelled = super::session::uncancelled();
        let id = uuid::Uuid::new_v4().to_string();
        let sql = format!(
            "INSERT INTO {} (id, checksum, started_at, finished_at, migration_name, logs, \
             rolled_back_at, applied_steps_count) \
             VALUES ($1, $2, now() - make_interval(secs => $3), NULL, $4, $5, \
                     CASE WHEN $6 THEN now() END, 0)",
            self.qualified
        );
        client
            .execute(
                &sql,
                &[&id, &checksum, &ran_for, &name, &logs, &rolled_back],
            )
            .await
            .map(|_| ())
            .map_err(|e| db_error("cannot record the failure in the migration history", &e))
    }

    /// The logs of a started row; `rolled_back`: the failure undid everything and a plain
    /// retry can succeed, so the row gets `rolled_back_at` too (see [`History::insert_failed`]).
    pub async fn record_failure(
        &self,
        client: &Client,
        id: &str,
        logs: &str,
        rolled_back: bool,
    ) -> Result<()> {
        let _uncancelled = super::session::uncancelled();
        let sql = format!(
            "UPDATE {} SET logs = $2, rolled_back_at = CASE WHEN $3 THEN now() END WHERE id = $1",
            self.qualified
        );
        client
            .execute(&sql, &[&id, &logs, &rolled_back])
            .await
            .map(|_| ())
            .map_err(|e| db_error("cannot record the failure in the migration history", &e))
    }

    /// The `logs` of the applied row of `name` (a rollback in progress leaves its trace there;
    /// Prisma ignores the logs of applied rows). `None` clears them.
    pub async fn set_applied_logs(
        &self,
        client: &Client,
        name: &str,
        logs: Option<&str>,
    ) -> Result<()> {
        let _uncancelled = super::session::uncancelled();
        let sql = format!(
            "UPDATE {} SET logs = $2 WHERE migration_name = $1 \
             AND finished_at IS NOT NULL AND rolled_back_at IS NULL",
            self.qualified
        );
        client
            .execute(&sql, &[&name, &logs])
            .await
            .map(|_| ())
            .map_err(|e| db_error("cannot write the migration history", &e))
    }

    /// `resolve --applied`: a finished row with zero applied steps, as Prisma's
    /// `markMigrationApplied` writes it; failed rows of the same name are marked rolled back.
    pub async fn mark_applied(&self, client: &Client, name: &str, checksum: &str) -> Result<()> {
        let _uncancelled = super::session::uncancelled();
        let id = uuid::Uuid::new_v4().to_string();
        let close_failed = format!(
            "UPDATE {} SET rolled_back_at = now() WHERE migration_name = $1 \
             AND finished_at IS NULL AND rolled_back_at IS NULL",
            self.qualified
        );
        let insert = format!(
            "INSERT INTO {} (id, checksum, started_at, finished_at, migration_name, logs, \
             rolled_back_at, applied_steps_count) VALUES ($1, $2, now(), now(), $3, NULL, NULL, 0)",
            self.qualified
        );
        let fail =
            |e: tokio_postgres::Error| db_error("cannot record the migration as applied", &e);
        client.batch_execute("BEGIN").await.map_err(fail)?;
        let written = async {
            client.execute(&close_failed, &[&name]).await?;
            client.execute(&insert, &[&id, &checksum, &name]).await?;
            client.batch_execute("COMMIT").await
        }
        .await;
        if let Err(e) = written {
            let _ = client.batch_execute("ROLLBACK").await;
            return Err(fail(e));
        }
        Ok(())
    }

    /// `resolve --rolled-back`: the failed rows of `name` get `rolled_back_at`.
    pub async fn mark_failed_rolled_back(&self, client: &Client, name: &str) -> Result<u64> {
        let _uncancelled = super::session::uncancelled();
        let sql = format!(
            "UPDATE {} SET rolled_back_at = now() WHERE migration_name = $1 \
             AND finished_at IS NULL AND rolled_back_at IS NULL",
            self.qualified
        );
        client
            .execute(&sql, &[&name])
            .await
            .map_err(|e| db_error("cannot record the migration as rolled back", &e))
    }
}

/// `CREATE ... IF NOT EXISTS` run by two sessions at once: the loser gets a duplicate error
/// instead of a notice; the object exists either way.
fn tolerate_duplicate(
    result: std::result::Result<(), tokio_postgres::Error>,
) -> std::result::Result<(), tokio_postgres::Error> {
    match result {
        Err(e)
            if e.as_db_error()
                .is_some_and(|db| matches!(db.code().code(), "42P06" | "42P07" | "23505")) =>
        {
            Ok(())
        }
        other => other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn checksum_is_lowercase_hex_sha256_of_the_bytes() {
        assert_eq!(
            checksum("abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }

    #[test]
    fn checksums_match_across_line_endings() {
        let lf = "CREATE TABLE a (id int);\nCREATE TABLE b (id int);\n";
        let crlf = lf.replace('\n', "\r\n");
        assert!(checksum_matches(&crlf, &checksum(lf)));
        assert!(checksum_matches(lf, &checksum(&crlf)));
        assert!(!checksum_matches(
            "CREATE TABLE c (id int);\n",
            &checksum(lf)
        ));
    }

    #[test]
    fn old_prisma_checksums_without_zero_padding_still_match() {
        // Prisma engines before prisma-engines#1887 wrote each byte as `{:x}`: SHA-256("abc")
        // has bytes 0x01 and 0x03 that lost their leading zero. Prisma still accepts such rows.
        let unpadded = "ba7816bf8f1cfea414140de5dae2223b0361a396177a9cb410ff61f2015ad";
        assert!(unpadded.len() < 64);
        assert!(checksum_matches("abc", unpadded));
        let crlf_file = "CREATE TABLE a (id int);\r\n";
        let lf_unpadded: String = Sha256::digest(b"CREATE TABLE a (id int);\n")
            .iter()
            .map(|b| format!("{b:x}"))
            .collect();
        assert_eq!(lf_unpadded.len(), 60);
        assert!(checksum_matches(crlf_file, &lf_unpadded));
        assert!(!checksum_matches("abd", unpadded));
    }

    #[test]
    fn history_names_are_schema_qualified() {
        assert_eq!(
            History::new("public").qualified(),
            "\"public\"._prisma_migrations"
        );
        assert_eq!(
            History::new("user").qualified(),
            "\"user\"._prisma_migrations"
        );
        assert_eq!(
            History::new("App").qualified(),
            "\"App\"._prisma_migrations"
        );
    }
}
