//! What every database command starts with: the project's migrations, the database URL (pooled
//! ones refused for writing commands), a connection and a runtime to drive it.

use std::future::Future;
use std::path::PathBuf;
use std::time::Duration;

use tokio_postgres::Client;

use super::history::{History, HistoryRow};
use super::url::DatabaseUrl;
use crate::cli::{DatabaseArgs, MigrationsArgs};
use crate::config::Config;
use crate::discover::{self, MigrationSet};
use crate::error::{AppError, Result};

/// The local side: config and the migrations folder.
pub struct Project {
    pub config: Config,
    pub dir: PathBuf,
    pub set: MigrationSet,
}

impl Project {
    pub fn load(args: &MigrationsArgs) -> Result<Project> {
        let config = Config::load(args.config.as_deref())?;
        let dir = config.migrations_dir(args.dir.as_deref());
        let set = discover::discover(&dir)?;
        Ok(Project { config, dir, set })
    }

    /// `N migrations found in prisma/migrations`, as Prisma words it.
    pub fn found_line(&self) -> String {
        let n = self.set.migrations.len();
        let noun = if n == 1 { "migration" } else { "migrations" };
        format!("{n} {noun} found in {}", self.dir.display())
    }
}

/// Whether the command writes to the database (pooled URLs are refused for those).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    Read,
    Write(&'static str),
}

/// The database side: URL and history table.
pub struct Database {
    pub url: DatabaseUrl,
    pub history: History,
    pub lock_timeout: Duration,
}

impl Database {
    pub fn resolve(args: &DatabaseArgs, access: Access) -> Result<Database> {
        let url = DatabaseUrl::resolve(args.database_url.as_deref())?;
        if let Access::Write(command) = access {
            url.refuse_if_pooled(command, args.allow_pooled)?;
        }
        let history = History::new(url.schema());
        Ok(Database {
            url,
            history,
            lock_timeout: args.advisory_lock_timeout,
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

    pub async fn connect(&self) -> Result<Client> {
        super::connect::connect(&self.url).await
    }

    pub async fn rows(&self, client: &Client) -> Result<Vec<HistoryRow>> {
        self.history.rows(client).await
    }
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
        super::connect::close_connections().await;
        result
    })
}
