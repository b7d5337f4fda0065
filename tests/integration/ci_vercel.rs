//! The Vercel deploy hook against a local fake Vercel: retries on 503, none on 400, and no call
//! at all when the deploy failed or needs review.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use migration_gate::ci::runner::RunnerFiles;
use migration_gate::ci::summary::HookReport;
use migration_gate::ci::vercel::RetryPolicy;
use migration_gate::ci::{finish_deploy, fire_hook};
use migration_gate::migrate::{AppliedMigration, DeployOutcome};

use super::ci_fake::{fixture, FakeServer, Reply};

fn quick() -> RetryPolicy {
    RetryPolicy {
        attempts: 4,
        base_delay: Duration::from_millis(10),
        request_timeout: Duration::from_secs(5),
    }
}

/// Answers `failures` times with `status`, then with the recorded "job created" payload.
fn fake_vercel(failures: usize, status: u16) -> FakeServer {
    let calls = Arc::new(AtomicUsize::new(0));
    FakeServer::start(move |request, _| {
        assert_eq!(request.method, "POST");
        assert!(request
            .path
            .starts_with("/v1/integrations/deploy/prj_8Xq2mZ/"));
        if calls.fetch_add(1, Ordering::SeqCst) < failures {
            let body = if status == 400 {
                "vercel/error_400.json"
            } else {
                "vercel/error_503.json"
            };
            Reply::json(status, &fixture(body))
        } else {
            Reply::json(201, &fixture("vercel/deploy_hook_created.json"))
        }
    })
}

fn hook_url(server: &FakeServer) -> String {
    format!("{}/v1/integrations/deploy/prj_8Xq2mZ/kH3sd0Qw1", server.url)
}

#[test]
fn retries_503_then_reads_the_job() {
    let vercel = fake_vercel(2, 503);
    match fire_hook(Some(&hook_url(&vercel)), &quick()) {
        HookReport::Fired(job) => {
            assert_eq!(job.id, "Q9bZ3kTqN2xWvY7hLmP4");
            assert_eq!(job.state, "PENDING");
            assert_eq!(job.attempts, 3);
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(vercel.requests().len(), 3);
}

#[test]
fn retries_429() {
    let vercel = fake_vercel(1, 429);
    assert!(matches!(
        fire_hook(Some(&hook_url(&vercel)), &quick()),
        HookReport::Fired(_)
    ));
    assert_eq!(vercel.requests().len(), 2);
}

#[test]
fn does_not_retry_400_and_never_shows_the_url() {
    let vercel = fake_vercel(usize::MAX, 400);
    let url = hook_url(&vercel);
    match fire_hook(Some(&url), &quick()) {
        HookReport::Failed(reason) => {
            assert!(reason.contains("400"), "{reason}");
            assert!(reason.contains("Invalid deploy hook"), "{reason}");
            assert!(!reason.contains("kH3sd0Qw1"), "{reason}");
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(vercel.requests().len(), 1);
}

#[test]
fn gives_up_after_the_last_attempt_on_network_errors() {
    // A port nothing listens on: every attempt is a connection error.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!(
        "http://{}/v1/integrations/deploy/x/y",
        listener.local_addr().unwrap()
    );
    drop(listener);
    match fire_hook(Some(&url), &quick()) {
        HookReport::Failed(reason) => assert!(reason.contains("after 4 attempts"), "{reason}"),
        other => panic!("{other:?}"),
    }
}

struct Finished {
    code: u8,
    outputs: String,
    summary: String,
}

fn finish(outcome: &DeployOutcome, url: &str) -> Finished {
    let dir = tempfile::tempdir().unwrap();
    let files = RunnerFiles {
        output: Some(dir.path().join("output")),
        step_summary: Some(dir.path().join("summary")),
    };
    let code = finish_deploy(outcome, Some(url), &quick(), &files).unwrap();
    Finished {
        code,
        outputs: std::fs::read_to_string(dir.path().join("output")).unwrap(),
        summary: std::fs::read_to_string(dir.path().join("summary")).unwrap(),
    }
}

#[test]
fn successful_deploy_fires_the_hook_and_sets_outputs() {
    let vercel = fake_vercel(0, 503);
    let outcome = DeployOutcome {
        pending: vec!["20261128091200_drop_email".into()],
        applied: vec![AppliedMigration {
            name: "20261128091200_drop_email".into(),
            duration: Duration::from_millis(42),
        }],
        ..Default::default()
    };
    let done = finish(&outcome, &hook_url(&vercel));
    assert_eq!(done.code, 0);
    assert_eq!(
        done.outputs,
        "applied-count=1\npending-count=1\nneeds-review=false\ndeploy-hook-job-id=Q9bZ3kTqN2xWvY7hLmP4\n"
    );
    assert!(
        done.summary
            .contains("| `20261128091200_drop_email` | 42 ms |"),
        "{}",
        done.summary
    );
    assert!(done.summary.contains("Q9bZ3kTqN2xWvY7hLmP4"));
    assert_eq!(vercel.requests().len(), 1);
}

#[test]
fn needs_review_never_fires_the_hook() {
    let vercel = fake_vercel(0, 503);
    let outcome = DeployOutcome {
        pending: vec!["20261128091200_drop_email".into()],
        needs_review: true,
        ..Default::default()
    };
    let done = finish(&outcome, &hook_url(&vercel));
    assert_eq!(done.code, 3);
    assert!(done.outputs.contains("needs-review=true\n"));
    assert!(done.outputs.contains("deploy-hook-job-id=\n"));
    assert!(done.summary.contains("type=manual-review"));
    assert!(vercel.requests().is_empty());
}

#[test]
fn failed_deploy_never_fires_the_hook() {
    let vercel = fake_vercel(0, 503);
    let outcome = DeployOutcome {
        pending: vec!["1_a".into(), "2_b".into()],
        applied: vec![AppliedMigration {
            name: "1_a".into(),
            duration: Duration::from_millis(5),
        }],
        failure: Some("Migration `2_b` failed: ERROR: relation \"users\" does not exist".into()),
        ..Default::default()
    };
    let done = finish(&outcome, &hook_url(&vercel));
    assert_eq!(done.code, 1);
    assert!(done.outputs.contains("applied-count=1\n"));
    assert!(done.summary.contains("deploy failed"));
    assert!(vercel.requests().is_empty());
}

/// Answers `status` with an error message quoting the hook URL and its path back, as a proxy or
/// a misconfigured endpoint may.
fn echoing_vercel(status: u16) -> FakeServer {
    FakeServer::start(move |request, base| {
        Reply::json(
            status,
            &serde_json::json!({"error": {
                "code": "not_found",
                "message": format!(
                    "no deploy hook at {} (POST {base}{})",
                    request.path, request.path
                ),
            }}),
        )
    })
}

#[test]
fn an_error_body_echoing_the_hook_url_is_redacted() {
    for status in [404, 503] {
        let vercel = echoing_vercel(status);
        let url = hook_url(&vercel);
        let done = finish(
            &DeployOutcome {
                pending: vec!["1_a".into()],
                applied: vec![AppliedMigration {
                    name: "1_a".into(),
                    duration: Duration::from_millis(5),
                }],
                ..Default::default()
            },
            &url,
        );
        assert!(
            done.summary.contains("no deploy hook at ***"),
            "{}",
            done.summary
        );
        let reason = match fire_hook(Some(&url), &quick()) {
            HookReport::Failed(reason) => reason,
            other => panic!("{other:?}"),
        };
        assert!(reason.contains(&status.to_string()), "{reason}");
        for secret in [
            url.as_str(),
            "/v1/integrations/deploy/prj_8Xq2mZ/kH3sd0Qw1",
            "kH3sd0Qw1",
        ] {
            assert!(!reason.contains(secret), "{secret} in {reason}");
            assert!(
                !done.summary.contains(secret),
                "{secret} in {}",
                done.summary
            );
        }
    }
}

#[test]
fn a_huge_multi_line_error_message_is_shown_on_one_short_line() {
    // The reason goes into `::error::` and `::warning::` lines: a newline would end the workflow
    // command and let the server's text start one of its own.
    let vercel = FakeServer::start(|_, _| {
        Reply::json(
            400,
            &serde_json::json!({"error": {
                "code": "bad_request",
                "message": format!("bad hook\n::error::injected by the server\r\n{}", "x".repeat(200_000)),
            }}),
        )
    });
    let reason = match fire_hook(Some(&hook_url(&vercel)), &quick()) {
        HookReport::Failed(reason) => reason,
        other => panic!("{other:?}"),
    };
    assert!(reason.contains("bad hook"), "{reason}");
    assert!(!reason.contains('\n') && !reason.contains('\r'), "{reason}");
    assert!(reason.len() < 2_000, "{} bytes", reason.len());
}

#[test]
fn an_answer_whose_body_never_comes_does_not_hang_the_job() {
    // Headers, then nothing: the request timeout must cover the body too.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    std::thread::spawn(move || {
        use std::io::{Read, Write};
        let mut held = Vec::new();
        for stream in listener.incoming() {
            let mut stream = stream.unwrap();
            let mut request = [0u8; 4096];
            let _ = stream.read(&mut request);
            let _ = stream.write_all(
                b"HTTP/1.1 201 Created\r\ncontent-type: application/json\r\ncontent-length: 100\r\n\r\n{\"job\"",
            );
            held.push(stream);
        }
    });
    let policy = RetryPolicy {
        attempts: 2,
        base_delay: Duration::from_millis(10),
        request_timeout: Duration::from_secs(1),
    };
    let (done, receive) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let url = format!("{base}/v1/integrations/deploy/prj_8Xq2mZ/kH3sd0Qw1");
        let _ = done.send(fire_hook(Some(&url), &policy));
    });
    match receive.recv_timeout(Duration::from_secs(30)) {
        Ok(HookReport::Failed(reason)) => assert!(reason.contains("1s"), "{reason}"),
        Ok(other) => panic!("{other:?}"),
        Err(_) => panic!("still waiting for the hook's answer after 30 s"),
    }
}
