//! The rule catalogue: every rule id, its default severity and what it guards against, in one
//! place. Rule ids are a public interface (users write them in suppressions and config).
//! One file per rule; each declares its `pub const RULE: RuleInfo` and, when it judges single
//! operations, `pub fn check(op: &Op, ctx: &RuleContext) -> Option<Violation>`. Adding a rule is
//! its file and its line in `rules![...]` below (the README's table is checked against it).

pub mod advice;

use crate::findings::{Finding, Severity};
use crate::lint::locks::{HeldLock, Lock};
use crate::lint::schema::Schema;
use crate::project::discover::Migration;
use crate::sql::transactions::Runner;
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
    /// The statements after this one that run in the same transaction (see
    /// [`crate::sql::transactions`]): what a failure of theirs undoes with this one, and what
    /// still runs while this statement's locks are held.
    pub later_in_transaction: &'a [Statement],
    /// Inside a transaction block as the deployer runs the file (its own, the file's BEGIN, or a
    /// multi-statement query's implicit one): CONCURRENTLY fails there.
    pub in_transaction_block: bool,
    /// How the deployer sends the file (config `deployer`, Prisma's version).
    pub runner: Runner,
    /// Locks earlier statements of the same transaction took on existing tables, still held.
    pub held_locks: &'a [HeldLock],
    /// The locks this operation takes on existing tables and the work it does under them (the
    /// lock model's answer, worked out once per operation).
    pub own_locks: &'a [Lock],
    /// What the file did before this statement.
    pub file: &'a FileSoFar<'a>,
}

/// What the statements of the file before the current one did.
#[derive(Debug, Clone, Copy, Default)]
pub struct FileSoFar<'a> {
    /// Statements that ran and committed before the current statement's transaction began
    /// (not those of a transaction the file rolled back): they stay applied if it fails.
    pub committed_before: &'a [&'a Statement],
    /// A `SET lock_timeout` (or `SET LOCAL` in this transaction) is in effect.
    pub lock_timeout_set: bool,
    /// The line of the first statement that took ACCESS EXCLUSIVE on an existing table with no
    /// lock_timeout in effect.
    pub first_access_exclusive: Option<u32>,
}

/// A rule's verdict on one operation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Violation {
    /// What happens in production (lock level, rewrite/scan, data loss, app failure).
    pub message: String,
    /// The safe alternative, with the SQL to write instead.
    pub help: String,
    /// This finding's own default severity, when it differs from the rule's (an UPDATE of every
    /// row is worse than a targeted one). The config's override for the rule still wins.
    pub severity: Option<Severity>,
}

impl Violation {
    pub fn new(message: String, help: String) -> Violation {
        Violation {
            message,
            help,
            severity: None,
        }
    }

    /// The same violation, reported at `severity` unless the config says otherwise.
    pub fn at(self, severity: Severity) -> Violation {
        Violation {
            severity: Some(severity),
            ..self
        }
    }
}

pub type CheckFn = fn(&Op, &RuleContext) -> Option<Violation>;

/// What the catalogue, `explain`, SARIF and the README know about one rule.
pub struct RuleInfo {
    pub id: &'static str,
    pub default_severity: Severity,
    /// What kind of harm the rule guards against: decides which verdicts the size of the table
    /// may soften (only [`Impact::Blocks`]).
    pub impact: Impact,
    /// One line for the README, SARIF rule metadata and `--help`.
    pub summary: &'static str,
    /// `None` for rules raised outside the per-operation pass (unparsed-statement,
    /// allow-without-reason, edited-migration, out-of-order-migration, malformed-sql).
    pub check: Option<CheckFn>,
    /// The rule's own source file (`include_str!`): its `//!` documentation is what `explain`
    /// prints.
    pub file: &'static str,
    /// What `explain` shows the rule raising.
    pub example: Example,
}

/// The kind of harm a rule's finding announces.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Impact {
    /// Rows, columns, tables or values are lost.
    DataLoss,
    /// The running app (the previous release, during the rollout) fails against the new schema.
    BreaksApp,
    /// Traffic waits: a lock held while rows are scanned, rewritten, indexed or changed. The only
    /// impact whose cost grows with the table, so the only one a small table makes cheap.
    Blocks,
    /// The migration fails when it is deployed (and may leave part of itself applied).
    FailsToApply,
    /// About the process rather than the database: suppressions, history, unread statements.
    Process,
}

/// A small situation that raises a rule, for `explain`.
pub enum Example {
    /// A pending migration, run on [`EXAMPLE_HISTORY`] (tables that already hold data).
    Migration(&'static str),
    /// The same, deployed by `prisma migrate deploy` at `version` (`7.4.0`).
    UnderPrisma {
        version: &'static str,
        sql: &'static str,
    },
    /// A rule raised from git history: the situation in words, and the finding it raises on a
    /// migration of a feature branch (`20240301000000_add_teams`).
    FromGit {
        setting: &'static str,
        finding: fn(&Migration) -> Finding,
    },
}

/// The history every [`Example::Migration`] runs against: tables with rows in production.
pub const EXAMPLE_HISTORY: &str = r#"CREATE TYPE "Role" AS ENUM ('USER');
CREATE TABLE "Team" ("id" INTEGER NOT NULL, CONSTRAINT "Team_pkey" PRIMARY KEY ("id"));
CREATE TABLE "User" (
    "id" INTEGER NOT NULL,
    "email" TEXT,
    "name" TEXT,
    "teamId" INTEGER,
    CONSTRAINT "User_pkey" PRIMARY KEY ("id")
);
CREATE INDEX "User_email_idx" ON "User"("email");
CREATE SCHEMA "legacy";
"#;

/// Declares the rule modules and builds [`CATALOGUE`] from their `RULE`s, in the order given
/// (the order of `migration-gate rules`, SARIF and the README).
macro_rules! rules {
    ($($module:ident),* $(,)?) => {
        $(pub mod $module;)*

        pub static CATALOGUE: &[RuleInfo] = &[$($module::RULE),*];
    };
}

rules![
    drop_table,
    drop_column,
    drop_schema,
    truncate_table,
    rename_table,
    rename_column,
    rename_type,
    rename_enum_value,
    rename_schema,
    alter_column_type,
    add_column_required,
    required_column_without_default,
    add_column_rewrite,
    set_not_null,
    create_index_blocking,
    drop_index_blocking,
    reindex_blocking,
    add_foreign_key_validating,
    add_check_validating,
    add_unique_blocking,
    add_exclusion_constraint,
    alter_domain_add_constraint,
    table_rewrite,
    lock_table,
    create_trigger,
    refresh_materialized_view_blocking,
    slow_under_lock,
    lock_timeout_missing,
    concurrently_in_transaction,
    enum_value_used_in_transaction,
    partial_apply,
    unbatched_data_change,
    unjudged_statement,
    unparsed_statement,
    allow_without_reason,
    edited_migration,
    out_of_order_migration,
    malformed_sql,
    traced_data_loss,
    traced_rewrite,
    traced_lock,
    fails_to_apply,
];

impl RuleInfo {
    /// A finding about `migration` as a whole (raised from git history), from its first line to
    /// `end_line`.
    pub fn on_migration(
        &self,
        migration: &Migration,
        end_line: u32,
        message: String,
        help: String,
    ) -> Finding {
        Finding {
            rule: self.id,
            severity: self.default_severity,
            file: migration.display_path.clone(),
            line: 1,
            column: 1,
            end_line,
            message,
            help,
            statement: crate::lint::engine::excerpt(&migration.source),
            migration: migration.name.clone(),
            table: None,
        }
    }

    /// A finding on one statement of `migration` (raised by the trace, which ran it).
    pub fn on_statement(
        &self,
        migration: &Migration,
        statement: &Statement,
        message: String,
        help: String,
    ) -> Finding {
        Finding {
            rule: self.id,
            severity: self.default_severity,
            file: migration.display_path.clone(),
            line: statement.start.line,
            column: statement.start.column,
            end_line: statement.end.line,
            message,
            help,
            statement: crate::lint::engine::excerpt(&statement.text),
            migration: migration.name.clone(),
            table: None,
        }
    }
}

pub fn find(id: &str) -> Option<&'static RuleInfo> {
    CATALOGUE.iter().find(|rule| rule.id == id)
}

/// Every rule id, in catalogue order.
pub fn ids() -> Vec<&'static str> {
    CATALOGUE.iter().map(|rule| rule.id).collect()
}

/// The column batched backfills and deletes page through: the table's (first) primary-key
/// column when the history declares one, else `id` (Prisma's default), quoted for SQL.
pub fn key_column(schema: &Schema, table: &crate::sql::ObjectName) -> String {
    let primary_key = schema.table(table).and_then(|t| {
        t.constraints.iter().find_map(|c| match &c.kind {
            crate::sql::ConstraintKind::PrimaryKey { columns, .. } => columns.first().cloned(),
            _ => None,
        })
    });
    crate::sql::ident::quote_if_needed(primary_key.as_deref().unwrap_or("id"))
}

#[cfg(test)]
pub(crate) mod testing;

#[cfg(test)]
mod tests {
    use super::CATALOGUE;

    /// The README's rule table, as (id, default severity) rows in order.
    fn readme_rule_table() -> Vec<(String, String)> {
        let readme = include_str!("../../../README.md");
        readme
            .lines()
            .skip_while(|line| *line != "| id | default | flags |")
            .skip(2)
            .take_while(|line| line.starts_with('|'))
            .map(|row| {
                let cells: Vec<&str> = row.split('|').map(str::trim).collect();
                (cells[1].trim_matches('`').to_string(), cells[2].to_string())
            })
            .collect()
    }

    #[test]
    fn the_readme_rule_table_lists_exactly_the_catalogue() {
        let catalogue: Vec<(String, String)> = CATALOGUE
            .iter()
            .map(|rule| {
                let severity = rule.default_severity.as_str();
                (rule.id.to_string(), severity.to_string())
            })
            .collect();
        assert_eq!(readme_rule_table(), catalogue);
    }
}
