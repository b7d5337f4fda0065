//! The migration runner, in the manner of sqlx's `Migrator` or refinery's `Runner`: plain option
//! structs in ([`options`]), outcome data out. [`deploy()`] is lock → refuse unsafe history →
//! pending set → gate (the analysis) → backup → apply; [`rollback()`], [`resolve()`] and
//! [`status()`] are the other database commands. Each script runs by [`plan`] and [`execute`],
//! and a stopped one is told by [`failure`]. Progress is printed as it happens ([`progress`]);
//! what the callers need afterwards (exit codes, the Action's outputs and summary) is in the
//! returned outcome.

pub mod deploy;
pub mod execute;
pub mod failure;
pub mod options;
pub mod plan;
pub mod progress;
pub mod resolve;
pub mod rollback;
pub mod status;

use std::time::Duration;

use crate::findings::Report;

pub use deploy::deploy;
pub use options::{
    BackupPolicy, DatabaseOptions, DeployOptions, Resolution, RollbackOptions, RollbackTarget,
    SafetyOptions,
};
pub use resolve::resolve;
pub use rollback::rollback;
pub use status::{status, StatusReport};

/// One migration applied (or rolled back) by a run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AppliedMigration {
    /// The migration's folder name.
    pub name: String,
    /// How long its script took.
    pub duration: Duration,
}

/// What a deploy did; the CI layer turns it into outputs, a summary and the deploy hook.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DeployOutcome {
    /// Pending migrations found before applying.
    pub pending: Vec<String>,
    /// The migrations applied, in order.
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
    /// The migrations rolled back, newest first.
    pub rolled_back: Vec<AppliedMigration>,
    /// `Some(message)` when a down script failed (later ones not attempted).
    pub failure: Option<String>,
}
