//! `drop-schema`: DROP SCHEMA / DROP DATABASE: everything in it is lost.

use super::{Example, Impact, RuleContext, RuleInfo, Violation};
use crate::sql::ident::quote_if_needed;
use crate::sql::Op;
use crate::findings::Severity;

pub const RULE: RuleInfo = RuleInfo {
    id: "drop-schema",
    default_severity: Severity::Error,
    impact: Impact::DataLoss,
    summary: "DROP SCHEMA / DROP DATABASE: everything in it is lost",
    check: Some(check),
    file: include_str!("drop_schema.rs"),
    example: Example::Migration("DROP SCHEMA \"legacy\" CASCADE;\n"),
};

pub fn check(op: &Op, ctx: &RuleContext) -> Option<Violation> {
    match op {
        Op::DropSchema { name, cascade } => {
            if ctx.schema.is_new_schema(name) {
                return None;
            }
            let name = quote_if_needed(name);
            let what = if *cascade {
                "and, with CASCADE, every table, view, type and function in it"
            } else {
                "(and fails if anything is still in it)"
            };
            Some(Violation::new(
                format!(
                    "You are about to drop the schema {name} {what}: the data is lost and the \
                     running app fails on every object it used there."
                ),
                format!(
                    "Retire the schema in steps:\n\
                     1. Move what must survive: ALTER TABLE {name}.<table> SET SCHEMA public;\n\
                     2. Deploy app code that no longer uses {name}.\n\
                     3. Back it up (pg_dump --schema={name}), then drop it in a later migration."
                ),
            ))
        }
        Op::DropDatabase { name } => {
            let name = quote_if_needed(name);
            Some(Violation::new(
                format!(
                    "You are about to drop the database {name} with all its data; a migration \
                     must never do this (it also fails inside a transaction block)."
                ),
                "Remove it from the migration; retire a database by hand, after a backup \
                       (`pg_dump`), outside the deploy."
                    .to_string(),
            ))
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lint::rules::testing::{assert_mentions, flags, only_violation, HISTORY};

    #[test]
    fn flags_an_existing_or_unknown_schema() {
        let v = only_violation(HISTORY, "DROP SCHEMA reporting CASCADE;", &RULE);
        assert_mentions(&v.message, "CASCADE");
        assert_mentions(&v.help, "pg_dump --schema=reporting");
    }

    #[test]
    fn flags_drop_database() {
        assert!(flags(HISTORY, "DROP DATABASE app;", &RULE));
    }

    #[test]
    fn ignores_a_schema_created_in_the_pending_set() {
        let pending = "CREATE SCHEMA scratch;\nDROP SCHEMA scratch CASCADE;";
        assert!(!flags(HISTORY, pending, &RULE));
    }
}
