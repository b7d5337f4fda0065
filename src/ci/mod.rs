//! `migration-gate ci`: the GitHub Action's brain. Reads the runner environment and does the
//! right thing for the event: a pull request is checked ([`pr`]: annotations, job summary, one
//! sticky comment, optionally a check run); a push to the default branch or `workflow_dispatch`
//! deploys and fires the Vercel hook, reviews, or rolls back ([`deploy`]).

pub mod annotations;
pub mod deploy;
pub mod event;
pub mod github;
pub mod options;
pub mod pr;
pub mod runner;
pub mod summary;
pub mod vercel;

use crate::db::connection::url::DatabaseUrl;
use crate::db::session::runtime;
use crate::error::{exit, Result};

use event::Event;
use runner::RunnerFiles;

pub use deploy::{finish_deploy, finish_review, fire_hook};
pub use options::{CiMode, CiOptions, FailOn, GitHubEnv};
pub use pr::{publish_check, PrTarget, Publish, Published, CHECK_RUN_NAME};

/// Do what the runner's event (or `mode`) asks; returns the exit code.
pub fn run(args: &CiOptions) -> Result<u8> {
    let gh = &args.github;
    crate::surface::speak_as_action();
    mask_secrets(args);
    let event = Event::load(&gh.event_name, gh.event_path.as_deref())?;
    let mode = match args.mode {
        Some(mode) => mode,
        None => match event.mode()? {
            Some(mode) => mode,
            None => {
                println!(
                    "migration-gate: push to {} is not the default branch: nothing to deploy",
                    event.git_ref.as_deref().unwrap_or("a branch")
                );
                return Ok(exit::OK);
            }
        },
    };
    if matches!(
        mode,
        CiMode::Deploy | CiMode::ManualReview | CiMode::Rollback
    ) {
        event.refuse_production_off_default_branch(args.allow_any_branch)?;
    }
    let files = RunnerFiles {
        output: gh.output.clone(),
        step_summary: gh.step_summary.clone(),
    };
    match mode {
        CiMode::Check => pr::check(args, &event, &files),
        CiMode::Deploy => deploy::deploy(args, &files),
        CiMode::ManualReview => deploy::manual_review(args, &files),
        CiMode::Rollback => deploy::rollback(args, &event, &files),
    }
}

/// `::add-mask::` the database password, the hook URL and the token before anything is printed.
fn mask_secrets(args: &CiOptions) {
    let mut secrets = DatabaseUrl::resolve(args.database.url.as_deref())
        .map(|url| url.secrets())
        .unwrap_or_default();
    secrets.extend(args.vercel_hook_url.clone());
    if let Some(stats_url) = &args.stats_database_url {
        secrets.extend(
            DatabaseUrl::parse(stats_url)
                .map(|url| url.secrets())
                .unwrap_or_else(|_| vec![stats_url.clone()]),
        );
    }
    secrets.extend(args.github.github_token.clone());
    for line in runner::mask_commands(secrets.iter().map(String::as_str)) {
        println!("{line}");
    }
}
