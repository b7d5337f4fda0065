//! The command line: argument definitions and dispatch. [`options`] turns the arguments into the
//! plain option structs of the layers below; each command's handler in [`commands`] calls the
//! layer that does the work, prints its outcome and returns the exit code.

pub mod commands;
pub mod options;

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use clap::{Args, Parser, Subcommand, ValueEnum};

use crate::ci::{CiMode, FailOn};
use crate::error::{exit, AppError};
use crate::migrate::BackupPolicy;
use crate::report::OutputFormat;

#[derive(Debug, Parser)]
#[command(
    name = "migration-gate",
    version,
    about = "Gate SQL migrations before they reach production PostgreSQL",
    propagate_version = true
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Classify every pending migration statement and report the dangerous ones.
    Check(CheckArgs),
    /// Show applied, pending, failed, edited and missing migrations of a database.
    Status(StatusArgs),
    /// Apply pending migrations (Prisma-compatible history), gated by the analysis.
    Deploy(DeployArgs),
    /// Mark a migration as applied (baselining) or rolled back (recovering a failed one).
    Resolve(ResolveArgs),
    /// Run `down.sql` scripts of applied migrations, newest first.
    Rollback(RollbackArgs),
    /// Run as the GitHub Action: does the right thing for the runner's event.
    Ci(CiArgs),
    /// List every rule: id, default severity, what it flags.
    Rules,
    /// Explain one rule: what it flags, what happens in production, the SQL to write instead.
    Explain(ExplainArgs),
    /// Write every table's size (estimated rows, bytes, indexes) for `check --stats`.
    Stats(StatsArgs),
}

#[derive(Debug, Args)]
pub struct ExplainArgs {
    /// A rule id, as `migration-gate rules` lists them (e.g. drop-column).
    #[arg(value_name = "RULE")]
    pub rule: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum StatusFormat {
    /// A table of migrations and what to do next.
    Human,
    /// One JSON object with every migration's state and timestamps.
    Json,
}

#[derive(Debug, Args)]
pub struct CheckArgs {
    /// Pending migrations: folder names, folders or their migration.sql. Every other migration in
    /// DIR is the existing history. None (and no --since or start_after): on a git branch other
    /// than the default one, as --since <default branch>; else every migration is pending.
    #[arg(value_name = "MIGRATION")]
    pub migrations: Vec<String>,
    /// Migrations directory [default: prisma/migrations if present, else migrations]
    #[arg(long)]
    pub dir: Option<PathBuf>,
    /// Pending = migrations added or modified since this git ref.
    #[arg(long, value_name = "GIT_REF")]
    pub since: Option<String>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = OutputFormat::Human)]
    pub format: OutputFormat,
    /// Config file [default: migration-gate.toml in the working directory, if present]
    #[arg(long)]
    pub config: Option<PathBuf>,
    /// Target PostgreSQL major version (overrides the config; default 15).
    #[arg(long, value_name = "N", value_parser = parse_pg_version)]
    pub pg_version: Option<u32>,
    /// Table sizes written by `migration-gate stats`: lock, scan and rewrite findings on small
    /// tables become warnings (overrides the config's `stats`).
    #[arg(long, value_name = "FILE")]
    pub stats: Option<PathBuf>,
    /// Read the table sizes live from this database (a read-only role will do; never printed).
    #[arg(long, value_name = "URL", conflicts_with = "stats")]
    pub stats_database_url: Option<String>,
    /// Who applies the migrations in production: migration-gate or prisma (`prisma migrate
    /// deploy`); decides which statements share a transaction (overrides the config's
    /// `deployer`; default migration-gate).
    #[arg(long, value_name = "DEPLOYER", value_parser = parse_deployer)]
    pub deployer: Option<crate::project::deployer::Deployer>,
    /// Also run the pending migrations on this PostgreSQL server (a disposable one: a CI service
    /// container, never production) and report what they did there: the tool creates a scratch
    /// database (always dropped) and keeps a template of the replayed history for the next run.
    #[arg(
        long,
        value_name = "URL",
        env = "MIGRATION_GATE_TRACE_DATABASE_URL",
        hide_env_values = true
    )]
    pub trace_database_url: Option<String>,
    /// Neither read nor write the cache of the history's schema (kept per migrations directory
    /// in MIGRATION_GATE_CACHE_DIR, else the user's cache folder, e.g. ~/.cache/migration-gate).
    #[arg(long)]
    pub no_cache: bool,
}

/// `stats` reads the catalog only: the writing commands' flags are accepted but not shown.
#[derive(Debug, Args)]
#[command(
    mut_arg("allow_pooled", |arg| arg.hide(true)),
    mut_arg("advisory_lock_timeout", |arg| arg.hide(true)),
    after_help = DATABASE_ENV_HELP
)]
pub struct StatsArgs {
    #[command(flatten)]
    pub database: DatabaseArgs,
    /// Write the JSON here instead of to stdout.
    #[arg(long, value_name = "FILE")]
    pub output: Option<PathBuf>,
}

/// How to reach the database. The URL comes from --database-url, else the environment:
/// DIRECT_URL, DATABASE_URL_UNPOOLED, POSTGRES_URL_NON_POOLING, DATABASE_URL, POSTGRES_URL.
#[derive(Debug, Clone, Args)]
pub struct DatabaseArgs {
    /// PostgreSQL URL (never printed). Prefer the direct, unpooled URL.
    #[arg(long, value_name = "URL")]
    pub database_url: Option<String>,
    /// Allow a pooled URL (pgbouncer=true, port 6432, -pooler host) for writing commands.
    #[arg(long)]
    pub allow_pooled: bool,
    /// How long to wait for the migration advisory lock (10s, 500ms, 2m; a bare number is
    /// seconds; 0 = no timeout).
    #[arg(long, value_name = "DURATION", default_value = "10s", value_parser = parse_duration)]
    pub advisory_lock_timeout: Duration,
}

#[derive(Debug, Clone, Args)]
pub struct MigrationsArgs {
    /// Migrations directory [default: prisma/migrations if present, else migrations]
    #[arg(long)]
    pub dir: Option<PathBuf>,
    /// Config file [default: migration-gate.toml in the working directory, if present]
    #[arg(long)]
    pub config: Option<PathBuf>,
}

impl MigrationsArgs {
    /// The plain options the project layer takes.
    pub fn project(&self) -> crate::project::ProjectOptions {
        crate::project::ProjectOptions {
            config: self.config.clone(),
            dir: self.dir.clone(),
        }
    }
}

/// Production-safety settings for statements that run against the database.
#[derive(Debug, Clone, Args)]
pub struct SafetyArgs {
    /// `SET lock_timeout` for every statement (5s, 500ms, 2m; a bare number is seconds; 0 =
    /// none).
    #[arg(long, value_name = "DURATION", default_value = "5s", value_parser = parse_timeout_setting)]
    pub lock_timeout: String,
    /// `SET statement_timeout` (5s, 500ms, 2m; a bare number is seconds) [default: none].
    #[arg(long, value_name = "DURATION", value_parser = parse_timeout_setting)]
    pub statement_timeout: Option<String>,
    /// Retries of a transactional segment that hit the lock timeout.
    #[arg(long, value_name = "N", default_value_t = 3)]
    pub lock_retries: u32,
}

/// `status` reads and takes no lock: the writing commands' flags are accepted but not shown.
#[derive(Debug, Args)]
#[command(
    mut_arg("allow_pooled", |arg| arg.hide(true)),
    mut_arg("advisory_lock_timeout", |arg| arg.hide(true)),
    after_help = DATABASE_ENV_HELP
)]
pub struct StatusArgs {
    #[command(flatten)]
    pub migrations: MigrationsArgs,
    #[command(flatten)]
    pub database: DatabaseArgs,
    /// Output format.
    #[arg(long, value_enum, default_value_t = StatusFormat::Human)]
    pub format: StatusFormat,
}

/// Where the database URL comes from, for the `--help` of every command that connects.
const DATABASE_ENV_HELP: &str = "Database URL: --database-url, else the first set of DIRECT_URL, \
DATABASE_URL_UNPOOLED, POSTGRES_URL_NON_POOLING, DATABASE_URL, POSTGRES_URL. Each is read from the \
environment, else from .env in the working directory or prisma/.env (as Prisma reads them). Any \
of them set in the environment wins over every variable of the files.";

#[derive(Debug, Args)]
#[command(after_help = DATABASE_ENV_HELP)]
pub struct DeployArgs {
    #[command(flatten)]
    pub migrations: MigrationsArgs,
    #[command(flatten)]
    pub database: DatabaseArgs,
    #[command(flatten)]
    pub safety: SafetyArgs,
    /// Apply even when the analysis finds error-level findings (after a human review).
    #[arg(long)]
    pub allow_destructive: bool,
    /// Run `pg_dump -Fc` into this directory before applying destructive migrations.
    #[arg(long, value_name = "DIR")]
    pub backup_dir: Option<PathBuf>,
    /// When to back up (needs --backup-dir).
    #[arg(long, value_enum, default_value_t = BackupPolicy::Destructive)]
    pub backup: BackupPolicy,
    /// Show the plan (pending migrations, segments, findings) without writing anything.
    #[arg(long)]
    pub dry_run: bool,
    /// Apply the pending migrations up to and including NAME only.
    #[arg(long, value_name = "NAME")]
    pub to: Option<String>,
}

#[derive(Debug, Args)]
#[command(after_help = DATABASE_ENV_HELP)]
#[command(group(clap::ArgGroup::new("resolution").required(true).args(["applied", "rolled_back"])))]
pub struct ResolveArgs {
    #[command(flatten)]
    pub migrations: MigrationsArgs,
    #[command(flatten)]
    pub database: DatabaseArgs,
    /// Record NAME as applied without running it (baselining).
    #[arg(long, value_name = "NAME")]
    pub applied: Option<String>,
    /// Record the failed migration NAME as rolled back so it can be fixed and re-applied.
    #[arg(long, value_name = "NAME")]
    pub rolled_back: Option<String>,
}

#[derive(Debug, Args)]
#[command(after_help = DATABASE_ENV_HELP)]
#[command(group(clap::ArgGroup::new("target").required(true).args(["to", "steps"])))]
pub struct RollbackArgs {
    #[command(flatten)]
    pub migrations: MigrationsArgs,
    #[command(flatten)]
    pub database: DatabaseArgs,
    #[command(flatten)]
    pub safety: SafetyArgs,
    /// Roll back every applied migration after NAME (NAME itself stays applied).
    #[arg(long, value_name = "NAME")]
    pub to: Option<String>,
    /// Roll back the newest N applied migrations.
    #[arg(long, value_name = "N")]
    pub steps: Option<usize>,
    /// Print the plan without touching the database.
    #[arg(long)]
    pub dry_run: bool,
}

#[derive(Debug, Args)]
pub struct CiArgs {
    /// What to do [default: from GITHUB_EVENT_NAME and the dispatch input `type`].
    #[arg(long, value_enum)]
    pub mode: Option<CiMode>,
    #[command(flatten)]
    pub migrations: MigrationsArgs,
    #[command(flatten)]
    pub database: DatabaseArgs,
    #[command(flatten)]
    pub safety: SafetyArgs,
    /// Vercel deploy hook URL (never printed).
    #[arg(
        long,
        value_name = "URL",
        env = "VERCEL_DEPLOY_HOOK_URL",
        hide_env_values = true
    )]
    pub vercel_hook_url: Option<String>,
    /// When the PR check fails the job.
    #[arg(long, value_enum, default_value_t = FailOn::Error)]
    pub fail_on: FailOn,
    /// Also publish a check run with every annotation.
    #[arg(long)]
    pub check_run: bool,
    /// Rollback target migration name (mode rollback).
    #[arg(long, value_name = "NAME")]
    pub target: Option<String>,
    /// Apply destructive migrations (the approved half of manual-review).
    #[arg(long)]
    pub allow_destructive: bool,
    /// Let deploy, manual-review or rollback run from a branch other than the default one.
    #[arg(long)]
    pub allow_any_branch: bool,
    /// Table sizes for the PR check, as `check --stats` (overrides the config's `stats`).
    #[arg(long, value_name = "FILE")]
    pub stats: Option<PathBuf>,
    /// Read the table sizes for the PR check live through this URL (a read-only role; never
    /// printed).
    #[arg(
        long,
        value_name = "URL",
        env = "MIGRATION_GATE_STATS_DATABASE_URL",
        hide_env_values = true
    )]
    pub stats_database_url: Option<String>,
    /// Who applies the migrations in production, for the PR check: migration-gate or prisma
    /// (overrides the config's `deployer`; default migration-gate, this action's deploy).
    #[arg(long, value_name = "DEPLOYER", value_parser = parse_deployer)]
    pub deployer: Option<crate::project::deployer::Deployer>,
    /// The PR check also traces the pending migrations on this disposable PostgreSQL server (a
    /// `services:` container; never production), as `check --trace-database-url` does.
    #[arg(
        long,
        value_name = "URL",
        env = "MIGRATION_GATE_TRACE_DATABASE_URL",
        hide_env_values = true
    )]
    pub trace_database_url: Option<String>,
    /// Boxed: the runner settings would make `Command` lopsided in size.
    #[command(flatten)]
    pub github: Box<GitHubArgs>,
}

/// The runner environment; each value has a flag so `ci` runs the same outside Actions.
#[derive(Debug, Clone, Default, Args)]
pub struct GitHubArgs {
    /// Event that triggered the run (pull_request, push, workflow_dispatch).
    #[arg(long, env = "GITHUB_EVENT_NAME", default_value = "")]
    pub event_name: String,
    /// The event payload (JSON).
    #[arg(long, value_name = "FILE", env = "GITHUB_EVENT_PATH")]
    pub event_path: Option<PathBuf>,
    /// owner/repo.
    #[arg(long, value_name = "OWNER/REPO", env = "GITHUB_REPOSITORY")]
    pub repository: Option<String>,
    #[arg(
        long,
        value_name = "URL",
        env = "GITHUB_API_URL",
        default_value = "https://api.github.com"
    )]
    pub api_url: String,
    #[arg(
        long,
        value_name = "URL",
        env = "GITHUB_SERVER_URL",
        default_value = "https://github.com"
    )]
    pub server_url: String,
    #[arg(long, value_name = "ID", env = "GITHUB_RUN_ID")]
    pub run_id: Option<String>,
    /// Commit the check run is attached to (default: the PR head, else GITHUB_SHA).
    #[arg(long, value_name = "SHA", env = "GITHUB_SHA")]
    pub sha: Option<String>,
    /// Repository checkout (default: the working directory).
    #[arg(long, value_name = "DIR", env = "GITHUB_WORKSPACE")]
    pub workspace: Option<PathBuf>,
    /// File the job summary (markdown) is appended to [default: stdout].
    #[arg(long, value_name = "FILE", env = "GITHUB_STEP_SUMMARY")]
    pub step_summary: Option<PathBuf>,
    /// File step outputs are appended to [default: stdout].
    #[arg(long, value_name = "FILE", env = "GITHUB_OUTPUT")]
    pub output: Option<PathBuf>,
    /// Token for the GitHub API (never printed). Without it: annotations and summary only.
    #[arg(
        long,
        value_name = "TOKEN",
        env = "GITHUB_TOKEN",
        hide_env_values = true
    )]
    pub github_token: Option<String>,
    /// Pull request number (default: from the event).
    #[arg(long, value_name = "N")]
    pub pr: Option<u64>,
    /// Base commit of the pull request (default: from the event).
    #[arg(long, value_name = "SHA")]
    pub base_sha: Option<String>,
    /// Head commit of the pull request (default: from the event).
    #[arg(long, value_name = "SHA")]
    pub head_sha: Option<String>,
    /// Do not create or update the PR comment.
    #[arg(long)]
    pub no_comment: bool,
    /// Delay before the first deploy-hook retry, in milliseconds (doubles per retry).
    #[arg(long, value_name = "MS", default_value_t = 2000, hide = true)]
    pub hook_retry_delay_ms: u64,
}

/// Parse the arguments, run the command, and turn its outcome into the exit code.
pub fn main() -> ExitCode {
    report_panics_in_one_line();
    let cli = parse_arguments();
    let outcome = match cli.command {
        Command::Check(args) => commands::check::run(&args),
        Command::Status(args) => commands::status::run(&args),
        Command::Deploy(args) => commands::deploy::run(&args),
        Command::Resolve(args) => commands::resolve::run(&args),
        Command::Rollback(args) => commands::rollback::run(&args),
        Command::Ci(args) => commands::ci::run(&args),
        Command::Rules => commands::rules::list(),
        Command::Explain(args) => commands::rules::explain(&args.rule),
        Command::Stats(args) => commands::stats::run(&args),
    };
    match outcome {
        Ok(code) => ExitCode::from(code),
        Err(AppError { message, exit_code }) => {
            // Ignoring a closed stderr: the exit code still tells what happened.
            use std::io::Write;
            let _ = writeln!(std::io::stderr(), "error: {message}");
            ExitCode::from(if exit_code == exit::OK {
                exit::USAGE
            } else {
                exit_code
            })
        }
    }
}

/// Clap's own errors, except that a rejected value (a bad duration) is one line: the flag, the
/// value and what is accepted, with the usage exit code.
fn parse_arguments() -> Cli {
    Cli::try_parse().unwrap_or_else(|err| {
        if err.kind() == clap::error::ErrorKind::ValueValidation {
            let rendered = err.to_string();
            eprintln!("{}", rendered.lines().next().unwrap_or_default());
            std::process::exit(i32::from(exit::USAGE));
        }
        err.exit()
    })
}

/// The one duration syntax of every duration flag: an integer with `ms`, `s`, `m`/`min` or `h`;
/// a bare integer is seconds (as `--advisory-lock-timeout` always read it).
pub fn parse_duration(text: &str) -> std::result::Result<Duration, String> {
    let text = text.trim();
    let split = text
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(text.len());
    let (number, unit) = text.split_at(split);
    let accepted = "use a whole number with a unit: 500ms, 5s, 2m, 1h (a bare number is seconds)";
    let number: u64 = number
        .parse()
        .map_err(|_| format!("`{text}` is not a duration; {accepted}"))?;
    let millis_per_unit = match unit.trim() {
        "ms" => 1,
        "" | "s" => 1_000,
        "m" | "min" => 60_000,
        "h" => 3_600_000,
        other => return Err(format!("unknown unit `{other}`; {accepted}")),
    };
    number
        .checked_mul(millis_per_unit)
        .map(Duration::from_millis)
        .ok_or_else(|| format!("`{text}` is too long; {accepted}"))
}

fn parse_deployer(text: &str) -> std::result::Result<crate::project::deployer::Deployer, String> {
    crate::project::deployer::Deployer::parse(text).ok_or_else(|| {
        format!(
            "`{text}` is not a deployer; use {}",
            crate::project::deployer::Deployer::NAMES
        )
    })
}

/// A major version number; the range is checked with the config's `pg_version`. A minor version
/// (`15.4`, as `SELECT version()` prints it) gets its major version as the suggestion.
fn parse_pg_version(text: &str) -> std::result::Result<u32, String> {
    text.trim().parse().map_err(|_| {
        let example = text
            .trim()
            .split('.')
            .next()
            .filter(|major| major.parse::<u32>().is_ok())
            .unwrap_or("15");
        format!(
            "not a PostgreSQL major version; the rules know {}, e.g. --pg-version {example}",
            crate::project::config::supported_pg_versions()
        )
    })
}

/// A duration for PostgreSQL's `lock_timeout` / `statement_timeout`, which count milliseconds
/// in an int: normalised to `<N>ms` so that `5` cannot mean 5 ms there and 5 s elsewhere.
fn parse_timeout_setting(text: &str) -> std::result::Result<String, String> {
    let duration = parse_duration(text)?;
    let millis = duration.as_millis();
    if millis > i32::MAX as u128 {
        return Err(format!(
            "`{text}` is longer than PostgreSQL accepts (about 24 days)"
        ));
    }
    Ok(format!("{millis}ms"))
}

/// A bug must still read as one line, not a backtrace: the SQL front end and the rules catch
/// their own panics and report the statement as not understood, and anything else ends the
/// process with this line.
fn report_panics_in_one_line() {
    std::panic::set_hook(Box::new(|info| {
        let what = info
            .payload()
            .downcast_ref::<&str>()
            .map(|s| s.to_string())
            .or_else(|| info.payload().downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "unknown cause".to_string());
        if what.starts_with("failed printing to std") && what.contains("Broken pipe") {
            // The reader went away (`status | head`): nothing left to tell anyone.
            std::process::exit(i32::from(exit::FAILED));
        }
        let place = info
            .location()
            .map(|l| format!(" at {}:{}", l.file(), l.line()))
            .unwrap_or_default();
        eprintln!(
            "error: internal error in migration-gate ({}{place}); please report it",
            what.lines().next().unwrap_or_default()
        );
    }));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_duration_syntax_with_bare_numbers_in_seconds() {
        let ms = |text: &str| parse_duration(text).map(|d| d.as_millis());
        assert_eq!(ms("500ms"), Ok(500));
        assert_eq!(ms("5s"), Ok(5_000));
        assert_eq!(ms("5"), Ok(5_000));
        assert_eq!(ms("2m"), Ok(120_000));
        assert_eq!(ms("2min"), Ok(120_000));
        assert_eq!(ms("1h"), Ok(3_600_000));
        assert_eq!(ms("0"), Ok(0));
        for bad in ["", "s", "5x", "-1", "1.5s", "99999999999999999999"] {
            let err = parse_duration(bad).unwrap_err();
            assert!(err.contains("500ms, 5s, 2m"), "{bad}: {err}");
        }
        assert_eq!(parse_timeout_setting("5").as_deref(), Ok("5000ms"));
        assert!(parse_timeout_setting("1000h")
            .unwrap_err()
            .contains("longer than PostgreSQL accepts"));
    }
}
