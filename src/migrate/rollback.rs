//! `rollback --to NAME | --steps N`: run the `down.sql` of each applied migration after the
//! target, newest first, each in a transaction with its history row marked `rolled_back_at`.
//! Nothing is touched when a `down.sql` is missing.

use crate::project::config::Config;
use crate::project::deployer::Deployer;
use tokio_postgres::Client;

use super::execute;
use super::failure::FailureKind;
use super::options::{RollbackOptions, RollbackTarget};
use super::plan::{self, split, Record, Script};
use super::progress::{begin_line, end_line, format_duration, print_findings};
use super::{AppliedMigration, RollbackOutcome};
use crate::db::lock;
use crate::db::session::{self, block_on, Access, Database};
use crate::error::{AppError, Result};
use crate::lint::engine::{self, AnalysisInput};
use crate::project::discover::{display_path, Layout, Migration};
use crate::project::Project;
use crate::say;
use crate::surface::Setting;

/// Run the down scripts of `project`'s applied migrations after the target (progress printed to
/// stdout); with `dry_run`, print the plan and touch nothing.
pub fn rollback(project: &Project, options: &RollbackOptions) -> Result<RollbackOutcome> {
    let access = if options.dry_run {
        Access::Read
    } else {
        Access::Write("rollback")
    };
    let database = Database::resolve(&options.database, access)?;
    block_on(async {
        let client = database.connect().await?;
        if options.dry_run {
            return undo(&client, &database, project, options).await;
        }
        session::cancel_on_signals(&client, &database.url)?;
        let work = undo(&client, &database, project, options);
        lock::with_lock(&client, database.lock_timeout, work).await
    })
}

/// The applied migrations to undo, newest first.
fn targets<'a>(applied: &[&'a Migration], target: &RollbackTarget) -> Result<Vec<&'a Migration>> {
    let keep = match target {
        RollbackTarget::To(name) => {
            let index = applied
                .iter()
                .position(|m| m.name == *name)
                .ok_or_else(|| {
                    AppError::failed(format!(
                        "{} `{name}` is not an applied migration of this database: pick one that \
                 `migration-gate status` shows as applied",
                        Setting::RollbackTarget
                    ))
                })?;
            index + 1
        }
        RollbackTarget::Steps(steps) => {
            let steps = *steps;
            if steps == 0 {
                return Err(AppError::usage("--steps must be at least 1"));
            }
            if steps > applied.len() {
                return Err(AppError::failed(format!(
                    "--steps {steps}: only {} migration(s) are applied",
                    applied.len()
                )));
            }
            applied.len() - steps
        }
    };
    Ok(applied[keep..].iter().rev().copied().collect())
}

/// A migration's down script, shaped as a migration for the analysis and the engine.
fn down_script(migration: &Migration) -> Result<Migration> {
    let path = migration
        .down_path
        .clone()
        .ok_or_else(|| AppError::usage(format!("`{}` has no down.sql", migration.name)))?;
    let source = std::fs::read_to_string(&path).map_err(|e| AppError::io(&path, &e))?;
    let display_path = match migration.display_path.rsplit_once('/') {
        Some((folder, _)) => format!("{folder}/down.sql"),
        None => path.display().to_string(),
    };
    Ok(Migration {
        name: migration.name.clone(),
        path,
        display_path,
        source,
        down_path: None,
    })
}

async fn undo(
    client: &Client,
    database: &Database,
    project: &Project,
    options: &RollbackOptions,
) -> Result<RollbackOutcome> {
    let safety = &options.safety;
    let rows = database.rows(client).await?;
    let split = split(project, &rows);
    let targets = targets(&split.applied, &options.target)?;
    let mut outcome = RollbackOutcome::default();
    if targets.is_empty() {
        say!("Nothing to roll back: no applied migration after the target.");
        return Ok(outcome);
    }
    let missing: Vec<String> = targets
        .iter()
        .filter(|m| m.down_path.is_none())
        .map(|m| display_path(&expected_down_path(project.set.layout, m)))
        .collect();
    if let Some(first) = targets.iter().find(|m| m.down_path.is_none()) {
        // Prisma never writes down scripts, so a Prisma user needs to hear how to make one.
        let how = match project.set.layout {
            Layout::Prisma => format!(
                "Prisma does not write them; generate one from the schema as it is to the schema \
                 before the migration, e.g. for `{name}`: `npx prisma migrate diff --from-schema \
                 prisma/schema.prisma --to-migrations <a copy of {dir} without {name}> --script > \
                 {path}` (Prisma 7; Prisma 6 spells it --from-schema-datamodel and needs \
                 --shadow-database-url), review it, and roll back again",
                name = first.name,
                dir = project.dir.display(),
                path = missing[0],
            ),
            Layout::PlainSql => "write the down script(s) first".to_string(),
        };
        return Err(AppError::failed(format!(
            "nothing was rolled back: no down.sql at {}; {how}",
            missing.join(", ")
        )));
    }
    let downs = targets
        .iter()
        .map(|m| down_script(m))
        .collect::<Result<Vec<_>>>()?;
    crate::lint::engine::refuse_malformed(&downs)?;

    let down_refs: Vec<&Migration> = downs.iter().collect();
    let report = engine::analyze(AnalysisInput {
        existing: &split.applied,
        pending: &down_refs,
        // Judged as this engine runs the files, whoever the config says deploys elsewhere.
        config: &Config {
            deployer: Deployer::MigrationGate,
            ..project.config.clone()
        },
        extra_findings: Vec::new(),
    });
    say!("Rolling back {} migration(s), newest first:", downs.len());
    for down in &downs {
        say!("  {} ({})", down.name, down.display_path);
        if options.dry_run {
            let statements = crate::sql::analyze_source(&down.source);
            for line in plan::plan(&statements).describe() {
                say!("    - {line}");
            }
        }
    }
    print_findings(&report);
    if options.dry_run {
        say!("Dry run: nothing was changed.");
        return Ok(outcome);
    }

    safety.apply_to_session(client).await?;
    for down in &downs {
        if let Some(signal) = session::interrupted() {
            let report = format!(
                "interrupted by {signal} before rolling back `{}`",
                down.name
            );
            crate::complain!("error: {report}; it stays applied");
            outcome.failure = Some(report);
            return Ok(outcome);
        }
        begin_line(&format!("Rolling back migration `{}`", down.name));
        let script = Script {
            migration: &down.name,
            file: &down.display_path,
            source: &down.source,
        };
        let result =
            execute::run_script(client, &database.history, script, Record::RollBack, safety)
                .await?;
        match result {
            Ok(duration) => {
                end_line(
                    &format!("Rolled back migration `{}`", down.name),
                    &format!(" ({})", format_duration(duration)),
                );
                outcome.rolled_back.push(AppliedMigration {
                    name: down.name.clone(),
                    duration,
                });
            }
            Err(failure) => {
                end_line(&format!("Rollback of `{}`", down.name), " (failed)");
                match failure.kind {
                    FailureKind::Interrupted(signal) => crate::complain!(
                        "error: interrupted by {signal} while rolling back `{}`: its running \
                         statement was cancelled and its transaction rolled back.",
                        down.name
                    ),
                    FailureKind::ConnectionLost => crate::complain!(
                        "error: the server closed the connection while rolling back `{}` (the \
                         session was terminated, or the server restarted or became \
                         unreachable); its transaction was rolled back.",
                        down.name
                    ),
                    _ => crate::complain!("error: {}", failure.report),
                }
                if failure.committed.is_empty() {
                    crate::complain!(
                        "Nothing of {} was committed: `{}` stays applied; the migrations rolled \
                         back before it stay rolled back.",
                        down.display_path,
                        down.name
                    );
                } else {
                    crate::complain!(
                        "{} stopped part way; these segments were committed and are not \
                         undone:\n{}\n`{}` is still recorded as applied and `migration-gate \
                         status` reports its rollback as incomplete; the migrations rolled back \
                         before it stay rolled back.",
                        down.display_path,
                        failure
                            .committed
                            .iter()
                            .map(|c| format!("  - {c}"))
                            .collect::<Vec<_>>()
                            .join("\n"),
                        down.name
                    );
                }
                outcome.failure = Some(failure.report);
                return Ok(outcome);
            }
        }
    }
    say!(
        "\n{} migration(s) rolled back; they show as pending again.",
        outcome.rolled_back.len()
    );
    Ok(outcome)
}

/// Where the down script of `migration` is looked for: `down.sql` in a Prisma migration's folder,
/// `<name>.down.sql` (for `<name>.sql` or `<name>.up.sql`) in a plain folder.
fn expected_down_path(layout: Layout, migration: &Migration) -> std::path::PathBuf {
    let folder = migration.path.parent().unwrap_or(std::path::Path::new("."));
    match layout {
        Layout::Prisma => folder.join("down.sql"),
        Layout::PlainSql => {
            let base = migration
                .name
                .strip_suffix(".up")
                .unwrap_or(&migration.name);
            folder.join(format!("{base}.down.sql"))
        }
    }
}
