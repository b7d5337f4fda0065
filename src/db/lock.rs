//! The migration advisory lock: Prisma's key, so our deploys and Prisma's exclude each other.
//! Taken on the migration connection with a timeout, released at the end whatever happened.

use std::future::Future;
use std::time::{Duration, Instant};

use tokio_postgres::Client;

use super::history::db_error;
use crate::error::{AppError, Result};

/// Prisma Migrate's advisory lock key.
pub const KEY: i64 = 72707369;

const POLL_INTERVAL: Duration = Duration::from_millis(50);

/// Run `work` while holding the advisory lock; the lock is released afterwards, also when `work`
/// fails (and, should the process die, by the server when the session ends).
pub async fn with_lock<T, F>(client: &Client, timeout: Duration, work: F) -> Result<T>
where
    F: Future<Output = Result<T>>,
{
    acquire(client, timeout).await?;
    let result = work.await;
    let released = release(client).await;
    match (result, released) {
        (Err(err), _) => Err(err),
        (Ok(_), Err(err)) => Err(err),
        (Ok(value), Ok(())) => Ok(value),
    }
}

/// Poll `pg_try_advisory_lock` until it succeeds or `timeout` passes; a zero `timeout` waits as
/// long as it takes, as `0` means no timeout for every duration flag.
pub async fn acquire(client: &Client, timeout: Duration) -> Result<()> {
    let deadline = (!timeout.is_zero()).then(|| Instant::now() + timeout);
    loop {
        let row = client
            .query_one("SELECT pg_try_advisory_lock($1)", &[&KEY])
            .await
            .map_err(|e| db_error("cannot take the migration advisory lock", &e))?;
        if row.get::<_, bool>(0) {
            return Ok(());
        }
        if let Some(signal) = super::session::interrupted() {
            return Err(AppError::failed(format!(
                "interrupted by {signal} while waiting for the migration advisory lock: nothing \
                 was applied"
            )));
        }
        if deadline.is_some_and(|deadline| Instant::now() >= deadline) {
            let holder = describe_holder(client).await;
            return Err(AppError::usage(format!(
                "timed out after {}s waiting for the migration advisory lock ({KEY}) held by \
                 {holder}: another deploy (ours or `prisma migrate`) is running; wait for it, \
                 or raise --advisory-lock-timeout",
                timeout.as_secs_f64()
            )));
        }
        tokio::time::sleep(POLL_INTERVAL).await;
    }
}

/// Whether this session still holds the lock, taking it again when a statement of the
/// migration released it (`DISCARD ALL`, `pg_advisory_unlock_all()`): `false` when another
/// session took it meanwhile. Checked before every commit of migration work, so that nothing
/// commits while another deploy may be running.
pub async fn still_held(client: &Client) -> std::result::Result<bool, tokio_postgres::Error> {
    let row = client
        .query_one(
            "SELECT CASE WHEN EXISTS (SELECT 1 FROM pg_catalog.pg_locks \
                 WHERE locktype = 'advisory' AND pid = pg_backend_pid() AND granted \
                   AND classid = 0 AND objid = $1 AND objsubid = 1) \
             THEN true ELSE pg_try_advisory_lock($2) END",
            &[&(KEY as u32), &KEY],
        )
        .await?;
    Ok(row.get(0))
}

pub async fn release(client: &Client) -> Result<()> {
    if client.is_closed() {
        // The server released it with the session; the caller reports why the session ended.
        return Ok(());
    }
    match client
        .query_one("SELECT pg_advisory_unlock($1)", &[&KEY])
        .await
    {
        Ok(_) => Ok(()),
        // The session ended between the check above and the query: the same as closed before.
        Err(e) if e.is_closed() => Ok(()),
        Err(e) => Err(db_error("cannot release the migration advisory lock", &e)),
    }
}

/// Who holds the lock, from `pg_locks` + `pg_stat_activity`, safe to print.
async fn describe_holder(client: &Client) -> String {
    let sql = "SELECT a.pid, coalesce(a.application_name, ''), coalesce(a.usename::text, ''), \
               coalesce(host(a.client_addr), 'local'), \
               coalesce(to_char(a.backend_start AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS'), '') \
               FROM pg_catalog.pg_locks l JOIN pg_catalog.pg_stat_activity a ON a.pid = l.pid \
               WHERE l.locktype = 'advisory' AND l.granted \
               AND l.database = (SELECT oid FROM pg_catalog.pg_database WHERE datname = current_database()) \
               AND l.classid = 0 AND l.objid = $1 AND l.objsubid = 1 LIMIT 1";
    let objid = KEY as u32;
    let Ok(rows) = client.query(sql, &[&objid]).await else {
        return "another session".to_string();
    };
    match rows.first() {
        Some(row) => {
            let pid: i32 = row.get(0);
            let app: String = row.get(1);
            let user: String = row.get(2);
            let addr: String = row.get(3);
            let since: String = row.get(4);
            let app = if app.is_empty() {
                String::new()
            } else {
                format!("application `{app}`, ")
            };
            format!("backend pid {pid} ({app}user {user} from {addr}, connected {since} UTC)")
        }
        None => "another session".to_string(),
    }
}
