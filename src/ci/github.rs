//! The GitHub REST calls the gate makes, on octocrab (token auth, base URL from
//! `GITHUB_API_URL` so GitHub Enterprise and local test servers work): the sticky PR comment,
//! the PR's changed files, and the check run.

use std::time::Duration;

use octocrab::service::middleware::retry::RetryConfig;
use octocrab::{Octocrab, Page};
use serde::Deserialize;
use serde_json::json;

use super::annotations::CheckAnnotation;
use crate::db::connection::secrets::redact_server_text;

/// Hidden marker that identifies the gate's own PR comment.
pub const COMMENT_MARKER: &str = "<!-- migration-gate:sticky-comment -->";
/// Attempts at a write that is not safe to repeat blindly (creating the sticky comment or the
/// check run, appending annotations) when GitHub answers 5xx or cannot be reached.
const WRITE_ATTEMPTS: u32 = 3;
/// The longest wait for GitHub to accept the connection or to send the next part of an answer.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);
/// GitHub rejects check-run updates with more annotations than this.
pub const ANNOTATIONS_PER_REQUEST: usize = 50;

/// A failed GitHub call, reduced to what decides the reaction (403 on a fork is a warning).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiError {
    pub status: Option<u16>,
    pub message: String,
    /// GitHub refused because the token's rate limit is used up (a 403 or 429): not a missing
    /// permission, and nothing the workflow's `permissions:` can fix.
    pub rate_limited: bool,
}

impl ApiError {
    /// GitHub may have done the work anyway (a 502 from the proxy in front of it, a lost
    /// answer): worth checking, then retrying.
    fn may_have_succeeded(&self) -> bool {
        self.status.is_none_or(|status| status >= 500)
    }

    /// The token may not do this (fork PR, missing `permissions:`).
    pub fn is_permission_denied(&self) -> bool {
        !self.rate_limited && matches!(self.status, Some(403) | Some(404))
    }
}

impl std::fmt::Display for ApiError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.status {
            Some(status) if self.rate_limited => write!(
                f,
                "GitHub answered {status}, the token's API rate limit is used up: {}",
                self.message
            ),
            Some(status) => write!(f, "GitHub answered {status}: {}", self.message),
            None => write!(f, "GitHub unreachable: {}", self.message),
        }
    }
}

impl From<octocrab::Error> for ApiError {
    fn from(err: octocrab::Error) -> Self {
        match err {
            octocrab::Error::GitHub { source, .. } => {
                let status = source.status_code.as_u16();
                let header = |name: &str| {
                    source
                        .headers
                        .as_ref()
                        .and_then(|h| h.get(name))
                        .and_then(|v| v.to_str().ok())
                        .map(str::to_string)
                };
                // GitHub's documented signals: x-ratelimit-remaining 0 or retry-after; its
                // secondary-limit 403 carries only the message.
                let rate_limited = status == 429
                    || (status == 403
                        && (header("x-ratelimit-remaining").as_deref() == Some("0")
                            || header("retry-after").is_some()
                            || source.message.to_lowercase().contains("rate limit")));
                ApiError {
                    status: Some(status),
                    message: one_line(&source.message),
                    rate_limited,
                }
            }
            other => ApiError {
                status: None,
                // The Display of octocrab errors can carry a backtrace: keep the first line.
                message: other.to_string().lines().next().unwrap_or("").to_string(),
                rate_limited: false,
            },
        }
    }
}

pub type ApiResult<T> = std::result::Result<T, ApiError>;

/// GitHub's message on one short line: it goes into a `::warning::` workflow command, which ends
/// at the first line break, and a proxy in front of GitHub answers with a whole HTML page.
fn one_line(message: &str) -> String {
    const MAX_CHARS: usize = 300;
    let text = if message.trim_start().starts_with('<') {
        let mut text = String::new();
        let mut in_tag = false;
        for c in message.chars() {
            match c {
                '<' => in_tag = true,
                '>' if in_tag => {
                    in_tag = false;
                    text.push(' ');
                }
                c if !in_tag => text.push(c),
                _ => {}
            }
        }
        text
    } else {
        message.to_string()
    };
    let words: Vec<&str> = text.split_whitespace().collect();
    let line = words.join(" ");
    if line.chars().count() <= MAX_CHARS {
        line
    } else {
        format!("{}…", line.chars().take(MAX_CHARS).collect::<String>())
    }
}

#[derive(Debug, Clone, Deserialize)]
struct IssueComment {
    id: u64,
    #[serde(default)]
    body: Option<String>,
}

/// One file of a pull request (`GET /repos/{o}/{r}/pulls/{n}/files`).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct ChangedFile {
    pub filename: String,
    /// added, removed, modified, renamed, copied, changed, unchanged.
    pub status: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CommentAction {
    Created(u64),
    Updated(u64),
}

pub struct GitHub {
    /// Retries 5xx and network errors itself: only for reads and idempotent updates.
    octo: Octocrab,
    /// Never retries: a create that GitHub performed but answered 502 would be repeated.
    octo_once: Octocrab,
    /// Pause before re-reading after a failed create.
    retry_delay: Duration,
    /// Kept to redact it from what GitHub answers.
    token: String,
    /// `owner/repo`.
    repository: String,
}

impl GitHub {
    /// Needs a tokio runtime (octocrab's client spawns on it).
    pub fn new(api_url: &str, token: &str, repository: &str) -> ApiResult<GitHub> {
        GitHub::with_timeout(api_url, token, repository, REQUEST_TIMEOUT)
    }

    /// [`GitHub::new`] with another limit on connecting and on each wait for the server (tests).
    pub fn with_timeout(
        api_url: &str,
        token: &str,
        repository: &str,
        timeout: Duration,
    ) -> ApiResult<GitHub> {
        let client = |retry: RetryConfig| {
            // octocrab waits forever by default: a stuck proxy in front of GitHub would hold the
            // job until its own timeout, hours later.
            Octocrab::builder()
                .set_connect_timeout(Some(timeout))
                .set_read_timeout(Some(timeout))
                .set_write_timeout(Some(timeout))
                .add_retry_config(retry)
                .base_uri(api_url.trim_end_matches('/'))
                .map_err(ApiError::from)?
                .personal_token(token.to_string())
                .build()
                .map_err(ApiError::from)
        };
        Ok(GitHub {
            octo: client(RetryConfig::Simple(3))?,
            octo_once: client(RetryConfig::None)?,
            retry_delay: Duration::from_secs(2),
            token: token.to_string(),
            repository: repository.to_string(),
        })
    }

    /// A shorter pause between attempts (tests).
    pub fn with_retry_delay(mut self, delay: Duration) -> GitHub {
        self.retry_delay = delay;
        self
    }

    /// The gate's comment on the PR, if there is one: the marker opens it. A person's comment
    /// that quotes the gate's markdown has it further down, and is never overwritten.
    async fn find_comment(&self, pr: u64) -> ApiResult<Option<IssueComment>> {
        let comments: Vec<IssueComment> = self
            .all_pages(&format!("/repos/{}/issues/{pr}/comments", self.repository))
            .await?;
        Ok(comments.into_iter().find(|c| {
            c.body
                .as_deref()
                .is_some_and(|body| body.trim_start().starts_with(COMMENT_MARKER))
        }))
    }

    /// Create the comment; after a 5xx or a lost answer, look for it by its marker before trying
    /// again, since GitHub often created it anyway.
    async fn create_comment(&self, pr: u64, payload: &serde_json::Value) -> ApiResult<u64> {
        let route = format!("/repos/{}/issues/{pr}/comments", self.repository);
        self.create_once(
            &route,
            payload,
            |c: &IssueComment| c.id,
            || async { Ok(self.find_comment(pr).await?.map(|c| c.id)) },
        )
        .await
    }

    /// POST without octocrab's blind retry; after a 5xx or a lost answer, ask `stored_anyway`
    /// whether GitHub created it regardless before trying again, since a second POST would
    /// create a duplicate.
    async fn create_once<T, Stored>(
        &self,
        route: &str,
        payload: &serde_json::Value,
        id_of: fn(&T) -> u64,
        stored_anyway: impl Fn() -> Stored,
    ) -> ApiResult<u64>
    where
        T: serde::de::DeserializeOwned,
        Stored: std::future::Future<Output = ApiResult<Option<u64>>>,
    {
        let mut attempt = 1;
        loop {
            let error: ApiError = match self.octo_once.post::<_, T>(route, Some(payload)).await {
                Ok(created) => return Ok(id_of(&created)),
                Err(e) => e.into(),
            };
            if attempt >= WRITE_ATTEMPTS || !error.may_have_succeeded() {
                return Err(error);
            }
            tokio::time::sleep(self.retry_delay * attempt).await;
            if let Some(id) = stored_anyway().await? {
                return Ok(id);
            }
            attempt += 1;
        }
    }

    async fn all_pages<T: serde::de::DeserializeOwned>(&self, route: &str) -> ApiResult<Vec<T>> {
        let first: Page<T> = self.octo.get(route, Some(&[("per_page", 100)])).await?;
        Ok(self.octo.all_pages(first).await?)
    }

    /// Update the PR comment carrying [`COMMENT_MARKER`] (searched across every page of
    /// comments), or create it when `create` is set, so a PR never gets a second one.
    pub async fn upsert_comment(
        &self,
        pr: u64,
        body: &str,
        create: bool,
    ) -> ApiResult<Option<CommentAction>> {
        self.redacted(self.upsert_comment_unredacted(pr, body, create).await)
    }

    /// Every file of the PR (all pages).
    pub async fn pull_request_files(&self, pr: u64) -> ApiResult<Vec<ChangedFile>> {
        self.redacted(self.pull_request_files_unredacted(pr).await)
    }

    /// Publish a completed check run carrying every annotation: the first 50 on creation, the
    /// rest in updates of 50 (GitHub's per-request limit; annotations accumulate).
    pub async fn publish_check_run(&self, run: &CheckRun<'_>) -> ApiResult<u64> {
        self.redacted(self.publish_check_run_unredacted(run).await)
    }

    /// An error body may quote the token back (or a hook URL from the request): it gets the same
    /// redaction as our own output before anyone prints it.
    fn redacted<T>(&self, result: ApiResult<T>) -> ApiResult<T> {
        result.map_err(|err| ApiError {
            message: redact_server_text(&err.message, [self.token.as_str()]),
            ..err
        })
    }

    async fn upsert_comment_unredacted(
        &self,
        pr: u64,
        body: &str,
        create: bool,
    ) -> ApiResult<Option<CommentAction>> {
        let repo = &self.repository;
        let existing = self.find_comment(pr).await?;
        let payload = json!({ "body": body });
        match existing {
            Some(comment) => {
                let updated: IssueComment = self
                    .octo
                    .patch(
                        format!("/repos/{repo}/issues/comments/{}", comment.id),
                        Some(&payload),
                    )
                    .await?;
                Ok(Some(CommentAction::Updated(updated.id)))
            }
            None if !create => Ok(None),
            None => Ok(Some(CommentAction::Created(
                self.create_comment(pr, &payload).await?,
            ))),
        }
    }

    async fn pull_request_files_unredacted(&self, pr: u64) -> ApiResult<Vec<ChangedFile>> {
        self.all_pages(&format!("/repos/{}/pulls/{pr}/files", self.repository))
            .await
    }

    async fn publish_check_run_unredacted(&self, run: &CheckRun<'_>) -> ApiResult<u64> {
        let mut batches = run.annotations.chunks(ANNOTATIONS_PER_REQUEST);
        let first = batches.next().unwrap_or(&[]);
        let id = self.create_check_run(run, first).await?;
        let mut published = first.len();
        for batch in batches {
            published += batch.len();
            self.append_annotations(run, id, batch, published).await?;
        }
        Ok(id)
    }

    /// Create the check run, tagged with an `external_id` of this attempt; after a 5xx or a lost
    /// answer, look for that tag among the commit's check runs before trying again, since
    /// GitHub often created it anyway (a second one would show every annotation twice).
    async fn create_check_run(
        &self,
        run: &CheckRun<'_>,
        annotations: &[CheckAnnotation],
    ) -> ApiResult<u64> {
        let repo = &self.repository;
        let external_id = attempt_tag();
        let payload = json!({
            "name": run.name,
            "head_sha": run.head_sha,
            "external_id": external_id,
            "status": "completed",
            "conclusion": run.conclusion,
            "output": run.output(annotations),
        });
        let route = format!("/repos/{repo}/check-runs");
        self.create_once(
            &route,
            &payload,
            |r: &CheckRunState| r.id,
            || async {
                let listed: CheckRunList = self
                    .octo
                    .get(
                        format!("/repos/{repo}/commits/{}/check-runs", run.head_sha),
                        Some(&[("check_name", run.name), ("filter", "all")]),
                    )
                    .await?;
                Ok(listed
                    .check_runs
                    .iter()
                    .find(|r| r.external_id.as_deref() == Some(external_id.as_str()))
                    .map(|r| r.id))
            },
        )
        .await
    }

    /// Append one batch of annotations; after a 5xx or a lost answer, count the check run's
    /// annotations before sending the batch again, since GitHub appends rather than replaces.
    async fn append_annotations(
        &self,
        run: &CheckRun<'_>,
        id: u64,
        batch: &[CheckAnnotation],
        total_after: usize,
    ) -> ApiResult<()> {
        let route = format!("/repos/{}/check-runs/{id}", self.repository);
        let payload = json!({ "output": run.output(batch) });
        let mut attempt = 1;
        loop {
            let error: ApiError = match self
                .octo_once
                .patch::<serde_json::Value, _, _>(route.as_str(), Some(&payload))
                .await
            {
                Ok(_) => return Ok(()),
                Err(e) => e.into(),
            };
            if attempt >= WRITE_ATTEMPTS || !error.may_have_succeeded() {
                return Err(error);
            }
            tokio::time::sleep(self.retry_delay * attempt).await;
            let current: CheckRunState = self.octo.get(route.as_str(), None::<&()>).await?;
            if current
                .output
                .is_some_and(|o| o.annotations_count >= total_after)
            {
                return Ok(());
            }
            attempt += 1;
        }
    }
}

/// Identifies this process's check run among the commit's others (earlier runs, re-runs).
fn attempt_tag() -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos());
    format!("migration-gate-{}-{nanos}", std::process::id())
}

#[derive(Debug, Deserialize)]
struct CheckRunState {
    id: u64,
    #[serde(default)]
    external_id: Option<String>,
    #[serde(default)]
    output: Option<CheckRunOutput>,
}

#[derive(Debug, Deserialize)]
struct CheckRunOutput {
    #[serde(default)]
    annotations_count: usize,
}

#[derive(Debug, Deserialize)]
struct CheckRunList {
    check_runs: Vec<CheckRunState>,
}

pub struct CheckRun<'a> {
    pub name: &'a str,
    pub head_sha: &'a str,
    /// success, neutral, failure.
    pub conclusion: &'a str,
    pub title: &'a str,
    pub summary: &'a str,
    pub annotations: &'a [CheckAnnotation],
}

impl CheckRun<'_> {
    fn output(&self, annotations: &[CheckAnnotation]) -> serde_json::Value {
        json!({"title": self.title, "summary": self.summary, "annotations": annotations})
    }
}
