//! `drop-column`: ALTER TABLE ... DROP COLUMN on an existing table: data loss, and the running
//! app still reads it (Prisma's client names every column in its queries).

use super::{Example, RuleContext, RuleInfo, Violation};
use crate::sql::model::quote_ident;
use crate::sql::Op;
use crate::findings::Severity;

pub const RULE: RuleInfo = RuleInfo {
    id: "drop-column",
    default_severity: Severity::Error,
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
    let column = quote_ident(column);
    Some(Violation {
        message: format!(
            "You are about to drop the column {column} on the {table} table: the data in that \
             column is lost (ACCESS EXCLUSIVE lock, briefly), and the running app still selects \
             and inserts {column} and fails with `column does not exist` until every instance \
             runs the new code."
        ),
        help: format!(
            "Drop it in two releases:\n\
             1. Deploy app code that no longer uses the column (Prisma: remove the field from the \
             model, or mark it `@ignore` while the column still exists).\n\
             2. In a later migration: ALTER TABLE {table} DROP COLUMN {column};"
        ),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lint::rules::testing::{column, name, run, schema, statement};
    use crate::lint::schema::Origin;

    fn drop(table: &str, col: &str) -> crate::sql::Statement {
        statement(
            &format!("ALTER TABLE {table} DROP COLUMN {col}"),
            vec![Op::DropColumn {
                table: name(table),
                column: col.to_string(),
                if_exists: false,
            }],
        )
    }

    #[test]
    fn flags_an_existing_column_with_the_two_release_sequence() {
        let v = run(check, &schema(), &drop("User", "email")).expect("finding");
        assert!(v.message.contains("column does not exist"), "{}", v.message);
        assert!(v.help.contains("@ignore"));
        assert!(v.help.contains("ALTER TABLE \"User\" DROP COLUMN email;"));
    }

    #[test]
    fn flags_unknown_columns_and_tables_as_existing() {
        assert!(run(check, &schema(), &drop("User", "legacy")).is_some());
        assert!(run(check, &schema(), &drop("Unknown", "x")).is_some());
    }

    #[test]
    fn ignores_new_tables_and_columns_added_in_the_pending_set() {
        assert_eq!(run(check, &schema(), &drop("Draft", "email")), None);
        let mut s = schema();
        s.apply(
            &Op::AddColumn {
                table: name("User"),
                column: column("nickname", "text"),
                if_not_exists: false,
            },
            Origin::Pending,
        );
        assert_eq!(run(check, &s, &drop("User", "nickname")), None);
    }
}
