//! The PR check's GitHub side against a local fake GitHub: the sticky comment, its pagination,
//! fork PRs, GitHub's body limit, check-run batching.

use migration_gate::ci::github::{CommentAction, GitHub, COMMENT_MARKER};
use migration_gate::ci::runner::RunnerFiles;
use migration_gate::ci::FailOn;
use migration_gate::ci::{publish_check, PrTarget, Publish, Published};
use migration_gate::findings::{Finding, Report, Severity, Summary};

use super::ci_fake::{FakeGitHub, GitHubState};

const RUN_URL: &str = "https://github.com/acme/shop/actions/runs/7001";

fn finding(line: u32, severity: Severity) -> Finding {
    Finding {
        rule: "drop-column",
        severity,
        file: "prisma/migrations/20261128091200_drop_email/migration.sql".into(),
        line,
        column: 1,
        end_line: line,
        message: "Dropping \"users\".\"email\" deletes its data; the running app still selects it and fails.".into(),
        help: "Stop reading the column in the app, deploy, then drop it in a later migration.".into(),
        statement: "ALTER TABLE \"users\" DROP COLUMN \"email\";".into(),
        migration: "20261128091200_drop_email".into(),
        table: None,
    }
}

fn report(findings: Vec<Finding>) -> Report {
    let errors = findings
        .iter()
        .filter(|f| f.severity == Severity::Error)
        .count();
    Report {
        summary: Summary {
            files: 1,
            statements: findings.len().max(1),
            unparsed: 0,
            errors,
            warnings: findings.len() - errors,
        },
        findings,
        ..Default::default()
    }
}

struct Run {
    published: Published,
    summary: String,
}

fn publish(github: &FakeGitHub, report: &Report, check_run: bool, from_fork: bool) -> Run {
    publish_to(&github.server.url, report, check_run, from_fork)
}

fn publish_to(api_url: &str, report: &Report, check_run: bool, from_fork: bool) -> Run {
    let dir = tempfile::tempdir().unwrap();
    let files = RunnerFiles {
        output: Some(dir.path().join("output")),
        step_summary: Some(dir.path().join("summary")),
    };
    let pr = PrTarget {
        number: Some(42),
        base_sha: Some("3c1f0a5b2e9d4c7a8b6f1e0d9c8b7a6f5e4d3c2b".into()),
        head_sha: Some("9f8e7d6c5b4a39281706f5e4d3c2b1a098765432".into()),
        from_fork,
    };
    let options = Publish {
        pr: &pr,
        comment: true,
        check_run,
        fail_on: FailOn::Error,
        run_url: Some(RUN_URL),
        head_sha: pr.head_sha.clone(),
    };
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let published = rt.block_on(async {
        let client = GitHub::new(api_url, "ghs_testtoken123", "acme/shop")
            .unwrap()
            .with_retry_delay(std::time::Duration::from_millis(10));
        publish_check(&options, report, Some(&client), &files)
            .await
            .unwrap()
    });
    let summary = std::fs::read_to_string(dir.path().join("summary")).unwrap_or_default();
    Run { published, summary }
}

fn ours(github: &FakeGitHub) -> Vec<(u64, String)> {
    github
        .state
        .lock()
        .unwrap()
        .comments
        .iter()
        .filter(|(_, body)| body.contains(COMMENT_MARKER))
        .cloned()
        .collect()
}

#[test]
fn first_run_creates_the_comment_second_updates_it() {
    let github = FakeGitHub::start(GitHubState {
        comments: vec![(11, "LGTM once CI is green".into())],
        ..Default::default()
    });
    let dangerous = report(vec![finding(2, Severity::Error)]);
    let first = publish(&github, &dangerous, false, false);
    assert!(matches!(
        first.published.comment,
        Some(CommentAction::Created(_))
    ));
    assert_eq!(
        first.published.exit_code, 1,
        "an error-level finding fails the job"
    );
    assert!(first.summary.contains("drop-column"), "{}", first.summary);

    let clean = report(vec![]);
    let second = publish(&github, &clean, false, false);
    assert!(matches!(
        second.published.comment,
        Some(CommentAction::Updated(_))
    ));
    assert_eq!(second.published.exit_code, 0);

    let comments = ours(&github);
    assert_eq!(comments.len(), 1, "never a second comment: {comments:?}");
    assert!(
        comments[0].1.contains("no dangerous statements"),
        "{}",
        comments[0].1
    );
    assert_eq!(
        github.state.lock().unwrap().comments.len(),
        2,
        "other comments untouched"
    );

    let requests = github.server.requests();
    let writes: Vec<String> = requests
        .iter()
        .filter(|r| r.method != "GET")
        .map(|r| format!("{} {}", r.method, r.path))
        .collect();
    assert_eq!(
        writes,
        [
            "POST /repos/acme/shop/issues/42/comments".to_string(),
            format!("PATCH /repos/acme/shop/issues/comments/{}", comments[0].0)
        ]
    );
    assert!(requests.iter().all(|r| r
        .authorization
        .as_deref()
        .is_some_and(|a| a.ends_with("ghs_testtoken123"))));
}

#[test]
fn finds_its_comment_on_the_third_page() {
    let mut comments: Vec<(u64, String)> = (1..=230)
        .map(|i| (i, format!("review remark {i}")))
        .collect();
    comments.insert(215, (5000, format!("{COMMENT_MARKER}\nold report")));
    let github = FakeGitHub::start(GitHubState {
        comments,
        ..Default::default()
    });
    let run = publish(
        &github,
        &report(vec![finding(2, Severity::Warning)]),
        false,
        false,
    );
    assert_eq!(run.published.comment, Some(CommentAction::Updated(5000)));
    assert_eq!(
        run.published.exit_code, 0,
        "warnings do not fail with --fail-on error"
    );
    let pages: Vec<String> = github
        .server
        .requests()
        .iter()
        .filter(|r| r.method == "GET")
        .map(|r| r.path.clone())
        .collect();
    assert_eq!(pages.len(), 3, "{pages:?}");
    assert!(pages[2].contains("page=3"), "{pages:?}");
    let state = github.state.lock().unwrap();
    assert_eq!(state.comments.len(), 231);
    let updated = &state.comments.iter().find(|(id, _)| *id == 5000).unwrap().1;
    assert!(
        updated.contains("no errors, 1 warning to review"),
        "{updated}"
    );
}

#[test]
fn fork_pr_read_only_token_is_a_warning_and_summary_still_written() {
    let github = FakeGitHub::start(GitHubState {
        read_only: true,
        ..Default::default()
    });
    let run = publish(
        &github,
        &report(vec![finding(2, Severity::Error)]),
        true,
        true,
    );
    assert_eq!(run.published.comment, None);
    assert_eq!(run.published.check_run_id, None);
    assert_eq!(
        run.published.exit_code, 1,
        "the verdict still fails the job"
    );
    assert!(run.summary.contains("drop-column"), "{}", run.summary);
    assert!(github.state.lock().unwrap().comments.is_empty());
}

#[test]
fn body_over_githubs_limit_becomes_a_summary_with_the_run_link() {
    let github = FakeGitHub::start(GitHubState::default());
    // 400 findings with the full explanation each: the complete report is far over 65,536.
    let findings: Vec<Finding> = (1..=400)
        .map(|l| {
            let mut f = finding(l, Severity::Error);
            f.help = format!(
                "{} {}",
                f.help,
                "Backfill in batches of 10,000 rows. ".repeat(4)
            );
            f
        })
        .collect();
    let run = publish(&github, &report(findings), false, false);
    assert!(matches!(
        run.published.comment,
        Some(CommentAction::Created(_))
    ));
    let comments = ours(&github);
    let body = &comments[0].1;
    assert!(body.chars().count() <= 65_536, "{}", body.len());
    assert!(body.contains(RUN_URL));
    assert!(body.contains("drop-column"), "{body}");
    assert!(body.contains("400"), "{body}");
    assert!(
        run.summary.len() > 65_536,
        "the job summary keeps the full report"
    );
}

#[test]
fn check_run_carries_120_annotations_in_three_calls() {
    let github = FakeGitHub::start(GitHubState::default());
    let findings: Vec<Finding> = (1..=120)
        .map(|l| {
            finding(
                l,
                if l % 2 == 0 {
                    Severity::Error
                } else {
                    Severity::Warning
                },
            )
        })
        .collect();
    let run = publish(&github, &report(findings), true, false);
    let id = run.published.check_run_id.expect("check run created");
    let calls: Vec<_> = github
        .server
        .requests()
        .into_iter()
        .filter(|r| r.path.contains("/check-runs"))
        .collect();
    let shape: Vec<(String, usize)> = calls
        .iter()
        .map(|r| {
            (
                r.method.clone(),
                r.json()["output"]["annotations"].as_array().unwrap().len(),
            )
        })
        .collect();
    assert_eq!(
        shape,
        [
            ("POST".to_string(), 50),
            ("PATCH".to_string(), 50),
            ("PATCH".to_string(), 20)
        ]
    );
    let created = calls[0].json();
    assert_eq!(
        created["head_sha"],
        "9f8e7d6c5b4a39281706f5e4d3c2b1a098765432"
    );
    assert_eq!(created["conclusion"], "failure");
    assert_eq!(
        created["output"]["annotations"][0]["annotation_level"],
        "warning"
    );
    assert_eq!(
        created["output"]["annotations"][1]["annotation_level"],
        "failure"
    );
    assert_eq!(github.state.lock().unwrap().check_runs[&id], 120);
}

#[test]
fn pr_without_migrations_gets_no_new_comment() {
    let github = FakeGitHub::start(GitHubState::default());
    let run = publish(&github, &Report::default(), false, false);
    assert_eq!(run.published.comment, None);
    assert_eq!(run.published.exit_code, 0);
    assert!(github.server.requests().iter().all(|r| r.method == "GET"));
    assert!(github.state.lock().unwrap().comments.is_empty());
}

#[test]
fn enterprise_api_url_with_a_path_works_across_pages() {
    let mut comments: Vec<(u64, String)> = (1..=150).map(|i| (i, format!("remark {i}"))).collect();
    comments.push((9000, format!("{COMMENT_MARKER}\nold")));
    let github = FakeGitHub::start(GitHubState {
        comments,
        ..Default::default()
    });
    let api = format!("{}/api/v3", github.server.url);
    let run = publish_to(
        &api,
        &report(vec![finding(2, Severity::Error)]),
        false,
        false,
    );
    assert_eq!(run.published.comment, Some(CommentAction::Updated(9000)));
    let requests = github.server.requests();
    assert!(
        requests
            .iter()
            .all(|r| r.path.starts_with("/api/v3/repos/acme/shop/")),
        "{requests:?}"
    );
    assert_eq!(requests.iter().filter(|r| r.method == "GET").count(), 2);
}

#[test]
fn comment_created_despite_a_502_is_not_created_twice() {
    let github = FakeGitHub::start(GitHubState {
        create_then_502: 1,
        ..Default::default()
    });
    let run = publish(
        &github,
        &report(vec![finding(2, Severity::Error)]),
        false,
        false,
    );
    let comments = ours(&github);
    assert_eq!(comments.len(), 1, "one sticky comment, not a duplicate");
    assert_eq!(
        run.published.comment,
        Some(CommentAction::Created(comments[0].0))
    );
    let posts = github
        .server
        .requests()
        .iter()
        .filter(|r| r.method == "POST")
        .count();
    assert_eq!(posts, 1, "re-read by marker instead of posting again");
}

#[test]
fn github_down_is_a_warning_and_the_verdict_stands() {
    let github = FakeGitHub::start(GitHubState {
        broken: Some(500),
        ..Default::default()
    });
    let run = publish(
        &github,
        &report(vec![finding(2, Severity::Error)]),
        true,
        false,
    );
    assert_eq!(run.published.exit_code, 1, "the error finding still fails");
    assert_eq!(run.published.comment, None);
    assert_eq!(run.published.check_run_id, None);
    assert!(run.summary.contains("drop-column"), "{}", run.summary);
}

#[test]
fn an_error_body_echoing_the_token_is_redacted() {
    use super::ci_fake::{FakeServer, Reply};
    const TOKEN: &str = "ghs_echoedToken9876";
    let server = FakeServer::start(|request, _| {
        Reply::json(
            401,
            &serde_json::json!({
                "message": format!("Bad credentials for token {TOKEN} on {}", request.path),
                "documentation_url": "https://docs.github.com/rest",
            }),
        )
    });
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let errors = rt.block_on(async {
        let client = GitHub::new(&server.url, TOKEN, "acme/shop").unwrap();
        vec![
            client.pull_request_files(42).await.unwrap_err(),
            client.upsert_comment(42, "body", true).await.unwrap_err(),
        ]
    });
    for err in errors {
        let shown = err.to_string();
        assert_eq!(err.status, Some(401), "{shown}");
        assert!(shown.contains("Bad credentials for token ***"), "{shown}");
        assert!(!shown.contains(TOKEN), "{shown}");
    }
}

#[test]
fn check_run_created_despite_a_502_is_not_created_twice() {
    let github = FakeGitHub::start(GitHubState {
        check_create_then_502: 1,
        ..Default::default()
    });
    let run = publish(
        &github,
        &report(vec![finding(2, Severity::Error)]),
        true,
        false,
    );
    let state = github.state.lock().unwrap();
    let ids: Vec<&u64> = state.check_runs.keys().collect();
    assert_eq!(ids.len(), 1, "one check run, not a duplicate: {ids:?}");
    assert_eq!(run.published.check_run_id, Some(*ids[0]));
    assert_eq!(run.published.exit_code, 1);
}

#[test]
fn annotations_appended_despite_a_502_are_not_appended_twice() {
    let github = FakeGitHub::start(GitHubState {
        check_update_then_502: 1,
        ..Default::default()
    });
    let findings: Vec<Finding> = (1..=120).map(|l| finding(l, Severity::Error)).collect();
    let run = publish(&github, &report(findings), true, false);
    let id = run.published.check_run_id.expect("check run created");
    assert_eq!(
        github.state.lock().unwrap().check_runs[&id],
        120,
        "each annotation once"
    );
}

#[test]
fn check_run_survives_a_statement_longer_than_githubs_annotation_limit() {
    let github = FakeGitHub::start(GitHubState::default());
    // A data migration's 200 KB INSERT: GitHub refuses annotation details over 64 KB.
    let mut long = finding(2, Severity::Error);
    long.statement = format!(
        "INSERT INTO \"users\" (\"email\") VALUES {};",
        vec!["('é@example.com')"; 12_000].join(", ")
    );
    long.help = "x".repeat(70_000);
    let run = publish(&github, &report(vec![long]), true, false);
    let id = run
        .published
        .check_run_id
        .expect("the check run is created despite the long statement");
    assert_eq!(github.state.lock().unwrap().check_runs[&id], 1);
    let created = github
        .server
        .requests()
        .into_iter()
        .find(|r| r.method == "POST" && r.path.ends_with("/check-runs"))
        .unwrap()
        .json();
    let details = created["output"]["annotations"][0]["raw_details"]
        .as_str()
        .unwrap();
    assert!(
        details.starts_with("INSERT INTO \"users\""),
        "{}",
        &details[..40]
    );
}

#[test]
fn a_human_comment_quoting_the_marker_is_never_overwritten() {
    // A reviewer pastes the bot's raw markdown to discuss it: the marker is in their comment,
    // but not at its start, where the gate always puts it.
    let quoted =
        format!("Why does the bot say this?\n```\n{COMMENT_MARKER}\n### ❌ migration-gate\n```");
    let github = FakeGitHub::start(GitHubState {
        comments: vec![(11, quoted.clone())],
        ..Default::default()
    });
    let run = publish(
        &github,
        &report(vec![finding(2, Severity::Error)]),
        false,
        false,
    );
    assert!(
        matches!(run.published.comment, Some(CommentAction::Created(_))),
        "{:?}",
        run.published.comment
    );
    let state = github.state.lock().unwrap();
    assert_eq!(
        state.comments[0],
        (11, quoted),
        "the human comment is untouched"
    );
    assert_eq!(state.comments.len(), 2);
}

#[test]
fn a_huge_multi_line_error_message_is_shown_on_one_short_line() {
    use super::ci_fake::{FakeServer, Reply};
    // The message goes into a `::warning::` line: a newline would end the workflow command and
    // let the server's text start one of its own.
    let server = FakeServer::start(|_, _| {
        Reply::json(
            422,
            &serde_json::json!({
                "message": format!("Validation Failed\n::error::injected by the server\r\n{}", "x".repeat(200_000)),
                "documentation_url": "https://docs.github.com/rest",
            }),
        )
    });
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let err = rt.block_on(async {
        let client = GitHub::new(&server.url, "ghs_someToken1234", "acme/shop").unwrap();
        client.pull_request_files(42).await.unwrap_err()
    });
    let shown = err.to_string();
    assert!(shown.contains("Validation Failed"), "{shown}");
    assert!(!shown.contains('\n') && !shown.contains('\r'), "{shown}");
    assert!(shown.len() < 2_000, "{} bytes", shown.len());
}

#[test]
fn a_github_that_accepts_and_never_answers_does_not_hang_the_job() {
    // A stuck proxy in front of GitHub Enterprise: the calls must give up, not wait until the
    // job's own timeout hours later.
    use std::time::Duration;
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let started = std::time::Instant::now();
    let err = rt.block_on(async {
        let client = GitHub::with_timeout(
            &url,
            "ghs_someToken1234",
            "acme/shop",
            Duration::from_secs(1),
        )
        .unwrap()
        .with_retry_delay(Duration::from_millis(10));
        tokio::time::timeout(Duration::from_secs(60), client.pull_request_files(42))
            .await
            .expect("still waiting after 60 s")
            .unwrap_err()
    });
    drop(listener);
    assert!(
        started.elapsed() < Duration::from_secs(20),
        "{:?}",
        started.elapsed()
    );
    assert_eq!(err.status, None, "{err}");
}
