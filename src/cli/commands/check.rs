//! `migration-gate check`: config → migrations dir → discover → which migrations are pending →
//! analysis → report → exit code.

use std::io::{IsTerminal, Write};
use std::path::Path;

use crate::analysis::{self, AnalysisInput};
use crate::cli::CheckArgs;
use crate::config::{supported_pg_versions, Config, FILE_NAME, SUPPORTED_PG_VERSIONS};
use crate::discover::{self, display_path, Migration, MigrationSet};
use crate::error::{exit, AppError, Result};
use crate::findings::Finding;
use crate::git;
use crate::report::{self, RenderOptions};

pub fn run(args: &CheckArgs) -> Result<u8> {
    let mut config = Config::load(args.config.as_deref())?;
    if let Some(version) = args.pg_version {
        if !SUPPORTED_PG_VERSIONS.contains(&version) {
            return Err(AppError::usage(format!(
                "--pg-version {version} is not a supported PostgreSQL major version; the rules know {}, e.g. --pg-version 15",
                supported_pg_versions()
            )));
        }
        config.pg_version = version;
    }
    let dir = config.migrations_dir(args.dir.as_deref());
    if args.dir.is_none() && config.migrations_dir.is_none() && !dir.exists() {
        return Err(AppError::usage(
            "no migrations directory here: neither prisma/migrations nor migrations exists; pass yours with --dir (or migrations_dir in migration-gate.toml)",
        ));
    }
    let set = discover::discover(&dir)?;
    let selection = select_pending(&set, args, &config)?;

    let pending: Vec<&Migration> = set
        .migrations
        .iter()
        .filter(|m| selection.pending.contains(&m.name))
        .collect();
    let existing: Vec<&Migration> = set
        .migrations
        .iter()
        .filter(|m| !selection.pending.contains(&m.name))
        .collect();
    let report = analysis::analyze_with_applied_elsewhere(
        AnalysisInput {
            existing: &existing,
            pending: &pending,
            config: &config,
            extra_findings: selection.findings,
        },
        &selection.applied_elsewhere,
    );

    let options = RenderOptions {
        color: std::io::stdout().is_terminal() && no_color_unset(),
        run_url: None,
    };
    let rendered = report::render(&report, args.format, &options);
    write_stdout(&rendered)?;
    Ok(if report.has_errors() {
        exit::FAILED
    } else {
        exit::OK
    })
}

/// The migrations to judge (by name) and the findings the selection itself raises.
struct Selection {
    pending: Vec<String>,
    findings: Vec<Finding>,
    /// Pending because they were edited, but already applied where the ref was deployed.
    applied_elsewhere: Vec<String>,
}

fn select_pending(set: &MigrationSet, args: &CheckArgs, config: &Config) -> Result<Selection> {
    if !args.migrations.is_empty() {
        if args.since.is_some() {
            return Err(AppError::usage(
                "give either MIGRATION arguments or --since, not both",
            ));
        }
        let pending = args
            .migrations
            .iter()
            .map(|arg| resolve_argument(set, arg).map(|m| m.name.clone()))
            .collect::<Result<Vec<_>>>()?;
        return Ok(Selection {
            pending,
            findings: Vec::new(),
            applied_elsewhere: Vec::new(),
        });
    }
    if let Some(reference) = &args.since {
        return since(set, reference);
    }
    let pending = match &config.start_after {
        Some(start_after) => {
            let Some(index) = set.migrations.iter().position(|m| &m.name == start_after) else {
                return Err(AppError::usage(format!(
                    "{}: start_after = \"{start_after}\" is not a migration in {}{}",
                    config.file.as_deref().unwrap_or(FILE_NAME),
                    display_path(&set.dir),
                    suggestions(set, start_after)
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
                return since(set, reference);
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
    Ok(Selection {
        pending,
        findings: Vec::new(),
        applied_elsewhere: Vec::new(),
    })
}

/// The migrations added or modified since `reference`, with the findings that change raises.
fn since(set: &MigrationSet, reference: &str) -> Result<Selection> {
    let changes = git::changes_since(set, reference)?;
    let findings = changes.findings(set, reference);
    Ok(Selection {
        pending: changes.pending,
        findings,
        applied_elsewhere: changes.modified,
    })
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
                || (set.layout == discover::Layout::Prisma
                    && folder.as_deref() == Some(real.as_path()))
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
        suggestions(set, arg)
    )))
}

/// An error naming `flag` unless `name` is a migration of the set, with the closest names.
/// The name of the migration `arg` designates, taken as `check` takes its MIGRATION arguments
/// (a name, its folder as the shell completes it, or its SQL file); the error names `flag`.
pub(crate) fn known_name(set: &MigrationSet, arg: &str, flag: &str) -> Result<String> {
    match resolve_argument(set, arg) {
        Ok(migration) => Ok(migration.name.clone()),
        Err(_) => ensure_known(set, arg, flag).map(|()| arg.to_string()),
    }
}

pub(crate) fn ensure_known(set: &MigrationSet, name: &str, flag: &str) -> Result<()> {
    if set.find(name).is_some() {
        return Ok(());
    }
    Err(AppError::usage(format!(
        "{flag} {name}: no such migration in {}{}",
        display_path(&set.dir),
        suggestions(set, name)
    )))
}

/// "; did you mean: a, b" with the closest migration names, or the newest names when none is
/// close.
fn suggestions(set: &MigrationSet, wanted: &str) -> String {
    let wanted_name = Path::new(wanted)
        .file_name()
        .and_then(|n| n.to_str())
        .unwrap_or(wanted);
    let mut scored: Vec<(usize, &str)> = set
        .migrations
        .iter()
        .map(|m| (distance(wanted_name, &m.name), m.name.as_str()))
        .collect();
    scored.sort();
    let limit = wanted_name.chars().count() / 3 + 2;
    let close: Vec<&str> = scored
        .iter()
        .filter(|(d, name)| *d <= limit || name.contains(wanted_name))
        .take(3)
        .map(|(_, name)| *name)
        .collect();
    if !close.is_empty() {
        return format!("; did you mean: {}", close.join(", "));
    }
    let newest: Vec<&str> = set
        .migrations
        .iter()
        .rev()
        .take(3)
        .map(|m| m.name.as_str())
        .collect();
    if newest.is_empty() {
        "; the directory has no migrations".to_string()
    } else {
        format!("; the newest are: {}", newest.join(", "))
    }
}

/// Levenshtein distance over chars.
fn distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut diagonal = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let above = row[j + 1];
            row[j + 1] = (above + 1)
                .min(row[j] + 1)
                .min(diagonal + usize::from(ca != *cb));
            diagonal = above;
        }
    }
    row[b.len()]
}

/// `edited-migration` and `out-of-order-migration` for a `--since` selection (the analysis
/// applies the config's severities to them).
fn no_color_unset() -> bool {
    std::env::var_os("NO_COLOR").is_none_or(|value| value.is_empty())
}

/// Print the report; a closed pipe (`| head`) is not an error worth a message.
fn write_stdout(text: &str) -> Result<()> {
    let mut stdout = std::io::stdout().lock();
    match stdout
        .write_all(text.as_bytes())
        .and_then(|_| stdout.flush())
    {
        Ok(()) => Ok(()),
        Err(err) if err.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
        Err(err) => Err(AppError::usage(format!("cannot write the report: {err}"))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::PathBuf;

    fn set(names: &[&str]) -> MigrationSet {
        MigrationSet {
            dir: PathBuf::from("prisma/migrations"),
            layout: discover::Layout::Prisma,
            migrations: names
                .iter()
                .map(|name| Migration {
                    name: name.to_string(),
                    path: PathBuf::from(format!("prisma/migrations/{name}/migration.sql")),
                    display_path: format!("prisma/migrations/{name}/migration.sql"),
                    source: "SELECT 1;\n".into(),
                    down_path: None,
                })
                .collect(),
        }
    }

    #[test]
    fn distance_counts_edits() {
        assert_eq!(distance("kitten", "sitting"), 3);
        assert_eq!(distance("", "abc"), 3);
        assert_eq!(distance("same", "same"), 0);
    }

    #[test]
    fn unknown_migration_lists_close_names() {
        let set = set(&["20240101_init", "20240201_add_users", "20240301_add_teams"]);
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
        let set = set(&["20240101_init", "20240201 with space"]);
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
        let set = set(&["20240101_init", "20240102_new"]);
        let changes = git::Changes {
            pending: vec!["20240101_init".into(), "20240102_new".into()],
            modified: vec!["20240101_init".into()],
            out_of_order: vec![git::OutOfOrder {
                name: "20240102_new".into(),
                newest_at_ref: "20240103_x".into(),
            }],
        };
        let findings = changes.findings(&set, "main");
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
