//! `concurrently-in-transaction`: a CONCURRENTLY statement inside BEGIN ... COMMIT fails (25001).
//! The same holds for the other statements PostgreSQL refuses in a transaction block (VACUUM,
//! ALTER SYSTEM, ...): the migration fails at that point whatever the table.

use super::{Example, Impact, RuleContext, RuleInfo, Violation};
use crate::sql::Op;
use crate::findings::Severity;

pub const RULE: RuleInfo = RuleInfo {
    id: "concurrently-in-transaction",
    default_severity: Severity::Error,
    impact: Impact::FailsToApply,
    summary: "a CONCURRENTLY statement inside BEGIN ... COMMIT fails (25001)",
    check: Some(check),
    file: include_str!("concurrently_in_transaction.rs"),
    example: Example::Migration("BEGIN;\nCREATE INDEX CONCURRENTLY \"User_name_idx\" ON \"User\"(\"name\");\nCOMMIT;\n"),
};

pub fn check(op: &Op, ctx: &RuleContext) -> Option<Violation> {
    if !ctx.in_transaction_block {
        return None;
    }
    let what = match op {
        Op::CreateIndex {
            concurrently: true, ..
        } => "CREATE INDEX CONCURRENTLY".to_string(),
        Op::DropIndex {
            concurrently: true, ..
        } => "DROP INDEX CONCURRENTLY".to_string(),
        Op::Reindex {
            concurrently: true,
            ..
        } => "REINDEX CONCURRENTLY".to_string(),
        Op::NonTransactional { kind } => kind.clone(),
        _ => return None,
    };
    Some(Violation::new(
        format!(
            "{what} cannot run inside a transaction block: the migration fails with 25001 \
             (`{what} cannot run inside a transaction block`) and everything since BEGIN is \
             rolled back."
        ),
        "Remove the BEGIN/COMMIT around it and keep each CONCURRENTLY statement alone, \
               outside any transaction: `migration-gate deploy` runs it alone in autocommit; \
               with `prisma migrate deploy` put it in a migration of its own, as its only \
               statement."
            .to_string(),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lint::rules::testing::{assert_mentions, flags, only_violation, CREATE_DRAFT, HISTORY};

    fn in_block(statement: &str) -> String {
        format!("BEGIN;\n{statement}\nCOMMIT;\n")
    }

    #[test]
    fn flags_concurrently_inside_begin_commit() {
        let v = only_violation(
            HISTORY,
            &in_block("CREATE INDEX CONCURRENTLY i ON \"User\" (email);"),
            &RULE,
        );
        assert_mentions(&v.message, "25001");
        assert_mentions(&v.help, "Remove the BEGIN/COMMIT");
        assert!(flags(
            HISTORY,
            &in_block("DROP INDEX CONCURRENTLY i;"),
            &RULE
        ));
    }

    #[test]
    fn fails_on_a_new_table_too() {
        let pending = format!(
            "{CREATE_DRAFT}{}",
            in_block("CREATE INDEX CONCURRENTLY i ON \"Draft\" (email);")
        );
        assert!(flags(HISTORY, &pending, &RULE));
    }

    #[test]
    fn ignores_concurrently_outside_a_block_and_plain_statements_inside() {
        assert!(!flags(
            HISTORY,
            "CREATE INDEX CONCURRENTLY i ON \"User\" (email);",
            &RULE
        ));
        assert!(!flags(
            HISTORY,
            &in_block("CREATE INDEX i ON \"User\" (email);"),
            &RULE
        ));
    }
}
