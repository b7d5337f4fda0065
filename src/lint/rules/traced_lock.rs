//! `traced-lock`: `check --trace-database-url` ran the statement on the replayed history and saw
//! it take a write-blocking lock (SHARE or stronger) on an existing table it does not name (a
//! function, trigger or DO block took it), and that lock stays held while the later statements
//! of its transaction run, until COMMIT.
//!
//! A warning by default: the trace sees that the lock is held, not for how long; how long the
//! later statements take on production data is what the static rules judge. It says what no
//! static rule can see: that writes to the table stop for the rest of the migration.

use super::{Example, Impact, RuleInfo};
use crate::findings::{Finding, Severity};
use crate::project::discover::Migration;
use crate::sql::Statement;

pub const RULE: RuleInfo = RuleInfo {
    id: "traced-lock",
    default_severity: Severity::Warning,
    impact: Impact::Blocks,
    summary: "the trace saw a write-blocking lock on an existing table the statement does not name, held while later statements run",
    check: None,
    file: include_str!("traced_lock.rs"),
    example: Example::FromGit {
        setting: "Example: `check --trace-database-url postgres://postgres@localhost:5432/postgres`, where the\nhistory defines `touch_user()` (LOCK TABLE \"User\" IN SHARE MODE) and the pending migration runs\n`SELECT touch_user();` and then a slow UPDATE of another table.\n",
        finding: |migration| {
            let statements = crate::sql::analyze_source(&migration.source);
            finding(migration, &statements[0], &[("\"User\"".to_string(), "SHARE")], 1)
        },
    },
};

/// The finding for `statement`, which took `locks` (table, mode) and keeps them while `later`
/// statements of its transaction run.
pub fn finding(
    migration: &Migration,
    statement: &Statement,
    locks: &[(String, &str)],
    later: usize,
) -> Finding {
    let held: Vec<String> = locks
        .iter()
        .map(|(table, mode)| format!("{mode} on {table}"))
        .collect();
    let reads_wait = locks.iter().any(|(_, mode)| *mode == "ACCESS EXCLUSIVE");
    let waits = if reads_wait {
        "reads and writes"
    } else {
        "writes"
    };
    RULE.on_statement(
        migration,
        statement,
        format!(
            "The trace ran this statement on the replayed history and saw it take {} without \
             naming the table (a function, trigger or DO block took it). The lock is held until \
             the transaction commits, while the {later} later statement(s) of the migration run: \
             {waits} on it wait all that time.",
            held.join(", ")
        ),
        "Put this statement in a migration of its own (or last in its file) so the lock ends \
         with it, and bound the wait for it: `SET lock_timeout = '5s';` first."
            .to_string(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lint::rules::testing::assert_mentions;

    #[test]
    fn names_the_lock_and_what_waits() {
        let m = Migration::in_memory("2_pending", "SELECT touch_user();\nUPDATE t SET a = 1;\n");
        let statements = crate::sql::analyze_source(&m.source);
        let f = finding(&m, &statements[0], &[("\"User\"".into(), "SHARE")], 1);
        assert_eq!((f.rule, f.severity), (RULE.id, Severity::Warning));
        assert_mentions(&f.message, "SHARE on \"User\"");
        assert_mentions(&f.message, "writes on it wait");
        assert!(!f.message.contains("reads and writes"));
    }
}
