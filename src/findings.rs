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
}

impl Report {
    pub fn has_errors(&self) -> bool {
        self.findings.iter().any(|f| f.severity == Severity::Error)
    }
}
