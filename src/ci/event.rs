//! The runner's event: which mode to run, and the pull request / dispatch details it carries.
//! Only the fields the gate needs are read from the payload (`GITHUB_EVENT_PATH`).

use std::path::Path;

use serde_json::Value;

use super::options::CiMode;
use crate::error::{AppError, Result};
use crate::surface::Setting;

/// The pull request a `pull_request` event is about.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PullRequest {
    pub number: u64,
    pub base_sha: String,
    pub head_sha: String,
    /// Head repository differs from the base repository: the token is read-only.
    pub from_fork: bool,
}

/// The merge queue's candidate commit (`merge_group` event): the PR merged onto the queue's base.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MergeGroup {
    pub base_sha: String,
    pub head_sha: String,
    /// `refs/heads/main`.
    pub base_ref: String,
}

/// What the event payload says, reduced to what the gate uses.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Event {
    pub name: String,
    pub pull_request: Option<PullRequest>,
    pub merge_group: Option<MergeGroup>,
    /// `refs/heads/main` on push.
    pub git_ref: Option<String>,
    pub default_branch: Option<String>,
    /// `workflow_dispatch` inputs `type` and `target`.
    pub dispatch_type: Option<String>,
    pub dispatch_target: Option<String>,
    /// The payload field a PR check needs but the payload lacks (`merge_group.head_sha`).
    pub missing_field: Option<&'static str>,
}

impl Event {
    pub fn load(name: &str, path: Option<&Path>) -> Result<Event> {
        let payload = match path {
            Some(path) => {
                let text = std::fs::read_to_string(path).map_err(|e| AppError::io(path, &e))?;
                serde_json::from_str(&text).map_err(|e| {
                    AppError::usage(format!(
                        "{} is not a GitHub event payload (invalid JSON: {e})",
                        path.display()
                    ))
                })?
            }
            None => Value::Null,
        };
        Ok(Event::from_payload(name, &payload))
    }

    pub fn from_payload(name: &str, payload: &Value) -> Event {
        let text = |v: &Value| v.as_str().map(str::to_string);
        let pull_request = payload.get("pull_request").and_then(|pr| {
            let base_repo = pr.pointer("/base/repo/full_name").and_then(Value::as_str);
            let head_repo = pr.pointer("/head/repo/full_name").and_then(Value::as_str);
            Some(PullRequest {
                number: pr.get("number")?.as_u64()?,
                base_sha: text(pr.pointer("/base/sha")?)?,
                head_sha: text(pr.pointer("/head/sha")?)?,
                // A deleted fork has no head repo: still a fork.
                from_fork: base_repo.is_some() && head_repo != base_repo,
            })
        });
        let merge_group = payload.get("merge_group").and_then(|group| {
            Some(MergeGroup {
                base_sha: text(group.get("base_sha")?)?,
                head_sha: text(group.get("head_sha")?)?,
                // Only shown in the log: not worth refusing the check over.
                base_ref: group.get("base_ref").and_then(text).unwrap_or_default(),
            })
        });
        let needs = |fields: &[&'static str]| {
            fields
                .iter()
                .copied()
                .find(|field| payload.pointer(&pointer(field)).is_none_or(Value::is_null))
        };
        let missing_field = match name {
            "merge_group" => needs(&["merge_group.base_sha", "merge_group.head_sha"]),
            "pull_request" | "pull_request_target" => needs(&[
                "pull_request.number",
                "pull_request.base.sha",
                "pull_request.head.sha",
            ]),
            _ => None,
        };
        let input = |key: &str| {
            payload
                .pointer(&format!("/inputs/{key}"))
                .and_then(Value::as_str)
                .filter(|s| !s.is_empty())
                .map(str::to_string)
        };
        Event {
            name: name.to_string(),
            pull_request,
            merge_group,
            git_ref: payload.get("ref").and_then(text),
            default_branch: payload.pointer("/repository/default_branch").and_then(text),
            dispatch_type: input("type"),
            dispatch_target: input("target"),
            missing_field,
        }
    }

    /// The event's ref is the default branch (a push there deploys; another push deploys nothing).
    pub fn is_push_to_default_branch(&self) -> bool {
        match (&self.git_ref, &self.default_branch) {
            (Some(git_ref), Some(default)) => git_ref == &format!("refs/heads/{default}"),
            // Without the payload, trust the workflow's own branch filter.
            _ => true,
        }
    }

    /// Deploy, review or roll back from anything but the default branch (a dispatch from
    /// another branch, a push workflow without a branch filter given `mode: deploy`, a pull
    /// request, a tag) would apply that code's migrations or rollback scripts in production:
    /// refused unless the workflow opts in. A payload that does not name both its ref and the
    /// default branch is not trusted to be the default branch. Outside Actions (no event) the
    /// caller chose the checkout.
    pub fn refuse_production_off_default_branch(&self, allow_any_branch: bool) -> Result<()> {
        // GitHub runs these from the default branch only; their payloads name no ref.
        const DEFAULT_BRANCH_ONLY: &[&str] = &["schedule", "repository_dispatch", "workflow_run"];
        if allow_any_branch
            || self.name.is_empty()
            || DEFAULT_BRANCH_ONLY.contains(&self.name.as_str())
        {
            return Ok(());
        }
        let default = self.default_branch.as_deref();
        if let (Some(git_ref), Some(default)) = (self.git_ref.as_deref(), default) {
            if git_ref == format!("refs/heads/{default}") {
                return Ok(());
            }
        }
        let default = default.unwrap_or("the default branch");
        let how = if self.name == "workflow_dispatch" {
            " (Run workflow > Use workflow from)"
        } else {
            ""
        };
        Err(AppError::usage(format!(
            "{} from {} touches production from a branch that is not {default}: run it from \
             {default}{how}, or set the `allow-any-branch: true` input",
            self.name,
            self.git_ref.as_deref().unwrap_or("an unnamed ref"),
        )))
    }

    /// The mode the event asks for; `None` when the event deploys nothing (a push to another
    /// branch).
    pub fn mode(&self) -> Result<Option<CiMode>> {
        match self.name.as_str() {
            // The merge queue checks its candidate commit like a PR's head, so a required
            // migration-gate check does not hold the queue forever.
            "pull_request" | "pull_request_target" | "merge_group" => Ok(Some(CiMode::Check)),
            "push" if self.is_push_to_default_branch() => Ok(Some(CiMode::Deploy)),
            "push" => Ok(None),
            "workflow_dispatch" => match self.dispatch_type.as_deref().unwrap_or("auto") {
                "auto" => Ok(Some(CiMode::Deploy)),
                "manual-review" => Ok(Some(CiMode::ManualReview)),
                "rollback" => Ok(Some(CiMode::Rollback)),
                other => Err(AppError::usage(format!(
                    "workflow_dispatch input type={other:?} is not one of auto, manual-review, rollback"
                ))),
            },
            "" => Err(AppError::usage(
                "no GitHub event: pass --mode (check, deploy, manual-review, rollback) or run inside GitHub Actions",
            )),
            other => Err(AppError::usage(format!(
                "event {other:?} has no default mode: {}",
                Setting::Mode.instruction()
            ))),
        }
    }
}

/// `a.b` as a JSON pointer, `/a/b`.
fn pointer(field: &str) -> String {
    format!("/{}", field.replace('.', "/"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn pull_request_from_a_fork_is_recognised() {
        let payload = json!({"pull_request": {
            "number": 7,
            "base": {"sha": "aaa", "repo": {"full_name": "acme/shop"}},
            "head": {"sha": "bbb", "repo": {"full_name": "someone/shop"}}
        }});
        let event = Event::from_payload("pull_request", &payload);
        let pr = event.pull_request.clone().unwrap();
        assert_eq!(
            (pr.number, pr.base_sha.as_str(), pr.head_sha.as_str()),
            (7, "aaa", "bbb")
        );
        assert!(pr.from_fork);
        assert_eq!(event.mode().unwrap(), Some(CiMode::Check));
    }

    #[test]
    fn merge_group_is_checked_like_a_pull_request_of_its_head() {
        let payload = json!({"action": "checks_requested", "merge_group": {
            "head_sha": "ddd", "base_sha": "ccc", "base_ref": "refs/heads/main",
            "head_ref": "refs/heads/gh-readonly-queue/main/pr-42-ccc"
        }});
        let event = Event::from_payload("merge_group", &payload);
        assert_eq!(event.mode().unwrap(), Some(CiMode::Check));
        assert_eq!(
            event.merge_group,
            Some(MergeGroup {
                base_sha: "ccc".into(),
                head_sha: "ddd".into(),
                base_ref: "refs/heads/main".into()
            })
        );
    }

    #[test]
    fn dispatch_off_the_default_branch_is_refused_unless_allowed() {
        let dispatch = |git_ref: &str| {
            Event::from_payload(
                "workflow_dispatch",
                &json!({"ref": git_ref, "repository": {"default_branch": "main"}, "inputs": {"type": "rollback"}}),
            )
        };
        let err = dispatch("refs/heads/experiment")
            .refuse_production_off_default_branch(false)
            .unwrap_err();
        assert!(
            err.message.starts_with("workflow_dispatch from refs/heads/experiment touches production from a branch that is not main"),
            "{}",
            err.message
        );
        assert!(err.message.contains("`allow-any-branch: true`"));
        assert!(dispatch("refs/heads/experiment")
            .refuse_production_off_default_branch(true)
            .is_ok());
        assert!(dispatch("refs/heads/main")
            .refuse_production_off_default_branch(false)
            .is_ok());
    }

    #[test]
    fn push_to_another_branch_deploys_nothing() {
        let payload =
            json!({"ref": "refs/heads/feature", "repository": {"default_branch": "main"}});
        assert_eq!(Event::from_payload("push", &payload).mode().unwrap(), None);
        let payload = json!({"ref": "refs/heads/main", "repository": {"default_branch": "main"}});
        assert_eq!(
            Event::from_payload("push", &payload).mode().unwrap(),
            Some(CiMode::Deploy)
        );
    }

    #[test]
    fn dispatch_type_selects_the_mode() {
        let event = |t: &str| {
            Event::from_payload(
                "workflow_dispatch",
                &json!({"inputs": {"type": t, "target": "20240101_init"}}),
            )
        };
        assert_eq!(event("auto").mode().unwrap(), Some(CiMode::Deploy));
        assert_eq!(
            event("manual-review").mode().unwrap(),
            Some(CiMode::ManualReview)
        );
        assert_eq!(event("rollback").mode().unwrap(), Some(CiMode::Rollback));
        assert_eq!(
            event("rollback").dispatch_target.as_deref(),
            Some("20240101_init")
        );
        assert!(event("yolo").mode().is_err());
    }
}
