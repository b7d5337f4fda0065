//! `rename-column`: RENAME COLUMN: the running app still queries the old name.

use super::{Example, Impact, RuleContext, RuleInfo, Violation, key_column};
use crate::sql::ident::quote_if_needed;
use crate::sql::Op;
use crate::findings::Severity;

pub const RULE: RuleInfo = RuleInfo {
    id: "rename-column",
    default_severity: Severity::Error,
    impact: Impact::BreaksApp,
    summary: "RENAME COLUMN: the running app still queries the old name",
    check: Some(check),
    file: include_str!("rename_column.rs"),
    example: Example::Migration("ALTER TABLE \"User\" RENAME COLUMN \"name\" TO \"fullName\";\n"),
};

pub fn check(op: &Op, ctx: &RuleContext) -> Option<Violation> {
    let Op::RenameColumn {
        table,
        column,
        new_name,
    } = op
    else {
        return None;
    };
    let known = ctx.schema.column(table, column);
    if ctx.schema.is_new_table(table) || known.is_some_and(|c| c.is_new) {
        return None;
    }
    let data_type = known.map_or("<type>", |c| c.data_type.sql.as_str());
    let (old, new) = (quote_if_needed(column), quote_if_needed(new_name));
    let id = key_column(ctx.schema, table);
    Some(Violation::new(
        format!(
            "Renaming the column {old} on {table} to {new} breaks the running app: it still \
             selects and writes {old} and fails with `column does not exist` until every \
             instance runs the new code."
        ),
        format!(
            "Rename in steps, each its own release:\n\
             1. ALTER TABLE {table} ADD COLUMN {new} {data_type};\n\
             2. Make the app write both columns, then backfill outside the migration, repeating \
             until it updates 0 rows:\n   \
             UPDATE {table} SET {new} = {old} WHERE {id} IN (SELECT {id} FROM {table} WHERE {new} \
             IS NULL AND {old} IS NOT NULL LIMIT 1000);\n\
             3. Switch the app to read {new}.\n\
             4. In a later migration: ALTER TABLE {table} DROP COLUMN {old};\n\
             With Prisma you can instead rename only the field and keep the column: @map(\"{}\")",
            column
        ),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lint::rules::testing::{assert_mentions, flags, only_violation, CREATE_DRAFT, HISTORY};

    #[test]
    fn flags_an_existing_column_with_the_expand_contract_steps() {
        let v = only_violation(
            HISTORY,
            "ALTER TABLE \"User\" RENAME COLUMN email TO mail;",
            &RULE,
        );
        assert_mentions(&v.message, "column does not exist");
        assert_mentions(&v.help, "ALTER TABLE \"User\" ADD COLUMN mail text;");
        assert_mentions(&v.help, "UPDATE \"User\" SET mail = email WHERE id IN");
        assert_mentions(&v.help, "ALTER TABLE \"User\" DROP COLUMN email;");
        assert_mentions(&v.help, "@map(\"email\")");
    }

    #[test]
    fn ignores_new_tables_and_new_columns() {
        let new_table =
            format!("{CREATE_DRAFT}ALTER TABLE \"Draft\" RENAME COLUMN email TO mail;");
        assert!(!flags(HISTORY, &new_table, &RULE));
        let new_column = "ALTER TABLE \"User\" ADD COLUMN nick text;\n\
                          ALTER TABLE \"User\" RENAME COLUMN nick TO nickname;";
        assert!(!flags(HISTORY, new_column, &RULE));
    }
}
