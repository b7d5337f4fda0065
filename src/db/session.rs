//! What every database command starts with: the project's migrations, the database URL (pooled
//! ones refused for writing commands), a connection and a runtime to drive it.

use std::future::Future;
use std::sync::atomic::{AtomicI32, AtomicUsize, Ordering};
use std::time::Duration;

use tokio_postgres::Client;

use super::connection::url::DatabaseUrl;
use super::history::{History, HistoryRow};
use crate::error::{AppError, Result};

/// How to reach the database, as the command line or the Action gives it.
#[derive(Debug, Clone)]
pub struct DatabaseOptions {
    /// The URL given explicitly; `None`: the first set variable of
    /// [`super::connection::url::ENV_ORDER`].
    pub url: Option<String>,
    /// Accept a pooled URL for a writing command.
    pub allow_pooled: bool,
    /// How long to wait for the migration advisory lock.
    pub advisory_lock_timeout: Duration,
}

/// Whether the command writes to the database (pooled URLs are refused for those).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    /// Reads only: any URL will do.
    Read,
    /// Writes, as the named command (said when a pooled URL is refused).
    Write(&'static str),
}

/// The database side: URL and history table.
pub struct Database {
    /// Where the database is (never printed whole).
    pub url: DatabaseUrl,
    /// The `_prisma_migrations` table in the URL's schema.
    pub history: History,
    /// How long to wait for the advisory lock (and for locks during the first lookups).
    pub lock_timeout: Duration,
}

impl Database {
    /// The URL from `options` or the environment, refused when pooled for a writing command.
    pub fn resolve(options: &DatabaseOptions, access: Access) -> Result<Database> {
        let url = DatabaseUrl::resolve(options.url.as_deref())?;
        if let Access::Write(command) = access {
            url.refuse_if_pooled(command, options.allow_pooled)?;
        }
        let history = History::new(url.schema());
        Ok(Database {
            url,
            history,
            lock_timeout: options.advisory_lock_timeout,
        })
    }

    /// Prisma's datasource line: `Datasource "db": PostgreSQL database "app", schema "public" at
    /// "host:5432"` (no user, no password).
    pub fn datasource_line(&self) -> String {
        format!(
            "Datasource \"db\": PostgreSQL database \"{}\", schema \"{}\" at \"{}:{}\"",
            self.url.database(),
            self.url.schema(),
            self.url.host_display(),
            self.url.port()
        )
    }

    /// Connect with `search_path` on the `?schema=` schema without creating it: reading
    /// commands write nothing, and writing ones create it under the advisory lock
    /// ([`History::ensure`]), where concurrent first runs cannot race. Every wait of the
    /// lookups that follow is bounded: a lock on `_prisma_migrations` by `lock_timeout`,
    /// anything else (catalog reads) by `statement_timeout`. `standard_conforming_strings` is
    /// on, whatever the database's or role's default: the gate reads `\` in a literal as
    /// PostgreSQL's default does, and the server must split the SQL the same way (with it
    /// off, `'x\''; DROP TABLE t; --'` is a harmless string to the gate and a DROP to the
    /// server).
    pub async fn connect(&self) -> Result<Client> {
        let client = super::connection::connect::open(&self.url).await?;
        let search_path = format!(
            "SET search_path TO {}",
            crate::sql::ident::quote(self.url.schema())
        );
        let lock_wait = format!("{}ms", self.lock_timeout.as_millis().max(1));
        let lookup_limit = format!("{}ms", (self.lock_timeout + LOOKUP_MARGIN).as_millis());
        let session = async {
            client.batch_execute(&search_path).await?;
            client
                .query_one(
                    "SELECT set_config('lock_timeout', $1, false), \
                     set_config('statement_timeout', $2, false), \
                     set_config('standard_conforming_strings', 'on', false)",
                    &[&lock_wait, &lookup_limit],
                )
                .await
        };
        session
            .await
            .map_err(|e| super::history::db_error("cannot prepare the database session", &e))?;
        Ok(client)
    }

    /// Every row of the history table (none when it does not exist yet).
    pub async fn rows(&self, client: &Client) -> Result<Vec<HistoryRow>> {
        self.history.rows(client, self.lock_timeout).await
    }
}

/// How much longer than the lock wait a catalog read may take before it counts as stuck.
const LOOKUP_MARGIN: Duration = Duration::from_secs(30);

/// The signal that interrupted this run (0: none yet).
static INTERRUPTED: AtomicI32 = AtomicI32::new(0);

/// `Some("SIGTERM")` once SIGTERM or SIGINT arrived.
pub fn interrupted() -> Option<&'static str> {
    match INTERRUPTED.load(Ordering::SeqCst) {
        0 => None,
        SIGINT => Some("SIGINT"),
        _ => Some("SIGTERM"),
    }
}

/// Signals this close after the first are copies of the same stop, not a second one.
const SAME_STOP: Duration = Duration::from_secs(1);

/// History writes in progress: a signal then waits for the next statement boundary instead of
/// cancelling the write (a cancelled `finished_at` would leave a migration whose every segment
/// committed recorded as failed).
static UNCANCELLED: AtomicUsize = AtomicUsize::new(0);

/// Held while a history write runs; see [`UNCANCELLED`].
pub struct Uncancelled(());

/// Hold off cancelling on a signal until the returned guard is dropped.
pub fn uncancelled() -> Uncancelled {
    UNCANCELLED.fetch_add(1, Ordering::SeqCst);
    Uncancelled(())
}

impl Drop for Uncancelled {
    fn drop(&mut self) {
        UNCANCELLED.fetch_sub(1, Ordering::SeqCst);
    }
}

const SIGINT: i32 = 2;
const SIGTERM: i32 = 15;

/// On SIGTERM / SIGINT (a cancelled CI job, Ctrl-C), cancel the statement running on `client`
/// so its transaction rolls back now instead of committing minutes later on the server; the
/// command sees [`interrupted`], writes nothing more and says what state the database is in.
/// A second signal ends the process at once (the server rolls back an open transaction when
/// the connection closes), if it comes [`SAME_STOP`] or more after the first: one stop often
/// arrives twice at once, sent to the whole process group (`timeout`, systemd) and passed on
/// again by a wrapper (the npm launcher, npm itself).
pub fn cancel_on_signals(client: &Client, url: &DatabaseUrl) -> Result<()> {
    let token = client.cancel_token();
    let (_, tls) = super::connection::tls::connector(url)?;
    listen_for_signals(Some(Box::pin(async move {
        let _ = token.cancel_query(tls).await;
    })))
}

/// On SIGTERM / SIGINT, only note the signal for [`interrupted`] (a second one ends the process
/// as in [`cancel_on_signals`]): for a connection whose statement must finish, such as one
/// dropping what the run created.
pub fn flag_signals() -> Result<()> {
    listen_for_signals(None)
}

type Cancel = std::pin::Pin<Box<dyn Future<Output = ()> + Send>>;

fn listen_for_signals(cancel: Option<Cancel>) -> Result<()> {
    use tokio::signal::unix::{signal, SignalKind};
    let listen =
        |kind| signal(kind).map_err(|e| AppError::usage(format!("cannot listen for signals: {e}")));
    let mut term = listen(SignalKind::terminate())?;
    let mut int = listen(SignalKind::interrupt())?;
    tokio::spawn(async move {
        let number = tokio::select! {
            _ = term.recv() => SIGTERM,
            _ = int.recv() => SIGINT,
        };
        INTERRUPTED.store(number, Ordering::SeqCst);
        let first = tokio::time::Instant::now();
        // The commands look at the flag before every statement they send.
        if let Some(cancel) = cancel.filter(|_| UNCANCELLED.load(Ordering::SeqCst) == 0) {
            cancel.await;
        }
        loop {
            tokio::select! {
                _ = term.recv() => {},
                _ = int.recv() => {},
            }
            if first.elapsed() >= SAME_STOP {
                std::process::exit(128 + number);
            }
        }
    });
    Ok(())
}

/// A single-threaded runtime: one connection at a time, no parallelism needed.
pub fn runtime() -> Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| AppError::usage(format!("cannot start the async runtime: {e}")))
}

/// Drive `work` to completion on [`runtime`], then close its database sessions cleanly.
pub fn block_on<T>(work: impl Future<Output = Result<T>>) -> Result<T> {
    runtime()?.block_on(async {
        let result = work.await;
        super::connection::connect::close_connections().await;
        result
    })
}
