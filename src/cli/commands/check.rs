//! `migration-gate check`: config → migrations dir → discover → which migrations are pending →
//! analysis → report → exit code.

use std::io::{IsTerminal, Write};

use crate::cli::CheckArgs;
use crate::db;
use crate::error::{exit, AppError, Result};
use crate::lint::cache::HistoryCache;
use crate::lint::engine::{self, AnalysisInput};
use crate::lint::pending;
use crate::lint::sizes;
use crate::project::config::{supported_pg_versions, Config, SUPPORTED_PG_VERSIONS};
use crate::project::deployer;
use crate::project::discover::{self, MigrationSet};
use crate::report::{self, RenderOptions};
use crate::trace::{self, TraceRequest};

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
    let note = deployer::settle(&mut config, args.deployer, &dir)?;
    // Read while the migrations are: see HistoryCache::prefetch.
    let cache = match args.no_cache {
        true => None,
        false => HistoryCache::for_dir(&dir).map(HistoryCache::prefetch),
    };
    let set = discover::discover(&dir)?;
    let selection = pending::for_check(&set, &args.migrations, args.since.as_deref(), &config)?;
    let stats = db::stats::for_check(
        args.stats.as_deref(),
        args.stats_database_url.as_deref(),
        &config,
    )?;
    let existing = selection.existing(&set);
    let mut report = engine::analyze_cached(
        AnalysisInput {
            existing: &existing,
            pending: &selection.pending,
            config: &config,
            extra_findings: selection.findings,
        },
        &selection.applied_elsewhere,
        cache.as_ref(),
    );
    if let Some(url) = &args.trace_database_url {
        let request = TraceRequest {
            url,
            history: &existing,
            pending: &selection.pending,
            config: &config,
        };
        trace::trace(&request, &mut report)?;
    }
    if let Some(stats) = &stats {
        let read_live = args.stats_database_url.is_some();
        sizes::judge_report(&mut report, stats, &config, read_live);
    }

    report.notes.extend(note);
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

/// The name of the migration `arg` designates, taken as `check` takes its MIGRATION arguments
/// (a name, its folder as the shell completes it, or its SQL file); the error names `flag`.
pub(crate) fn known_name(set: &MigrationSet, arg: &str, flag: &str) -> Result<String> {
    pending::known_name(set, arg, flag)
}

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
