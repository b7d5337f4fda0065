//! `migration-gate ci` as the runner starts it: mode from the event, secrets masked first.

use std::path::Path;
use std::process::{Command, Output};

use super::support::{bin, repo_root, stderr, stdout};

/// The binary with a clean runner environment: nothing inherited from a real runner.
pub fn ci_command(dir: &Path, event_name: &str, event_fixture: Option<&str>) -> Command {
    let mut cmd = bin();
    cmd.current_dir(dir).arg("ci");
    for (var, _) in std::env::vars() {
        if var.starts_with("GITHUB_") || var.starts_with("INPUT_") || var.starts_with("RUNNER_") {
            cmd.env_remove(var);
        }
    }
    for var in [
        "DIRECT_URL",
        "DATABASE_URL_UNPOOLED",
        "POSTGRES_URL_NON_POOLING",
        "DATABASE_URL",
        "POSTGRES_URL",
        "VERCEL_DEPLOY_HOOK_URL",
    ] {
        cmd.env_remove(var);
    }
    cmd.env("GITHUB_EVENT_NAME", event_name)
        .env("GITHUB_REPOSITORY", "acme/shop")
        .env("GITHUB_RUN_ID", "7001");
    if let Some(fixture) = event_fixture {
        cmd.env(
            "GITHUB_EVENT_PATH",
            repo_root().join("fixtures/events").join(fixture),
        );
    }
    cmd
}

fn run(cmd: &mut Command) -> Output {
    cmd.output().expect("run migration-gate ci")
}

#[test]
fn push_to_a_feature_branch_deploys_nothing_and_masks_secrets_first() {
    let dir = tempfile::tempdir().unwrap();
    let out = run(
        ci_command(dir.path(), "push", Some("push_feature_branch.json"))
            .env("GITHUB_TOKEN", "ghs_secret_token")
            .env(
                "VERCEL_DEPLOY_HOOK_URL",
                "https://api.vercel.com/v1/integrations/deploy/prj_1/abc",
            ),
    );
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let text = stdout(&out);
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(
        lines[..2],
        [
            "::add-mask::https://api.vercel.com/v1/integrations/deploy/prj_1/abc",
            "::add-mask::ghs_secret_token"
        ]
    );
    assert!(text.contains("nothing to deploy"), "{text}");
}

#[test]
fn unknown_dispatch_type_is_a_usage_error() {
    let dir = tempfile::tempdir().unwrap();
    let event = dir.path().join("event.json");
    std::fs::write(&event, r#"{"inputs": {"type": "yolo"}}"#).unwrap();
    let out =
        run(ci_command(dir.path(), "workflow_dispatch", None).env("GITHUB_EVENT_PATH", &event));
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(
        stderr(&out).trim(),
        "error: workflow_dispatch input type=\"yolo\" is not one of auto, manual-review, rollback"
    );
}

#[test]
fn rollback_without_target_says_what_to_pass() {
    let dir = tempfile::tempdir().unwrap();
    let out = run(ci_command(
        dir.path(),
        "workflow_dispatch",
        Some("workflow_dispatch_auto.json"),
    )
    .args(["--mode", "rollback"]));
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("set the `target` input"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn outside_actions_without_mode_asks_for_one() {
    let dir = tempfile::tempdir().unwrap();
    let out = run(&mut ci_command(dir.path(), "", None));
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("pass --mode"), "{}", stderr(&out));
}

#[test]
fn dispatch_from_a_feature_branch_is_refused_before_touching_the_database() {
    let dir = tempfile::tempdir().unwrap();
    let event = dir.path().join("event.json");
    let mut payload: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(
            repo_root().join("fixtures/events/workflow_dispatch_rollback.json"),
        )
        .unwrap(),
    )
    .unwrap();
    payload["ref"] = "refs/heads/experiment".into();
    std::fs::write(&event, payload.to_string()).unwrap();
    let dispatch = || {
        let mut cmd = ci_command(dir.path(), "workflow_dispatch", None);
        cmd.env("GITHUB_EVENT_PATH", &event);
        cmd
    };
    let out = run(&mut dispatch());
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("workflow_dispatch from refs/heads/experiment touches production"),
        "{}",
        stderr(&out)
    );
    // Opting in goes on to the rollback itself (here: stopped by the missing migrations folder,
    // named as the Action's input since no flag can be passed in a workflow).
    let out = run(dispatch().arg("--allow-any-branch"));
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("with the `migrations-dir` input"),
        "{}",
        stderr(&out)
    );
}

/// `ci` in `mode` on `event_name` with this payload, from an empty folder: a refusal is an
/// exit 2 naming the branch; an accepted run goes on and stops at the missing migrations folder.
fn production_mode_on(event_name: &str, payload: &str, mode: &str) -> Output {
    let dir = tempfile::tempdir().unwrap();
    let event = dir.path().join("event.json");
    std::fs::write(&event, payload).unwrap();
    run(ci_command(dir.path(), event_name, None)
        .env("GITHUB_EVENT_PATH", &event)
        .args(["--mode", mode]))
}

#[test]
fn explicit_deploy_mode_off_the_default_branch_is_refused_like_a_dispatch() {
    let refused = [
        // A push workflow without a branch filter and `mode: deploy`.
        (
            "push",
            r#"{"ref": "refs/heads/drop-email", "repository": {"default_branch": "main"}}"#,
        ),
        // A tag is not the default branch either.
        (
            "push",
            r#"{"ref": "refs/tags/main", "repository": {"default_branch": "main"}}"#,
        ),
        // A pull request's code is not the default branch's.
        (
            "pull_request",
            r#"{"pull_request": {"number": 42, "base": {"sha": "a"}, "head": {"sha": "b"}}, "repository": {"default_branch": "main"}}"#,
        ),
        // A dispatch payload that does not say its branch: not trusted to be main.
        ("workflow_dispatch", r#"{"inputs": {"type": "auto"}}"#),
        (
            "workflow_dispatch",
            r#"{"ref": "refs/heads/main", "inputs": {}}"#,
        ),
    ];
    for (event_name, payload) in refused {
        for mode in ["deploy", "rollback", "manual-review"] {
            let out = production_mode_on(event_name, payload, mode);
            assert_eq!(out.status.code(), Some(2), "{event_name} {payload}");
            let text = stderr(&out);
            assert!(
                text.contains("set the `allow-any-branch: true` input"),
                "{event_name} {payload} {mode}: {text}"
            );
            assert_eq!(text.trim().lines().count(), 1, "{text}");
        }
    }
    let main = r#"{"ref": "refs/heads/main", "repository": {"default_branch": "main"}, "inputs": {"target": "x"}}"#;
    for event_name in ["push", "workflow_dispatch"] {
        let out = production_mode_on(event_name, main, "deploy");
        assert!(
            stderr(&out).contains("the `migrations-dir` input"),
            "{event_name}: {}",
            stderr(&out)
        );
    }
    // GitHub runs these on the default branch only, and their payloads name no ref.
    for event_name in ["schedule", "repository_dispatch", "workflow_run"] {
        let out = production_mode_on(event_name, r#"{"schedule": "0 3 * * *"}"#, "deploy");
        assert!(
            stderr(&out).contains("the `migrations-dir` input"),
            "{event_name}: {}",
            stderr(&out)
        );
    }
}

#[test]
fn event_without_a_default_mode_names_the_mode_input() {
    let dir = tempfile::tempdir().unwrap();
    let out = run(&mut ci_command(dir.path(), "schedule", None));
    assert_eq!(out.status.code(), Some(2));
    let text = stderr(&out);
    assert!(text.contains("set the `mode` input"), "{text}");
    assert!(!text.contains("--"), "{text}");
}

#[test]
fn missing_config_file_names_the_config_input() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join("prisma/migrations")).unwrap();
    let out = run(
        ci_command(dir.path(), "pull_request", Some("pull_request.json"))
            .args(["--config", "gate.toml"]),
    );
    assert_eq!(out.status.code(), Some(2));
    let text = stderr(&out);
    assert!(text.contains("check the `config` input"), "{text}");
    assert!(!text.contains("--config"), "{text}");
}

/// `ci` on a merge_group event whose payload is `merge_group`, in a project (not a git
/// repository) with a migrations folder.
fn merge_group_check(merge_group: serde_json::Value) -> Output {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join("prisma/migrations")).unwrap();
    let event = dir.path().join("event.json");
    let payload = serde_json::json!({
        "action": "checks_requested",
        "merge_group": merge_group,
        "repository": {"default_branch": "main"}
    });
    std::fs::write(&event, payload.to_string()).unwrap();
    run(ci_command(dir.path(), "merge_group", None)
        .env("GITHUB_EVENT_PATH", &event)
        .env("GITHUB_TOKEN", "ghs_testtoken123"))
}

#[test]
fn merge_group_payload_without_its_commits_says_what_is_missing() {
    let out = merge_group_check(serde_json::json!({
        "base_sha": "3c1f0a5b2e9d4c7a8b6f1e0d9c8b7a6f5e4d3c2b",
        "base_ref": "refs/heads/main"
    }));
    assert_eq!(out.status.code(), Some(2));
    let text = stderr(&out);
    assert!(
        text.contains("merge_group event without merge_group.head_sha"),
        "{text}"
    );
}

#[test]
fn merge_group_outside_a_full_checkout_asks_for_the_history_not_the_token() {
    // No base_ref either: only its two commits are needed.
    let out = merge_group_check(serde_json::json!({
        "base_sha": "3c1f0a5b2e9d4c7a8b6f1e0d9c8b7a6f5e4d3c2b",
        "head_sha": "d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f607"
    }));
    assert_eq!(out.status.code(), Some(2));
    let text = stderr(&out);
    assert!(text.contains("fetch-depth: 0"), "{text}");
    assert!(
        !text.contains("token"),
        "a merge group has no PR files to list: {text}"
    );
    // git's own message speaks of `check --since`: no flag can be passed in a workflow.
    assert!(!text.contains("--"), "{text}");
    assert!(text.contains("not in a git checkout"), "{text}");
}
