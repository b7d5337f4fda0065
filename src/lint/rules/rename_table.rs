//! `rename-table`: ALTER TABLE ... RENAME TO: the running app still queries the old name.

use super::{Example, Impact, RuleContext, RuleInfo, Violation};
use crate::sql::ident::quote_if_needed;
use crate::sql::{ObjectName, Op};
use crate::findings::Severity;

pub const RULE: RuleInfo = RuleInfo {
    id: "rename-table",
    default_severity: Severity::Error,
    impact: Impact::BreaksApp,
    summary: "ALTER TABLE ... RENAME TO: the running app still queries the old name",
    check: Some(check),
    file: include_str!("rename_table.rs"),
    example: Example::Migration("ALTER TABLE \"User\" RENAME TO \"Account\";\n"),
};

pub fn check(op: &Op, ctx: &RuleContext) -> Option<Violation> {
    let Op::RenameTable { table, new_name } = op else {
        return None;
    };
    if ctx.schema.is_new_table(table) {
        return None;
    }
    let renamed = ObjectName {
        schema: table.schema.clone(),
        name: new_name.clone(),
    };
    let bare_new = quote_if_needed(new_name);
    Some(Violation::new(
        format!(
            "Renaming the table {table} to {renamed} (ACCESS EXCLUSIVE lock, briefly) breaks the \
             running app: it still queries {table} and fails with `relation does not exist` until \
             every instance runs the new code."
        ),
        format!(
            "Keep the old name working across the deploy with a view (a simple view is \
             updatable):\n\
             ALTER TABLE {table} RENAME TO {bare_new}; CREATE VIEW {table} AS SELECT * FROM {renamed};\n\
             Deploy the app on the new name, then in a later migration: DROP VIEW {table};\n\
             With Prisma you can instead keep the table and rename only the model: @@map(\"{}\")",
            table.name
        ),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lint::rules::testing::{assert_mentions, flags, only_violation, CREATE_DRAFT, HISTORY};

    #[test]
    fn flags_an_existing_table_with_the_view_bridge() {
        let v = only_violation(HISTORY, "ALTER TABLE \"User\" RENAME TO \"Account\";", &RULE);
        assert_mentions(&v.message, "relation does not exist");
        assert_mentions(&v.help, "ALTER TABLE \"User\" RENAME TO \"Account\"; CREATE VIEW \"User\" AS SELECT * FROM \"Account\";");
        assert_mentions(&v.help, "@@map(\"User\")");
    }

    #[test]
    fn ignores_a_new_table() {
        let pending = format!("{CREATE_DRAFT}ALTER TABLE \"Draft\" RENAME TO \"Draft2\";");
        assert!(!flags(HISTORY, &pending, &RULE));
    }
}
