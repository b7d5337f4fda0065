//! `edited-migration`: a migration already merged (and maybe applied) was modified.
//! Raised by `check --since REF` (the git side finds the modified files and calls [`finding`]).
//! Databases that applied the old text keep it; Prisma sees a checksum mismatch.

use super::{Example, Impact, RuleInfo};
use crate::findings::{Finding, Severity};
use crate::project::discover::Migration;

pub const RULE: RuleInfo = RuleInfo {
    id: "edited-migration",
    default_severity: Severity::Error,
    impact: Impact::Process,
    summary: "a migration already merged (and maybe applied) was modified",
    check: None,
    file: include_str!("edited_migration.rs"),
    example: Example::FromGit {
        setting: "Example: `check --since main` on a branch that modified 20240301000000_add_teams,\nwhich main already has.\n",
        finding: |migration| finding(migration, "main"),
    },
};

/// The finding for `migration`, which exists at `since` and was modified after it.
pub fn finding(migration: &Migration, since: &str) -> Finding {
    let lines = migration.source.lines().count().max(1) as u32;
    RULE.on_migration(
        migration,
        lines,
        format!(
            "The migration {} already existed at {since} and was modified: databases that \
             applied it keep the old version, so environments drift apart, and `prisma migrate \
             deploy` reports that it was modified after it was applied (checksum mismatch).",
            migration.name
        ),
        format!(
            "Restore the file as it is at {since} (`git checkout {since} -- {}`) and put the \
             change in a new migration (`prisma migrate dev --create-only`).",
            migration.display_path
        ),
    )
}

#[cfg(test)]
mod tests {
    use crate::lint::rules::testing::assert_mentions;
    use super::*;
    use std::path::PathBuf;

    #[test]
    fn spans_the_file_and_says_how_to_restore_it() {
        let m = Migration {
            name: "20240101000000_init".into(),
            path: PathBuf::from("/p/migrations/20240101000000_init/migration.sql"),
            display_path: "migrations/20240101000000_init/migration.sql".into(),
            source: "-- CreateTable\nCREATE TABLE a (id int);\n".into(),
            down_path: None,
        };
        let f = finding(&m, "origin/main");
        assert_eq!(
            (f.rule, f.severity, f.line, f.end_line),
            ("edited-migration", Severity::Error, 1, 2)
        );
        assert_mentions(&f.message, "checksum mismatch");
        assert_mentions(&f.help, "git checkout origin/main -- migrations/20240101000000_init/migration.sql");
        assert_eq!(f.migration, "20240101000000_init");
    }
}
