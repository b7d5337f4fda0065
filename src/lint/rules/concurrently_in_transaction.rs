//! `concurrently-in-transaction`: a CONCURRENTLY statement inside BEGIN ... COMMIT fails (25001).
//! The same holds for the other statements PostgreSQL refuses in a transaction block (VACUUM,
//! ALTER SYSTEM, ...): the migration fails at that point whatever the table.

use super::{Example, RuleContext, RuleInfo, Violation};
use crate::sql::Op;
use crate::findings::Severity;

pub const RULE: RuleInfo = RuleInfo {
    id: "concurrently-in-transaction",
    default_severity: Severity::Error,
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
        Op::Reindex { concurrently: true } => "REINDEX CONCURRENTLY".to_string(),
        Op::NonTransactional { kind } => kind.clone(),
        _ => return None,
    };
    Some(Violation {
        message: format!(
            "{what} cannot run inside a transaction block: the migration fails with 25001 \
             (`{what} cannot run inside a transaction block`) and everything since BEGIN is \
             rolled back."
        ),
        help: "Remove the BEGIN/COMMIT around it and keep each CONCURRENTLY statement alone, \
               outside any transaction: `migration-gate deploy` runs it alone in autocommit; \
               with `prisma migrate deploy` put it in a migration of its own, as its only \
               statement."
            .to_string(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lint::rules::testing::{ctx, name, schema, statement};

    fn create_index(concurrently: bool, table: &str) -> crate::sql::Statement {
        statement(
            "CREATE INDEX CONCURRENTLY i ON t (c)",
            vec![Op::CreateIndex {
                name: Some("i".into()),
                table: name(table),
                columns: vec!["email".into()],
                unique: false,
                concurrently,
                if_not_exists: false,
            }],
        )
    }

    fn in_block(s: &crate::sql::Statement) -> Option<Violation> {
        let schema = schema();
        let mut c = ctx(&schema, s);
        c.in_transaction_block = true;
        check(&s.ops[0], &c)
    }

    #[test]
    fn flags_concurrently_inside_begin_commit() {
        let v = in_block(&create_index(true, "User")).expect("finding");
        assert!(v.message.contains("25001"));
        assert!(v.help.contains("Remove the BEGIN/COMMIT"));
        let drop = statement(
            "DROP INDEX CONCURRENTLY i",
            vec![Op::DropIndex {
                name: name("i"),
                concurrently: true,
                if_exists: false,
            }],
        );
        assert!(in_block(&drop).is_some());
    }

    #[test]
    fn fails_on_a_new_table_too() {
        assert!(in_block(&create_index(true, "Draft")).is_some());
    }

    #[test]
    fn ignores_concurrently_outside_a_block_and_plain_statements_inside() {
        let schema = schema();
        let s = create_index(true, "User");
        assert_eq!(check(&s.ops[0], &ctx(&schema, &s)), None);
        assert_eq!(in_block(&create_index(false, "User")), None);
    }
}
