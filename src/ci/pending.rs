//! Which migrations a pull request adds or modifies, and the findings that selection raises
//! (`edited-migration`, `out-of-order-migration`): from git when the checkout has the base
//! commit (as `check --since BASE` does), else from the PR files API (shallow checkouts, the
//! default of actions/checkout).

use std::path::{Path, PathBuf};

use crate::discover::{Migration, MigrationSet};
use crate::error::Result;
use crate::findings::Finding;
use crate::git;
use crate::rules::{edited_migration, out_of_order_migration};

#[derive(Debug, Default)]
pub struct Selection<'a> {
    pub pending: Vec<&'a Migration>,
    pub findings: Vec<Finding>,
    /// Pending because the PR edits them, but already applied in production.
    pub applied_elsewhere: Vec<String>,
}

/// From git: what the branch changed since it forked from `base`.
pub fn from_git<'a>(set: &'a MigrationSet, base: &str) -> Result<Selection<'a>> {
    let changes = git::changes_since(set, base)?;
    Ok(Selection {
        pending: set
            .migrations
            .iter()
            .filter(|m| changes.pending.contains(&m.name))
            .collect(),
        findings: changes.findings(set, base),
        applied_elsewhere: changes.modified,
    })
}

/// A file of the pull request as the files API lists it, relative to the repository root.
pub struct PrFile {
    pub path: String,
    /// added, modified, renamed, copied, changed, removed, unchanged.
    pub status: String,
}

/// From the PR files API. A modified migration is an edit of merged history; an added one that
/// sorts before the newest migration already there is out of order.
pub fn from_files<'a>(
    set: &'a MigrationSet,
    root: &Path,
    files: &[PrFile],
    base: &str,
) -> Selection<'a> {
    let status_of = |migration: &Migration| {
        let path = canonical(&migration.path);
        files
            .iter()
            .find(|f| canonical(&root.join(&f.path)) == path)
            .map(|f| f.status.as_str())
    };
    let mut selection = Selection::default();
    let mut added = Vec::new();
    for migration in &set.migrations {
        match status_of(migration) {
            Some("modified" | "changed") => {
                selection.pending.push(migration);
                selection.applied_elsewhere.push(migration.name.clone());
                selection
                    .findings
                    .push(edited_migration::finding(migration, base));
            }
            Some("added" | "renamed" | "copied") => {
                selection.pending.push(migration);
                added.push(migration);
            }
            _ => {}
        }
    }
    let newest_existing = set
        .migrations
        .iter()
        .filter(|m| !selection.pending.iter().any(|p| p.name == m.name))
        .map(|m| m.name.as_str())
        .max_by(|a, b| a.as_bytes().cmp(b.as_bytes()));
    if let Some(newest) = newest_existing {
        for migration in added {
            if migration.name.as_bytes() < newest.as_bytes() {
                selection
                    .findings
                    .push(out_of_order_migration::finding(migration, newest, base));
            }
        }
    }
    selection
}

fn canonical(path: &Path) -> PathBuf {
    path.canonicalize().unwrap_or_else(|_| path.to_path_buf())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::discover::Layout;

    fn set(root: &Path, names: &[&str]) -> MigrationSet {
        MigrationSet {
            dir: root.join("prisma/migrations"),
            layout: Layout::Prisma,
            migrations: names
                .iter()
                .map(|name| {
                    let path = root.join(format!("prisma/migrations/{name}/migration.sql"));
                    Migration {
                        name: name.to_string(),
                        display_path: format!("prisma/migrations/{name}/migration.sql"),
                        path,
                        source: "SELECT 1;".into(),
                        down_path: None,
                    }
                })
                .collect(),
        }
    }

    #[test]
    fn files_api_selection_flags_edits_and_late_additions() {
        let root = Path::new("/checkout");
        let set = set(root, &["1_a", "2_b", "3_c", "4_d"]);
        let file = |name: &str, status: &str| PrFile {
            path: format!("prisma/migrations/{name}/migration.sql"),
            status: status.into(),
        };
        let files = [
            file("1_a", "modified"),
            file("2_b", "added"),
            file("4_d", "added"),
            PrFile {
                path: "README.md".into(),
                status: "modified".into(),
            },
        ];
        let selection = from_files(&set, root, &files, "abc123");
        let names: Vec<&str> = selection.pending.iter().map(|m| m.name.as_str()).collect();
        assert_eq!(names, ["1_a", "2_b", "4_d"]);
        assert_eq!(selection.applied_elsewhere, ["1_a"]);
        let findings: Vec<(&str, &str)> = selection
            .findings
            .iter()
            .map(|f| (f.rule, f.migration.as_str()))
            .collect();
        assert_eq!(
            findings,
            [
                ("edited-migration", "1_a"),
                ("out-of-order-migration", "2_b")
            ]
        );
    }
}
