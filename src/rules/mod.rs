//! The rule catalogue: every rule id, its default severity and what it guards against, in one
//! place. Rule ids are a public interface (users write them in suppressions and config).
//! One file per rule; each exposes `pub fn check(op: &Op, ctx: &RuleContext) -> Option<Violation>`.

pub mod add_check_validating;
pub mod add_column_required;
pub mod add_column_rewrite;
pub mod add_foreign_key_validating;
pub mod add_unique_blocking;
pub mod advice;
pub mod allow_without_reason;
pub mod alter_column_type;
pub mod concurrently_in_transaction;
pub mod create_index_blocking;
pub mod drop_column;
pub mod drop_index_blocking;
pub mod drop_schema;
pub mod drop_table;
pub mod edited_migration;
pub mod enum_value_used_in_transaction;
pub mod malformed_sql;
pub mod out_of_order_migration;
pub mod rename_column;
pub mod rename_table;
pub mod set_not_null;
pub mod truncate_table;
pub mod unbatched_data_change;
pub mod unparsed_statement;

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

pub static CATALOGUE: &[RuleInfo] = &[
    RuleInfo {
        id: "drop-table",
        default_severity: Severity::Error,
        summary: "DROP TABLE on an existing table: the data is gone and the running app fails",
        check: Some(drop_table::check),
    },
    RuleInfo {
        id: "drop-column",
        default_severity: Severity::Error,
        summary: "ALTER TABLE ... DROP COLUMN on an existing table: data loss, and the running app still reads it",
        check: Some(drop_column::check),
    },
    RuleInfo {
        id: "drop-schema",
        default_severity: Severity::Error,
        summary: "DROP SCHEMA / DROP DATABASE: everything in it is lost",
        check: Some(drop_schema::check),
    },
    RuleInfo {
        id: "truncate-table",
        default_severity: Severity::Error,
        summary: "TRUNCATE: deletes every row under an ACCESS EXCLUSIVE lock",
        check: Some(truncate_table::check),
    },
    RuleInfo {
        id: "rename-table",
        default_severity: Severity::Error,
        summary: "ALTER TABLE ... RENAME TO: the running app still queries the old name",
        check: Some(rename_table::check),
    },
    RuleInfo {
        id: "rename-column",
        default_severity: Severity::Error,
        summary: "RENAME COLUMN: the running app still queries the old name",
        check: Some(rename_column::check),
    },
    RuleInfo {
        id: "alter-column-type",
        default_severity: Severity::Error,
        summary: "ALTER COLUMN TYPE that rewrites or scans the table under ACCESS EXCLUSIVE",
        check: Some(alter_column_type::check),
    },
    RuleInfo {
        id: "add-column-required",
        default_severity: Severity::Error,
        summary: "ADD COLUMN NOT NULL without DEFAULT: fails on a table with rows",
        check: Some(add_column_required::check),
    },
    RuleInfo {
        id: "add-column-rewrite",
        default_severity: Severity::Error,
        summary: "ADD COLUMN with a volatile default, SERIAL, identity or GENERATED STORED: rewrites the table",
        check: Some(add_column_rewrite::check),
    },
    RuleInfo {
        id: "set-not-null",
        default_severity: Severity::Error,
        summary: "SET NOT NULL scans the table under ACCESS EXCLUSIVE unless a validated CHECK (col IS NOT NULL) exists",
        check: Some(set_not_null::check),
    },
    RuleInfo {
        id: "create-index-blocking",
        default_severity: Severity::Error,
        summary: "CREATE INDEX without CONCURRENTLY blocks writes for the whole build",
        check: Some(create_index_blocking::check),
    },
    RuleInfo {
        id: "drop-index-blocking",
        default_severity: Severity::Error,
        summary: "DROP INDEX without CONCURRENTLY takes ACCESS EXCLUSIVE on the table",
        check: Some(drop_index_blocking::check),
    },
    RuleInfo {
        id: "add-foreign-key-validating",
        default_severity: Severity::Error,
        summary: "ADD FOREIGN KEY without NOT VALID scans the table while blocking writes on both tables",
        check: Some(add_foreign_key_validating::check),
    },
    RuleInfo {
        id: "add-check-validating",
        default_severity: Severity::Error,
        summary: "ADD CHECK without NOT VALID scans the table under ACCESS EXCLUSIVE",
        check: Some(add_check_validating::check),
    },
    RuleInfo {
        id: "add-unique-blocking",
        default_severity: Severity::Error,
        summary: "ADD UNIQUE / PRIMARY KEY builds an index under ACCESS EXCLUSIVE (use USING INDEX)",
        check: Some(add_unique_blocking::check),
    },
    RuleInfo {
        id: "concurrently-in-transaction",
        default_severity: Severity::Error,
        summary: "a CONCURRENTLY statement inside BEGIN ... COMMIT fails (25001)",
        check: Some(concurrently_in_transaction::check),
    },
    RuleInfo {
        id: "enum-value-used-in-transaction",
        default_severity: Severity::Error,
        summary: "a new enum value used in the same migration fails (55P04)",
        check: Some(enum_value_used_in_transaction::check),
    },
    RuleInfo {
        id: "unbatched-data-change",
        default_severity: Severity::Warning,
        summary: "UPDATE / DELETE over an existing table in one transaction: long row locks, bloat",
        check: Some(unbatched_data_change::check),
    },
    RuleInfo {
        id: "unparsed-statement",
        default_severity: Severity::Warning,
        summary: "a statement migration-gate could not understand: review it by hand",
        check: None,
    },
    RuleInfo {
        id: "allow-without-reason",
        default_severity: Severity::Warning,
        summary: "a migration-gate: allow comment without a reason is ignored",
        check: None,
    },
    RuleInfo {
        id: "edited-migration",
        default_severity: Severity::Error,
        summary: "a migration already merged (and maybe applied) was modified",
        check: None,
    },
    RuleInfo {
        id: "out-of-order-migration",
        default_severity: Severity::Warning,
        summary: "a new migration sorts before migrations already merged",
        check: None,
    },
    RuleInfo {
        id: "malformed-sql",
        default_severity: Severity::Error,
        summary: "an unterminated comment, string, identifier or dollar quote, or a NUL byte: PostgreSQL refuses the file",
        check: None,
    },
];

pub fn find(id: &str) -> Option<&'static RuleInfo> {
    CATALOGUE.iter().find(|rule| rule.id == id)
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

/// Builders for the rules' unit tests: a schema with an existing and a new table, a statement,
/// and the context a rule sees.
#[cfg(test)]
pub(crate) mod testing {
    use super::RuleContext;
    use crate::schema::{Origin, Schema};
    use crate::sql::{
        ColumnSpec, ObjectName, Op, Position, Span, Statement, TypeName, Understanding,
    };

    pub fn name(n: &str) -> ObjectName {
        match n.split_once('.') {
            Some((schema, n)) => ObjectName::new(Some(schema), n),
            None => ObjectName::unqualified(n),
        }
    }

    pub fn column(n: &str, base: &str) -> ColumnSpec {
        ColumnSpec {
            name: n.to_string(),
            data_type: TypeName {
                base: base.to_string(),
                schema: None,
                modifiers: vec![],
                array: false,
                sql: base.to_string(),
            },
            not_null: false,
            default: None,
            generated_stored: false,
            identity: false,
            constraints: vec![],
        }
    }

    fn create_table(table: &str) -> Op {
        Op::CreateTable {
            table: name(table),
            columns: vec![column("id", "int4"), column("email", "text")],
            constraints: vec![],
            if_not_exists: false,
            from_query: false,
        }
    }

    /// `User` exists (history), `Draft` is created by the pending set.
    pub fn schema() -> Schema {
        let mut s = Schema::new();
        s.apply(&create_table("User"), Origin::Existing);
        s.apply(
            &Op::CreateEnum {
                name: name("Role"),
                values: vec!["USER".into()],
            },
            Origin::Existing,
        );
        s.apply(&create_table("Draft"), Origin::Pending);
        s
    }

    pub fn statement(text: &str, ops: Vec<Op>) -> Statement {
        let lines = text.lines().count().max(1) as u32;
        Statement {
            text: text.to_string(),
            span: Span {
                start: 0,
                end: text.len(),
            },
            start: Position { line: 1, column: 1 },
            end: Position {
                line: lines,
                column: 1,
            },
            ops,
            understanding: Understanding::Parsed,
        }
    }

    pub fn ctx<'a>(schema: &'a Schema, statement: &'a Statement) -> RuleContext<'a> {
        RuleContext {
            schema,
            pg_version: crate::config::DEFAULT_PG_VERSION,
            statement,
            later_in_file: &[],
            in_transaction_block: false,
        }
    }

    /// Runs `check` on the statement's only op.
    pub fn run(
        check: super::CheckFn,
        schema: &Schema,
        statement: &Statement,
    ) -> Option<super::Violation> {
        check(&statement.ops[0], &ctx(schema, statement))
    }
}
