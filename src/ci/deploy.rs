//! The deploy side of `ci`: deploy, manual review (a dry run), rollback; then the Vercel hook
//! (only after success), the step outputs and the job summary.

use std::time::Duration;

use super::event::Event;
use super::options::CiOptions;
use super::runner::RunnerFiles;
use super::runtime;
use super::summary::{self, HookReport};
use super::vercel::{self, RetryPolicy};
use crate::db::connection::url::DatabaseUrl;
use crate::error::{exit, AppError, Result};
use crate::migrate::{
    self, BackupPolicy, DeployOptions, DeployOutcome, RollbackOptions, RollbackTarget,
};
use crate::project::Project;
use crate::surface::Setting;

/// Mode deploy: apply what is pending, then the hook, outputs and summary.
pub fn deploy(args: &CiOptions, files: &RunnerFiles) -> Result<u8> {
    let outcome = run_deploy(args, false).map_err(|e| stopped(files, "deploy", e))?;
    finish_deploy(
        &outcome,
        args.vercel_hook_url.as_deref(),
        &hook_policy(args),
        files,
    )
}

/// Mode manual-review: a dry-run deploy and its review report.
pub fn manual_review(args: &CiOptions, files: &RunnerFiles) -> Result<u8> {
    let outcome = run_deploy(args, true).map_err(|e| stopped(files, "manual review", e))?;
    let database = DatabaseUrl::resolve(args.database.url.as_deref())
        .map(|u| u.display())
        .unwrap_or_else(|_| "the database".to_string());
    finish_review(&outcome, &database, files)
}

/// Mode rollback: down scripts to the target, then the hook, outputs and summary.
pub fn rollback(args: &CiOptions, event: &Event, files: &RunnerFiles) -> Result<u8> {
    let target = args
        .target
        .clone()
        .or_else(|| event.dispatch_target.clone())
        .ok_or_else(|| {
            AppError::usage(format!(
                "rollback needs a target: {}: the last migration to keep",
                Setting::RollbackTarget.instruction()
            ))
        })?;
    let options = RollbackOptions {
        database: args.database.clone(),
        safety: args.safety.clone(),
        target: RollbackTarget::To(target.clone()),
        dry_run: false,
    };
    let outcome = Project::load(&args.project)
        .and_then(|project| migrate::rollback(&project, &options))
        .map_err(|e| stopped(files, "rollback", e))?;
    let hook = match &outcome.failure {
        Some(_) => HookReport::Withheld,
        None => fire_hook(args.vercel_hook_url.as_deref(), &hook_policy(args)),
    };
    files.add_summary(&summary::rollback(&target, &outcome, &hook))?;
    files.set_outputs(&[
        ("rolled-back-count", outcome.rolled_back.len().to_string()),
        ("deploy-hook-job-id", hook_job_id(&hook)),
    ])?;
    Ok(if outcome.failure.is_some() {
        exit::FAILED
    } else {
        exit::OK
    })
}

/// A command that stopped before doing anything (no database, refused state): the job
/// summary says so too, and the hook is never fired.
fn stopped(files: &RunnerFiles, what: &str, err: AppError) -> AppError {
    let _ = files.add_summary(&format!(
        "## migration-gate: {what} stopped ❌\n\n{}\n\nNothing was changed; the Vercel deploy hook was **not** called.\n",
        err.message
    ));
    let _ = files.set_outputs(&[
        ("applied-count", "0".to_string()),
        ("deploy-hook-job-id", String::new()),
    ]);
    err
}

fn run_deploy(args: &CiOptions, dry_run: bool) -> Result<DeployOutcome> {
    let project = Project::load(&args.project)?;
    let options = DeployOptions {
        database: args.database.clone(),
        safety: args.safety.clone(),
        allow_destructive: args.allow_destructive,
        backup_dir: None,
        backup: BackupPolicy::Destructive,
        dry_run,
        to: None,
    };
    migrate::deploy(&project, &options)
}

fn hook_policy(args: &CiOptions) -> RetryPolicy {
    RetryPolicy {
        base_delay: Duration::from_millis(args.github.hook_retry_delay_ms),
        ..RetryPolicy::default()
    }
}

/// POST the deploy hook when one is configured.
pub fn fire_hook(url: Option<&str>, policy: &RetryPolicy) -> HookReport {
    let Some(url) = url.filter(|u| !u.trim().is_empty()) else {
        return HookReport::NotConfigured;
    };
    let result = match runtime() {
        Ok(rt) => rt.block_on(vercel::trigger(url.trim(), policy)),
        Err(e) => Err(e.message),
    };
    match result {
        Ok(job) => {
            println!("Vercel deploy hook: job {} ({})", job.id, job.state);
            HookReport::Fired(job)
        }
        Err(reason) => {
            println!("::error::Vercel deploy hook failed: {reason}");
            HookReport::Failed(reason)
        }
    }
}

fn hook_job_id(hook: &HookReport) -> String {
    match hook {
        HookReport::Fired(job) => job.id.clone(),
        _ => String::new(),
    }
}

/// After `deploy`: the hook (only on success), outputs, summary, exit code.
pub fn finish_deploy(
    outcome: &DeployOutcome,
    hook_url: Option<&str>,
    policy: &RetryPolicy,
    files: &RunnerFiles,
) -> Result<u8> {
    let hook = if outcome.failure.is_some() || outcome.needs_review {
        HookReport::Withheld
    } else {
        fire_hook(hook_url, policy)
    };
    files.set_outputs(&[
        ("applied-count", outcome.applied.len().to_string()),
        ("pending-count", outcome.pending.len().to_string()),
        ("needs-review", outcome.needs_review.to_string()),
        ("deploy-hook-job-id", hook_job_id(&hook)),
    ])?;
    files.add_summary(&summary::deploy(outcome, &hook))?;
    if outcome.needs_review {
        println!(
            "::error::migration-gate: the pending migrations need a manual review; nothing was applied. Run the dispatch workflow with type=manual-review."
        );
        return Ok(exit::NEEDS_REVIEW);
    }
    Ok(match (&outcome.failure, &hook) {
        (Some(_), _) | (None, HookReport::Failed(_)) => exit::FAILED,
        _ => exit::OK,
    })
}

/// After the dry-run deploy of manual-review: the review report, outputs; nothing changed.
pub fn finish_review(outcome: &DeployOutcome, database: &str, files: &RunnerFiles) -> Result<u8> {
    let needs_review = outcome.report.has_errors();
    files.set_outputs(&[
        ("applied-count", "0".to_string()),
        ("pending-count", outcome.pending.len().to_string()),
        ("needs-review", needs_review.to_string()),
        ("deploy-hook-job-id", String::new()),
    ])?;
    files.add_summary(&summary::review(
        database,
        &outcome.pending,
        &outcome.report,
    ))?;
    Ok(exit::OK)
}
