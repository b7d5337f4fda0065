//! `lock-table`: an explicit LOCK TABLE in SHARE mode or stronger (or with no mode: ACCESS
//! EXCLUSIVE) on an existing table: held until the migration's transaction ends. Weaker modes
//! (ACCESS SHARE, ROW SHARE, ROW EXCLUSIVE, SHARE UPDATE EXCLUSIVE) block no reads or writes and
//! are not raised; nor is a lock on a table created in the pending set.

use super::{Example, Impact, RuleContext, RuleInfo, Violation};
use crate::findings::Severity;
use crate::sql::{LockMode, Op};

pub const RULE: RuleInfo = RuleInfo {
    id: "lock-table",
    default_severity: Severity::Error,
    impact: Impact::Blocks,
    summary: "LOCK TABLE in SHARE mode or stronger: writes (or all traffic) wait until the migration commits",
    check: Some(check),
    file: include_str!("lock_table.rs"),
    example: Example::Migration("LOCK TABLE \"User\" IN ACCESS EXCLUSIVE MODE;\n"),
};

pub fn check(op: &Op, ctx: &RuleContext) -> Option<Violation> {
    let Op::LockTable { table, mode } = op else {
        return None;
    };
    // What the mode conflicts with among the app's statements (checked in probe_rules.rs).
    let (what_waits, queued_behind) = match mode {
        LockMode::AccessShare
        | LockMode::RowShare
        | LockMode::RowExclusive
        | LockMode::ShareUpdateExclusive => return None,
        LockMode::Share | LockMode::ShareRowExclusive => (
            "writes (INSERT, UPDATE, DELETE) wait; reads go on",
            "writes",
        ),
        LockMode::Exclusive => (
            "writes and SELECT ... FOR UPDATE / FOR SHARE wait; plain reads still work",
            "writes and row locks",
        ),
        LockMode::AccessExclusive => ("every query on it waits, reads included", "queries"),
    };
    if ctx.schema.is_new_table(table) {
        return None;
    }
    let mode = mode.sql();
    Some(Violation::new(
        format!(
            "LOCK TABLE takes the {mode} lock on {table} and holds it until the migration's \
             transaction ends: {what_waits}, for as long as every later statement of the \
             migration runs. While it waits for running transactions, the {queued_behind} \
             behind it wait too."
        ),
        format!(
            "Remove the LOCK: each statement takes the lock it needs by itself. If the table \
             really must be frozen (a copy that must not miss a write), keep that migration to \
             the few statements that need it and bound the wait:\n\
             SET lock_timeout = '5s';\n\
             LOCK TABLE {table} IN {mode} MODE;"
        ),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lint::rules::testing::{
        assert_mentions, flags, only_violation, violations, CREATE_DRAFT, HISTORY,
    };

    #[test]
    fn no_mode_means_access_exclusive_and_blocks_reads() {
        let v = only_violation(HISTORY, "LOCK \"User\";", &RULE);
        assert_mentions(&v.message, "ACCESS EXCLUSIVE lock on \"User\"");
        assert_mentions(&v.message, "reads included");
        assert_mentions(&v.help, "SET lock_timeout = '5s';");
    }

    #[test]
    fn each_strong_mode_says_what_waits() {
        for (mode, waits) in [
            ("SHARE", "writes (INSERT, UPDATE, DELETE) wait; reads go on"),
            ("SHARE ROW EXCLUSIVE", "writes (INSERT, UPDATE, DELETE) wait"),
            ("EXCLUSIVE", "plain reads still work"),
            ("ACCESS EXCLUSIVE", "reads included"),
        ] {
            let sql = format!("LOCK TABLE \"User\" IN {mode} MODE NOWAIT;");
            let v = only_violation(HISTORY, &sql, &RULE);
            assert_mentions(&v.message, &format!("{mode} lock"));
            assert_mentions(&v.message, waits);
        }
    }

    #[test]
    fn weak_modes_pass() {
        for mode in ["ACCESS SHARE", "ROW SHARE", "ROW EXCLUSIVE", "SHARE UPDATE EXCLUSIVE"] {
            let sql = format!("LOCK TABLE \"User\" IN {mode} MODE;");
            assert!(!flags(HISTORY, &sql, &RULE), "{mode}");
        }
    }

    #[test]
    fn one_finding_per_existing_table_and_none_for_a_new_one() {
        let pending = format!("{CREATE_DRAFT}LOCK TABLE ONLY \"User\", \"Draft\" IN SHARE MODE;");
        let found = violations(HISTORY, &pending, &RULE);
        assert_eq!(found.len(), 1, "{found:#?}");
        assert_mentions(&found[0].message, "on \"User\"");
    }
}
