//! What the analysis hands to the reports: findings, the allowed (waved-through) findings, and a
//! summary. Reports depend on nothing else.

use serde::Serialize;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Warning,
    Error,
}

impl Severity {
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Warning => "warning",
            Severity::Error => "error",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Finding {
    /// Public rule id, e.g. `drop-column`.
    pub rule: &'static str,
    pub severity: Severity,
    /// The migration file as shown to users (`prisma/migrations/2024_x/migration.sql`).
    pub file: String,
    /// 1-based position of the statement's first token.
    pub line: u32,
    pub column: u32,
    pub end_line: u32,
    /// What happens in production: lock level, rewrite or scan, data loss, failure of the app.
    pub message: String,
    /// The safe alternative, concretely: the SQL to write instead.
    pub help: String,
    /// The statement (or an excerpt of it).
    pub statement: String,
    /// The migration's name (folder name for Prisma).
    #[serde(skip)]
    pub migration: String,
    /// The existing table the statement locks, scans, rewrites or changes, when the finding is
    /// about one: table sizes (`check --stats`) judge it by that table. Not in the JSON output.
    #[serde(skip)]
    pub table: Option<TableTarget>,
}

/// The table a finding falls on and the work the statement does to it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TableTarget {
    /// Resolved: `public` when the statement names none.
    pub schema: String,
    pub name: String,
    pub work: TableWork,
}

/// What the statement does to the table while it holds its lock: decides how the time it takes
/// grows with the table's size.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TableWork {
    /// Takes a lock and does little else (DROP INDEX, LOCK TABLE): the time is the wait.
    Lock,
    /// Reads every row (validating a constraint, SET NOT NULL).
    Scan,
    /// Writes a new copy of the table and its indexes (ALTER COLUMN TYPE, a volatile default).
    Rewrite,
    /// Sorts the table into a new index (CREATE INDEX, ADD UNIQUE / PRIMARY KEY).
    IndexBuild,
    /// Changes rows one by one (UPDATE, DELETE).
    RowChange,
    /// Changes the rows a WHERE matches, one by one: at most every row, often far fewer.
    SomeRowsChange,
}

/// A finding that a suppression comment waved through: listed in every output.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AllowedFinding {
    pub rule: &'static str,
    pub file: String,
    /// Line of the statement the finding is on.
    pub line: u32,
    /// Line of the `migration-gate: allow` comment.
    pub allow_line: u32,
    pub reason: String,
    #[serde(skip)]
    pub migration: String,
    #[serde(skip)]
    pub message: String,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Summary {
    pub files: usize,
    pub statements: usize,
    pub unparsed: usize,
    pub errors: usize,
    pub warnings: usize,
}

/// One analysed (pending) migration, for reports that group by migration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MigrationReport {
    pub name: String,
    pub file: String,
    pub statements: usize,
    /// The migration's SQL (manual-review reports show it).
    pub sql: String,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Report {
    /// Sorted by file (migration order), then line, then column, then rule.
    pub findings: Vec<Finding>,
    pub allowed: Vec<AllowedFinding>,
    pub summary: Summary,
    pub migrations: Vec<MigrationReport>,
    /// What the reader must know about how the verdicts were reached (stale table statistics,
    /// a trace server of another version): one sentence each, shown in every format.
    pub notes: Vec<String>,
}

impl Report {
    pub fn has_errors(&self) -> bool {
        self.findings.iter().any(|f| f.severity == Severity::Error)
    }

    /// How many findings are at `severity`.
    pub fn count(&self, severity: Severity) -> usize {
        self.findings
            .iter()
            .filter(|f| f.severity == severity)
            .count()
    }

    /// The summary's error and warning counts brought up to date, after findings were added or
    /// judged again.
    pub fn recount(&mut self) {
        self.summary.errors = self.count(Severity::Error);
        self.summary.warnings = self.count(Severity::Warning);
    }
}

/// Statements longer than this many lines are shown as an excerpt in findings.
const EXCERPT_LINES: usize = 8;
/// Longer lines are cut in the excerpt.
const EXCERPT_LINE_CHARS: usize = 200;

/// The statement as shown in a finding: long ones cut to their first lines, long lines (a
/// one-line bulk INSERT) to their start.
pub fn excerpt(text: &str) -> String {
    let text = text.trim();
    let mut lines = text.lines();
    let head: Vec<String> = lines
        .by_ref()
        .take(EXCERPT_LINES)
        .map(|line| match line.char_indices().nth(EXCERPT_LINE_CHARS) {
            Some((cut, _)) => format!("{} ...", &line[..cut]),
            None => line.to_string(),
        })
        .collect();
    let rest = lines.count();
    let mut shown = head.join("\n");
    if rest > 0 {
        shown.push_str(&format!("\n... ({rest} more lines)"));
    }
    shown
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_statements_are_cut_to_an_excerpt() {
        let long: String = (1..=20).map(|i| format!("line {i}\n")).collect();
        let shown = excerpt(&long);
        assert_eq!(shown.lines().count(), EXCERPT_LINES + 1);
        assert!(shown.ends_with("... (12 more lines)"), "{shown}");
        assert_eq!(excerpt("DROP TABLE a"), "DROP TABLE a");
        let wide = format!("INSERT INTO t VALUES {}", "('é', 1), ".repeat(100));
        let shown = excerpt(&wide);
        assert_eq!(shown.chars().count(), EXCERPT_LINE_CHARS + 4);
        assert!(shown.ends_with(" ..."));
    }
}
