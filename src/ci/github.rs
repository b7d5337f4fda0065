//! The GitHub REST calls the gate makes, on octocrab (token auth, base URL from
//! `GITHUB_API_URL` so GitHub Enterprise and local test servers work): the sticky PR comment,
//! the PR's changed files, and the check run.

use octocrab::{Octocrab, Page};
use serde::Deserialize;
use serde_json::json;

use super::annotations::CheckAnnotation;
use crate::db::url::redact_secrets;

/// Hidden marker that identifies the gate's own PR comment.
pub const COMMENT_MARKER: &str = "<!-- migration-gate:sticky-comment -->";
/// GitHub rejects check-run updates with more annotations than this.
pub const ANNOTATIONS_PER_REQUEST: usize = 50;

/// A failed GitHub call, reduced to what decides the reaction (403 on a fork is a warning).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiError {
    pub status: Option<u16>,
    pub message: String,
}

impl ApiError {
    /// The token may not do this (fork PR, missing `permissions:`).
    pub fn is_permission_denied(&self) -> bool {
        matches!(self.status, Some(403) | Some(404))
    }
}

impl std::fmt::Display for ApiError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.status {
            Some(status) => write!(f, "GitHub answered {status}: {}", self.message),
            None => write!(f, "GitHub unreachable: {}", self.message),
        }
    }
}

impl From<octocrab::Error> for ApiError {
    fn from(err: octocrab::Error) -> Self {
        match err {
            octocrab::Error::GitHub { source, .. } => ApiError {
                status: Some(source.status_code.as_u16()),
                message: source.message,
            },
            other => ApiError {
                status: None,
                // The Display of octocrab errors can carry a backtrace: keep the first line.
                message: other.to_string().lines().next().unwrap_or("").to_string(),
            },
        }
    }
}

pub type ApiResult<T> = std::result::Result<T, ApiError>;

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
    octo: Octocrab,
    /// Kept to redact it from what GitHub answers.
    token: String,
    /// `owner/repo`.
    repository: String,
}

impl GitHub {
    /// Needs a tokio runtime (octocrab's client spawns on it).
    pub fn new(api_url: &str, token: &str, repository: &str) -> ApiResult<GitHub> {
        let octo = Octocrab::builder()
            .base_uri(api_url.trim_end_matches('/'))
            .map_err(ApiError::from)?
            .personal_token(token.to_string())
            .build()
            .map_err(ApiError::from)?;
        Ok(GitHub {
            octo,
            token: token.to_string(),
            repository: repository.to_string(),
        })
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
            message: redact_secrets(&err.message, [self.token.as_str()]),
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
        let comments: Vec<IssueComment> = self
            .all_pages(&format!("/repos/{repo}/issues/{pr}/comments"))
            .await?;
        let existing = comments.iter().find(|c| {
            c.body
                .as_deref()
                .is_some_and(|body| body.contains(COMMENT_MARKER))
        });
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
            None => {
                let created: IssueComment = self
                    .octo
                    .post(
                        format!("/repos/{repo}/issues/{pr}/comments"),
                        Some(&payload),
                    )
                    .await?;
                Ok(Some(CommentAction::Created(created.id)))
            }
        }
    }

    async fn pull_request_files_unredacted(&self, pr: u64) -> ApiResult<Vec<ChangedFile>> {
        self.all_pages(&format!("/repos/{}/pulls/{pr}/files", self.repository))
            .await
    }

    async fn publish_check_run_unredacted(&self, run: &CheckRun<'_>) -> ApiResult<u64> {
        #[derive(Deserialize)]
        struct Created {
            id: u64,
        }
        let repo = &self.repository;
        let mut batches = run.annotations.chunks(ANNOTATIONS_PER_REQUEST);
        let output = |annotations: &[CheckAnnotation]| json!({"title": run.title, "summary": run.summary, "annotations": annotations});
        let created: Created = self
            .octo
            .post(
                format!("/repos/{repo}/check-runs"),
                Some(&json!({
                    "name": run.name,
                    "head_sha": run.head_sha,
                    "status": "completed",
                    "conclusion": run.conclusion,
                    "output": output(batches.next().unwrap_or(&[])),
                })),
            )
            .await?;
        for batch in batches {
            let _: serde_json::Value = self
                .octo
                .patch(
                    format!("/repos/{repo}/check-runs/{}", created.id),
                    Some(&json!({ "output": output(batch) })),
                )
                .await?;
        }
        Ok(created.id)
    }
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
