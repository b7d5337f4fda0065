//! `truncate-table`: TRUNCATE: deletes every row under an ACCESS EXCLUSIVE lock.

use super::{Example, Impact, RuleContext, RuleInfo, Violation, key_column};
use crate::sql::Op;
use crate::findings::Severity;

pub const RULE: RuleInfo = RuleInfo {
    id: "truncate-table",
    default_severity: Severity::Error,
    impact: Impact::DataLoss,
    summary: "TRUNCATE: deletes every row under an ACCESS EXCLUSIVE lock",
    check: Some(check),
    file: include_str!("truncate_table.rs"),
    example: Example::Migration("TRUNCATE \"User\";\n"),
};

pub fn check(op: &Op, ctx: &RuleContext) -> Option<Violation> {
    let Op::Truncate { table } = op else {
        return None;
    };
    if ctx.schema.is_new_table(table) {
        return None;
    }
    let id = key_column(ctx.schema, table);
    Some(Violation::new(
        format!(
            "TRUNCATE deletes every row of {table} under an ACCESS EXCLUSIVE lock (the running \
             app can neither read nor write it meanwhile); the data is gone for good once the \
             migration commits."
        ),
        format!(
            "If the rows must go, delete them outside the migration in batches, each its own \
             transaction, repeating until it deletes 0 rows:\n\
             DELETE FROM {table} WHERE {id} IN (SELECT {id} FROM {table} LIMIT 1000);\n\
             If the table is obsolete, stop using it and drop it in a later release."
        ),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lint::rules::testing::{assert_mentions, flags, only_violation, CREATE_DRAFT, HISTORY};

    #[test]
    fn flags_an_existing_table_with_a_batched_delete() {
        let v = only_violation(HISTORY, "TRUNCATE \"User\";", &RULE);
        assert_mentions(&v.message, "ACCESS EXCLUSIVE");
        assert_mentions(&v.help, "DELETE FROM \"User\" WHERE id IN (SELECT id FROM \"User\" LIMIT 1000);");
        assert!(flags(HISTORY, "TRUNCATE unknown;", &RULE));
    }

    #[test]
    fn ignores_a_new_table() {
        let pending = format!("{CREATE_DRAFT}TRUNCATE \"Draft\";");
        assert!(!flags(HISTORY, &pending, &RULE));
    }
}
