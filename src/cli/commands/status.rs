//! `status`: every migration's state ([`crate::migrate::status()`]), as a table with what to do
//! next or as JSON. Exit codes: 0 up to date, 4 pending, 5 failed / edited / missing locally.

use crate::cli::{StatusArgs, StatusFormat};
use crate::error::Result;
use crate::migrate::status::State;
use crate::migrate::{self, StatusReport};
use crate::project::Project;
use crate::say;

pub fn run(args: &StatusArgs) -> Result<u8> {
    let project = Project::load(&args.migrations.project())?;
    let report = migrate::status(&project, &args.database.options())?;
    match args.format {
        StatusFormat::Json => say!(
            "{}",
            serde_json::to_string_pretty(&report).expect("status serializes")
        ),
        StatusFormat::Human => {
            say!("{}\n", report.datasource);
            print_human(&project, &report)
        }
    }
    Ok(report.exit_code)
}

/// The segments that stayed committed, under each migration in `state` that has some.
fn print_committed(report: &StatusReport, state: State) {
    for m in report.migrations.iter().filter(|m| m.state == state) {
        if !m.committed.is_empty() {
            say!(
                "Committed segments of `{}` (not undone):\n{}\n",
                m.name,
                m.committed
                    .iter()
                    .map(|c| format!("  - {c}"))
                    .collect::<Vec<_>>()
                    .join("\n")
            );
        }
        if let Some(running) = &m.running {
            say!(
                "`{}` was running when it stopped (a statement outside a transaction: the server \
                 may have completed it; check before resolving):\n  - {running}\n",
                m.name
            );
        }
    }
}

fn print_human(project: &Project, report: &StatusReport) {
    say!("{}\n", project.found_line());
    let width = report
        .migrations
        .iter()
        .map(|m| m.name.len())
        .max()
        .unwrap_or(0);
    for m in &report.migrations {
        let when = match m.state {
            State::Applied | State::Edited => m
                .finished_at
                .as_deref()
                .map(|t| format!("applied {t}"))
                .unwrap_or_default(),
            State::Failed => m
                .started_at
                .as_deref()
                .map(|t| format!("started {t}, never finished"))
                .unwrap_or_default(),
            State::RollbackIncomplete => m
                .finished_at
                .as_deref()
                .map(|t| format!("applied {t}, its rollback stopped part way"))
                .unwrap_or_default(),
            State::RolledBack => m
                .rolled_back_at
                .as_deref()
                .map(|t| format!("rolled back {t}"))
                .unwrap_or_default(),
            State::MissingLocally => m
                .finished_at
                .as_deref()
                .or(m.started_at.as_deref())
                .map(|t| format!("recorded {t}"))
                .unwrap_or_default(),
            State::Pending => String::new(),
        };
        let line = format!(
            "  {:<15} {:<width$}  {when}",
            m.state.label(),
            m.name,
            width = width
        );
        say!("{}", line.trim_end());
    }
    say!();
    let named = |states: &[State]| -> Vec<&str> {
        report
            .migrations
            .iter()
            .filter(|m| states.contains(&m.state))
            .map(|m| m.name.as_str())
            .collect()
    };
    let failed = named(&[State::Failed]);
    if !failed.is_empty() {
        say!(
            "Following migration(s) have failed:\n{}\n",
            failed.join("\n")
        );
        print_committed(report, State::Failed);
        say!(
            "If nothing of it stayed committed, fix the migration and run `migration-gate \
             resolve --rolled-back NAME` (to apply a fixed version); if you completed it by \
             hand, `migration-gate resolve --applied NAME`.\n"
        );
    }
    for name in named(&[State::RollbackIncomplete]) {
        say!(
            "The rollback of `{name}` stopped part way: part of its down.sql is committed and \
             the migration is still recorded as applied."
        );
    }
    print_committed(report, State::RollbackIncomplete);
    if !named(&[State::RollbackIncomplete]).is_empty() {
        say!(
            "Bring the database to one side by hand, then run `migration-gate rollback` again \
             (a down.sql written with IF EXISTS re-runs safely).\n"
        );
    }
    if !report.invalid_indexes.is_empty() {
        say!(
            "INVALID indexes (left by a failed or killed CREATE INDEX CONCURRENTLY; not used by \
             queries, still written to): {}\nDrop each with DROP INDEX CONCURRENTLY NAME before \
             building it again.\n",
            report.invalid_indexes.join(", ")
        );
    }
    for name in named(&[State::Edited]) {
        say!("The migration `{name}` was modified after it was applied.");
    }
    let missing = named(&[State::MissingLocally]);
    if !missing.is_empty() {
        say!(
            "The migrations from the database are not found locally in {}:\n{}\n",
            report.migrations_dir,
            missing.join("\n")
        );
    }
    let pending = named(&[State::Pending, State::RolledBack]);
    if report.not_managed {
        print_baseline_step(&pending);
    } else if !pending.is_empty() {
        say!(
            "Following migration(s) have not yet been applied:\n{}\n\nTo apply them run \
             migration-gate deploy.",
            pending.join("\n")
        );
    }
    if report.up_to_date {
        say!("Database schema is up to date!");
    }
}

/// A database with tables but no history: `deploy` would refuse it, so say how to baseline.
fn print_baseline_step(local: &[&str]) {
    let quoted: Vec<String> = local
        .iter()
        .map(|name| format!("'{}'", name.replace('\'', "'\\''")))
        .collect();
    say!(
        "The database has tables but no migration history (_prisma_migrations): it is not \
         managed yet, and deploy refuses it.\n\nBaseline it first: record each migration it \
         already contains as applied, without running it:\n  migration-gate resolve --applied \
         NAME\nor in one loop (keep only the names it already contains):\n  for m in {}; do \
         migration-gate resolve --applied \"$m\"; done\n\nThen migration-gate deploy applies the \
         rest.",
        quoted.join(" ")
    );
}
