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

use std::sync::atomic::{AtomicBool, Ordering};
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

/// Progress on stdout. Write errors are ignored: a reader that went away (`deploy | head -1`)
/// must neither stop a deploy half way nor turn its outcome into a failure.
pub fn say_line(line: &str) {
    use std::io::Write;
    let mut out = std::io::stdout().lock();
    if LINE_OPEN.swap(false, Ordering::Relaxed) {
        let _ = writeln!(out);
    }
    let _ = writeln!(out, "{line}");
}

/// A line on stderr (findings, warnings, what failed), with write errors ignored for the same
/// reason as [`say_line`]: `deploy 2>&1 | head -1` must not stop a deploy half way.
pub fn complain_line(line: &str) {
    use std::io::Write;
    let _ = writeln!(std::io::stderr().lock(), "{line}");
}

/// Start a progress line that [`end_line`] completes (`Applying migration `x`` … ` (12 ms)`).
pub fn begin_line(text: &str) {
    use std::io::Write;
    let mut out = std::io::stdout().lock();
    let _ = write!(out, "{text}");
    let _ = out.flush();
    LINE_OPEN.store(true, Ordering::Relaxed);
}

/// Complete the line [`begin_line`] started; when other lines came in between (retries), the
/// outcome gets a line of its own, `again` followed by `suffix`.
pub fn end_line(again: &str, suffix: &str) {
    if LINE_OPEN.swap(false, Ordering::Relaxed) {
        use std::io::Write;
        let _ = writeln!(std::io::stdout().lock(), "{suffix}");
    } else {
        say_line(&format!("{again}{suffix}"));
    }
}

static LINE_OPEN: AtomicBool = AtomicBool::new(false);

/// [`say_line`] with `format!` arguments.
#[macro_export]
macro_rules! say {
    () => { $crate::db::say_line("") };
    ($($arg:tt)*) => { $crate::db::say_line(&format!($($arg)*)) };
}

/// [`complain_line`] with `format!` arguments.
#[macro_export]
macro_rules! complain {
    ($($arg:tt)*) => { $crate::db::complain_line(&format!($($arg)*)) };
}
