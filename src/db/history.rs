//! The `_prisma_migrations` history table, byte-compatible with Prisma Migrate: the same DDL, the
//! same row per applied migration, the same checksum, so teams can switch tools in either direction.

use sha2::{Digest, Sha256};
use tokio_postgres::Client;

use super::connect::quote_ident;
use crate::error::{AppError, Result};

pub const TABLE: &str = "_prisma_migrations";

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
    pub id: String,
    pub checksum: String,
    pub migration_name: String,
    pub started_at: String,
    pub finished_at: Option<String>,
    pub rolled_back_at: Option<String>,
    pub logs: Option<String>,
    pub applied_steps_count: i32,
}

impl HistoryRow {
    /// Applied: finished and not rolled back.
    pub fn is_applied(&self) -> bool {
        self.finished_at.is_some() && self.rolled_back_at.is_none()
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
    pub fn new(schema: &str) -> History {
        History {
            schema: schema.to_string(),
            qualified: format!("{}.{}", quote_ident(schema), TABLE),
        }
    }

    pub fn qualified(&self) -> &str {
        &self.qualified
    }

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

    /// Create the schema (as Prisma does) and the table if missing.
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
        let create_schema = if schema_exists {
            String::new()
        } else {
            format!(
                "CREATE SCHEMA IF NOT EXISTS {}; ",
                quote_ident(&self.schema)
            )
        };
        let sql = format!(
            "{create_schema}CREATE TABLE IF NOT EXISTS {} {COLUMNS_DDL}",
            self.qualified
        );
        client
            .batch_execute(&sql)
            .await
            .map_err(|e| db_error("cannot create the migration history table", &e))
    }

    /// Does the schema hold anything besides the history table (tables, views, sequences, types,
    /// functions)? A non-empty database without history must be baselined first.
    pub async fn schema_is_empty(&self, client: &Client) -> Result<bool> {
        let row = client
            .query_one(
                "SELECT NOT EXISTS (
                    SELECT 1 FROM pg_catalog.pg_class c
                    JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
                    WHERE n.nspname = $1 AND c.relname <> $2
                 ) AND NOT EXISTS (
                    SELECT 1 FROM pg_catalog.pg_type t
                    JOIN pg_catalog.pg_namespace n ON n.oid = t.typnamespace
                    WHERE n.nspname = $1 AND t.typtype IN ('e', 'd', 'r', 'm')
                 ) AND NOT EXISTS (
                    SELECT 1 FROM pg_catalog.pg_proc p
                    JOIN pg_catalog.pg_namespace n ON n.oid = p.pronamespace
                    WHERE n.nspname = $1
                 )",
                &[&self.schema, &TABLE],
            )
            .await
            .map_err(|e| db_error("cannot inspect the database schema", &e))?;
        Ok(row.get(0))
    }

    /// Every row, oldest first. Empty when the table does not exist.
    pub async fn rows(&self, client: &Client) -> Result<Vec<HistoryRow>> {
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
        let rows = client
            .query(&sql, &[])
            .await
            .map_err(|e| db_error("cannot read the migration history", &e))?;
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

    /// `INSERT` of a started migration (finished_at NULL), as Prisma writes it before the script
    /// runs. Returns the SQL to run (in or outside a transaction) with the new row's id.
    pub fn insert_started_sql(&self, name: &str, checksum: &str) -> (String, String) {
        let id = uuid::Uuid::new_v4().to_string();
        let sql = format!(
            "INSERT INTO {} (id, checksum, started_at, finished_at, migration_name, logs, \
             rolled_back_at, applied_steps_count) VALUES ({}, {}, now(), NULL, {}, NULL, NULL, 0)",
            self.qualified,
            literal(&id),
            literal(checksum),
            literal(name)
        );
        (id, sql)
    }

    /// The UPDATE that marks a migration finished: one applied step, `finished_at` now.
    pub fn finished_sql(&self, id: &str) -> String {
        format!(
            "UPDATE {} SET applied_steps_count = applied_steps_count + 1, \
             finished_at = clock_timestamp() WHERE id = {}",
            self.qualified,
            literal(id)
        )
    }

    /// The UPDATE that marks every applied row of `name` rolled back (used by `rollback`).
    pub fn rolled_back_sql(&self, name: &str) -> String {
        format!(
            "UPDATE {} SET rolled_back_at = clock_timestamp() WHERE migration_name = {} \
             AND finished_at IS NOT NULL AND rolled_back_at IS NULL",
            self.qualified,
            literal(name)
        )
    }

    pub async fn record_failure(&self, client: &Client, id: &str, logs: &str) -> Result<()> {
        let sql = format!("UPDATE {} SET logs = $2 WHERE id = $1", self.qualified);
        client
            .execute(&sql, &[&id, &logs])
            .await
            .map(|_| ())
            .map_err(|e| db_error("cannot record the failure in the migration history", &e))
    }

    /// `resolve --applied`: a finished row with zero applied steps, as Prisma's
    /// `markMigrationApplied` writes it; failed rows of the same name are marked rolled back.
    pub async fn mark_applied(&self, client: &Client, name: &str, checksum: &str) -> Result<()> {
        let id = uuid::Uuid::new_v4().to_string();
        let sql = format!(
            "BEGIN;
             UPDATE {table} SET rolled_back_at = now() WHERE migration_name = {name} \
               AND finished_at IS NULL AND rolled_back_at IS NULL;
             INSERT INTO {table} (id, checksum, started_at, finished_at, migration_name, logs, \
               rolled_back_at, applied_steps_count) \
               VALUES ({id}, {checksum}, now(), now(), {name}, NULL, NULL, 0);
             COMMIT",
            table = self.qualified,
            name = literal(name),
            id = literal(&id),
            checksum = literal(checksum),
        );
        client
            .batch_execute(&sql)
            .await
            .map_err(|e| db_error("cannot record the migration as applied", &e))
    }

    /// `resolve --rolled-back`: the failed rows of `name` get `rolled_back_at`.
    pub async fn mark_failed_rolled_back(&self, client: &Client, name: &str) -> Result<u64> {
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

/// A SQL string literal (standard_conforming_strings on, as on every supported server).
pub fn literal(value: &str) -> String {
    format!("'{}'", value.replace('\'', "''"))
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
    fn literals_escape_quotes() {
        assert_eq!(literal("it's"), "'it''s'");
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
