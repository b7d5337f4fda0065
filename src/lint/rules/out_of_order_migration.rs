//! `out-of-order-migration`: a new migration sorts before migrations already merged.
//! Raised by `check --since REF` (the git side compares folder names and calls [`finding`]).
//! Databases already past the newest merged migration would apply it out of order, or not at all.

use super::{Example, Impact, RuleInfo};
use crate::findings::{Finding, Severity};
use crate::project::discover::Migration;

pub const RULE: RuleInfo = RuleInfo {
    id: "out-of-order-migration",
    default_severity: Severity::Warning,
    impact: Impact::Process,
    summary: "a new migration sorts before migrations already merged",
    check: None,
    file: include_str!("out_of_order_migration.rs"),
    example: Example::FromGit {
        setting: "Example: `check --since main` on a branch that adds 20240301000000_add_teams while\nmain already has 20240315000000_invoices.\n",
        finding: |migration| finding(migration, "20240315000000_invoices", "main"),
    },
};

/// The finding for `migration`, new since `since`, whose name sorts before `newest_at_ref`, the
/// newest migration that exists at `since`.
pub fn finding(migration: &Migration, newest_at_ref: &str, since: &str) -> Finding {
    RULE.on_migration(
        migration,
        1,
        format!(
            "The new migration {} sorts before {newest_at_ref}, which is already in {since}: \
             databases that applied {newest_at_ref} run it after it, in a different order than a \
             fresh database does, and its changes may conflict with what came after.",
            migration.name
        ),
        format!(
            "Rename the folder so it sorts after {newest_at_ref} (give it a newer timestamp, \
             e.g. regenerate it with `prisma migrate dev`), and check it still applies on top of \
             the newer migrations."
        ),
    )
}

#[cfg(test)]
mod tests {
    use crate::lint::rules::testing::assert_mentions;
    use super::*;
    use std::path::PathBuf;

    #[test]
    fn names_both_migrations_and_the_fix() {
        let m = Migration {
            name: "20240101000000_add_x".into(),
            path: PathBuf::from("m/20240101000000_add_x/migration.sql"),
            display_path: "m/20240101000000_add_x/migration.sql".into(),
            source: "ALTER TABLE a ADD COLUMN x int;".into(),
            down_path: None,
        };
        let f = finding(&m, "20240301000000_later", "origin/main");
        assert_eq!((f.rule, f.severity, f.line), ("out-of-order-migration", Severity::Warning, 1));
        assert_mentions(&f.message, "20240101000000_add_x sorts before 20240301000000_later");
        assert_mentions(&f.help, "sorts after 20240301000000_later");
    }
}
