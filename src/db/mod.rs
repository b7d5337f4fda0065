//! The database side: connection → history table → advisory lock → apply; the commands in
//! [`crate::commands`] are built on these.

pub mod apply;
pub mod backup;
pub mod connect;
pub mod history;
pub mod lock;
pub mod session;
pub mod tls;
pub mod url;

use std::time::Duration;

use crate::findings::Report;

/// One migration applied by a deploy.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AppliedMigration {
    pub name: String,
    pub duration: Duration,
}

/// What a deploy did; the CI layer turns it into outputs, a summary and the deploy hook.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DeployOutcome {
    /// Pending migrations found before applying.
    pub pending: Vec<String>,
    pub applied: Vec<AppliedMigration>,
    /// Error-level findings not allowed, and --allow-destructive not given: nothing applied.
    pub needs_review: bool,
    /// The analysis of the pending set.
    pub report: Report,
    /// `Some(message)` when a migration failed (history row written, later ones not attempted).
    pub failure: Option<String>,
}

/// What a rollback did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RollbackOutcome {
    pub rolled_back: Vec<AppliedMigration>,
    pub failure: Option<String>,
}
