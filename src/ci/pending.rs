//! Which migrations a pull request adds or modifies: from git when the checkout has both
//! commits, else from the PR files API (shallow checkouts, the default of actions/checkout).

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::discover::Migration;

/// Files added, modified or renamed between `base` and `head` (relative to the repository root,
/// which is returned too); `None` when git cannot tell (no repository, commits not fetched).
pub fn changed_by_git(dir: &Path, base: &str, head: &str) -> Option<(PathBuf, Vec<String>)> {
    let git = |args: &[&str]| {
        Command::new("git")
            .arg("-C")
            .arg(dir)
            .args(args)
            .output()
            .ok()
            .filter(|o| o.status.success())
            .map(|o| String::from_utf8_lossy(&o.stdout).into_owned())
    };
    let root = PathBuf::from(git(&["rev-parse", "--show-toplevel"])?.trim());
    // Three dots: what the PR changes since it left the base branch, not what the base gained.
    let range = format!("{base}...{head}");
    let names = git(&[
        "diff",
        "--name-only",
        "--no-renames",
        "--diff-filter=AM",
        "-z",
        &range,
    ])?;
    let files = names
        .split('\0')
        .filter(|s| !s.is_empty())
        .map(str::to_string)
        .collect();
    Some((root, files))
}

/// The migrations whose SQL file is one of `changed` (paths relative to `root`).
pub fn select<'a>(
    migrations: &'a [Migration],
    root: &Path,
    changed: &[String],
) -> Vec<&'a Migration> {
    let changed: Vec<PathBuf> = changed.iter().map(|f| canonical(&root.join(f))).collect();
    migrations
        .iter()
        .filter(|m| changed.contains(&canonical(&m.path)))
        .collect()
}

fn canonical(path: &Path) -> PathBuf {
    path.canonicalize().unwrap_or_else(|_| path.to_path_buf())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn migration(path: PathBuf, name: &str) -> Migration {
        Migration {
            name: name.to_string(),
            display_path: path.display().to_string(),
            path,
            source: String::new(),
            down_path: None,
        }
    }

    #[test]
    fn git_diff_finds_added_and_modified_migrations() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        let git = |args: &[&str]| {
            let ok = Command::new("git")
                .arg("-C")
                .arg(root)
                .args([
                    "-c",
                    "user.name=t",
                    "-c",
                    "user.email=t@e",
                    "-c",
                    "commit.gpgsign=false",
                ])
                .args(args)
                .status()
                .unwrap()
                .success();
            assert!(ok, "git {args:?}");
        };
        let write = |rel: &str, text: &str| {
            let p = root.join(rel);
            std::fs::create_dir_all(p.parent().unwrap()).unwrap();
            std::fs::write(p, text).unwrap();
        };
        git(&["init", "-q", "-b", "main"]);
        write(
            "prisma/migrations/1_a/migration.sql",
            "CREATE TABLE a (id int);",
        );
        write(
            "prisma/migrations/2_b/migration.sql",
            "CREATE TABLE b (id int);",
        );
        git(&["add", "."]);
        git(&["commit", "-q", "-m", "base"]);
        let base = String::from_utf8(
            Command::new("git")
                .arg("-C")
                .arg(root)
                .args(["rev-parse", "HEAD"])
                .output()
                .unwrap()
                .stdout,
        )
        .unwrap();
        write(
            "prisma/migrations/2_b/migration.sql",
            "CREATE TABLE b (id bigint);",
        );
        write("prisma/migrations/3_c/migration.sql", "DROP TABLE a;");
        git(&["add", "."]);
        git(&["commit", "-q", "-m", "head"]);
        let (top, files) = changed_by_git(root, base.trim(), "HEAD").unwrap();
        let migrations: Vec<Migration> = ["1_a", "2_b", "3_c"]
            .iter()
            .map(|n| migration(root.join(format!("prisma/migrations/{n}/migration.sql")), n))
            .collect();
        let names: Vec<&str> = select(&migrations, &top, &files)
            .iter()
            .map(|m| m.name.as_str())
            .collect();
        assert_eq!(names, ["2_b", "3_c"]);
        assert!(changed_by_git(root, "0000000000000000000000000000000000000000", "HEAD").is_none());
    }
}
