//! `drop-table`: DROP TABLE on an existing table: the data is gone and the running app fails.

use super::{Example, Impact, RuleContext, RuleInfo, Violation};
use crate::sql::{ObjectName, Op};
use crate::findings::Severity;

pub const RULE: RuleInfo = RuleInfo {
    id: "drop-table",
    default_severity: Severity::Error,
    impact: Impact::DataLoss,
    summary: "DROP TABLE on an existing table: the data is gone and the running app fails",
    check: Some(check),
    file: include_str!("drop_table.rs"),
    example: Example::Migration("DROP TABLE \"Team\";\n"),
};

pub fn check(op: &Op, ctx: &RuleContext) -> Option<Violation> {
    let Op::DropTable { table, .. } = op else {
        return None;
    };
    if ctx.schema.is_new_table(table) {
        return None;
    }
    let archive = ObjectName {
        schema: table.schema.clone(),
        name: format!("{}_archive", table.name),
    };
    Some(Violation::new(
        format!(
            "You are about to drop the table {table}: every row in it is lost (ACCESS EXCLUSIVE \
             lock while it goes), and the running app still queries {table} and fails with \
             `relation does not exist` until every instance runs the new code."
        ),
        format!(
            "Stop using the table first, then drop it in a later release:\n\
             1. Deploy app code that no longer reads or writes {table} (Prisma: remove the model \
             from schema.prisma).\n\
             2. Keep a copy if the data may be needed: CREATE TABLE {archive} AS TABLE {table};\n\
             3. In a later migration: DROP TABLE {table};"
        ),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lint::rules::testing::{assert_mentions, flags, only_violation, CREATE_DRAFT, HISTORY};

    #[test]
    fn flags_an_existing_table_with_data_loss_and_the_safe_sequence() {
        let v = only_violation(HISTORY, "DROP TABLE \"User\";", &RULE);
        assert_mentions(&v.message, "ACCESS EXCLUSIVE");
        assert_mentions(&v.message, "\"User\"");
        assert_mentions(&v.help, "CREATE TABLE \"User_archive\" AS TABLE \"User\";");
        assert_mentions(&v.help, "DROP TABLE \"User\";");
    }

    #[test]
    fn flags_an_unknown_table_as_existing() {
        assert!(flags(HISTORY, "DROP TABLE legacy.audit;", &RULE));
    }

    #[test]
    fn ignores_a_table_created_in_the_pending_set() {
        let pending = format!("{CREATE_DRAFT}DROP TABLE \"Draft\";");
        assert!(!flags(HISTORY, &pending, &RULE));
    }

    #[test]
    fn ignores_other_operations() {
        assert!(!flags(HISTORY, "TRUNCATE \"User\";", &RULE));
    }
}
