//! `concurrently-in-transaction`: a CONCURRENTLY statement inside a transaction block fails (25001).
//! The same holds for the other statements PostgreSQL refuses in a transaction block (VACUUM,
//! ALTER SYSTEM, ...): the migration fails at that point whatever the table.
//!
//! Which block depends on the deployer: BEGIN ... COMMIT written in the file (`migration-gate
//! deploy` otherwise runs such a statement alone in autocommit); with Prisma up to 7.3 (or a
//! file Prisma 7.4+ cannot parse) the whole file is sent as one query, an implicit transaction
//! block as soon as the file has more than one statement.

use super::{Example, Impact, RuleContext, RuleInfo, Violation};
use crate::sql::transactions::Runner;
use crate::sql::Op;
use crate::findings::Severity;

pub const RULE: RuleInfo = RuleInfo {
    id: "concurrently-in-transaction",
    default_severity: Severity::Error,
    impact: Impact::FailsToApply,
    summary: "a CONCURRENTLY statement inside a transaction block (BEGIN, or Prisma's one-query file) fails (25001)",
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
    if ctx.runner == Runner::WholeFile && ctx.statement.transaction_control().is_none() {
        let written_block = ctx.in_transaction_block && written_inside_begin(ctx);
        if !written_block {
            return Some(Violation::new(
                format!(
                    "`prisma migrate deploy` sends this whole file as one query (Prisma up to 7.3, \
                     or a file Prisma 7.4+ cannot parse), and a query of several statements runs \
                     as one implicit transaction block: {what} fails with 25001 (`{what} cannot \
                     run inside a transaction block`) and the migration fails."
                ),
                "Put the CONCURRENTLY statement in a migration of its own, as its only \
                 statement (Prisma: `prisma migrate dev --create-only`, then move it into its own \
                 migration folder); alone in its file it runs outside any transaction."
                    .to_string(),
            ));
        }
    }
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

/// Whether the statement sits between a BEGIN and its COMMIT written in the file.
fn written_inside_begin(ctx: &RuleContext) -> bool {
    use crate::sql::TransactionControl::*;
    ctx.later_in_file
        .iter()
        .find_map(|s| s.transaction_control())
        .is_some_and(|control| matches!(control, Commit | Rollback))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lint::rules::testing::{
        assert_mentions, flags, only_violation, violations_under_prisma, CREATE_DRAFT, HISTORY,
    };

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
    fn flags_concurrently_after_commit_and_chain() {
        // COMMIT AND CHAIN opens the next transaction block at once (25001 on the server).
        let chained = "BEGIN;\nALTER TABLE \"User\" ADD COLUMN b int;\nCOMMIT AND CHAIN;\n\
                       CREATE INDEX CONCURRENTLY i ON \"User\" (email);\nCOMMIT;\n";
        assert!(flags(HISTORY, chained, &RULE));
        assert_eq!(
            violations_under_prisma(Some("7.4.0"), HISTORY, chained, &RULE).len(),
            1
        );
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
    fn with_prisma_sending_the_whole_file_concurrently_fails_unless_alone() {
        let mixed = "ALTER TABLE \"User\" ADD COLUMN \"name\" TEXT;\n\
                     CREATE INDEX CONCURRENTLY i ON \"User\" (email);\n";
        for version in [Some("7.3.0"), None] {
            let found = violations_under_prisma(version, HISTORY, mixed, &RULE);
            assert_eq!(found.len(), 1, "{version:?}: {found:#?}");
            assert_mentions(&found[0].message, "one implicit transaction block");
            assert_mentions(&found[0].help, "migration of its own");
        }
        let alone = "CREATE INDEX CONCURRENTLY i ON \"User\" (email);\n";
        assert!(violations_under_prisma(Some("7.3.0"), HISTORY, alone, &RULE).is_empty());
        // 7.4+ sends a file it can parse statement by statement, outside any transaction.
        assert!(violations_under_prisma(Some("7.4.0"), HISTORY, mixed, &RULE).is_empty());
        // Our deploy runs it alone in autocommit.
        assert!(!flags(HISTORY, mixed, &RULE));
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
