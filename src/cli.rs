//! The command line: argument definitions and dispatch only. Each command's work lives in
//! [`crate::commands`].

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, Parser, Subcommand, ValueEnum};

use crate::commands;
use crate::error::{exit, AppError};

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
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum OutputFormat {
    Human,
    Json,
    Sarif,
    Github,
    Markdown,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum StatusFormat {
    Human,
    Json,
}

#[derive(Debug, Args)]
pub struct CheckArgs {
    /// Pending migrations: folder names, folders or their migration.sql. Every other migration in
    /// DIR is the existing history. None (and no --since): every migration is pending.
    #[arg(value_name = "MIGRATION")]
    pub migrations: Vec<String>,
    /// Migrations directory [default: prisma/migrations if present, else migrations]
    #[arg(long)]
    pub dir: Option<PathBuf>,
    /// Pending = migrations added or modified since this git ref.
    #[arg(long, value_name = "GIT_REF")]
    pub since: Option<String>,
    #[arg(long, value_enum, default_value_t = OutputFormat::Human)]
    pub format: OutputFormat,
    /// Config file [default: migration-gate.toml in the working directory, if present]
    #[arg(long)]
    pub config: Option<PathBuf>,
    /// Target PostgreSQL major version (overrides the config; default 15).
    #[arg(long, value_name = "N")]
    pub pg_version: Option<u32>,
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
    /// How long to wait for the migration advisory lock, in seconds.
    #[arg(long, value_name = "SECONDS", default_value_t = 10)]
    pub advisory_lock_timeout: u64,
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

/// Production-safety settings for statements that run against the database.
#[derive(Debug, Clone, Args)]
pub struct SafetyArgs {
    /// `SET lock_timeout` for every statement (PostgreSQL interval syntax: 5s, 500ms, 0 = none).
    #[arg(long, value_name = "DURATION", default_value = "5s")]
    pub lock_timeout: String,
    /// `SET statement_timeout` (default: none).
    #[arg(long, value_name = "DURATION")]
    pub statement_timeout: Option<String>,
    /// Retries of a transactional segment that hit the lock timeout.
    #[arg(long, value_name = "N", default_value_t = 3)]
    pub lock_retries: u32,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum BackupPolicy {
    /// Back up before a deploy with destructive findings.
    Destructive,
    /// Back up before every deploy.
    Always,
}

#[derive(Debug, Args)]
pub struct StatusArgs {
    #[command(flatten)]
    pub migrations: MigrationsArgs,
    #[command(flatten)]
    pub database: DatabaseArgs,
    #[arg(long, value_enum, default_value_t = StatusFormat::Human)]
    pub format: StatusFormat,
}

#[derive(Debug, Args)]
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
}

#[derive(Debug, Args)]
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

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum CiMode {
    /// Check the migrations a pull request adds or modifies.
    Check,
    /// Apply pending migrations, then fire the deploy hook.
    Deploy,
    /// Report what is pending and its dangers; change nothing.
    ManualReview,
    /// Roll back to --target, then fire the deploy hook.
    Rollback,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum FailOn {
    Error,
    Warning,
    Never,
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

pub fn main() -> ExitCode {
    report_panics_in_one_line();
    let cli = Cli::parse();
    let outcome = match cli.command {
        Command::Check(args) => commands::check::run(&args),
        Command::Status(args) => commands::status::run(&args),
        Command::Deploy(args) => commands::deploy::run(&args),
        Command::Resolve(args) => commands::resolve::run(&args),
        Command::Rollback(args) => commands::rollback::run(&args),
        Command::Ci(args) => commands::ci::run(&args),
    };
    match outcome {
        Ok(code) => ExitCode::from(code),
        Err(AppError { message, exit_code }) => {
            eprintln!("error: {message}");
            ExitCode::from(if exit_code == exit::OK {
                exit::USAGE
            } else {
                exit_code
            })
        }
    }
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
