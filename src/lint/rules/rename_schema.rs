//! `rename-schema`: ALTER SCHEMA ... RENAME TO: the running app still names the old schema.
//! Not raised for a schema created in the pending set.

use super::{Example, Impact, RuleContext, RuleInfo, Violation};
use crate::findings::Severity;
use crate::sql::ident::quote_if_needed;
use crate::sql::Op;

pub const RULE: RuleInfo = RuleInfo {
    id: "rename-schema",
    default_severity: Severity::Error,
    impact: Impact::BreaksApp,
    summary: "ALTER SCHEMA ... RENAME TO: the running app still queries the old schema",
    check: Some(check),
    file: include_str!("rename_schema.rs"),
    example: Example::Migration("ALTER SCHEMA \"legacy\" RENAME TO \"archive\";\n"),
};

pub fn check(op: &Op, ctx: &RuleContext) -> Option<Violation> {
    let Op::RenameSchema { name, new_name } = op else {
        return None;
    };
    if ctx.schema.is_new_schema(name) {
        return None;
    }
    let (old, new) = (quote_if_needed(name), quote_if_needed(new_name));
    Some(Violation::new(
        format!(
            "Renaming the schema {old} to {new} breaks the running app: every query naming \
             {old} (Prisma qualifies each table with its schema) fails with `relation does not \
             exist` until every instance runs the new code. The rename itself only changes the \
             catalog: no table is locked, rewritten or scanned."
        ),
        format!(
            "Keep the old name working across the deploy with views (a simple view is \
             updatable):\n\
             ALTER SCHEMA {old} RENAME TO {new}; CREATE SCHEMA {old};\n\
             CREATE VIEW {old}.<table> AS SELECT * FROM {new}.<table>; (one per table the app uses)\n\
             Deploy the app on {new}, then in a later migration: DROP SCHEMA {old} CASCADE;\n\
             With Prisma you can instead keep the schema's name in the database."
        ),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lint::rules::testing::{assert_mentions, flags, only_violation, HISTORY};

    #[test]
    fn flags_an_existing_schema_with_the_view_bridge() {
        let v = only_violation(HISTORY, "ALTER SCHEMA legacy RENAME TO archive;", &RULE);
        assert_mentions(&v.message, "relation does not exist");
        assert_mentions(&v.message, "no table is locked");
        assert_mentions(&v.help, "CREATE VIEW legacy.<table> AS SELECT * FROM archive.<table>;");
    }

    #[test]
    fn ignores_a_schema_created_in_the_pending_set() {
        let pending = "CREATE SCHEMA scratch;\nALTER SCHEMA scratch RENAME TO work;";
        assert!(!flags(HISTORY, pending, &RULE));
    }

    #[test]
    fn a_new_schema_stays_new_under_its_new_name() {
        let pending = "CREATE SCHEMA fresh;\nALTER SCHEMA fresh RENAME TO renamed;\n\
                       ALTER SCHEMA renamed RENAME TO again;";
        assert!(!flags(HISTORY, pending, &RULE));
    }
}
