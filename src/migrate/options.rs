//! What the runner is asked to do, as plain values: the command line and the Action each build
//! these from their own inputs.

use std::path::PathBuf;
use std::time::Duration;

pub use crate::db::session::DatabaseOptions;

/// Production-safety settings for the session that runs migrations.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SafetyOptions {
    /// PostgreSQL interval text, e.g. `5000ms`; `0` disables.
    pub lock_timeout: String,
    /// PostgreSQL interval text; `None`: the session's default.
    pub statement_timeout: Option<String>,
    /// Retries of a segment that hit the lock timeout.
    pub lock_retries: u32,
    /// Wait before the first retry; doubled for each further one.
    pub retry_backoff: Duration,
}

impl Default for SafetyOptions {
    fn default() -> Self {
        SafetyOptions {
            lock_timeout: "5s".to_string(),
            statement_timeout: None,
            lock_retries: 3,
            retry_backoff: Duration::from_millis(500),
        }
    }
}

/// When a deploy runs `pg_dump` first.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BackupPolicy {
    /// Back up before a deploy with destructive findings.
    Destructive,
    /// Back up before every deploy.
    Always,
}

/// A deploy: apply the pending migrations, gated by the analysis.
#[derive(Debug, Clone)]
pub struct DeployOptions {
    /// How to reach the database.
    pub database: DatabaseOptions,
    /// Timeouts and retries for the migrations' session.
    pub safety: SafetyOptions,
    /// Apply even when the analysis finds error-level findings.
    pub allow_destructive: bool,
    /// Where `pg_dump` writes a backup; `None`: no backup.
    pub backup_dir: Option<PathBuf>,
    /// When to back up (with `backup_dir`).
    pub backup: BackupPolicy,
    /// Show the plan without writing anything.
    pub dry_run: bool,
    /// Apply the pending migrations up to and including this one only.
    pub to: Option<String>,
}

/// Which applied migrations a rollback undoes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RollbackTarget {
    /// Every applied migration after this one (it stays applied).
    To(String),
    /// The newest N applied migrations.
    Steps(usize),
}

/// A rollback: run `down.sql` scripts, newest first.
#[derive(Debug, Clone)]
pub struct RollbackOptions {
    /// How to reach the database.
    pub database: DatabaseOptions,
    /// Timeouts and retries for the down scripts' session.
    pub safety: SafetyOptions,
    /// Which migrations to undo.
    pub target: RollbackTarget,
    /// Print the plan without touching the database.
    pub dry_run: bool,
}

/// What `resolve` records for a migration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Resolution {
    /// Applied without running it (baselining, or completed by hand).
    Applied(String),
    /// A failed migration rolled back, to be fixed and applied again.
    RolledBack(String),
}
