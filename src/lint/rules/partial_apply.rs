//! `partial-apply`: a statement that can fail on production data comes after statements that
//! are already committed (with Prisma 7.4+, or after the file's own BEGIN/COMMIT).
//!
//! Prisma 7.4+ sends a file it can parse statement by statement in autocommit: each statement
//! commits on its own. When a later statement fails on the rows production holds (SET NOT NULL
//! on a column with NULLs, a CHECK or foreign key some row violates, a unique index over
//! duplicates, a cast a value refuses, a NOT NULL column without default on a table with rows),
//! the earlier statements stay applied and `prisma migrate deploy` marks the migration failed:
//! the database is half migrated until someone repairs it by hand. `migration-gate deploy` and
//! Prisma up to 7.3 run the file as one transaction: nothing of it stays, unless the file writes
//! its own BEGIN/COMMIT (what `prisma migrate dev` generates for an enum change): `migration-gate
//! deploy` then commits each statement outside its BEGIN ... COMMIT, and both end a transaction
//! at the file's COMMIT.

use super::{Example, Impact, RuleContext, RuleInfo, Violation};
use crate::findings::Severity;
use crate::sql::transactions::Runner;
use crate::sql::{ConstraintKind, ObjectName, Op};

pub const RULE: RuleInfo = RuleInfo {
    id: "partial-apply",
    default_severity: Severity::Warning,
    impact: Impact::FailsToApply,
    summary: "a statement that can fail on production data runs after earlier ones already committed (Prisma 7.4+, or the file's own BEGIN/COMMIT)",
    check: Some(check),
    file: include_str!("partial_apply.rs"),
    example: Example::UnderPrisma {
        version: "7.4.0",
        sql: "ALTER TABLE \"User\" ADD COLUMN \"nickname\" TEXT;\nALTER TABLE \"User\" ALTER COLUMN \"email\" SET NOT NULL;\n",
    },
};

pub fn check(op: &Op, ctx: &RuleContext) -> Option<Violation> {
    let (table, why) = can_fail_on_data(op)?;
    if ctx.schema.is_new_table(table) {
        return None;
    }
    let applied: Vec<u32> = ctx
        .file
        .committed_before
        .iter()
        .filter(|s| s.ops.iter().any(changes_something))
        .map(|s| s.start.line)
        .collect();
    let (first, last) = (applied.first()?, applied.last()?);
    let line = ctx.statement.start.line;
    let lines = if first == last {
        format!("line {first} stays")
    } else {
        format!("lines {first}-{last} stay")
    };
    // Any runner commits early when the file writes its own BEGIN/COMMIT: each says why.
    let (how, all_or_nothing) = match ctx.runner {
        Runner::OneByOne => (
            "`prisma migrate deploy` (Prisma 7.4+) runs this file statement by statement, each \
             committed on its own",
            "wrap it in BEGIN; ... COMMIT; (Prisma then runs it as one transaction)",
        ),
        Runner::Segmenting => (
            "`migration-gate deploy` runs a file with its own BEGIN/COMMIT as written: each \
             statement outside its BEGIN ... COMMIT commits on its own",
            "put the whole file inside one BEGIN; ... COMMIT;, or remove the file's BEGIN and \
             COMMIT (`migration-gate deploy` then runs it as one transaction)",
        ),
        Runner::WholeFile => (
            "`prisma migrate deploy` sends this file as one query, and the file's own COMMIT \
             (or ROLLBACK) ends the transaction before this statement",
            "remove the COMMIT in the middle (the file then runs as one transaction)",
        ),
    };
    Some(Violation::new(
        format!(
            "{how}: if line {line} fails on production data ({why}), {lines} applied and the \
             migration is marked failed, the database half migrated."
        ),
        format!(
            "Make the file all-or-nothing: {all_or_nothing}, or move the statement that can \
             fail into a migration of its own. Check production first, e.g. SELECT count(*) ... \
             WHERE <column> IS NULL, or look for duplicates. If it fails anyway: repair by hand, \
             then `prisma migrate resolve`."
        ),
    ))
}

/// The table and the reason, when `op` can fail because of rows already in the table.
fn can_fail_on_data(op: &Op) -> Option<(&ObjectName, &'static str)> {
    match op {
        Op::SetNotNull { table, .. } => Some((table, "a NULL in the column")),
        Op::AlterColumnType { table, .. } => Some((table, "a value the new type refuses")),
        Op::ValidateConstraint { table, .. } => Some((table, "a row violating the constraint")),
        Op::AddConstraint { table, constraint } if !constraint.not_valid => {
            Some((table, violated_by(&constraint.kind)))
        }
        Op::CreateIndex {
            table,
            unique: true,
            ..
        } => Some((table, "duplicate values")),
        Op::AddColumn { table, column, .. } => {
            if column.not_null && column.default.is_none() && !column.identity {
                return Some((table, "existing rows get NULL in a NOT NULL column"));
            }
            column
                .constraints
                .iter()
                .find(|c| !c.not_valid && !matches!(c.kind, ConstraintKind::ForeignKey { .. }))
                .map(|c| (table, violated_by(&c.kind)))
        }
        _ => None,
    }
}

fn violated_by(kind: &ConstraintKind) -> &'static str {
    match kind {
        ConstraintKind::PrimaryKey { .. } | ConstraintKind::Unique { .. } => "duplicate values",
        ConstraintKind::ForeignKey { .. } => "a row without its referenced row",
        ConstraintKind::Check { .. } => "a row failing the CHECK",
        ConstraintKind::Exclude => "rows that conflict",
    }
}

/// Whether an earlier statement left something behind (schema or rows).
fn changes_something(op: &Op) -> bool {
    !matches!(op, Op::Other { .. } | Op::Transaction(_))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lint::rules::testing::{
        assert_mentions, flags, only_violation, violations_under_prisma, CREATE_DRAFT, HISTORY,
    };

    const ADD_THEN_NOT_NULL: &str = "ALTER TABLE \"User\" ADD COLUMN \"nickname\" TEXT;\n\
                                     CREATE INDEX i ON \"User\" (id);\n\
                                     ALTER TABLE \"User\" ALTER COLUMN email SET NOT NULL;\n";

    #[test]
    fn with_prisma_7_4_a_failing_set_not_null_leaves_the_earlier_lines_applied() {
        let found = violations_under_prisma(Some("7.4.0"), HISTORY, ADD_THEN_NOT_NULL, &RULE);
        assert_eq!(found.len(), 1, "{found:#?}");
        assert_mentions(&found[0].message, "if line 3 fails on production data (a NULL in the column), lines 1-2 stay applied");
        assert_mentions(&found[0].help, "BEGIN; ... COMMIT;");
        assert_eq!(found[0].severity, Some(Severity::Warning));
    }

    #[test]
    fn unique_index_validating_constraint_and_required_column_can_fail_too() {
        for risky in [
            "CREATE UNIQUE INDEX u ON \"User\" (email)",
            "ALTER TABLE \"User\" ADD CONSTRAINT c CHECK (id > 0)",
            "ALTER TABLE \"User\" ADD COLUMN \"age\" INTEGER NOT NULL",
            "ALTER TABLE \"User\" ALTER COLUMN email TYPE integer USING email::integer",
        ] {
            let pending = format!("ALTER TABLE \"User\" ADD COLUMN x TEXT;\n{risky};\n");
            let found = violations_under_prisma(Some("7.4.0"), HISTORY, &pending, &RULE);
            assert_eq!(found.len(), 1, "{risky}: {found:#?}");
        }
    }

    #[test]
    fn a_files_own_begin_commit_commits_early_under_every_deployer() {
        // Prisma's enum change writes BEGIN ... COMMIT; the statement before it autocommits
        // under `migration-gate deploy`.
        let before_block = "ALTER TABLE \"User\" ADD COLUMN x TEXT;\nBEGIN;\n\
                            ALTER TABLE \"User\" ALTER COLUMN email SET NOT NULL;\nCOMMIT;\n";
        let v = only_violation(HISTORY, before_block, &RULE);
        assert_mentions(&v.message, "`migration-gate deploy` runs a file with its own BEGIN/COMMIT");
        assert_mentions(&v.message, "if line 3 fails on production data (a NULL in the column), line 1 stays");
        assert_mentions(&v.help, "remove the file's BEGIN and COMMIT");
        // Prisma up to 7.3: the BEGIN joins the query's implicit transaction (atomic) ...
        assert!(violations_under_prisma(Some("7.3.0"), HISTORY, before_block, &RULE).is_empty());
        // ... but a COMMIT in the middle ends it.
        let after_commit = "ALTER TABLE \"User\" ADD COLUMN x TEXT;\nCOMMIT;\n\
                            ALTER TABLE \"User\" ALTER COLUMN email SET NOT NULL;\n";
        let found = violations_under_prisma(Some("7.3.0"), HISTORY, after_commit, &RULE);
        assert_eq!(found.len(), 1, "{found:#?}");
        assert_mentions(&found[0].message, "the file's own COMMIT");
        assert_mentions(&found[0].message, "line 1 stays");
    }

    #[test]
    fn a_transaction_the_file_rolls_back_leaves_nothing() {
        let rolled_back = "BEGIN;\nALTER TABLE \"User\" ADD COLUMN x TEXT;\nROLLBACK;\n\
                           ALTER TABLE \"User\" ALTER COLUMN email SET NOT NULL;\n";
        assert!(violations_under_prisma(Some("7.4.0"), HISTORY, rolled_back, &RULE).is_empty());
        assert!(!flags(HISTORY, rolled_back, &RULE));
        let committed = rolled_back.replace("ROLLBACK", "COMMIT");
        assert_eq!(
            violations_under_prisma(Some("7.4.0"), HISTORY, &committed, &RULE).len(),
            1
        );
    }

    #[test]
    fn atomic_runs_first_statements_and_new_tables_are_fine() {
        // One transaction: `migration-gate deploy`, Prisma up to 7.3, a BEGIN ... COMMIT file.
        assert!(!flags(HISTORY, ADD_THEN_NOT_NULL, &RULE));
        assert!(violations_under_prisma(Some("7.3.0"), HISTORY, ADD_THEN_NOT_NULL, &RULE).is_empty());
        let wrapped = format!("BEGIN;\n{ADD_THEN_NOT_NULL}COMMIT;\n");
        assert!(violations_under_prisma(Some("7.4.0"), HISTORY, &wrapped, &RULE).is_empty());
        // Nothing before it: a failure leaves nothing behind.
        let first = "ALTER TABLE \"User\" ALTER COLUMN email SET NOT NULL;\n";
        assert!(violations_under_prisma(Some("7.4.0"), HISTORY, first, &RULE).is_empty());
        let new = format!("{CREATE_DRAFT}ALTER TABLE \"Draft\" ALTER COLUMN email SET NOT NULL;\n");
        assert!(violations_under_prisma(Some("7.4.0"), HISTORY, &new, &RULE).is_empty());
    }
}
