//! What a run will do: which local migrations the history says are applied or pending, and how
//! each script runs: its statements grouped into segments (consecutive transactional statements
//! → ONE transaction; statements PostgreSQL refuses inside a transaction → alone, in autocommit,
//! in file order). A file with its own BEGIN/COMMIT runs as written.

use crate::db::history::HistoryRow;
use crate::project::discover::Migration;
use crate::project::Project;
use crate::sql::transactions::{self, Runner};
use crate::sql::Statement;

/// How a file's statements are run.
#[derive(Debug, PartialEq, Eq)]
pub enum Plan<'a> {
    /// Transactions and autocommit statements, in file order.
    Segmented(Vec<Segment<'a>>),
    /// The file has its own BEGIN/COMMIT: every statement runs as written, in autocommit mode.
    AsWritten(Vec<&'a Statement>),
}

/// A piece of a file that runs on its own.
#[derive(Debug, PartialEq, Eq)]
pub enum Segment<'a> {
    /// Consecutive statements that run in one transaction.
    Transaction(Vec<&'a Statement>),
    /// A statement PostgreSQL refuses inside a transaction block.
    Autocommit(&'a Statement),
}

/// Group a file's statements into the segments they run in: the grouping the rules judge
/// ([`transactions::place`] with [`Runner::Segmenting`]).
pub fn plan(statements: &[Statement]) -> Plan<'_> {
    if statements.iter().any(|s| s.transaction_control().is_some()) {
        return Plan::AsWritten(statements.iter().collect());
    }
    let placements = transactions::place(statements, Runner::Segmenting);
    let mut segments: Vec<Segment> = Vec::new();
    let mut open: Option<usize> = None;
    for (statement, placement) in statements.iter().zip(placements) {
        if !placement.in_block {
            open = None;
            segments.push(Segment::Autocommit(statement));
            continue;
        }
        match (open, segments.last_mut()) {
            (Some(transaction), Some(Segment::Transaction(current)))
                if transaction == placement.transaction =>
            {
                current.push(statement)
            }
            _ => {
                open = Some(placement.transaction);
                segments.push(Segment::Transaction(vec![statement]));
            }
        }
    }
    Plan::Segmented(segments)
}

impl Plan<'_> {
    /// One transaction for the whole file: a failure leaves nothing of it behind.
    pub fn is_single_transaction(&self) -> bool {
        match self {
            Plan::Segmented(segments) => segments
                .iter()
                .all(|segment| matches!(segment, Segment::Transaction(_))),
            Plan::AsWritten(_) => false,
        }
    }

    /// One line per segment, for `--dry-run`.
    pub fn describe(&self) -> Vec<String> {
        fn lines(statements: &[&Statement]) -> String {
            match (statements.first(), statements.last()) {
                (Some(first), Some(last)) => {
                    format!("lines {}-{}", first.start.line, last.end.line)
                }
                _ => "no statements".to_string(),
            }
        }
        match self {
            Plan::AsWritten(statements) => vec![format!(
                "as written (the file controls its own transactions): {} statement(s), {}",
                statements.len(),
                lines(statements)
            )],
            Plan::Segmented(segments) if segments.is_empty() => {
                vec!["transaction: no statements (history row only)".to_string()]
            }
            Plan::Segmented(segments) => segments
                .iter()
                .map(|segment| match segment {
                    Segment::Transaction(statements) => format!(
                        "transaction: {} statement(s), {}",
                        statements.len(),
                        lines(statements)
                    ),
                    Segment::Autocommit(statement) => format!(
                        "autocommit (cannot run in a transaction): line {}: {}",
                        statement.start.line,
                        first_line(&statement.text)
                    ),
                })
                .collect(),
        }
    }
}

/// The first line of a statement, cut to 80 characters.
pub(super) fn first_line(text: &str) -> String {
    let line = text.lines().next().unwrap_or("").trim();
    if line.chars().count() > 80 {
        format!("{}...", line.chars().take(77).collect::<String>())
    } else {
        line.to_string()
    }
}

impl Segment<'_> {
    /// The segment as the history logs name it (`transaction, lines 3-9`).
    pub(super) fn describe(&self) -> String {
        match self {
            Segment::Transaction(statements) => match (statements.first(), statements.last()) {
                (Some(first), Some(last)) => {
                    format!("transaction, lines {}-{}", first.start.line, last.end.line)
                }
                _ => "empty transaction".to_string(),
            },
            Segment::Autocommit(statement) => format!(
                "line {}: {}",
                statement.start.line,
                first_line(&statement.text)
            ),
        }
    }
}

/// A script to run: a migration's `migration.sql` or its `down.sql`.
#[derive(Debug, Clone, Copy)]
pub struct Script<'a> {
    /// The migration's folder name.
    pub migration: &'a str,
    /// The file as reports show it.
    pub file: &'a str,
    /// The SQL text.
    pub source: &'a str,
}

/// What to write to the history table around the script.
#[derive(Debug, Clone, Copy)]
pub enum Record<'a> {
    /// Deploy: insert a started row, mark it finished (Prisma's rows).
    Apply { checksum: &'a str },
    /// Rollback: set `rolled_back_at` on the applied row in the same transaction.
    RollBack,
}

/// The local migrations split by the database's history.
pub(crate) struct Split<'a> {
    /// Applied according to the history, in folder order.
    pub applied: Vec<&'a Migration>,
    /// Not applied (never, or rolled back), in folder order.
    pub pending: Vec<&'a Migration>,
}

/// Split the local migrations by the history rows.
pub(crate) fn split<'a>(project: &'a Project, rows: &[HistoryRow]) -> Split<'a> {
    let (applied, pending) = project.set.migrations.iter().partition(|m| {
        rows.iter()
            .any(|row| row.migration_name == m.name && row.is_applied())
    });
    Split { applied, pending }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::sql::{Op, Position, Span, TransactionControl, Understanding};

    pub(crate) fn statement(text: &str, line: u32, ops: Vec<Op>) -> Statement {
        Statement {
            text: text.to_string(),
            span: Span::default(),
            start: Position { line, column: 1 },
            end: Position { line, column: 1 },
            ops,
            understanding: Understanding::Parsed,
        }
    }

    fn create_index(concurrently: bool) -> Op {
        Op::CreateIndex {
            name: Some("i".to_string()),
            table: crate::sql::ObjectName::unqualified("t"),
            columns: vec!["a".to_string()],
            unique: false,
            concurrently,
            if_not_exists: false,
            predicate: None,
        }
    }

    #[test]
    fn consecutive_transactional_statements_share_one_segment() {
        let statements = vec![
            statement("CREATE TABLE t (a int)", 1, vec![]),
            statement("CREATE INDEX i ON t (a)", 2, vec![create_index(false)]),
        ];
        match plan(&statements) {
            Plan::Segmented(segments) => {
                assert_eq!(segments.len(), 1);
                assert!(matches!(&segments[0], Segment::Transaction(s) if s.len() == 2));
            }
            other => panic!("expected segments, got {other:?}"),
        }
    }

    #[test]
    fn concurrently_runs_alone_between_transactions_in_file_order() {
        let statements = vec![
            statement("CREATE TABLE t (a int)", 1, vec![]),
            statement(
                "CREATE INDEX CONCURRENTLY i ON t (a)",
                2,
                vec![create_index(true)],
            ),
            statement("ALTER TABLE t ADD b int", 3, vec![]),
            statement("INSERT INTO t VALUES (1)", 4, vec![]),
        ];
        let Plan::Segmented(segments) = plan(&statements) else {
            panic!("expected segments");
        };
        let shape: Vec<(char, u32)> = segments
            .iter()
            .map(|s| match s {
                Segment::Transaction(st) => ('T', st[0].start.line),
                Segment::Autocommit(st) => ('A', st.start.line),
            })
            .collect();
        assert_eq!(shape, vec![('T', 1), ('A', 2), ('T', 3)]);
    }

    #[test]
    fn a_file_with_its_own_begin_runs_as_written() {
        let statements = vec![
            statement("BEGIN", 1, vec![Op::Transaction(TransactionControl::Begin)]),
            statement("CREATE TABLE t (a int)", 2, vec![]),
            statement(
                "COMMIT",
                3,
                vec![Op::Transaction(TransactionControl::Commit)],
            ),
        ];
        assert!(matches!(plan(&statements), Plan::AsWritten(s) if s.len() == 3));
    }
}
