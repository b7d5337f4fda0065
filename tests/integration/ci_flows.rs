//! `migration-gate ci` end to end: the binary with a runner environment, real PostgreSQL
//! (TestDb), a fake Vercel hook and a fake GitHub.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use super::ci_event::ci_command;
use super::ci_fake::{fixture, FakeGitHub, FakeServer, GitHubState, Reply};
use super::support::{stderr, stdout, Project, TestDb};

const INIT: &str = "20261101000000_init";
const ADD_ORDERS: &str = "20261115000000_add_orders";

/// A temporary runner: event file, GITHUB_OUTPUT, GITHUB_STEP_SUMMARY.
struct Runner {
    dir: tempfile::TempDir,
}

impl Runner {
    fn new() -> Runner {
        Runner {
            dir: tempfile::tempdir().unwrap(),
        }
    }
    fn output_path(&self) -> PathBuf {
        self.dir.path().join("github_output")
    }
    fn summary_path(&self) -> PathBuf {
        self.dir.path().join("step_summary")
    }
    fn outputs(&self) -> String {
        std::fs::read_to_string(self.output_path()).unwrap_or_default()
    }
    fn summary(&self) -> String {
        std::fs::read_to_string(self.summary_path()).unwrap_or_default()
    }
    fn apply(&self, cmd: &mut Command) {
        cmd.env("GITHUB_OUTPUT", self.output_path())
            .env("GITHUB_STEP_SUMMARY", self.summary_path());
    }
}

fn vercel() -> FakeServer {
    FakeServer::start(|_, _| Reply::json(201, &fixture("vercel/deploy_hook_created.json")))
}

fn hook(server: &FakeServer) -> String {
    format!("{}/v1/integrations/deploy/prj_8Xq2mZ/kH3sd0Qw1", server.url)
}

fn project() -> Project {
    let project = Project::new();
    project.migration(
        INIT,
        "-- CreateTable\nCREATE TABLE \"users\" (\n    \"id\" SERIAL NOT NULL,\n    \"email\" TEXT NOT NULL,\n    CONSTRAINT \"users_pkey\" PRIMARY KEY (\"id\")\n);\n",
    );
    project.write(
        &format!("prisma/migrations/{INIT}/down.sql"),
        "DROP TABLE \"users\";\n",
    );
    project.migration(
        ADD_ORDERS,
        "-- CreateTable\nCREATE TABLE \"orders\" (\n    \"id\" SERIAL NOT NULL,\n    \"user_id\" INTEGER NOT NULL,\n    CONSTRAINT \"orders_pkey\" PRIMARY KEY (\"id\")\n);\n",
    );
    project.write(
        &format!("prisma/migrations/{ADD_ORDERS}/down.sql"),
        "DROP TABLE \"orders\";\n",
    );
    project
}

fn ci(project: &Path, runner: &Runner, event: &str, fixture: &str, db: &TestDb) -> Command {
    let mut cmd = ci_command(project, event, Some(fixture));
    runner.apply(&mut cmd);
    cmd.env("DIRECT_URL", &db.url);
    cmd
}

fn show(out: &Output) -> String {
    format!("stdout:\n{}\nstderr:\n{}", stdout(out), stderr(out))
}

fn applied(db: &TestDb) -> Vec<String> {
    db.query("SELECT migration_name FROM _prisma_migrations WHERE finished_at IS NOT NULL AND rolled_back_at IS NULL ORDER BY migration_name")
        .into_iter()
        .map(|row| row[0].clone())
        .collect()
}

fn table_exists(db: &TestDb, table: &str) -> bool {
    db.query(&format!("SELECT to_regclass('public.{table}') IS NOT NULL"))[0][0] == "t"
}

#[test]
fn push_to_main_deploys_then_fires_the_hook() {
    let project = project();
    let db = TestDb::new();
    let runner = Runner::new();
    let vercel = vercel();
    let out = ci(project.path(), &runner, "push", "push.json", &db)
        .env("VERCEL_DEPLOY_HOOK_URL", hook(&vercel))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", show(&out));
    assert_eq!(applied(&db), [INIT, ADD_ORDERS]);
    assert!(table_exists(&db, "orders"));
    assert_eq!(
        runner.outputs(),
        "applied-count=2\npending-count=2\nneeds-review=false\ndeploy-hook-job-id=Q9bZ3kTqN2xWvY7hLmP4\n"
    );
    let summary = runner.summary();
    assert!(summary.contains(&format!("| `{INIT}` |")), "{summary}");
    assert!(
        summary.contains(&format!("| `{ADD_ORDERS}` |")),
        "{summary}"
    );
    assert!(summary.contains("Q9bZ3kTqN2xWvY7hLmP4"), "{summary}");
    assert_eq!(vercel.requests().len(), 1);
    let text = stdout(&out);
    assert!(text.starts_with("::add-mask::"), "{text}");
    assert!(
        !text.contains("kH3sd0Qw1")
            || text
                .lines()
                .filter(|l| l.contains("kH3sd0Qw1"))
                .all(|l| l.starts_with("::add-mask::")),
        "{text}"
    );
}

#[test]
fn destructive_deploy_needs_review_and_never_fires_the_hook() {
    let project = project();
    let db = TestDb::new();
    let vercel = vercel();
    // First deploy the safe history.
    let first = Runner::new();
    let out = ci(project.path(), &first, "push", "push.json", &db)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", show(&out));
    project.migration(
        "20261128091200_drop_email",
        "-- AlterTable\nALTER TABLE \"users\" DROP COLUMN \"email\";\n",
    );
    let runner = Runner::new();
    let out = ci(project.path(), &runner, "push", "push.json", &db)
        .env("VERCEL_DEPLOY_HOOK_URL", hook(&vercel))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(3), "{}", show(&out));
    assert_eq!(applied(&db), [INIT, ADD_ORDERS], "nothing applied");
    assert!(runner.outputs().contains("needs-review=true\n"));
    assert!(runner.outputs().contains("applied-count=0\n"));
    assert!(
        runner.summary().contains("type=manual-review"),
        "{}",
        runner.summary()
    );
    assert!(
        !show(&out).contains("--allow-destructive") && !runner.summary().contains("--allow-"),
        "CI names the input, not the flag: {}\n{}",
        show(&out),
        runner.summary()
    );
    assert!(
        stderr(&out).contains("`allow-destructive: true` input"),
        "{}",
        show(&out)
    );
    assert!(vercel.requests().is_empty(), "the hook must not fire");
}

#[test]
fn manual_review_reports_and_changes_nothing() {
    let project = project();
    let db = TestDb::new();
    let out = ci(project.path(), &Runner::new(), "push", "push.json", &db)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", show(&out));
    project.migration(
        "20261128091200_drop_email",
        "-- AlterTable\nALTER TABLE \"users\" DROP COLUMN \"email\";\n",
    );
    let vercel = vercel();
    let runner = Runner::new();
    let out = ci(
        project.path(),
        &runner,
        "workflow_dispatch",
        "workflow_dispatch_manual_review.json",
        &db,
    )
    .env("VERCEL_DEPLOY_HOOK_URL", hook(&vercel))
    .output()
    .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", show(&out));
    let summary = runner.summary();
    assert!(summary.contains("manual review"), "{summary}");
    assert!(
        summary.contains("### `20261128091200_drop_email`"),
        "{summary}"
    );
    assert!(summary.contains("drop-column"), "{summary}");
    assert!(
        summary.contains("ALTER TABLE \"users\" DROP COLUMN \"email\";"),
        "{summary}"
    );
    assert!(
        runner.outputs().contains("pending-count=1\n"),
        "{}",
        runner.outputs()
    );
    assert!(runner.outputs().contains("needs-review=true\n"));
    assert_eq!(
        applied(&db),
        [INIT, ADD_ORDERS],
        "manual-review must not apply anything"
    );
    let email = db.query(
        "SELECT count(*) FROM information_schema.columns WHERE table_name = 'users' AND column_name = 'email'",
    );
    assert_eq!(email[0][0], "1", "the column is still there");
    assert!(vercel.requests().is_empty());
}

#[test]
fn dispatch_rollback_runs_down_scripts_then_fires_the_hook() {
    let project = project();
    let db = TestDb::new();
    let out = ci(project.path(), &Runner::new(), "push", "push.json", &db)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", show(&out));
    let vercel = vercel();
    let runner = Runner::new();
    let out = ci(
        project.path(),
        &runner,
        "workflow_dispatch",
        "workflow_dispatch_rollback.json",
        &db,
    )
    .env("VERCEL_DEPLOY_HOOK_URL", hook(&vercel))
    .output()
    .unwrap();
    // The fixture's target is the init migration: orders is rolled back, users stays.
    assert_eq!(out.status.code(), Some(0), "{}", show(&out));
    assert!(!table_exists(&db, "orders"));
    assert!(table_exists(&db, "users"));
    assert_eq!(applied(&db), [INIT]);
    assert!(
        runner.summary().contains(ADD_ORDERS),
        "{}",
        runner.summary()
    );
    assert!(runner
        .outputs()
        .contains("deploy-hook-job-id=Q9bZ3kTqN2xWvY7hLmP4\n"));
    assert_eq!(vercel.requests().len(), 1);
}

fn git(dir: &Path, args: &[&str]) -> String {
    let out = Command::new("git")
        .arg("-C")
        .arg(dir)
        .args([
            "-c",
            "user.name=Mona",
            "-c",
            "user.email=mona@example.com",
            "-c",
            "commit.gpgsign=false",
        ])
        .args(args)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "git {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

/// A pull_request event for PR 42 with the given commits.
fn pr_event(dir: &Path, base: &str, head: &str) -> PathBuf {
    let mut event = fixture("events/pull_request.json");
    event["pull_request"]["base"]["sha"] = base.into();
    event["pull_request"]["head"]["sha"] = head.into();
    let path = dir.join("event.json");
    std::fs::write(&path, event.to_string()).unwrap();
    path
}

#[test]
fn pull_request_check_annotates_comments_and_fails_on_errors() {
    let project = project();
    let root = project.path();
    git(root, &["init", "-q", "-b", "main"]);
    git(root, &["add", "."]);
    git(root, &["commit", "-q", "-m", "base"]);
    let base = git(root, &["rev-parse", "HEAD"]);
    project.migration(
        "20261128091200_drop_email",
        "-- AlterTable\nALTER TABLE \"users\" DROP COLUMN \"email\";\n",
    );
    git(root, &["add", "."]);
    git(root, &["commit", "-q", "-m", "drop email"]);
    let head = git(root, &["rev-parse", "HEAD"]);

    let github = FakeGitHub::start(GitHubState::default());
    let runner = Runner::new();
    let event = pr_event(runner.dir.path(), &base, &head);
    let mut cmd = ci_command(root, "pull_request", None);
    runner.apply(&mut cmd);
    let out = cmd
        .env("GITHUB_EVENT_PATH", &event)
        .env("GITHUB_API_URL", &github.server.url)
        .env("GITHUB_TOKEN", "ghs_testtoken123")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1), "{}", show(&out));
    let text = stdout(&out);
    assert!(
        text.contains(
            "::error file=prisma/migrations/20261128091200_drop_email/migration.sql,line=2"
        ),
        "{text}"
    );
    assert!(text.contains("checking 1 pending migration"), "{text}");
    let comments = github.state.lock().unwrap().comments.clone();
    assert_eq!(comments.len(), 1);
    assert!(comments[0].1.contains("drop-column"), "{}", comments[0].1);
    assert!(runner.summary().contains("drop-column"));
    assert_eq!(runner.outputs(), "pending-count=1\nneeds-review=true\n");
}

#[test]
fn pull_request_check_keeps_the_history_cache_and_says_the_same_with_it() {
    let project = project();
    let root = project.path();
    git(root, &["init", "-q", "-b", "main"]);
    git(root, &["add", "."]);
    git(root, &["commit", "-q", "-m", "base"]);
    let base = git(root, &["rev-parse", "HEAD"]);
    project.migration(
        "20261128091200_drop_email",
        "-- AlterTable\nALTER TABLE \"users\" DROP COLUMN \"email\";\n",
    );
    git(root, &["add", "."]);
    git(root, &["commit", "-q", "-m", "drop email"]);
    let head = git(root, &["rev-parse", "HEAD"]);

    let github = FakeGitHub::start(GitHubState::default());
    let cache = tempfile::tempdir().unwrap();
    let run = || {
        let runner = Runner::new();
        let event = pr_event(runner.dir.path(), &base, &head);
        let mut cmd = ci_command(root, "pull_request", None);
        runner.apply(&mut cmd);
        cmd.env("GITHUB_EVENT_PATH", &event)
            .env("GITHUB_API_URL", &github.server.url)
            .env("GITHUB_TOKEN", "ghs_testtoken123")
            .env("MIGRATION_GATE_CACHE_DIR", cache.path())
            .output()
            .unwrap()
    };
    let cold = run();
    assert_eq!(cold.status.code(), Some(1), "{}", show(&cold));
    assert!(stdout(&cold).contains("drop-column"), "{}", show(&cold));
    let cached: Vec<_> = std::fs::read_dir(cache.path()).unwrap().collect();
    assert_eq!(cached.len(), 1, "the history's schema is cached");
    let warm = run();
    assert_eq!(warm.status.code(), Some(1), "{}", show(&warm));
    // The same annotations and counts; only the comment is now updated rather than created.
    let report = |out: &Output| -> Vec<String> {
        stdout(out)
            .lines()
            .filter(|line| !line.contains("PR comment"))
            .map(str::to_string)
            .collect()
    };
    assert_eq!(report(&warm), report(&cold));
}

#[test]
fn shallow_checkout_asks_github_for_the_pr_files() {
    let project = project();
    project.migration(
        "20261128091200_drop_email",
        "-- AlterTable\nALTER TABLE \"users\" DROP COLUMN \"email\";\n",
    );
    // Not a git repository: the base commit is unknown locally.
    let github = FakeGitHub::start(GitHubState {
        files: vec![
            (
                "prisma/migrations/20261128091200_drop_email/migration.sql".into(),
                "added".into(),
            ),
            ("README.md".into(), "modified".into()),
        ],
        ..Default::default()
    });
    let runner = Runner::new();
    let mut cmd = ci_command(project.path(), "pull_request", Some("pull_request.json"));
    runner.apply(&mut cmd);
    let out = cmd
        .env("GITHUB_API_URL", &github.server.url)
        .env("GITHUB_TOKEN", "ghs_testtoken123")
        .args(["--fail-on", "never"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", show(&out));
    assert!(
        stdout(&out).contains("checking 1 pending migration"),
        "{}",
        show(&out)
    );
    assert!(github
        .server
        .requests()
        .iter()
        .any(|r| r.path.starts_with("/repos/acme/shop/pulls/42/files")));
}

#[test]
fn fork_pr_cannot_comment_but_annotates_and_summarises() {
    let project = project();
    project.migration(
        "20261128091200_drop_email",
        "-- AlterTable\nALTER TABLE \"users\" DROP COLUMN \"email\";\n",
    );
    let github = FakeGitHub::start(GitHubState {
        read_only: true,
        files: vec![(
            "prisma/migrations/20261128091200_drop_email/migration.sql".into(),
            "added".into(),
        )],
        ..Default::default()
    });
    let runner = Runner::new();
    let mut cmd = ci_command(
        project.path(),
        "pull_request",
        Some("pull_request_fork.json"),
    );
    runner.apply(&mut cmd);
    let out = cmd
        .env("GITHUB_API_URL", &github.server.url)
        .env("GITHUB_TOKEN", "ghs_readonly")
        .arg("--check-run")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1), "{}", show(&out));
    let text = stdout(&out);
    assert!(
        text.contains("::warning::migration-gate: cannot comment on PR #42"),
        "{text}"
    );
    assert!(text.contains("forks get a read-only token"), "{text}");
    assert!(
        text.contains("::error file=prisma/migrations/20261128091200_drop_email/migration.sql"),
        "{text}"
    );
    assert!(runner.summary().contains("drop-column"));
    assert!(github.state.lock().unwrap().comments.is_empty());
}

#[test]
fn deploy_without_a_database_says_so_in_the_summary() {
    let project = project();
    let runner = Runner::new();
    let vercel = vercel();
    let mut cmd = ci_command(project.path(), "push", Some("push.json"));
    runner.apply(&mut cmd);
    let out = cmd
        .env("VERCEL_DEPLOY_HOOK_URL", hook(&vercel))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2), "{}", show(&out));
    assert!(stderr(&out).contains("no database URL"), "{}", show(&out));
    // In a workflow there is no flag to pass: the message names the input.
    assert!(
        stderr(&out).contains("the `database-url` input from a secret"),
        "{}",
        show(&out)
    );
    assert!(!stderr(&out).contains("--database-url"), "{}", show(&out));
    assert!(
        runner.summary().contains("deploy stopped"),
        "{}",
        runner.summary()
    );
    assert!(runner.outputs().contains("applied-count=0\n"));
    assert!(vercel.requests().is_empty());
}

#[test]
fn pull_request_that_edits_a_merged_migration_is_flagged() {
    let project = project();
    let root = project.path();
    git(root, &["init", "-q", "-b", "main"]);
    git(root, &["add", "."]);
    git(root, &["commit", "-q", "-m", "base"]);
    let base = git(root, &["rev-parse", "HEAD"]);
    project.migration(
        ADD_ORDERS,
        "-- CreateTable\nCREATE TABLE \"orders\" (\n    \"id\" BIGSERIAL NOT NULL,\n    CONSTRAINT \"orders_pkey\" PRIMARY KEY (\"id\")\n);\n",
    );
    git(root, &["commit", "-q", "-am", "edit orders"]);
    let head = git(root, &["rev-parse", "HEAD"]);
    let runner = Runner::new();
    let event = pr_event(runner.dir.path(), &base, &head);
    let mut cmd = ci_command(root, "pull_request", None);
    runner.apply(&mut cmd);
    let out = cmd.env("GITHUB_EVENT_PATH", &event).output().unwrap();
    assert_eq!(out.status.code(), Some(1), "{}", show(&out));
    let text = stdout(&out);
    assert!(
        text.contains(&format!(
            "::error file=prisma/migrations/{ADD_ORDERS}/migration.sql,line=1"
        )),
        "{text}"
    );
    assert!(text.contains("edited-migration"), "{text}");
    assert!(text.contains("no GitHub token"), "{text}");
}

#[test]
fn approved_job_deploys_with_allow_destructive_and_fires_the_hook() {
    let project = project();
    let db = TestDb::new();
    let out = ci(project.path(), &Runner::new(), "push", "push.json", &db)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", show(&out));
    project.migration(
        "20261128091200_drop_email",
        "-- AlterTable\nALTER TABLE \"users\" DROP COLUMN \"email\";\n",
    );
    let vercel = vercel();
    let runner = Runner::new();
    let out = ci(
        project.path(),
        &runner,
        "workflow_dispatch",
        "workflow_dispatch_manual_review.json",
        &db,
    )
    .env("VERCEL_DEPLOY_HOOK_URL", hook(&vercel))
    .args(["--mode", "deploy", "--allow-destructive"])
    .output()
    .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", show(&out));
    assert_eq!(
        applied(&db),
        [INIT, ADD_ORDERS, "20261128091200_drop_email"]
    );
    assert!(runner.outputs().contains("applied-count=1\n"));
    assert!(runner
        .outputs()
        .contains("deploy-hook-job-id=Q9bZ3kTqN2xWvY7hLmP4\n"));
    assert_eq!(vercel.requests().len(), 1);
}

/// A git repository whose head commit adds a migration dropping a column: (project, base, head).
fn repo_with_a_dropped_column() -> (Project, String, String) {
    let project = project();
    let root = project.path();
    git(root, &["init", "-q", "-b", "main"]);
    git(root, &["add", "."]);
    git(root, &["commit", "-q", "-m", "base"]);
    let base = git(root, &["rev-parse", "HEAD"]);
    project.migration(
        "20261128091200_drop_email",
        "-- AlterTable\nALTER TABLE \"users\" DROP COLUMN \"email\";\n",
    );
    git(root, &["add", "."]);
    git(root, &["commit", "-q", "-m", "drop email"]);
    let head = git(root, &["rev-parse", "HEAD"]);
    (project, base, head)
}

#[test]
fn merge_group_is_checked_like_a_pull_request_of_its_head() {
    let (project, base, head) = repo_with_a_dropped_column();
    let github = FakeGitHub::start(GitHubState::default());
    let runner = Runner::new();
    let mut event = fixture("events/merge_group.json");
    event["merge_group"]["base_sha"] = base.as_str().into();
    event["merge_group"]["head_sha"] = head.as_str().into();
    let event_path = runner.dir.path().join("event.json");
    std::fs::write(&event_path, event.to_string()).unwrap();
    let mut cmd = ci_command(project.path(), "merge_group", None);
    runner.apply(&mut cmd);
    let out = cmd
        .env("GITHUB_EVENT_PATH", &event_path)
        .env("GITHUB_API_URL", &github.server.url)
        .env("GITHUB_TOKEN", "ghs_testtoken123")
        .arg("--check-run")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1), "{}", show(&out));
    let text = stdout(&out);
    assert!(text.contains("checking 1 pending migration"), "{text}");
    assert!(
        text.contains("::error file=prisma/migrations/20261128091200_drop_email/migration.sql"),
        "{text}"
    );
    assert!(!text.contains("::warning::"), "{text}");
    assert_eq!(runner.outputs(), "pending-count=1\nneeds-review=true\n");
    let requests = github.server.requests();
    let check_run = requests
        .iter()
        .find(|r| r.method == "POST" && r.path.ends_with("/check-runs"))
        .expect("a check run on the merge group's head");
    assert_eq!(check_run.json()["head_sha"], head.as_str());
    assert!(
        github.state.lock().unwrap().comments.is_empty(),
        "a merge group has no PR to comment on"
    );
}

#[test]
fn github_down_warns_and_keeps_the_verdict_and_outputs() {
    let (project, base, head) = repo_with_a_dropped_column();
    let github = FakeGitHub::start(GitHubState {
        broken: Some(502),
        ..Default::default()
    });
    let runner = Runner::new();
    let event = pr_event(runner.dir.path(), &base, &head);
    let mut cmd = ci_command(project.path(), "pull_request", None);
    runner.apply(&mut cmd);
    let out = cmd
        .env("GITHUB_EVENT_PATH", &event)
        .env("GITHUB_API_URL", &github.server.url)
        .env("GITHUB_TOKEN", "ghs_testtoken123")
        .args(["--fail-on", "never", "--check-run"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", show(&out));
    let text = stdout(&out);
    assert!(
        text.contains("::warning::migration-gate: cannot comment on PR #42 (GitHub answered 502"),
        "{text}"
    );
    assert!(
        text.contains("::warning::migration-gate: cannot create the check run"),
        "{text}"
    );
    assert_eq!(runner.outputs(), "pending-count=1\nneeds-review=true\n");
    assert!(runner.summary().contains("drop-column"));
}

#[test]
fn rate_limited_token_is_not_blamed_on_permissions() {
    let (project, base, head) = repo_with_a_dropped_column();
    let github = FakeGitHub::start(GitHubState {
        rate_limited: true,
        ..Default::default()
    });
    let runner = Runner::new();
    let event = pr_event(runner.dir.path(), &base, &head);
    let mut cmd = ci_command(project.path(), "pull_request", None);
    runner.apply(&mut cmd);
    let out = cmd
        .env("GITHUB_EVENT_PATH", &event)
        .env("GITHUB_API_URL", &github.server.url)
        .env("GITHUB_TOKEN", "ghs_testtoken123")
        .args(["--fail-on", "never", "--check-run"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", show(&out));
    let text = stdout(&out);
    let warnings: Vec<&str> = text
        .lines()
        .filter(|l| l.starts_with("::warning::migration-gate: cannot"))
        .collect();
    assert_eq!(warnings.len(), 2, "{text}");
    for warning in warnings {
        assert!(warning.contains("rate limit"), "{warning}");
        assert!(!warning.contains("permissions"), "{warning}");
    }
    assert_eq!(
        text.matches("ghs_testtoken123").count(),
        1,
        "the token only in its mask command: {text}"
    );
    assert_eq!(runner.outputs(), "pending-count=1\nneeds-review=true\n");
}

#[test]
fn proxy_error_page_stays_inside_one_warning_line() {
    let (project, base, head) = repo_with_a_dropped_column();
    let github = FakeGitHub::start(GitHubState {
        proxy_error: Some(502),
        ..Default::default()
    });
    let runner = Runner::new();
    let event = pr_event(runner.dir.path(), &base, &head);
    let mut cmd = ci_command(project.path(), "pull_request", None);
    runner.apply(&mut cmd);
    let out = cmd
        .env("GITHUB_EVENT_PATH", &event)
        .env("GITHUB_API_URL", &github.server.url)
        .env("GITHUB_TOKEN", "ghs_testtoken123")
        .args(["--fail-on", "error", "--check-run"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1), "{}", show(&out));
    let text = stdout(&out);
    // A workflow command ends at the line break: the rest of an HTML page would be loose log
    // lines and the warning would lose its advice.
    let warnings: Vec<&str> = text
        .lines()
        .filter(|l| l.starts_with("::warning::"))
        .collect();
    assert_eq!(warnings.len(), 2, "{text}");
    for warning in warnings {
        assert!(warning.contains("502 Bad Gateway"), "{warning}");
        assert!(
            warning.ends_with("the job summary and the exit code carry it"),
            "{warning}"
        );
    }
    assert!(!text.lines().any(|l| l.starts_with("</")), "{text}");
    assert_eq!(runner.outputs(), "pending-count=1\nneeds-review=true\n");
}

#[test]
fn pull_request_target_on_the_base_checkout_is_not_a_clean_verdict() {
    // pull_request_target's default checkout is the base branch: the PR's migrations are not
    // in the working tree, and checking it would report "no dangerous statements".
    let (project, base, head) = repo_with_a_dropped_column();
    git(project.path(), &["checkout", "-q", &base]);
    let runner = Runner::new();
    let event = pr_event(runner.dir.path(), &base, &head);
    let mut cmd = ci_command(project.path(), "pull_request_target", None);
    runner.apply(&mut cmd);
    let out = cmd
        .env("GITHUB_EVENT_PATH", &event)
        .env("GITHUB_SHA", &base)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2), "{}", show(&out));
    let text = stderr(&out);
    assert!(text.contains("pull_request_target"), "{text}");
    assert!(
        text.contains("github.event.pull_request.head.sha"),
        "{text}"
    );
    assert!(
        !runner.summary().contains("no dangerous"),
        "{}",
        runner.summary()
    );

    // Checked out at the PR's head, as the message says: the real verdict.
    git(project.path(), &["checkout", "-q", &head]);
    let mut cmd = ci_command(project.path(), "pull_request_target", None);
    runner.apply(&mut cmd);
    let out = cmd
        .env("GITHUB_EVENT_PATH", &event)
        .env("GITHUB_SHA", &base)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1), "{}", show(&out));
    assert!(
        runner.summary().contains("drop-column"),
        "{}",
        runner.summary()
    );
}
