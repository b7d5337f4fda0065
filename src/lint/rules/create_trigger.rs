//! `create-trigger`: CREATE TRIGGER on an existing table takes a SHARE ROW EXCLUSIVE lock
//! (writes wait until the migration commits), and from then on every write the trigger fires on
//! pays for its function. Not raised for a table created in the pending set.

use super::{Example, Impact, RuleContext, RuleInfo, Violation};
use crate::findings::Severity;
use crate::sql::ident::quote_if_needed;
use crate::sql::Op;

pub const RULE: RuleInfo = RuleInfo {
    id: "create-trigger",
    default_severity: Severity::Warning,
    impact: Impact::Blocks,
    summary: "CREATE TRIGGER: writes wait for its lock, then every write pays the trigger",
    check: Some(check),
    file: include_str!("create_trigger.rs"),
    example: Example::Migration(
        "CREATE TRIGGER \"User_audit\" AFTER UPDATE ON \"User\"\n    FOR EACH ROW EXECUTE FUNCTION audit();\n",
    ),
};

pub fn check(op: &Op, ctx: &RuleContext) -> Option<Violation> {
    let Op::CreateTrigger { name, table } = op else {
        return None;
    };
    if ctx.schema.is_new_table(table) {
        return None;
    }
    let name = quote_if_needed(name);
    Some(Violation::new(
        format!(
            "Creating the trigger {name} takes a SHARE ROW EXCLUSIVE lock on {table} until the \
             migration's transaction ends: writes (INSERT, UPDATE, DELETE) wait, reads go on. \
             While it waits for running transactions, the writes behind it wait too. From then \
             on, every write the trigger fires on also runs its function."
        ),
        format!(
            "Create it in a migration of its own, so the lock is released at once, and bound \
             the wait:\n\
             SET lock_timeout = '5s';\n\
             CREATE TRIGGER {name} ... ON {table} ...;\n\
             Keep the trigger's function cheap (no query per row on a busy table), and measure \
             its cost on writes before the deploy."
        ),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lint::rules::testing::{assert_mentions, flags, only_violation, CREATE_DRAFT, HISTORY};

    #[test]
    fn flags_a_trigger_on_an_existing_table() {
        let pending = "CREATE OR REPLACE TRIGGER audit AFTER UPDATE OF email, id ON \"User\" \
                       FOR EACH ROW EXECUTE FUNCTION audit();";
        let v = only_violation(HISTORY, pending, &RULE);
        assert_mentions(&v.message, "SHARE ROW EXCLUSIVE lock on \"User\"");
        assert_mentions(&v.message, "reads go on");
        assert_mentions(&v.help, "SET lock_timeout");
    }

    #[test]
    fn flags_a_constraint_trigger() {
        let pending = "CREATE CONSTRAINT TRIGGER check_it AFTER INSERT ON public.\"User\" \
                       DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION check_it();";
        assert!(flags(HISTORY, pending, &RULE));
    }

    #[test]
    fn ignores_a_trigger_on_a_new_table() {
        let pending = format!(
            "{CREATE_DRAFT}CREATE TRIGGER t BEFORE INSERT ON \"Draft\" FOR EACH ROW EXECUTE FUNCTION f();"
        );
        assert!(!flags(HISTORY, &pending, &RULE));
    }
}
