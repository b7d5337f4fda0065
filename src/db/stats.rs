//! `migration-gate stats`: every table's size from the catalog (estimated rows, bytes, index
//! count) and the server version, for `check --stats`. Reads no row data, so a role with only
//! CONNECT (and USAGE on the schemas) can run it: `pg_class` is readable by every role, and
//! `pg_total_relation_size` checks no privilege. The one exception is a small table that was
//! never analysed (no estimate yet), which is counted when the role may read it.
//! `pg_total_relation_size` opens each table under ACCESS SHARE for a moment and keeps no lock
//! (tests/integration/probe_stats.rs): a table held in ACCESS EXCLUSIVE (a migration rewriting
//! it) makes it wait, up to the session's lock timeout.

use tokio_postgres::Client;

use super::session::{block_on, Access, Database, DatabaseOptions};
use crate::error::{AppError, Result};
use crate::project::stats::{Stats, TableStats, STATS_VERSION};
use crate::sql::ident::quote;

/// A never-analysed table is counted only up to this heap size: a count of more would read
/// real work's worth of rows.
const COUNT_LIMIT_BYTES: i64 = 10 * 1024 * 1024;

/// PostgreSQL's page size (`block_size`), as the planner scales `reltuples` to the current size.
const PAGE_BYTES: f64 = 8192.0;

/// Every ordinary table and materialized view outside the system schemas. Partitioned parents
/// hold no rows themselves and are left out (their findings are judged as without stats), and so
/// is a materialized view never populated (`WITH NO DATA`): it has no size to judge a `REFRESH`
/// by, and counting it fails (55000).
pub const TABLES: &str = "\
SELECT n.nspname::text, c.relname::text, c.reltuples::float8, c.relpages::int8,
       pg_relation_size(c.oid)::int8, pg_total_relation_size(c.oid)::int8,
       (SELECT count(*) FROM pg_catalog.pg_index i WHERE i.indrelid = c.oid)::int8,
       has_schema_privilege(n.oid, 'USAGE') AND has_table_privilege(c.oid, 'SELECT')
         AND NOT row_security_active(c.oid)
  FROM pg_catalog.pg_class c
  JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
 WHERE c.relkind IN ('r', 'm') AND c.relispopulated
   AND n.nspname NOT IN ('pg_catalog', 'information_schema')
   AND n.nspname NOT LIKE 'pg\\_toast%' AND n.nspname NOT LIKE 'pg\\_temp\\_%'
 ORDER BY 1, 2";

/// Connect as `options` say (the same URL sources as `deploy`) and read the statistics.
pub fn collect(options: &DatabaseOptions) -> Result<Stats> {
    let database = Database::resolve(options, Access::Read)?;
    block_on(async {
        let client = database.connect().await?;
        read(&client).await
    })
}

/// The statistics of every table the connection sees.
pub async fn read(client: &Client) -> Result<Stats> {
    let failed = |what: &str, err: &tokio_postgres::Error| {
        super::history::db_error(&format!("cannot read {what}"), err)
    };
    let header = client
        .query_one(
            "SELECT split_part(current_setting('server_version'), ' ', 1), \
             to_char(now() AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"'), \
             current_schema()::text",
            &[],
        )
        .await
        .map_err(|e| failed("the server version", &e))?;
    let rows = client
        .query(TABLES, &[])
        .await
        .map_err(|e| failed("the table sizes from pg_class", &e))?;
    let mut tables = Vec::with_capacity(rows.len());
    for row in rows {
        let (schema, name): (String, String) = (row.get(0), row.get(1));
        let (reltuples, relpages): (f64, i64) = (row.get(2), row.get(3));
        let (heap_bytes, bytes, indexes): (i64, i64, i64) = (row.get(4), row.get(5), row.get(6));
        let may_read: bool = row.get(7);
        let rows = if relpages > 0 && reltuples >= 0.0 {
            // As the planner does: the density last measured, times the pages there are now.
            Some((reltuples / relpages as f64 * (heap_bytes as f64 / PAGE_BYTES)).round() as u64)
        } else if may_read && heap_bytes <= COUNT_LIMIT_BYTES {
            // `may_read` is false under row-level security too: the role would count only the
            // rows its policies show (none, for a role with no policy).
            // Never analysed (or analysed empty): a small table is counted exactly.
            let sql = format!("SELECT count(*) FROM {}.{}", quote(&schema), quote(&name));
            let counted = client
                .query_one(&sql, &[])
                .await
                .map_err(|e| failed(&format!("the rows of {schema}.{name}"), &e))?;
            Some(counted.get::<_, i64>(0).max(0) as u64)
        } else if heap_bytes == 0 {
            Some(0)
        } else {
            // No density measured (relpages 0: analysed or vacuumed while empty, then filled)
            // and too big or unreadable to count: `reltuples` says nothing about these pages.
            None
        };
        tables.push(TableStats {
            schema,
            name,
            rows,
            bytes: bytes.max(0) as u64,
            indexes: u32::try_from(indexes).unwrap_or(u32::MAX),
        });
    }
    Ok(Stats {
        version: STATS_VERSION,
        server_version: header.get(0),
        collected_at: header.get(1),
        // The connection's search_path is the URL's `?schema=` (public by default).
        default_schema: header
            .get::<_, Option<String>>(2)
            .filter(|schema| schema != "public"),
        tables,
    })
}

/// The table sizes `check` and the Action judge by: read live from `url` (the stats database
/// URL), else the file `file` or the config's `stats`, else none.
pub fn for_check(
    file: Option<&std::path::Path>,
    url: Option<&str>,
    config: &crate::project::config::Config,
) -> Result<Option<Stats>> {
    if let Some(url) = url {
        return collect_for_check(url).map(Some);
    }
    file.or(config.stats.as_deref())
        .map(Stats::load)
        .transpose()
}

/// [`collect`] for `check --stats-database-url`: any failure is one line that says the
/// statistics could not be read (the URL itself is never shown).
pub fn collect_for_check(url: &str) -> Result<Stats> {
    let options = DatabaseOptions {
        url: Some(url.to_string()),
        allow_pooled: true,
        advisory_lock_timeout: std::time::Duration::from_secs(10),
    };
    collect(&options).map_err(|err| AppError {
        message: format!(
            "cannot read table stats from the stats database URL: {}",
            err.message
        ),
        exit_code: err.exit_code,
    })
}
