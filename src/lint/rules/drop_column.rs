//! `drop-column`: ALTER TABLE ... DROP COLUMN on an existing table: data loss, and the running
//! app still reads it (Prisma's client names every column in its queries).

use super::{Example, Impact, RuleContext, RuleInfo, Violation};
use crate::sql::ident::quote_if_needed;
use crate::sql::Op;
use crate::findings::Severity;

pub const RULE: RuleInfo = RuleInfo {
    id: "drop-column",
    default_severity: Severity::Error,
    impact: Impact::DataLoss,
    summary: "ALTER TABLE ... DROP COLUMN on an existing table: data loss, and the running app still reads it",
    check: Some(check),
    file: include_str!("drop_column.rs"),
    example: Example::Migration("ALTER TABLE \"User\" DROP COLUMN \"name\";\n"),
};

pub fn check(op: &Op, ctx: &RuleContext) -> Option<Violation> {
    let Op::DropColumn { table, column, .. } = op else {
        return None;
    };
    if ctx.schema.is_new_table(table) || ctx.schema.column(table, column).is_some_and(|c| c.is_new)
    {
        return None;
    }
    let column = quote_if_needed(column);
    Some(Violation::new(
        format!(
            "You are about to drop the column {column} on the {table} table: the data in that \
             column is lost (ACCESS EXCLUSIVE lock, briefly), and the running app still selects \
             and inserts {column} and fails with `column does not exist` until every instance \
             runs the new code."
        ),
        format!(
            "Drop it in two releases:\n\
             1. Deploy app code that no longer uses the column (Prisma: remove the field from the \
             model, or mark it `@ignore` while the column still exists).\n\
             2. In a later migration: ALTER TABLE {table} DROP COLUMN {column};"
        ),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lint::rules::testing::{assert_mentions, flags, only_violation, CREATE_DRAFT, HISTORY};

    #[test]
    fn flags_an_existing_column_with_the_two_release_sequence() {
        let v = only_violation(HISTORY, "ALTER TABLE \"User\" DROP COLUMN email;", &RULE);
        assert_mentions(&v.message, "column does not exist");
        assert_mentions(&v.help, "@ignore");
        assert_mentions(&v.help, "ALTER TABLE \"User\" DROP COLUMN email;");
    }

    #[test]
    fn flags_unknown_columns_and_tables_as_existing() {
        assert!(flags(HISTORY, "ALTER TABLE \"User\" DROP COLUMN legacy;", &RULE));
        assert!(flags(HISTORY, "ALTER TABLE \"Unknown\" DROP COLUMN x;", &RULE));
    }

    #[test]
    fn ignores_new_tables_and_columns_added_in_the_pending_set() {
        let new_table = format!("{CREATE_DRAFT}ALTER TABLE \"Draft\" DROP COLUMN email;");
        assert!(!flags(HISTORY, &new_table, &RULE));
        let new_column = "ALTER TABLE \"User\" ADD COLUMN nickname text;\n\
                          ALTER TABLE \"User\" DROP COLUMN nickname;";
        assert!(!flags(HISTORY, new_column, &RULE));
    }
}
