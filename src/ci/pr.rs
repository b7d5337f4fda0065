//! The pull-request side of `ci`: which migrations the PR adds or modifies, the analysis, and
//! publishing the result (log annotations, job summary, sticky comment, check run).

use std::path::{Path, PathBuf};

use super::annotations::CheckAnnotation;
use super::event::Event;
use super::github::{self, CheckRun, CommentAction, GitHub};
use super::options::{CiOptions, FailOn};
use super::runner::RunnerFiles;
use super::{runtime, summary};
use crate::error::{exit, AppError, Result};
use crate::findings::{Report, Severity};
use crate::lint::cache::HistoryCache;
use crate::lint::engine::{analyze_cached, AnalysisInput};
use crate::lint::pending;
use crate::project::discover::{Migration, MigrationSet};
use crate::project::Project;
use crate::report::{self, OutputFormat, RenderOptions};

/// The check run's name, as it appears in the PR's checks list.
pub const CHECK_RUN_NAME: &str = "migration-gate";

/// The pull request being checked, from flags or the event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PrTarget {
    pub number: Option<u64>,
    pub base_sha: Option<String>,
    pub head_sha: Option<String>,
    pub from_fork: bool,
}

fn pr_target(args: &CiOptions, event: &Event) -> PrTarget {
    let gh = &args.github;
    let from_event = event.pull_request.as_ref();
    // A merge group has no pull request to comment on: its base and head are checked the same.
    let group = event.merge_group.as_ref();
    let event_base = from_event
        .map(|pr| pr.base_sha.clone())
        .or_else(|| group.map(|g| g.base_sha.clone()));
    let event_head = from_event
        .map(|pr| pr.head_sha.clone())
        .or_else(|| group.map(|g| g.head_sha.clone()));
    PrTarget {
        number: gh.pr.or(from_event.map(|pr| pr.number)),
        base_sha: gh.base_sha.clone().or(event_base),
        head_sha: gh.head_sha.clone().or(event_head),
        from_fork: from_event.is_some_and(|pr| pr.from_fork),
    }
}

pub fn check(args: &CiOptions, event: &Event, files: &RunnerFiles) -> Result<u8> {
    let gh = &args.github;
    let Project {
        mut config,
        dir,
        set,
    } = Project::load(&args.project)?;
    let deployer_note = crate::project::deployer::settle(&mut config, args.deployer, &dir)?;
    // As `check` does: read while the pull request's files are fetched (see HistoryCache::prefetch).
    let cache = HistoryCache::for_dir(&dir).map(HistoryCache::prefetch);
    let pr = pr_target(args, event);
    if let (None, Some(field)) = (&pr.base_sha, event.missing_field) {
        return Err(AppError::usage(format!(
            "{} event without {field}: the event payload is incomplete, so there is nothing to \
             compare the migrations against; re-run the job",
            event.name
        )));
    }
    if event.name == "pull_request_target" {
        refuse_base_checkout(&dir, gh.sha.as_deref(), pr.head_sha.as_deref())?;
    }
    let rt = runtime()?;
    // Octocrab's client spawns its worker on the current runtime.
    let _runtime = rt.enter();
    let client = github_client(args)?;
    let workspace = gh.workspace.as_deref();
    let selection = pending_migrations(&rt, client.as_ref(), &pr, &set, workspace)?;
    let pending = selection.pending;
    let existing: Vec<&Migration> = set
        .migrations
        .iter()
        .filter(|m| !pending.iter().any(|p| p.name == m.name))
        .collect();
    println!(
        "migration-gate: checking {} pending migration(s) of {}",
        pending.len(),
        dir.display()
    );
    let stats = crate::db::stats::for_check(
        args.stats.as_deref(),
        args.stats_database_url.as_deref(),
        &config,
    )?;
    let mut report = analyze_cached(
        AnalysisInput {
            existing: &existing,
            pending: &pending,
            config: &config,
            extra_findings: selection.findings,
        },
        &selection.applied_elsewhere,
        cache.as_ref(),
    );
    if let Some(url) = args.trace_database_url.as_deref().filter(|u| !u.is_empty()) {
        let request = crate::trace::TraceRequest {
            url,
            history: &existing,
            pending: &pending,
            config: &config,
        };
        // The trace drives its own runtime: on a thread of its own, outside this one's context.
        std::thread::scope(|scope| {
            scope
                .spawn(|| crate::trace::trace(&request, &mut report))
                .join()
                .unwrap_or_else(|_| Err(AppError::failed("the trace stopped unexpectedly")))
        })?;
    }
    if let Some(stats) = &stats {
        let read_live = args.stats_database_url.is_some();
        crate::lint::sizes::judge_report(&mut report, stats, &config, read_live);
    }
    report.notes.extend(deployer_note);
    let run_url = run_url(args);
    if let Some(group) = &event.merge_group {
        println!(
            "migration-gate: merge queue candidate {} onto {}",
            group.head_sha,
            if group.base_ref.is_empty() {
                &group.base_sha
            } else {
                &group.base_ref
            }
        );
    }
    let publish = Publish {
        pr: &pr,
        // The merge queue's commit belongs to no pull request: nowhere to comment.
        comment: !gh.no_comment && event.merge_group.is_none(),
        check_run: args.check_run,
        fail_on: args.fail_on,
        run_url: run_url.as_deref(),
        head_sha: pr.head_sha.clone().or_else(|| gh.sha.clone()),
    };
    let published = rt.block_on(publish_check(&publish, &report, client.as_ref(), files))?;
    // The same outputs as a deploy, so a workflow can branch on the check too.
    files.set_outputs(&[
        ("pending-count", pending.len().to_string()),
        ("needs-review", report.has_errors().to_string()),
    ])?;
    Ok(published.exit_code)
}

fn github_client(args: &CiOptions) -> Result<Option<GitHub>> {
    let gh = &args.github;
    let (Some(token), Some(repository)) = (
        gh.github_token.as_deref().filter(|t| !t.is_empty()),
        gh.repository.as_deref(),
    ) else {
        return Ok(None);
    };
    GitHub::new(&gh.api_url, token, repository)
        .map(Some)
        .map_err(|e| {
            AppError::usage(format!(
                "cannot set up the GitHub client ({e}): check GITHUB_API_URL"
            ))
        })
}

fn run_url(args: &CiOptions) -> Option<String> {
    let gh = &args.github;
    Some(format!(
        "{}/{}/actions/runs/{}",
        gh.server_url.trim_end_matches('/'),
        gh.repository.as_deref()?,
        gh.run_id.as_deref()?
    ))
}

fn pending_migrations<'a>(
    rt: &tokio::runtime::Runtime,
    client: Option<&GitHub>,
    pr: &PrTarget,
    set: &'a MigrationSet,
    workspace: Option<&Path>,
) -> Result<pending::Selection<'a>> {
    let Some(base) = &pr.base_sha else {
        return Err(AppError::usage(
            "no pull request to check: run the check on a pull_request or merge_group event (or outside Actions, pass --base-sha and --pr)",
        ));
    };
    let git_error = match pending::from_git(set, base) {
        Ok(selection) => return Ok(selection),
        Err(e) => e,
    };
    let git_reason = git_reason(&set.dir, base, &git_error);
    let Some(number) = pr.number else {
        // A merge group has no pull request whose files GitHub could list.
        return Err(AppError::usage(format!(
            "cannot tell which migrations changed ({git_reason}); use actions/checkout with `fetch-depth: 0` so the base commit is in the checkout"
        )));
    };
    let Some(client) = client else {
        return Err(AppError::usage(format!(
            "cannot tell which migrations the PR changed ({git_reason}); use actions/checkout with `fetch-depth: 0`, or keep the `token` input (the default github.token) so the PR's files can be listed"
        )));
    };
    println!(
        "migration-gate: the base commit is not in the checkout (shallow clone): asking GitHub for the files of PR #{number}"
    );
    let files = rt
        .block_on(client.pull_request_files(number))
        .map_err(|e| AppError::usage(format!("cannot list the files of PR #{number}: {e}")))?;
    let files: Vec<pending::PrFile> = files
        .into_iter()
        .map(|f| pending::PrFile {
            path: f.filename,
            status: f.status,
        })
        .collect();
    let root = repo_root(&set.dir, workspace);
    Ok(pending::from_files(set, &root, &files, base))
}

/// pull_request_target checks out the base branch (GITHUB_SHA) by default: the PR's migrations
/// are not in the working tree, and checking it would report a clean PR.
fn refuse_base_checkout(dir: &Path, event_sha: Option<&str>, head_sha: Option<&str>) -> Result<()> {
    let checkout = std::process::Command::new("git")
        .arg("-C")
        .arg(dir)
        .args(["rev-parse", "HEAD"])
        .output()
        .ok()
        .filter(|o| o.status.success())
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string());
    let Some(checkout) = checkout else {
        return Ok(());
    };
    if Some(checkout.as_str()) != event_sha || Some(checkout.as_str()) == head_sha {
        return Ok(());
    }
    Err(AppError::usage(format!(
        "pull_request_target checked out the base branch ({checkout}), not the pull request: its \
         migrations are not in the working tree; give actions/checkout \
         `ref: ${{{{ github.event.pull_request.head.sha }}}}` (the gate only reads the files, it \
         runs nothing from them), or run the check on `pull_request`"
    )))
}

/// Why git could not list the changes, in the Action's words: git's own errors advise on
/// `check --since` and MIGRATION arguments, which a workflow cannot pass.
fn git_reason(dir: &Path, base: &str, git_error: &AppError) -> String {
    let git_says = |args: &[&str]| {
        std::process::Command::new("git")
            .arg("-C")
            .arg(dir)
            .args(args)
            .output()
            .map(|o| o.status.success())
    };
    match git_says(&["rev-parse", "--is-inside-work-tree"]) {
        Err(_) => "git is not installed on the runner".to_string(),
        Ok(false) => format!("{} is not in a git checkout", dir.display()),
        Ok(true) => match git_says(&["cat-file", "-e", &format!("{base}^{{commit}}")]) {
            Ok(false) => format!("the base commit {base} is not in the checkout"),
            _ => git_error.message.clone(),
        },
    }
}

/// The checkout's root (PR file names are relative to it): the git top level, else
/// GITHUB_WORKSPACE, else the working directory.
fn repo_root(dir: &Path, workspace: Option<&Path>) -> PathBuf {
    std::process::Command::new("git")
        .arg("-C")
        .arg(dir)
        .args(["rev-parse", "--show-toplevel"])
        .output()
        .ok()
        .filter(|o| o.status.success())
        .map(|o| PathBuf::from(String::from_utf8_lossy(&o.stdout).trim()))
        .or_else(|| workspace.map(Path::to_path_buf))
        .unwrap_or_else(|| std::env::current_dir().unwrap_or_default())
}

/// GitHub being down must not turn a verdict into a failure (or a failure into exit 2): the job's
/// result and outputs stay the verdict's.
const VERDICT_STANDS: &str =
    "the verdict stands: the annotations, the job summary and the exit code carry it";

/// How a PR check is published.
pub struct Publish<'a> {
    pub pr: &'a PrTarget,
    pub comment: bool,
    pub check_run: bool,
    pub fail_on: FailOn,
    pub run_url: Option<&'a str>,
    pub head_sha: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Published {
    pub comment: Option<CommentAction>,
    pub check_run_id: Option<u64>,
    pub exit_code: u8,
}

/// Annotations in the log, the job summary, the sticky comment, the check run; and the exit
/// code per `--fail-on`. A token that may not comment or create checks (fork PRs), or a GitHub
/// API error, is a warning: the annotations and the summary still carry the result.
pub async fn publish_check(
    publish: &Publish<'_>,
    report: &Report,
    client: Option<&GitHub>,
    files: &RunnerFiles,
) -> Result<Published> {
    let options = RenderOptions {
        color: false,
        run_url: publish.run_url.map(str::to_string),
    };
    print!("{}", report::render(report, OutputFormat::Github, &options));
    let body = summary::pr_comment(report, publish.run_url);
    files.add_summary(&report::render(report, OutputFormat::Markdown, &options))?;
    let failed = match publish.fail_on {
        FailOn::Error => report.has_errors(),
        FailOn::Warning => !report.findings.is_empty(),
        FailOn::Never => false,
    };
    let mut published = Published {
        comment: None,
        check_run_id: None,
        exit_code: if failed { exit::FAILED } else { exit::OK },
    };
    let Some(client) = client else {
        if publish.comment || publish.check_run {
            println!("::notice::migration-gate: no GitHub token: no PR comment or check run (annotations and the job summary carry the result)");
        }
        return Ok(published);
    };
    // A PR that touches no migration gets no new comment; an existing one is still updated
    // (the PR may have dropped its migration).
    let worth_a_comment = !report.findings.is_empty()
        || !report.allowed.is_empty()
        || !report.migrations.is_empty()
        || report.summary.files > 0;
    if publish.comment {
        match publish.pr.number {
            None => println!("::warning::migration-gate: no pull request number: no PR comment"),
            Some(number) => match client.upsert_comment(number, &body, worth_a_comment).await {
                Ok(None) => println!("migration-gate: no migration changed and no earlier comment: not commenting"),
                Ok(Some(action)) => {
                    match action {
                        CommentAction::Created(id) => println!("migration-gate: created PR comment {id}"),
                        CommentAction::Updated(id) => println!("migration-gate: updated PR comment {id}"),
                    }
                    published.comment = Some(action);
                }
                Err(e) if e.is_permission_denied() => println!(
                    "::warning::migration-gate: cannot comment on PR #{number} ({e}){}; the annotations and the job summary still carry the result",
                    if publish.pr.from_fork { ": pull requests from forks get a read-only token" } else { ": give the job `permissions: pull-requests: write`" }
                ),
                Err(e) => println!("::warning::migration-gate: cannot comment on PR #{number} ({e}); {VERDICT_STANDS}"),
            },
        }
    }
    if publish.check_run {
        let Some(head_sha) = publish.head_sha.as_deref() else {
            println!("::warning::migration-gate: no head commit: no check run");
            return Ok(published);
        };
        let check_annotations: Vec<CheckAnnotation> = report
            .findings
            .iter()
            .map(CheckAnnotation::from_finding)
            .collect();
        let conclusion = if failed {
            "failure"
        } else if report
            .findings
            .iter()
            .any(|f| f.severity == Severity::Warning || f.severity == Severity::Error)
        {
            "neutral"
        } else {
            "success"
        };
        let verdict = summary::verdict(report);
        let check_summary = if body.chars().count() <= crate::report::GITHUB_COMMENT_LIMIT {
            body.replace(github::COMMENT_MARKER, "")
        } else {
            verdict.clone()
        };
        let run = CheckRun {
            name: CHECK_RUN_NAME,
            head_sha,
            conclusion,
            title: &verdict,
            summary: &check_summary,
            annotations: &check_annotations,
        };
        match client.publish_check_run(&run).await {
            Ok(id) => published.check_run_id = Some(id),
            Err(e) if e.is_permission_denied() => println!(
                "::warning::migration-gate: cannot create a check run ({e}); give the job `permissions: checks: write` (not possible on fork PRs)"
            ),
            Err(e) => println!(
                "::warning::migration-gate: cannot create the check run ({e}); {VERDICT_STANDS}"
            ),
        }
    }
    Ok(published)
}
