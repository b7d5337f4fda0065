//! `deploy`: lock → refusal states → pending set → gate (analysis) → backup → apply, one
//! migration at a time, each recorded in `_prisma_migrations` as Prisma records it.

use crate::project::config::Config;
use crate::project::deployer::Deployer;
use tokio_postgres::Client;

use super::execute;
use super::failure::{Failure, FailureKind};
use super::options::{BackupPolicy, DeployOptions};
use super::plan::{self, split, Record, Script, Split};
use super::progress::{begin_line, end_line, format_duration, print_findings};
use super::{AppliedMigration, DeployOutcome};
use crate::db::history::{self, HistoryRow};
use crate::db::lock;
use crate::db::session::{self, block_on, Access, Database};
use crate::error::{AppError, Result};
use crate::findings::{Report, Severity};
use crate::lint::engine::{self, AnalysisInput};
use crate::project::discover::Migration;
use crate::project::Project;
use crate::say;
use crate::surface::Setting;

/// Apply the pending migrations of `project` (progress printed to stdout, Prisma-style); with
/// `dry_run`, show the plan and write nothing.
pub fn deploy(project: &Project, options: &DeployOptions) -> Result<DeployOutcome> {
    let access = if options.dry_run {
        Access::Read
    } else {
        Access::Write("deploy")
    };
    let database = Database::resolve(&options.database, access)?;
    block_on(async {
        let client = database.connect().await?;
        say!("{}\n", database.datasource_line());
        say!("{}", project.found_line());
        if options.dry_run {
            return dry_run(&client, &database, project, options).await;
        }
        session::cancel_on_signals(&client, &database.url)?;
        let work = apply_pending(&client, &database, project, options);
        lock::with_lock(&client, database.lock_timeout, work).await
    })
}

/// The refusal states shared by `deploy`: no history on a non-empty schema, a failed migration.
async fn refuse_unsafe_states(
    client: &Client,
    database: &Database,
    rows: &[HistoryRow],
) -> Result<()> {
    if !database.history.exists(client).await? {
        let (first, total) = database.history.user_objects(client).await?;
        if total > 0 {
            let more = if total > first.len() as i64 {
                format!(", and {} more", total - first.len() as i64)
            } else {
                String::new()
            };
            return Err(AppError::failed(format!(
                "the database schema `{}` is not empty ({total} object(s): {}{more}) but has no \
                 migration history (_prisma_migrations): baseline it first by recording the \
                 migrations it already contains with `migration-gate resolve --applied <NAME>` \
                 for each of them, then deploy",
                database.url.schema(),
                first.join(", ")
            )));
        }
    }
    if let Some(failed) = rows.iter().find(|row| row.is_failed()) {
        let name = &failed.migration_name;
        return Err(AppError::failed(format!(
            "found a failed migration in the database, new migrations will not be applied: \
             `{name}` started at {} failed (`migration-gate status` shows its logs and what of \
             it was committed). If nothing of it was applied, fix the migration and run \
             `migration-gate resolve --rolled-back {name}`; if you completed it by hand, run \
             `migration-gate resolve --applied {name}`",
            failed.started_at
        )));
    }
    if let Some(half) = rows.iter().find(|row| row.is_rollback_incomplete()) {
        let name = &half.migration_name;
        return Err(AppError::failed(format!(
            "the rollback of `{name}` stopped part way: part of its down.sql is committed while \
             it is still recorded as applied (`migration-gate status` shows what), so new \
             migrations will not be applied on top of it. Fix its down.sql (IF EXISTS makes it \
             re-run safely) and run `migration-gate rollback` again to finish undoing it, then \
             deploy"
        )));
    }
    Ok(())
}

fn analyze(project: &Project, split: &Split<'_>) -> Report {
    engine::analyze(AnalysisInput {
        existing: &split.applied,
        pending: &split.pending,
        // Judged as this engine runs the files, whoever the config says deploys elsewhere.
        config: &Config {
            deployer: Deployer::MigrationGate,
            ..project.config.clone()
        },
        extra_findings: Vec::new(),
    })
}

enum Prepared<'a> {
    NothingPending(DeployOutcome),
    Pending(Split<'a>, DeployOutcome),
}

/// What a deploy and its dry run share: refuse unsafe history states, find what is pending and
/// analyse it against the applied history.
async fn prepare<'a>(
    client: &Client,
    database: &Database,
    project: &'a Project,
    to: Option<&str>,
) -> Result<Prepared<'a>> {
    let rows = database.rows(client).await?;
    refuse_unsafe_states(client, database, &rows).await?;
    warn_edited(project, &rows);
    let mut split = split(project, &rows);
    let mut held_back = 0;
    if let Some(last) = to {
        let all_pending = split.pending.len();
        split
            .pending
            .retain(|m| m.name.as_bytes() <= last.as_bytes());
        held_back = all_pending - split.pending.len();
    }
    crate::lint::engine::refuse_malformed(split.pending.iter().copied())?;
    let mut outcome = DeployOutcome {
        pending: split.pending.iter().map(|m| m.name.clone()).collect(),
        ..DeployOutcome::default()
    };
    if split.pending.is_empty() {
        match to.filter(|_| held_back > 0) {
            // "No pending migrations" would read as "up to date" while later ones still wait.
            Some(last) => say!(
                "\nNothing to apply up to {last}: {last} is applied already; {held_back} later \
                 migration{} pending.",
                if held_back == 1 { " stays" } else { "s stay" }
            ),
            None => say!("\nNo pending migrations to apply."),
        }
        return Ok(Prepared::NothingPending(outcome));
    }
    outcome.report = analyze(project, &split);
    Ok(Prepared::Pending(split, outcome))
}

async fn apply_pending(
    client: &Client,
    database: &Database,
    project: &Project,
    options: &DeployOptions,
) -> Result<DeployOutcome> {
    let safety = &options.safety;
    let (split, mut outcome) =
        match prepare(client, database, project, options.to.as_deref()).await? {
            Prepared::NothingPending(outcome) => return Ok(outcome),
            Prepared::Pending(split, outcome) => (split, outcome),
        };
    let destructive = outcome.report.has_errors();
    if destructive && !options.allow_destructive {
        print_findings(&outcome.report);
        crate::complain!(
            "error: {} error-level finding(s) in the pending migrations need review; nothing was \
             applied. To apply them: {}",
            outcome.report.count(Severity::Error),
            Setting::AllowDestructive.instruction()
        );
        outcome.needs_review = true;
        return Ok(outcome);
    }
    if destructive {
        print_findings(&outcome.report);
        say!(
            "Applying despite error-level findings ({}).",
            Setting::AllowDestructive
        );
    }
    if let Some(dir) = &options.backup_dir {
        if destructive || options.backup == BackupPolicy::Always {
            backup(database, dir).await?;
        }
    }

    database.history.ensure(client).await?;
    safety.apply_to_session(client).await?;
    say!();
    for migration in &split.pending {
        if let Some(signal) = session::interrupted() {
            let report = format!(
                "interrupted by {signal} before `{}` started",
                migration.name
            );
            crate::complain!(
                "error: {report}. {}",
                state_after(&outcome, migration, false)
            );
            outcome.failure = Some(report);
            return Ok(outcome);
        }
        begin_line(&format!("Applying migration `{}`", migration.name));
        let checksum = history::checksum(&migration.source);
        let script = Script {
            migration: &migration.name,
            file: &migration.display_path,
            source: &migration.source,
        };
        let result = execute::run_script(
            client,
            &database.history,
            script,
            Record::Apply {
                checksum: &checksum,
            },
            safety,
        )
        .await?;
        match result {
            Ok(duration) => {
                end_line(
                    &format!("Applied migration `{}`", migration.name),
                    &format!(" ({})", format_duration(duration)),
                );
                outcome.applied.push(AppliedMigration {
                    name: migration.name.clone(),
                    duration,
                });
            }
            Err(failure) => {
                end_line(&format!("Migration `{}`", migration.name), " (failed)");
                crate::complain!("{}", failure_message(&failure, migration, &outcome));
                outcome.failure = Some(failure.report);
                return Ok(outcome);
            }
        }
    }
    print_applied_tree(project, &outcome.applied);
    say!("\nAll migrations have been successfully applied.");
    Ok(outcome)
}

/// What the user must know after a migration stopped: what happened, what of it is in the
/// database, what was committed before it, and what to do next.
fn failure_message(failure: &Failure, migration: &Migration, outcome: &DeployOutcome) -> String {
    let name = &migration.name;
    let atomic = failure.committed.is_empty();
    let what = match failure.kind {
        FailureKind::Interrupted(signal) => format!(
            "interrupted by {signal} while applying `{name}`: its running statement was cancelled."
        ),
        FailureKind::ConnectionLost => format!(
            "the server closed the connection while applying `{name}` (the session was \
             terminated, or the server restarted or became unreachable)."
        ),
        _ => failure.report.clone(),
    };
    // An interruption is one line; a statement failure keeps its located report above.
    let separator = match failure.kind {
        FailureKind::Interrupted(_) | FailureKind::ConnectionLost | FailureKind::LockLost => " ",
        _ => "\n",
    };
    let next = match (failure.kind, atomic) {
        (FailureKind::Interrupted(_) | FailureKind::ConnectionLost | FailureKind::LockLost, true)
            if failure.segmented =>
        {
            format!(
                "No segment of `{name}` had committed and the interrupted one was rolled back, \
                 but `{name}` is recorded as started (failed) and an interrupted CONCURRENTLY \
                 build can leave an INVALID index: check `migration-gate status`, then run \
                 `migration-gate resolve --rolled-back {name}` and deploy again."
            )
        }
        (FailureKind::Interrupted(_) | FailureKind::ConnectionLost, true) => format!(
            "Its transaction was rolled back: nothing of `{name}` was applied or recorded. \
             Deploy again to apply it."
        ),
        (FailureKind::LockLost, true) => format!(
            "Its transaction was rolled back: nothing of `{name}` was applied or recorded."
        ),
        (FailureKind::LockTimeout, true) => format!(
            "Nothing of `{name}` was applied: it waited longer than --lock-timeout for a lock on \
             every attempt and rolled back. It is recorded as rolled back, so the next deploy \
             simply tries it again; run it when the lock holder is done, or raise --lock-timeout \
             / --lock-retries."
        ),
        (_, true) => format!(
            "Nothing of `{name}` was applied (the failing transaction was rolled back and nothing \
             before it had committed). It is recorded as failed: fix the migration, then run \
             `migration-gate resolve --rolled-back {name}` and deploy again."
        ),
        (_, false) => format!(
            "`{name}` had to run in several segments; these were committed and are not undone:\n{}\n\
             It is recorded as failed (`migration-gate status` shows it). Finish or undo it by \
             hand, then run `migration-gate resolve --applied {name}` (finished) or \
             `migration-gate resolve --rolled-back {name}` (undone, to apply a fixed version).",
            failure
                .committed
                .iter()
                .map(|c| format!("  - {c}"))
                .collect::<Vec<_>>()
                .join("\n")
        ),
    };
    format!(
        "error: {what}{separator}{next} {}",
        state_after(outcome, migration, true)
    )
}

/// The migrations of this run that committed before `current`, and those never attempted.
fn state_after(outcome: &DeployOutcome, current: &Migration, started: bool) -> String {
    let applied: Vec<String> = outcome
        .applied
        .iter()
        .map(|m| format!("`{}`", m.name))
        .collect();
    let before = if applied.is_empty() {
        "No migration was applied by this run before it.".to_string()
    } else {
        format!(
            "Applied and committed by this run before it: {}.",
            applied.join(", ")
        )
    };
    let skip = usize::from(started);
    let later: Vec<String> = outcome
        .pending
        .iter()
        .skip_while(|name| **name != current.name)
        .skip(skip)
        .map(|name| format!("`{name}`"))
        .collect();
    if later.is_empty() {
        before
    } else {
        format!("{before} Not attempted: {}.", later.join(", "))
    }
}

/// `pg_dump -Fc` into `dir`; the deploy stops when it fails.
async fn backup(database: &Database, dir: &std::path::Path) -> Result<()> {
    say!(
        "Backing up the database before applying (pg_dump -Fc into {})",
        dir.display()
    );
    let file = crate::db::backup::pg_dump(&database.url, dir).await?;
    say!("Backup written to {}", file.display());
    Ok(())
}

fn warn_edited(project: &Project, rows: &[HistoryRow]) {
    for migration in &project.set.migrations {
        let edited = rows.iter().any(|row| {
            row.migration_name == migration.name
                && row.is_applied()
                && !history::checksum_matches(&migration.source, &row.checksum)
        });
        if edited {
            crate::complain!(
                "warning: the migration `{}` was modified after it was applied",
                migration.name
            );
        }
    }
}

fn print_applied_tree(project: &Project, applied: &[AppliedMigration]) {
    say!("\nThe following migration(s) have been applied:\n");
    let root = project
        .dir
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| project.dir.display().to_string());
    say!("{root}/");
    for migration in applied {
        let file = project
            .set
            .find(&migration.name)
            .and_then(|m| m.path.file_name())
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_else(|| "migration.sql".to_string());
        say!("  └─ {}/", migration.name);
        say!("    └─ {file}");
    }
}

async fn dry_run(
    client: &Client,
    database: &Database,
    project: &Project,
    options: &DeployOptions,
) -> Result<DeployOutcome> {
    let (split, mut outcome) =
        match prepare(client, database, project, options.to.as_deref()).await? {
            Prepared::NothingPending(outcome) => return Ok(outcome),
            Prepared::Pending(split, outcome) => (split, outcome),
        };
    say!("\nDry run: nothing will be written. Plan:");
    for migration in &split.pending {
        say!("\n{} ({})", migration.name, migration.display_path);
        let statements = crate::sql::analyze_source(&migration.source);
        for line in plan::plan(&statements).describe() {
            say!("  - {line}");
        }
    }
    say!();
    print_findings(&outcome.report);
    if outcome.report.has_errors() {
        if options.allow_destructive {
            say!("Error-level findings present; --allow-destructive would apply them.");
        } else {
            say!(
                "Error-level findings present: deploy would stop for review (exit 3) unless \
                 --allow-destructive is given."
            );
            outcome.needs_review = true;
        }
    }
    Ok(outcome)
}
