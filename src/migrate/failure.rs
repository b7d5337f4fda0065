//! Why a script stopped and how that is told: the located report for stderr and the
//! Prisma-style logs for `_prisma_migrations.logs`.

use tokio_postgres::error::{DbError, ErrorPosition};

use super::plan::{first_line, Script};
use crate::sql::{Position, Statement};

/// SQLSTATE lock_not_available: `lock_timeout` expired.
const LOCK_NOT_AVAILABLE: &str = "55P03";

/// Why a script stopped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FailureKind {
    /// A statement failed.
    Statement,
    /// Every attempt waited longer than `lock_timeout` for a lock and rolled back.
    LockTimeout,
    /// The server closed the connection (`pg_terminate_backend`, a restart, a network cut).
    ConnectionLost,
    /// SIGTERM / SIGINT: the running statement was cancelled.
    Interrupted(&'static str),
    /// A statement of the script released the migration advisory lock and another session
    /// took it: nothing more may be committed or recorded.
    LockLost,
}

/// A failed script: what to show on stderr and what goes into the history row's `logs`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Failure {
    /// `file:line:col`, SQLSTATE, message, detail, hint.
    pub report: String,
    /// Prisma-style logs for `_prisma_migrations.logs`.
    pub logs: String,
    /// Why it stopped.
    pub kind: FailureKind,
    /// The segments that committed before the failure and stay (a script that had to run in
    /// several segments); empty when nothing of the script was applied.
    pub committed: Vec<String>,
    /// The script ran in several segments, so its started row was written before it ran.
    pub segmented: bool,
}

impl Failure {
    /// Whether the history may still be written: not after a signal (write nothing more), not
    /// on a closed connection.
    pub(super) fn recordable(&self) -> bool {
        matches!(self.kind, FailureKind::Statement | FailureKind::LockTimeout)
    }

    /// A statement failure we detect ourselves (the server accepted the SQL): `message` at
    /// `location` of the script.
    pub(super) fn refused(script: Script<'_>, location: &str, message: &str) -> Failure {
        Failure {
            report: format!(
                "Migration `{}` failed at {location}\n  {message}",
                script.migration
            ),
            logs: format!(
                "Migration name: {}\n\nDatabase error:\n{message}\n",
                script.migration
            ),
            kind: FailureKind::Statement,
            committed: Vec::new(),
            segmented: false,
        }
    }
}

/// The logs with the committed segments listed after them.
pub(super) fn with_committed(logs: &str, committed: &[String]) -> String {
    if committed.is_empty() {
        return logs.to_string();
    }
    format!(
        "{logs}\nCommitted before the failure (not undone):\n{}\n",
        committed
            .iter()
            .map(|c| format!("- {c}"))
            .collect::<Vec<_>>()
            .join("\n")
    )
}

/// A script that released the advisory lock to another session (see [`FailureKind::LockLost`]).
pub(super) fn lock_lost(script: Script<'_>) -> Failure {
    let message = format!(
        "a statement of it released the migration advisory lock ({}) (DISCARD ALL, \
         pg_advisory_unlock_all() or pg_advisory_unlock) and another session took it: stopped \
         so that two deploys do not run at once, with its open transaction rolled back and \
         nothing more recorded. Remove that statement from the migration",
        crate::db::lock::KEY
    );
    Failure {
        report: format!("Migration `{}`: {message}", script.migration),
        logs: format!("Migration name: {}\n\n{message}\n", script.migration),
        kind: FailureKind::LockLost,
        committed: Vec::new(),
        segmented: false,
    }
}

/// A script that a signal stopped before it started.
pub(super) fn interrupted_before(script: Script<'_>, signal: &'static str) -> Failure {
    let message = format!("interrupted by {signal} before it started");
    Failure {
        report: format!("Migration `{}`: {message}", script.migration),
        logs: format!("Migration name: {}\n\n{message}\n", script.migration),
        kind: FailureKind::Interrupted(signal),
        committed: Vec::new(),
        segmented: false,
    }
}

/// The statement waited longer than `lock_timeout` for a lock.
pub(super) fn is_lock_timeout(error: &tokio_postgres::Error) -> bool {
    error
        .as_db_error()
        .is_some_and(|db| db.code().code() == LOCK_NOT_AVAILABLE)
}

/// Why the statement stopped: the server's SQLSTATE, the connection's state and our signal flag.
fn failure_kind(error: &tokio_postgres::Error, connection_closed: bool) -> FailureKind {
    let code = error.as_db_error().map(|db| db.code().code());
    if connection_closed || matches!(code, Some("57P01" | "57P02" | "57P03")) || error.is_closed() {
        return FailureKind::ConnectionLost;
    }
    if let Some(signal) = crate::db::session::interrupted() {
        return FailureKind::Interrupted(signal);
    }
    if code == Some(LOCK_NOT_AVAILABLE) {
        FailureKind::LockTimeout
    } else {
        FailureKind::Statement
    }
}

/// Where in the file the error is: the statement's start, moved by the server's error position
/// (a 1-based character offset into the statement text) when it gives one.
/// `shift`: characters sent before the statement in the same query.
pub fn error_position(statement: &Statement, db: &DbError, shift: u32) -> Position {
    match db.position() {
        Some(ErrorPosition::Original(offset)) if *offset > shift => {
            offset_position(statement, *offset - shift)
        }
        _ => statement.start,
    }
}

fn offset_position(statement: &Statement, offset: u32) -> Position {
    let mut position = statement.start;
    for c in statement
        .text
        .chars()
        .take(offset.saturating_sub(1) as usize)
    {
        if c == '\n' {
            position.line += 1;
            position.column = 1;
        } else {
            position.column += 1;
        }
    }
    position
}

/// The failure of `statement` (or of the script as a whole), located in the file.
pub(super) fn failure_for(
    script: Script<'_>,
    statement: Option<&Statement>,
    error: &tokio_postgres::Error,
    shift: u32,
    connection_closed: bool,
) -> Failure {
    let kind = failure_kind(error, connection_closed);
    let Some(db) = error.as_db_error() else {
        let location = statement
            .map(|s| format!("{}:{}:{}", script.file, s.start.line, s.start.column))
            .unwrap_or_else(|| script.file.to_string());
        let message = format!("{error}");
        return Failure {
            report: format!(
                "Migration `{}` failed at {location}\n  {message}",
                script.migration
            ),
            logs: format!("Database error:\n{message}\n"),
            kind,
            committed: Vec::new(),
            segmented: false,
        };
    };
    let position = statement.map(|s| error_position(s, db, shift));
    let location = match position {
        Some(p) => format!("{}:{}:{}", script.file, p.line, p.column),
        None => script.file.to_string(),
    };
    let mut report = format!(
        "Migration `{}` failed at {location}\n  SQLSTATE {}: {}",
        script.migration,
        db.code().code(),
        db.message()
    );
    let mut server = format!("ERROR: {}", db.message());
    if let Some(detail) = db.detail() {
        report.push_str(&format!("\n  DETAIL: {detail}"));
        server.push_str(&format!("\nDETAIL: {detail}"));
    }
    if let Some(hint) = db.hint() {
        report.push_str(&format!("\n  HINT: {hint}"));
        server.push_str(&format!("\nHINT: {hint}"));
    }
    if let Some(statement) = statement {
        report.push_str(&format!("\n  statement: {}", first_line(&statement.text)));
    }
    let mut logs = format!(
        "Migration name: {}\n\nDatabase error code: {}\n\nDatabase error:\n{server}\n",
        script.migration,
        db.code().code()
    );
    if let Some(p) = position {
        logs.push_str(&format!(
            "\nPosition:\n{}",
            source_context(script.source, p.line)
        ));
    }
    Failure {
        report,
        logs,
        kind,
        committed: Vec::new(),
        segmented: false,
    }
}

/// The lines around `line`, numbered as Prisma shows them in its logs.
fn source_context(source: &str, line: u32) -> String {
    let first = line.saturating_sub(5).max(1);
    source
        .lines()
        .enumerate()
        .map(|(i, text)| (i as u32 + 1, text))
        .filter(|(n, _)| *n >= first && *n <= line)
        .map(|(n, text)| format!("[{n:>3}] {text}\n"))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::migrate::plan::tests::statement;

    #[test]
    fn error_offsets_move_to_the_right_line_and_column() {
        let mut st = statement("ALTER TABLE t\n  ADD COLUMN x nosuchtype", 7, vec![]);
        st.start.column = 3;
        // Offset 1 is the statement's first character.
        assert_eq!(offset_position(&st, 1), Position { line: 7, column: 3 });
        assert_eq!(offset_position(&st, 7), Position { line: 7, column: 9 });
        // "nosuchtype" starts at character 29 (1-based) of the text: line 8, column 16.
        let offset = st.text.find("nosuchtype").unwrap() as u32 + 1;
        assert_eq!(
            offset_position(&st, offset),
            Position {
                line: 8,
                column: 16
            }
        );
    }

    #[test]
    fn context_shows_numbered_lines_up_to_the_error() {
        let source = "a\nb\nc\n";
        assert_eq!(source_context(source, 2), "[  1] a\n[  2] b\n");
    }
}
