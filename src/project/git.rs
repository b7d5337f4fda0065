//! `--since REF`: which migrations were added or modified since a git ref.
//!
//! Git is asked with plain `git` commands run in the migrations directory: `git diff
//! --name-status REF` (committed, staged and unstaged changes against the working tree) plus
//! `git ls-files --others --exclude-standard` (new files not yet added).

use std::collections::BTreeSet;
use std::path::Path;
use std::process::Command;

use crate::discover::{display_path, Layout, MigrationSet};
use crate::error::{AppError, Result};
use crate::findings::Finding;
use crate::rules::{edited_migration, out_of_order_migration};

/// What changed in the migrations directory since the ref, by migration name, in apply order.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Changes {
    /// Added or modified: the migrations to judge.
    pub pending: Vec<String>,
    /// Existed at the ref and were modified (raise `edited-migration`).
    pub modified: Vec<String>,
    /// New migrations that sort before the newest migration that existed at the ref.
    pub out_of_order: Vec<OutOfOrder>,
}

impl Changes {
    /// The findings the change itself raises: `edited-migration` for each modified migration,
    /// `out-of-order-migration` for each late addition. `check --since` and the PR gate share it.
    pub fn findings(&self, set: &MigrationSet, reference: &str) -> Vec<Finding> {
        let edited = self
            .modified
            .iter()
            .filter_map(|name| set.find(name))
            .map(|migration| edited_migration::finding(migration, reference));
        let late = self.out_of_order.iter().filter_map(|late| {
            let migration = set.find(&late.name)?;
            Some(out_of_order_migration::finding(
                migration,
                &late.newest_at_ref,
                reference,
            ))
        });
        edited.chain(late).collect()
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutOfOrder {
    pub name: String,
    /// The newest migration already there at the ref.
    pub newest_at_ref: String,
}

pub fn changes_since(set: &MigrationSet, reference: &str) -> Result<Changes> {
    let dir = &set.dir;
    ensure_repository(dir)?;
    ensure_commit(dir, reference)?;
    // Judge what this branch did since it forked from REF: an edit made on REF after the fork
    // is not this branch's edit. (When REF is an ancestor, the fork point is REF itself.)
    let fork_point = fork_point(dir, reference)?;

    let diff = git(
        dir,
        &[
            "diff",
            "--name-status",
            "--no-renames",
            "--relative",
            "-z",
            &fork_point,
            "--",
            ".",
        ],
    )?;
    let untracked = git(
        dir,
        &[
            "ls-files",
            "--others",
            "--exclude-standard",
            "-z",
            "--",
            ".",
        ],
    )?;

    let mut added = BTreeSet::new();
    let mut modified = BTreeSet::new();
    let mut fields = diff.split('\0').filter(|f| !f.is_empty());
    while let (Some(status), Some(path)) = (fields.next(), fields.next()) {
        let Some(name) = migration_of(set, path) else {
            continue;
        };
        match status.chars().next() {
            Some('A') => {
                added.insert(name);
            }
            Some('M') | Some('T') => {
                modified.insert(name);
            }
            _ => {}
        }
    }
    for path in untracked.split('\0').filter(|p| !p.is_empty()) {
        if let Some(name) = migration_of(set, path) {
            added.insert(name);
        }
    }

    // The newest migration at REF itself (it may have gained migrations since the fork, which
    // production then applies before this branch's).
    let newest_at_ref = names_at(dir, set.layout, reference)?
        .into_iter()
        .max_by(|a, b| a.as_bytes().cmp(b.as_bytes()));

    let mut changes = Changes::default();
    for migration in &set.migrations {
        let name = &migration.name;
        if modified.contains(name) {
            changes.pending.push(name.clone());
            changes.modified.push(name.clone());
        } else if added.contains(name) {
            changes.pending.push(name.clone());
            if let Some(newest) = newest_at_ref
                .as_ref()
                .filter(|newest| name.as_bytes() < newest.as_bytes())
            {
                changes.out_of_order.push(OutOfOrder {
                    name: name.clone(),
                    newest_at_ref: newest.clone(),
                });
            }
        }
    }
    Ok(changes)
}

/// Where HEAD stands against the default branch, for a bare `check`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DefaultBranch {
    /// HEAD is elsewhere than this default branch: judge what it changed, as `--since` would.
    Elsewhere(String),
    /// HEAD is on the default branch.
    Here,
    /// A repository without `origin/HEAD`, `main` or `master` (a CI checkout of the branch alone).
    Missing,
    /// Not in a git repository, or no git.
    NoRepository,
}

/// The default branch (`origin/HEAD`, else `main`, else `master`) of the repository around the
/// migrations directory, and whether HEAD is elsewhere.
pub fn default_branch(dir: &Path) -> DefaultBranch {
    let succeeds = |args: &[&str]| run(dir, args).ok().filter(|o| o.status.success());
    let text = |args: &[&str]| {
        succeeds(args).map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
    };
    if succeeds(&["rev-parse", "--is-inside-work-tree"]).is_none() {
        return DefaultBranch::NoRepository;
    }
    let is_commit = |reference: &str| {
        let spec = format!("{reference}^{{commit}}");
        succeeds(&[
            "rev-parse",
            "--verify",
            "--quiet",
            "--end-of-options",
            &spec,
        ])
        .is_some()
    };
    let Some(default) = text(&["symbolic-ref", "--quiet", "refs/remotes/origin/HEAD"])
        .and_then(|full| full.strip_prefix("refs/remotes/").map(str::to_string))
        .filter(|reference| is_commit(reference))
        .or_else(|| {
            ["main", "master"]
                .into_iter()
                .find(|branch| is_commit(branch))
                .map(str::to_string)
        })
    else {
        return DefaultBranch::Missing;
    };
    let differs = match text(&["symbolic-ref", "--quiet", "--short", "HEAD"]) {
        // On a branch: another branch than the default one (whatever its commit, so a fresh
        // branch with uncommitted migrations is judged by them).
        Some(branch) => Some(default.strip_prefix("origin/").unwrap_or(&default) != branch),
        // Detached (a CI checkout): another commit than the default branch's.
        None => text(&["rev-parse", "HEAD"])
            .zip(text(&["rev-parse", &default]))
            .map(|(head, default)| head != default),
    };
    match differs {
        Some(true) => DefaultBranch::Elsewhere(default),
        _ => DefaultBranch::Here,
    }
}

/// The merge base of REF and HEAD; REF itself when there is none (unrelated or unborn history).
fn fork_point(dir: &Path, reference: &str) -> Result<String> {
    let output = run(dir, &["merge-base", reference, "HEAD"])?;
    let base = String::from_utf8_lossy(&output.stdout).trim().to_string();
    Ok(if output.status.success() && !base.is_empty() {
        base
    } else {
        reference.to_string()
    })
}

/// Migration names in the migrations directory as committed at REF (none if it did not exist).
fn names_at(dir: &Path, layout: Layout, reference: &str) -> Result<Vec<String>> {
    // Run in the directory, `git ls-tree REF` lists that directory's entries at REF.
    let listing = git(dir, &["ls-tree", "-z", reference])?;
    let names = listing
        .split('\0')
        .filter_map(|entry| {
            let (meta, name) = entry.split_once('\t')?;
            let kind = meta.split(' ').nth(1)?;
            match layout {
                Layout::Prisma => (kind == "tree").then(|| name.to_string()),
                Layout::PlainSql => {
                    let stem = name.strip_suffix(".sql")?;
                    (kind == "blob" && !stem.ends_with(".down")).then(|| stem.to_string())
                }
            }
        })
        .collect();
    Ok(names)
}

/// The migration a changed path (relative to the migrations directory) belongs to, if it is a
/// migration's SQL file (a changed `down.sql` or README does not change what gets applied).
fn migration_of(set: &MigrationSet, path: &str) -> Option<String> {
    let name = match set.layout {
        Layout::Prisma => path.strip_suffix("/migration.sql")?,
        Layout::PlainSql => path.strip_suffix(".sql")?,
    };
    set.find(name).map(|m| m.name.clone())
}

fn ensure_repository(dir: &Path) -> Result<()> {
    let output = run(dir, &["rev-parse", "--is-inside-work-tree"])?;
    if output.status.success() {
        Ok(())
    } else {
        Err(AppError::usage(format!(
            "--since needs a git repository, and {} is not inside one; pass the migrations to check as MIGRATION arguments instead",
            display_path(dir)
        )))
    }
}

fn ensure_commit(dir: &Path, reference: &str) -> Result<()> {
    let spec = format!("{reference}^{{commit}}");
    let output = run(
        dir,
        &[
            "rev-parse",
            "--verify",
            "--quiet",
            "--end-of-options",
            &spec,
        ],
    )?;
    if output.status.success() {
        Ok(())
    } else {
        Err(AppError::usage(format!(
            "--since {reference}: no such commit, branch or tag in this repository (in CI, fetch it first: git fetch origin <branch>, or actions/checkout with fetch-depth: 0)"
        )))
    }
}

fn git(dir: &Path, args: &[&str]) -> Result<String> {
    let output = run(dir, args)?;
    if !output.status.success() {
        let stderr = String::from_utf8_lossy(&output.stderr);
        let first = stderr.lines().next().unwrap_or("").trim();
        return Err(AppError::usage(format!("git {} failed: {first}", args[0])));
    }
    String::from_utf8(output.stdout).map_err(|_| {
        AppError::usage(format!(
            "git {} printed a path that is not UTF-8 under {}; rename it",
            args[0],
            display_path(dir)
        ))
    })
}

fn run(dir: &Path, args: &[&str]) -> Result<std::process::Output> {
    Command::new("git")
        .args(args)
        .current_dir(dir)
        // The repository is the one around the migrations directory, even inside a git hook.
        .env_remove("GIT_DIR")
        .env_remove("GIT_WORK_TREE")
        .output()
        .map_err(|err| {
            if err.kind() == std::io::ErrorKind::NotFound {
                AppError::usage("--since needs git, and `git` is not on PATH; install git")
            } else {
                AppError::usage(format!("cannot run git: {err}"))
            }
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::discover::discover;
    use std::fs;

    struct Repo {
        dir: tempfile::TempDir,
    }

    impl Repo {
        fn new() -> Repo {
            let repo = Repo {
                dir: tempfile::tempdir().unwrap(),
            };
            repo.git(&["init", "-q", "-b", "main"]);
            repo.write(
                "prisma/migrations/migration_lock.toml",
                "provider = \"postgresql\"\n",
            );
            repo
        }

        fn git(&self, args: &[&str]) {
            let status = Command::new("git")
                .args(["-c", "user.name=t", "-c", "user.email=t@example.com"])
                .args(args)
                .current_dir(self.dir.path())
                .status()
                .unwrap();
            assert!(status.success(), "git {args:?}");
        }

        fn write(&self, relative: &str, contents: &str) {
            let path = self.dir.path().join(relative);
            fs::create_dir_all(path.parent().unwrap()).unwrap();
            fs::write(path, contents).unwrap();
        }

        fn migration(&self, name: &str, sql: &str) {
            self.write(&format!("prisma/migrations/{name}/migration.sql"), sql);
        }

        fn commit(&self, message: &str) {
            self.git(&["add", "-A"]);
            self.git(&["commit", "-q", "-m", message]);
        }

        fn set(&self) -> MigrationSet {
            discover(&self.dir.path().join("prisma/migrations")).unwrap()
        }
    }

    #[test]
    fn added_modified_and_out_of_order() {
        let repo = Repo::new();
        repo.migration("20240101_init", "CREATE TABLE a (id int);");
        repo.migration("20240301_users", "CREATE TABLE b (id int);");
        repo.migration("20240401_stable", "CREATE TABLE c (id int);");
        repo.commit("base");
        repo.git(&["tag", "base"]);

        // Committed after the ref, staged, and untracked: all count as added.
        repo.migration("20240501_committed", "SELECT 1;");
        repo.commit("more");
        repo.migration("20240601 staged one", "SELECT 2;");
        repo.git(&["add", "-A"]);
        repo.migration("20240201_late_branch", "SELECT 3;");
        // An edit of an existing migration, and a down.sql that does not count.
        repo.migration("20240301_users", "CREATE TABLE b (id bigint);");
        repo.write(
            "prisma/migrations/20240401_stable/down.sql",
            "DROP TABLE c;",
        );

        let changes = changes_since(&repo.set(), "base").unwrap();
        assert_eq!(
            changes.pending,
            [
                "20240201_late_branch",
                "20240301_users",
                "20240501_committed",
                "20240601 staged one"
            ]
        );
        assert_eq!(changes.modified, ["20240301_users"]);
        assert_eq!(
            changes.out_of_order,
            [OutOfOrder {
                name: "20240201_late_branch".into(),
                newest_at_ref: "20240401_stable".into()
            }]
        );
    }

    #[test]
    fn judged_from_the_fork_point_with_the_newest_migration_at_the_ref() {
        let repo = Repo::new();
        repo.migration("20240101_init", "CREATE TABLE a (id int);");
        repo.commit("base");
        repo.git(&["checkout", "-q", "-b", "feature"]);
        repo.migration("20240520_feature", "CREATE TABLE f (id int);");
        repo.commit("feature work");
        // Meanwhile main ships a newer migration and (badly) edits an old one.
        repo.git(&["checkout", "-q", "main"]);
        repo.migration("20240601_main", "CREATE TABLE m (id int);");
        repo.migration("20240101_init", "CREATE TABLE a (id bigint);");
        repo.commit("main work");
        repo.git(&["checkout", "-q", "feature"]);

        let changes = changes_since(&repo.set(), "main").unwrap();
        assert_eq!(changes.pending, ["20240520_feature"]);
        assert_eq!(changes.modified, Vec::<String>::new());
        assert_eq!(
            changes.out_of_order,
            [OutOfOrder {
                name: "20240520_feature".into(),
                newest_at_ref: "20240601_main".into()
            }]
        );
    }

    #[test]
    fn plain_sql_folder() {
        let repo = Repo::new();
        repo.write("db/001_init.sql", "CREATE TABLE a (id int);");
        repo.write("db/003_users.sql", "CREATE TABLE u (id int);");
        repo.commit("base");
        repo.write("db/001_init.sql", "CREATE TABLE a (id bigint);");
        repo.write("db/002_late.sql", "SELECT 1;");
        repo.write("db/002_late.down.sql", "SELECT 0;");
        let set = discover(&repo.dir.path().join("db")).unwrap();
        let changes = changes_since(&set, "HEAD").unwrap();
        assert_eq!(changes.pending, ["001_init", "002_late"]);
        assert_eq!(changes.modified, ["001_init"]);
        assert_eq!(
            changes.out_of_order,
            [OutOfOrder {
                name: "002_late".into(),
                newest_at_ref: "003_users".into()
            }]
        );
    }

    #[test]
    fn nothing_changed_means_nothing_pending() {
        let repo = Repo::new();
        repo.migration("20240101_init", "CREATE TABLE a (id int);");
        repo.commit("base");
        let changes = changes_since(&repo.set(), "HEAD").unwrap();
        assert_eq!(changes, Changes::default());
    }

    #[test]
    fn bad_ref_is_a_clear_error() {
        let repo = Repo::new();
        repo.migration("20240101_init", "CREATE TABLE a (id int);");
        repo.commit("base");
        let err = changes_since(&repo.set(), "no-such-branch").unwrap_err();
        assert!(
            err.message
                .starts_with("--since no-such-branch: no such commit"),
            "{}",
            err.message
        );
    }

    #[test]
    fn not_a_repository_is_a_clear_error() {
        let dir = tempfile::tempdir().unwrap();
        fs::create_dir_all(dir.path().join("m/1_init")).unwrap();
        fs::write(dir.path().join("m/1_init/migration.sql"), "SELECT 1;").unwrap();
        let set = discover(&dir.path().join("m")).unwrap();
        let err = changes_since(&set, "main").unwrap_err();
        assert!(
            err.message.contains("needs a git repository"),
            "{}",
            err.message
        );
    }
}
