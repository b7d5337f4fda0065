//! Which migrations are pending (the ones to judge), and the findings that selection itself
//! raises (`edited-migration`, `out-of-order-migration`). `check` selects by its MIGRATION
//! arguments, `--since`, `start_after` or the default branch; the PR check from git when the
//! checkout has the base commit (as `check --since BASE` does), else from the PR files API
//! (shallow checkouts, the default of actions/checkout).

use std::path::{Path, PathBuf};

use super::rules::{edited_migration, out_of_order_migration};
use crate::error::{AppError, Result};
use crate::findings::Finding;
use crate::project::config::{Config, FILE_NAME};
use crate::project::discover::{display_path, Layout, Migration, MigrationSet};
use crate::project::git::{self, Changes};

/// The migrations to judge, in apply order, and the findings the selection itself raises.
#[derive(Debug, Default)]
pub struct Selection<'a> {
    pub pending: Vec<&'a Migration>,
    pub findings: Vec<Finding>,
    /// Pending because they were edited, but already applied where the ref was deployed.
    pub applied_elsewhere: Vec<String>,
}

impl<'a> Selection<'a> {
    fn named(set: &'a MigrationSet, names: &[String]) -> Selection<'a> {
        Selection {
            pending: set
                .migrations
                .iter()
                .filter(|m| names.contains(&m.name))
                .collect(),
            ..Selection::default()
        }
    }

    /// The migrations of `set` that are not pending: the existing history, in apply order.
    pub fn existing(&self, set: &'a MigrationSet) -> Vec<&'a Migration> {
        let pending: std::collections::HashSet<&str> =
            self.pending.iter().map(|p| p.name.as_str()).collect();
        set.migrations
            .iter()
            .filter(|m| !pending.contains(m.name.as_str()))
            .collect()
    }
}

/// `check`'s selection: the MIGRATION arguments, else `--since REF`, else the config's
/// `start_after`, else what this branch changed since the default branch, else everything.
pub fn for_check<'a>(
    set: &'a MigrationSet,
    migrations: &[String],
    since: Option<&str>,
    config: &Config,
) -> Result<Selection<'a>> {
    if !migrations.is_empty() {
        if since.is_some() {
            return Err(AppError::usage(
                "give either MIGRATION arguments or --since, not both",
            ));
        }
        let pending = migrations
            .iter()
            .map(|arg| resolve_argument(set, arg).map(|m| m.name.clone()))
            .collect::<Result<Vec<_>>>()?;
        return Ok(Selection::named(set, &pending));
    }
    if let Some(reference) = since {
        return from_git(set, reference);
    }
    let pending: Vec<String> = match &config.start_after {
        Some(start_after) => {
            let Some(index) = set.migrations.iter().position(|m| &m.name == start_after) else {
                return Err(AppError::usage(format!(
                    "{}: start_after = \"{start_after}\" is not a migration in {}{}",
                    config.file.as_deref().unwrap_or(FILE_NAME),
                    display_path(&set.dir),
                    set.suggestions(start_after)
                )));
            };
            set.migrations[index + 1..]
                .iter()
                .map(|m| m.name.clone())
                .collect()
        }
        None => {
            let position = git::default_branch(&set.dir);
            if let git::DefaultBranch::Elsewhere(reference) = &position {
                eprintln!(
                    "note: no MIGRATION, --since or start_after given: checking the migrations \
                     this branch adds or modifies, as `--since {reference}`"
                );
                return from_git(set, reference);
            }
            // A clone of the branch alone hides the history a drop or a rename acts on.
            let missing_default = if position == git::DefaultBranch::Missing {
                ", and this clone has no default branch to compare with (origin/HEAD, main or \
                 master; in CI check out with fetch-depth: 0)"
            } else {
                ""
            };
            eprintln!(
                "note: no MIGRATION, --since or start_after given{missing_default}: every \
                 migration counts as pending (a fresh database); pass --since GIT_REF or set \
                 start_after in {FILE_NAME} to check only the new ones"
            );
            set.migrations.iter().map(|m| m.name.clone()).collect()
        }
    };
    Ok(Selection::named(set, &pending))
}

/// From git: what the branch changed since it forked from `base`.
pub fn from_git<'a>(set: &'a MigrationSet, base: &str) -> Result<Selection<'a>> {
    let changes = git::changes_since(set, base)?;
    Ok(Selection {
        findings: change_findings(&changes, set, base),
        applied_elsewhere: changes.modified.clone(),
        ..Selection::named(set, &changes.pending)
    })
}

/// The findings a change since `reference` raises: `edited-migration` for each modified
/// migration, `out-of-order-migration` for each late addition (the analysis applies the
/// config's severities to them).
fn change_findings(changes: &Changes, set: &MigrationSet, reference: &str) -> Vec<Finding> {
    let edited = changes
        .modified
        .iter()
        .filter_map(|name| set.find(name))
        .map(|migration| edited_migration::finding(migration, reference));
    let late = changes.out_of_order.iter().filter_map(|late| {
        let migration = set.find(&late.name)?;
        Some(out_of_order_migration::finding(
            migration,
            &late.newest_at_ref,
            reference,
        ))
    });
    edited.chain(late).collect()
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
    let newest_existing = selection
        .existing(set)
        .into_iter()
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

/// A MIGRATION argument: a migration name, its folder, or its SQL file.
fn resolve_argument<'s>(set: &'s MigrationSet, arg: &str) -> Result<&'s Migration> {
    if let Some(migration) = set.find(arg) {
        return Ok(migration);
    }
    let given = Path::new(arg);
    if let Ok(real) = given.canonicalize() {
        let found = set.migrations.iter().find(|m| {
            let file = m.path.canonicalize().ok();
            let folder = m.path.parent().and_then(|p| p.canonicalize().ok());
            file.as_deref() == Some(real.as_path())
                || (set.layout == Layout::Prisma && folder.as_deref() == Some(real.as_path()))
        });
        if let Some(migration) = found {
            return Ok(migration);
        }
    }
    // A trailing slash or a name typed with its folder prefix, e.g. `migrations/2024_x/`.
    let last = given
        .file_name()
        .and_then(|n| n.to_str())
        .map(|n| n.trim_end_matches(".sql"));
    if let Some(migration) = last.and_then(|name| set.find(name)) {
        if !given.exists() || given.is_dir() {
            return Ok(migration);
        }
    }
    // A migration of another folder (a monorepo's second app, pre-commit passing the staged
    // files of two folders at once): name the --dir that checks it.
    let other_dir = if given.is_dir() {
        given.parent()
    } else if given.file_name().is_some_and(|n| n == "migration.sql") {
        given.parent().and_then(Path::parent)
    } else if given.is_file() {
        given.parent()
    } else {
        None
    };
    if let Some(other_dir) = other_dir.filter(|dir| {
        dir.canonicalize().ok() != set.dir.canonicalize().ok() && !dir.as_os_str().is_empty()
    }) {
        let other_dir = display_path(other_dir);
        return Err(AppError::usage(format!(
            "`{arg}` is not in {} but in {other_dir}: check one migrations folder at a time, \
             with --dir {other_dir} (pre-commit: one hook per folder, with its own `files` and \
             `args: [--dir, ...]`)",
            display_path(&set.dir),
        )));
    }
    Err(AppError::usage(format!(
        "unknown migration `{arg}` in {}{}",
        display_path(&set.dir),
        set.suggestions(arg)
    )))
}

/// The name of the migration `arg` designates, taken as `check` takes its MIGRATION arguments
/// (a name, its folder as the shell completes it, or its SQL file); the error names `flag`.
pub fn known_name(set: &MigrationSet, arg: &str, flag: &str) -> Result<String> {
    match resolve_argument(set, arg) {
        Ok(migration) => Ok(migration.name.clone()),
        Err(_) => set.ensure_known(arg, flag).map(|()| arg.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
                        source: "SELECT 1;\n".into(),
                        down_path: None,
                    }
                })
                .collect(),
        }
    }

    fn names<'a>(migrations: &[&'a Migration]) -> Vec<&'a str> {
        migrations.iter().map(|m| m.name.as_str()).collect()
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
        assert_eq!(names(&selection.pending), ["1_a", "2_b", "4_d"]);
        assert_eq!(names(&selection.existing(&set)), ["3_c"]);
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

    #[test]
    fn migration_arguments_are_pending_in_apply_order() {
        let set = set(Path::new(""), &["1_a", "2_b", "3_c"]);
        let args = ["3_c".to_string(), "1_a".to_string(), "3_c".to_string()];
        let selection = for_check(&set, &args, None, &Config::default()).unwrap();
        assert_eq!(names(&selection.pending), ["1_a", "3_c"]);
        assert_eq!(names(&selection.existing(&set)), ["2_b"]);
        let both = for_check(&set, &args, Some("main"), &Config::default()).unwrap_err();
        assert_eq!(
            both.message,
            "give either MIGRATION arguments or --since, not both"
        );
    }

    #[test]
    fn start_after_leaves_the_migrations_up_to_it_existing() {
        let set = set(Path::new(""), &["1_a", "2_b", "3_c"]);
        let config = Config {
            start_after: Some("1_a".into()),
            ..Config::default()
        };
        let selection = for_check(&set, &[], None, &config).unwrap();
        assert_eq!(names(&selection.pending), ["2_b", "3_c"]);
        let unknown = Config {
            start_after: Some("2_bb".into()),
            ..Config::default()
        };
        let err = for_check(&set, &[], None, &unknown).unwrap_err();
        assert_eq!(
            err.message,
            "migration-gate.toml: start_after = \"2_bb\" is not a migration in prisma/migrations; did you mean: 2_b, 1_a, 3_c"
        );
    }

    #[test]
    fn unknown_migration_lists_close_names() {
        let set = set(
            Path::new(""),
            &["20240101_init", "20240201_add_users", "20240301_add_teams"],
        );
        let err = resolve_argument(&set, "20240201_add_user").unwrap_err();
        assert!(
            err.message.starts_with(
                "unknown migration `20240201_add_user` in prisma/migrations; did you mean: 20240201_add_users"
            ),
            "{}",
            err.message
        );
        let far = resolve_argument(&set, "zzz").unwrap_err();
        assert!(
            far.message
                .ends_with("the newest are: 20240301_add_teams, 20240201_add_users, 20240101_init"),
            "{}",
            far.message
        );
    }

    #[test]
    fn argument_by_name_or_prefixed_folder() {
        let set = set(Path::new(""), &["20240101_init", "20240201 with space"]);
        assert_eq!(
            resolve_argument(&set, "20240101_init").unwrap().name,
            "20240101_init"
        );
        assert_eq!(
            resolve_argument(&set, "prisma/migrations/20240201 with space/")
                .unwrap()
                .name,
            "20240201 with space"
        );
    }

    #[test]
    fn since_findings_name_the_edited_and_the_late_migration() {
        let set = set(Path::new(""), &["20240101_init", "20240102_new"]);
        let changes = Changes {
            pending: vec!["20240101_init".into(), "20240102_new".into()],
            modified: vec!["20240101_init".into()],
            out_of_order: vec![git::OutOfOrder {
                name: "20240102_new".into(),
                newest_at_ref: "20240103_x".into(),
            }],
        };
        let findings = change_findings(&changes, &set, "main");
        let got: Vec<(&str, &str)> = findings.iter().map(|f| (f.rule, f.file.as_str())).collect();
        assert_eq!(
            got,
            [
                (
                    "edited-migration",
                    "prisma/migrations/20240101_init/migration.sql"
                ),
                (
                    "out-of-order-migration",
                    "prisma/migrations/20240102_new/migration.sql"
                )
            ]
        );
        assert!(findings[1].message.contains("20240103_x"));
    }
}
