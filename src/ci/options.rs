//! What `ci` is asked to do, as plain values: the command line builds these from its flags and
//! the runner's environment.

use std::path::PathBuf;

use crate::migrate::{DatabaseOptions, SafetyOptions};
use crate::project::ProjectOptions;

/// What the Action does for this run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CiMode {
    /// Check the migrations a pull request adds or modifies.
    Check,
    /// Apply pending migrations, then fire the deploy hook.
    Deploy,
    /// Report what is pending and its dangers; change nothing.
    ManualReview,
    /// Roll back to the target, then fire the deploy hook.
    Rollback,
}

/// When the PR check fails the job.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FailOn {
    /// On error-level findings.
    Error,
    /// On any finding.
    Warning,
    /// Never.
    Never,
}

/// Everything `ci` needs.
#[derive(Debug, Clone)]
pub struct CiOptions {
    /// `None`: from the event (and the dispatch input `type`).
    pub mode: Option<CiMode>,
    pub project: ProjectOptions,
    pub database: DatabaseOptions,
    pub safety: SafetyOptions,
    /// The Vercel deploy hook (secret: never printed).
    pub vercel_hook_url: Option<String>,
    pub fail_on: FailOn,
    /// Also publish a check run with every annotation.
    pub check_run: bool,
    /// Rollback target migration name (mode rollback).
    pub target: Option<String>,
    /// Apply destructive migrations (the approved half of manual-review).
    pub allow_destructive: bool,
    /// Let deploy, manual-review or rollback run from a branch other than the default one.
    pub allow_any_branch: bool,
    /// Table sizes for the PR check: a file in the repository (`stats-file`) ...
    pub stats: Option<PathBuf>,
    /// ... or read live through this URL of a read-only role (secret: never printed).
    pub stats_database_url: Option<String>,
    /// Who deploys in production, for the PR check (`None`: the config's, by default ours).
    pub deployer: Option<crate::project::deployer::Deployer>,
    /// The PR check also traces the pending migrations on this server.
    pub trace_database_url: Option<String>,
    pub github: GitHubEnv,
}

/// The runner environment (each value also settable by a flag, so `ci` runs the same outside
/// Actions).
#[derive(Debug, Clone, Default)]
pub struct GitHubEnv {
    pub event_name: String,
    /// The event payload (JSON).
    pub event_path: Option<PathBuf>,
    /// owner/repo.
    pub repository: Option<String>,
    pub api_url: String,
    pub server_url: String,
    pub run_id: Option<String>,
    /// Commit the check run is attached to (default: the PR head).
    pub sha: Option<String>,
    /// Repository checkout (default: the working directory).
    pub workspace: Option<PathBuf>,
    /// File the job summary is appended to (`None`: stdout).
    pub step_summary: Option<PathBuf>,
    /// File step outputs are appended to (`None`: stdout).
    pub output: Option<PathBuf>,
    /// Token for the GitHub API (secret: never printed).
    pub github_token: Option<String>,
    /// Pull request number (`None`: from the event).
    pub pr: Option<u64>,
    pub base_sha: Option<String>,
    pub head_sha: Option<String>,
    /// Do not create or update the PR comment.
    pub no_comment: bool,
    /// Delay before the first deploy-hook retry, in milliseconds (doubles per retry).
    pub hook_retry_delay_ms: u64,
}
