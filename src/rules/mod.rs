//! The rule catalogue: every rule id, its default severity and what it guards against, in one
//! place. Rule ids are a public interface (users write them in suppressions and config).
//! One file per rule; each exposes `pub fn check(op: &Op, ctx: &RuleContext) -> Option<Violation>`.

use crate::findings::Severity;
use crate::schema::Schema;
use crate::sql::{Op, Statement};

/// What a rule sees besides the operation itself.
pub struct RuleContext<'a> {
    /// The schema as it stands just BEFORE this statement (history replayed, then the pending
    /// statements before this one). Knows which objects are new in the pending set.
    pub schema: &'a Schema,
    /// Target PostgreSQL major version (config `pg_version`, default 15).
    pub pg_version: u32,
    pub statement: &'a Statement,
    /// The statements after this one in the same file.
    pub later_in_file: &'a [Statement],
    /// Inside an explicit BEGIN ... COMMIT written in the file.
    pub in_transaction_block: bool,
}

/// A rule's verdict on one operation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Violation {
    /// What happens in production (lock level, rewrite/scan, data loss, app failure).
    pub message: String,
    /// The safe alternative, with the SQL to write instead.
    pub help: String,
}

pub type CheckFn = fn(&Op, &RuleContext) -> Option<Violation>;

pub struct RuleInfo {
    pub id: &'static str,
    pub default_severity: Severity,
    /// One line for the README, SARIF rule metadata and `--help`.
    pub summary: &'static str,
    /// `None` for rules raised outside the per-operation pass (unparsed-statement,
    /// allow-without-reason, edited-migration, out-of-order-migration).
    pub check: Option<CheckFn>,
}

pub static CATALOGUE: &[RuleInfo] = &[];

pub fn find(id: &str) -> Option<&'static RuleInfo> {
    CATALOGUE.iter().find(|rule| rule.id == id)
}
