//! `check --trace-database-url`: the pending migrations run on a scratch copy of the replayed
//! history, and what PostgreSQL saw joins the report. Every test checks that the run left no
//! database of its own behind, and drops the template it made (templates are kept on purpose).

use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use crate::support::{admin_execute, bin, query_rows, server_url, stderr, stdout, Project};

/// A project whose history is unique to `test` (so is its template) and has a table with rows,
/// a function that drops any column and one that widens any column to bigint.
fn project(test: &str) -> Project {
    let project = Project::new();
    project.migration(
        "20240101000000_init",
        &format!(
            "-- {test}\n\
             CREATE TABLE \"User\" (\"id\" INTEGER NOT NULL, \"email\" TEXT, \"name\" TEXT,\n    \
             CONSTRAINT \"User_pkey\" PRIMARY KEY (\"id\"));\n\
             CREATE TABLE \"Big\" (\"id\" INTEGER NOT NULL, \"n\" INTEGER);\n\
             INSERT INTO \"Big\" SELECT g, g FROM generate_series(1, 100) g;\n"
        ),
    );
    project.migration(
        "20240102000000_helpers",
        "CREATE FUNCTION drop_col(t text, c text) RETURNS void LANGUAGE plpgsql AS $$\n\
         BEGIN\n  EXECUTE format('ALTER TABLE %I DROP COLUMN %I', t, c);\nEND $$;\n\
         CREATE FUNCTION widen(t text, c text) RETURNS void LANGUAGE plpgsql AS $$\n\
         BEGIN\n  EXECUTE format('ALTER TABLE %I ALTER COLUMN %I TYPE bigint', t, c);\nEND $$;\n\
         CREATE FUNCTION share_lock(t text) RETURNS void LANGUAGE plpgsql AS $$\n\
         BEGIN\n  EXECUTE format('LOCK TABLE %I IN SHARE MODE', t);\nEND $$;\n",
    );
    project
}

const PENDING: &str = "20240301000000_pending";
const PENDING_FILE: &str = "prisma/migrations/20240301000000_pending/migration.sql";

/// Databases whose name carries `pid` (the scratch and half-built template names of that run).
fn databases_of(pid: u32) -> Vec<String> {
    query_rows(
        &server_url(),
        &format!(
            "SELECT datname FROM pg_database WHERE datname ~ '^mg_trace_(tmp_)?{pid}_' ORDER BY 1"
        ),
    )
    .into_iter()
    .map(|row| row[0].clone())
    .collect()
}

/// The templates a run's stderr names; dropped by the test that made them.
struct Templates(Vec<String>);

impl Templates {
    fn note(&mut self, output: &Output) {
        for word in stderr(output).split_whitespace() {
            let name = word.trim_matches(|c: char| !c.is_ascii_alphanumeric() && c != '_');
            if name.starts_with("mg_trace_tpl_") && !self.0.iter().any(|n| n == name) {
                self.0.push(name.to_string());
            }
        }
    }
}

impl Drop for Templates {
    fn drop(&mut self) {
        for name in &self.0 {
            admin_execute(
                &server_url(),
                &format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"),
            );
        }
    }
}

/// `check PENDING --trace-database-url <server> [extra]`, asserting it left no database behind.
fn trace(project: &Project, templates: &mut Templates, extra: &[&str]) -> Output {
    let url = server_url();
    let mut args = vec!["check", PENDING, "--trace-database-url", &url];
    args.extend_from_slice(extra);
    let child = command(project, &args)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run migration-gate");
    let pid = child.id();
    let output = child.wait_with_output().expect("wait for migration-gate");
    templates.note(&output);
    assert_eq!(databases_of(pid), Vec::<String>::new(), "left behind");
    output
}

fn command(project: &Project, args: &[&str]) -> Command {
    let mut cmd = bin();
    cmd.current_dir(project.path()).args(args);
    for var in ["DATABASE_URL", "DIRECT_URL", "NO_COLOR"] {
        cmd.env_remove(var);
    }
    cmd
}

fn json(output: &Output) -> serde_json::Value {
    serde_json::from_str(&stdout(output))
        .unwrap_or_else(|e| panic!("{e}: {}\n{}", stdout(output), stderr(output)))
}

/// (rule, line, column, message) of every finding.
fn findings(output: &Output) -> Vec<(String, u64, u64, String)> {
    json(output)["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .map(|f| {
            (
                f["rule"].as_str().unwrap().to_string(),
                f["line"].as_u64().unwrap(),
                f["column"].as_u64().unwrap(),
                f["message"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

fn find<'a>(
    findings: &'a [(String, u64, u64, String)],
    rule: &str,
) -> &'a (String, u64, u64, String) {
    findings
        .iter()
        .find(|f| f.0 == rule)
        .unwrap_or_else(|| panic!("no {rule} in {findings:#?}"))
}

#[test]
fn a_history_function_that_drops_a_column_is_traced_data_loss_at_its_line() {
    let project = project("data loss");
    project.migration(PENDING, "-- the call\nSELECT drop_col('User', 'email');\n");
    let mut templates = Templates(Vec::new());
    let output = trace(&project, &mut templates, &["--format", "json"]);
    assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));
    let findings = findings(&output);
    let (_, line, column, message) = find(&findings, "traced-data-loss");
    assert_eq!((*line, *column), (2, 1));
    assert!(
        message.contains("column \"User\".\"email\" dropped"),
        "{message}"
    );
}

#[test]
fn a_statement_that_fails_on_the_replayed_schema_is_fails_to_apply_and_leaves_nothing() {
    let project = project("fails");
    project.migration(
        PENDING,
        "CREATE TABLE \"Team\" (\"id\" INTEGER);\nALTER TABLE \"User\"\n  ADD COLUMN \"teamId\" INTEGER REFERENCES \"Nope\"(\"id\");\n",
    );
    let mut templates = Templates(Vec::new());
    let output = trace(&project, &mut templates, &["--format", "json"]);
    assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));
    let findings = findings(&output);
    let (_, line, _, message) = find(&findings, "fails-to-apply");
    assert_eq!(*line, 2);
    assert!(message.contains("SQLSTATE 42P01"), "{message}");
    assert!(
        message.contains(&format!("{PENDING_FILE}:2:1")),
        "file:line:col in {message}"
    );
    assert!(message.contains("\"Nope\" does not exist"), "{message}");
}

#[test]
fn a_rewrite_through_a_history_function_is_traced_rewrite() {
    let project = project("rewrite");
    project.migration(PENDING, "SELECT widen('Big', 'n');\n");
    let mut templates = Templates(Vec::new());
    let output = trace(&project, &mut templates, &["--format", "json"]);
    let findings = findings(&output);
    let (_, line, _, message) = find(&findings, "traced-rewrite");
    assert_eq!(*line, 1);
    assert!(message.contains("rewrite \"Big\""), "{message}");
    assert!(message.contains("ACCESS EXCLUSIVE"), "{message}");
}

#[test]
fn a_static_finding_gains_what_the_trace_saw() {
    let project = project("static");
    project.migration(
        PENDING,
        "ALTER TABLE \"Big\" ALTER COLUMN \"n\" TYPE bigint;\n",
    );
    let mut templates = Templates(Vec::new());
    let output = trace(&project, &mut templates, &["--format", "json"]);
    let findings = findings(&output);
    let (_, line, _, message) = find(&findings, "alter-column-type");
    assert_eq!(*line, 1);
    assert!(
        message.contains("(traced: ACCESS EXCLUSIVE on \"Big\", \"Big\" rewritten"),
        "{message}"
    );
    // The static finding covers the rewrite: no second finding for it.
    assert!(
        !findings.iter().any(|f| f.0 == "traced-rewrite"),
        "{findings:#?}"
    );
}

#[test]
fn a_hidden_write_blocking_lock_held_by_later_statements_is_traced_lock() {
    let project = project("lock");
    project.migration(
        PENDING,
        "SELECT share_lock('User');\nCREATE TABLE \"Later\" (\"id\" INTEGER);\n",
    );
    let mut templates = Templates(Vec::new());
    let output = trace(&project, &mut templates, &["--format", "json"]);
    let findings = findings(&output);
    let (_, line, _, message) = find(&findings, "traced-lock");
    assert_eq!(*line, 1);
    assert!(message.contains("SHARE on \"User\""), "{message}");
    // A warning by default: the exit code stays 0.
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
}

#[test]
fn objects_created_in_the_pending_set_are_new_and_raise_nothing() {
    let project = project("new objects");
    project.migration(
        PENDING,
        "CREATE TABLE \"Fresh\" (\"id\" INTEGER, \"n\" INTEGER);\nSELECT widen('Fresh', 'n');\nSELECT drop_col('Fresh', 'id');\n",
    );
    let mut templates = Templates(Vec::new());
    let output = trace(&project, &mut templates, &["--format", "json"]);
    let findings = findings(&output);
    assert!(
        !findings.iter().any(|f| f.0.starts_with("traced-")),
        "{findings:#?}"
    );
}

#[test]
fn the_second_run_clones_the_template_of_the_unchanged_history() {
    let project = project("template");
    project.migration(PENDING, "SELECT 1;\n");
    let mut templates = Templates(Vec::new());
    let first = trace(&project, &mut templates, &[]);
    assert!(
        stderr(&first).contains("replaying 2 history migration(s)"),
        "{}",
        stderr(&first)
    );
    assert_eq!(templates.0.len(), 1, "{}", stderr(&first));
    let second = trace(&project, &mut templates, &[]);
    assert!(
        stderr(&second).contains(&format!("reusing the template database {}", templates.0[0])),
        "{}",
        stderr(&second)
    );
    assert_eq!(templates.0.len(), 1);
    // A changed history is another template.
    project.migration(
        "20240103000000_more",
        "CREATE TABLE \"More\" (\"id\" INTEGER);\n",
    );
    let third = trace(&project, &mut templates, &[]);
    assert!(
        stderr(&third).contains("replaying 3 history migration(s)"),
        "{}",
        stderr(&third)
    );
    assert_eq!(templates.0.len(), 2);
}

#[test]
fn two_runs_building_the_same_template_at_once_both_succeed() {
    let project = project("race");
    project.migration(PENDING, "SELECT drop_col('User', 'name');\n");
    let url = server_url();
    let args = [
        "check",
        PENDING,
        "--trace-database-url",
        &url,
        "--format",
        "json",
    ];
    let children: Vec<_> = (0..2)
        .map(|_| {
            command(&project, &args)
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .spawn()
                .expect("run")
        })
        .collect();
    let mut templates = Templates(Vec::new());
    for child in children {
        let pid = child.id();
        let output = child.wait_with_output().expect("wait");
        templates.note(&output);
        assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));
        find(&findings(&output), "traced-data-loss");
        assert_eq!(databases_of(pid), Vec::<String>::new());
    }
    assert_eq!(templates.0.len(), 1, "one template for one history");
}

#[test]
fn every_format_shows_the_traced_findings_with_their_lines() {
    let project = project("formats");
    project.migration(PENDING, "\n\nSELECT drop_col('User', 'email');\n");
    let mut templates = Templates(Vec::new());
    for (format, expected) in [
        (
            "human",
            format!("error[traced-data-loss] {PENDING_FILE}:3:1"),
        ),
        ("json", "\"rule\": \"traced-data-loss\"".to_string()),
        ("markdown", "`traced-data-loss` | 3 |".to_string()),
        ("github", format!("::error file={PENDING_FILE},line=3")),
        ("sarif", "\"ruleId\": \"traced-data-loss\"".to_string()),
    ] {
        let output = trace(&project, &mut templates, &["--format", format]);
        let shown = stdout(&output);
        assert!(
            shown.contains(&expected),
            "{format}: {expected} in\n{shown}"
        );
        assert!(shown.contains("email"), "{format}: {shown}");
        if format == "sarif" {
            assert!(shown.contains("\"startLine\": 3"), "{shown}");
        }
    }
}

#[test]
fn sigterm_mid_trace_drops_the_scratch_database() {
    let project = project("sigterm");
    project.migration(PENDING, "SELECT pg_sleep(60);\n");
    let mut templates = Templates(Vec::new());
    let url = server_url();
    let child = command(&project, &["check", PENDING, "--trace-database-url", &url])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run");
    let pid = child.id();
    // Wait until the pending statement runs in the scratch database.
    let started = Instant::now();
    loop {
        let running = query_rows(
            &url,
            &format!(
                "SELECT 1 FROM pg_stat_activity WHERE datname ~ '^mg_trace_{pid}_' \
                 AND query LIKE 'SELECT pg_sleep(60)%'"
            ),
        );
        if !running.is_empty() {
            break;
        }
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "the trace never ran"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    let killed = Command::new("kill")
        .args(["-TERM", &pid.to_string()])
        .status()
        .expect("kill");
    assert!(killed.success());
    let output = child.wait_with_output().expect("wait");
    templates.note(&output);
    assert!(
        started.elapsed() < Duration::from_secs(50),
        "the statement was not cancelled"
    );
    assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));
    assert!(
        stderr(&output).contains("interrupted by SIGTERM"),
        "{}",
        stderr(&output)
    );
    assert_eq!(databases_of(pid), Vec::<String>::new(), "left behind");
}

#[test]
fn an_unreachable_trace_server_is_one_line() {
    let project = project("unreachable");
    project.migration(PENDING, "SELECT 1;\n");
    let output = command(
        &project,
        &[
            "check",
            PENDING,
            "--trace-database-url",
            "postgres://postgres@127.0.0.1:1/postgres",
        ],
    )
    .output()
    .expect("run");
    assert_eq!(output.status.code(), Some(2));
    let err = stderr(&output);
    assert!(err.contains("cannot reach the trace server"), "{err}");
    assert_eq!(err.trim().lines().count(), 1, "{err}");
}

#[test]
fn a_role_without_createdb_is_told_what_to_grant() {
    let project = project("createdb");
    project.migration(PENDING, "SELECT 1;\n");
    let role = format!("mg_test_nocreatedb_{}", std::process::id());
    admin_execute(
        &server_url(),
        &format!("DROP ROLE IF EXISTS {role}; CREATE ROLE {role} LOGIN"),
    );
    let url = server_url().replacen("postgres@", &format!("{role}@"), 1);
    let output = command(&project, &["check", PENDING, "--trace-database-url", &url])
        .output()
        .expect("run");
    admin_execute(&server_url(), &format!("DROP ROLE {role}"));
    assert_eq!(output.status.code(), Some(2), "{}", stderr(&output));
    let err = stderr(&output);
    assert!(
        err.contains(&format!("ALTER ROLE \"{role}\" CREATEDB")),
        "{err}"
    );
}

fn git(dir: &std::path::Path, args: &[&str]) -> String {
    let out = Command::new("git")
        .arg("-C")
        .arg(dir)
        .args(["-c", "user.name=Mona", "-c", "user.email=mona@example.com"])
        .args(["-c", "commit.gpgsign=false"])
        .args(args)
        .output()
        .unwrap();
    assert!(out.status.success(), "git {args:?}");
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

#[test]
fn the_action_traces_a_pull_request_when_given_a_trace_server() {
    use crate::ci_event::ci_command;
    use crate::ci_fake::{fixture, FakeGitHub, GitHubState};

    let project = project("action");
    let root = project.path();
    git(root, &["init", "-q", "-b", "main"]);
    git(root, &["add", "."]);
    git(root, &["commit", "-q", "-m", "base"]);
    let base = git(root, &["rev-parse", "HEAD"]);
    project.migration(PENDING, "SELECT drop_col('User', 'email');\n");
    git(root, &["add", "."]);
    git(root, &["commit", "-q", "-m", "call a history function"]);
    let head = git(root, &["rev-parse", "HEAD"]);

    let runner = tempfile::tempdir().unwrap();
    let mut event = fixture("events/pull_request.json");
    event["pull_request"]["base"]["sha"] = base.into();
    event["pull_request"]["head"]["sha"] = head.into();
    let event_path = runner.path().join("event.json");
    std::fs::write(&event_path, event.to_string()).unwrap();
    let github = FakeGitHub::start(GitHubState::default());
    let mut cmd = ci_command(root, "pull_request", None);
    let child = cmd
        .env("GITHUB_EVENT_PATH", &event_path)
        .env("GITHUB_API_URL", &github.server.url)
        .env("GITHUB_TOKEN", "ghs_testtoken123")
        .env("GITHUB_OUTPUT", runner.path().join("output"))
        .env("GITHUB_STEP_SUMMARY", runner.path().join("summary"))
        .env("MIGRATION_GATE_TRACE_DATABASE_URL", server_url())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let pid = child.id();
    let out = child.wait_with_output().unwrap();
    let mut templates = Templates(Vec::new());
    templates.note(&out);
    assert_eq!(databases_of(pid), Vec::<String>::new(), "left behind");
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert!(
        stdout(&out).contains(&format!("::error file={PENDING_FILE},line=1")),
        "{}",
        stdout(&out)
    );
    let comments = github.state.lock().unwrap().comments.clone();
    assert!(
        comments[0].1.contains("traced-data-loss"),
        "{}",
        comments[0].1
    );
}

#[test]
fn a_history_that_does_not_apply_is_one_line_and_leaves_no_half_built_template() {
    let project = project("broken history");
    project.migration(
        "20240104000000_broken",
        "ALTER TABLE \"Nope\" ADD COLUMN \"x\" INTEGER;\n",
    );
    project.migration(PENDING, "SELECT 1;\n");
    let mut templates = Templates(Vec::new());
    let output = trace(&project, &mut templates, &[]);
    assert_eq!(output.status.code(), Some(2), "{}", stderr(&output));
    let err = stderr(&output);
    let last = err.trim().lines().last().unwrap_or_default();
    assert!(last.contains("the history does not apply"), "{err}");
    assert!(last.contains("20240104000000_broken"), "{err}");
    // Nothing was renamed into place: no template of this history exists.
    for name in &templates.0 {
        let found = query_rows(
            &server_url(),
            &format!("SELECT 1 FROM pg_database WHERE datname = '{name}'"),
        );
        assert!(found.is_empty(), "{name} exists");
    }
}

#[test]
fn a_drop_the_static_pass_names_is_not_reported_twice() {
    let project = project("named drop");
    project.migration(PENDING, "ALTER TABLE \"User\" DROP COLUMN \"email\";\n");
    let mut templates = Templates(Vec::new());
    let output = trace(&project, &mut templates, &["--format", "json"]);
    let findings = findings(&output);
    let (_, _, _, message) = find(&findings, "drop-column");
    assert!(
        message
            .contains("(traced: ACCESS EXCLUSIVE on \"User\", column \"User\".\"email\" dropped)"),
        "{message}"
    );
    assert!(
        !findings.iter().any(|f| f.0 == "traced-data-loss"),
        "{findings:#?}"
    );
}

#[test]
fn a_trace_server_of_another_version_than_pg_version_is_noted() {
    let project = project("version");
    project.migration(PENDING, "SELECT 1;\n");
    let server: u32 = query_rows(
        &server_url(),
        "SELECT current_setting('server_version_num')::int / 10000",
    )[0][0]
        .parse()
        .unwrap();
    let other = if server == 14 { 15 } else { 14 };
    let mut templates = Templates(Vec::new());
    let other_text = other.to_string();
    let output = trace(
        &project,
        &mut templates,
        &["--format", "json", "--pg-version", &other_text],
    );
    let notes = json(&output)["notes"].to_string();
    assert!(
        notes.contains(&format!("The trace ran on PostgreSQL {server} (the trace server) while the rules target PostgreSQL {other}")),
        "{notes}"
    );
}

#[test]
fn a_file_with_its_own_transaction_runs_as_written_and_a_prisma_enum_recreate_loses_nothing() {
    let project = project("enum recreate");
    project.migration(
        "20240103000000_role",
        "CREATE TYPE \"Role\" AS ENUM ('USER', 'ADMIN');\nALTER TABLE \"User\" ADD COLUMN \"role\" \"Role\" NOT NULL DEFAULT 'USER';\n",
    );
    project.migration(
        PENDING,
        "BEGIN;\nCREATE TYPE \"Role_new\" AS ENUM ('USER');\nALTER TABLE \"User\" ALTER COLUMN \"role\" DROP DEFAULT;\n\
         ALTER TABLE \"User\" ALTER COLUMN \"role\" TYPE \"Role_new\" USING (\"role\"::text::\"Role_new\");\n\
         ALTER TYPE \"Role\" RENAME TO \"Role_old\";\nALTER TYPE \"Role_new\" RENAME TO \"Role\";\n\
         DROP TYPE \"Role_old\";\nALTER TABLE \"User\" ALTER COLUMN \"role\" SET DEFAULT 'USER';\nCOMMIT;\n",
    );
    let mut templates = Templates(Vec::new());
    let output = trace(&project, &mut templates, &["--format", "json"]);
    let findings = findings(&output);
    assert!(
        !findings.iter().any(|f| f.0 == "traced-data-loss"),
        "{findings:#?}"
    );
    assert!(
        !findings.iter().any(|f| f.0 == "fails-to-apply"),
        "{findings:#?}"
    );
    let (_, line, _, message) = find(&findings, "alter-column-type");
    assert_eq!(*line, 4);
    assert!(message.contains("\"User\" rewritten"), "{message}");
}

#[test]
fn a_role_the_pending_set_creates_is_dropped_so_the_next_run_applies_it_again() {
    let project = project("pending role");
    let role = format!("mg_test_pending_role_{}", std::process::id());
    project.migration(
        PENDING,
        &format!(
            "CREATE ROLE {role};\nGRANT CONNECT ON DATABASE postgres TO {role};\n\
             GRANT SELECT ON \"User\" TO {role};\n"
        ),
    );
    let mut templates = Templates(Vec::new());
    for run in 1..=2 {
        let output = trace(&project, &mut templates, &["--format", "json"]);
        assert_eq!(
            output.status.code(),
            Some(0),
            "run {run}: {}",
            stderr(&output)
        );
        assert_eq!(findings(&output), Vec::new(), "run {run}");
        let left = query_rows(
            &server_url(),
            &format!("SELECT 1 FROM pg_roles WHERE rolname = '{role}'"),
        );
        assert!(left.is_empty(), "run {run} left the role {role}");
    }
}

#[test]
fn a_template_built_by_the_superuser_does_not_stop_another_role_from_tracing() {
    let project = project("two roles");
    project.migration(PENDING, "ALTER TABLE \"User\" ADD COLUMN \"n\" INTEGER;\n");
    let role = format!("mg_test_createdb_{}", std::process::id());
    admin_execute(
        &server_url(),
        &format!("DROP ROLE IF EXISTS {role}; CREATE ROLE {role} LOGIN CREATEDB"),
    );
    let mut templates = Templates(Vec::new());
    let first = trace(&project, &mut templates, &[]);
    let url = server_url().replacen("postgres@", &format!("{role}@"), 1);
    let second = command(&project, &["check", PENDING, "--trace-database-url", &url])
        .output()
        .expect("run");
    templates.note(&second);
    drop(templates);
    admin_execute(&server_url(), &format!("DROP ROLE {role}"));
    assert_eq!(first.status.code(), Some(0), "{}", stderr(&first));
    assert_eq!(second.status.code(), Some(0), "{}", stderr(&second));
}

#[test]
fn sigint_while_the_history_replays_is_an_interruption_not_a_broken_history() {
    let project = project("sigint replay");
    project.migration("20240104000000_slow", "SELECT pg_sleep(60);\n");
    project.migration(PENDING, "SELECT 1;\n");
    let url = server_url();
    let child = command(&project, &["check", PENDING, "--trace-database-url", &url])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run");
    let pid = child.id();
    let started = Instant::now();
    while query_rows(
        &url,
        &format!(
            "SELECT 1 FROM pg_stat_activity WHERE datname ~ '^mg_trace_tmp_{pid}_' \
             AND query LIKE 'SELECT pg_sleep(60)%'"
        ),
    )
    .is_empty()
    {
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "the replay never ran"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    let killed = Command::new("kill")
        .args(["-INT", &pid.to_string()])
        .status()
        .expect("kill");
    assert!(killed.success());
    let output = child.wait_with_output().expect("wait");
    let _templates = Templates(Vec::new());
    let err = stderr(&output);
    assert_eq!(output.status.code(), Some(1), "{err}");
    assert!(err.contains("interrupted by SIGINT"), "{err}");
    assert!(!err.contains("does not apply"), "{err}");
    assert_eq!(databases_of(pid), Vec::<String>::new(), "left behind");
}

#[test]
fn a_constraint_rebuilt_by_a_type_change_is_not_said_to_be_dropped() {
    let project = project("rebuilt constraint");
    project.migration(
        PENDING,
        "ALTER TABLE \"User\" ALTER COLUMN \"id\" TYPE bigint;\n",
    );
    let mut templates = Templates(Vec::new());
    let output = trace(&project, &mut templates, &["--format", "json"]);
    let findings = findings(&output);
    let (_, _, _, message) = find(&findings, "alter-column-type");
    assert!(message.contains("\"User\" rewritten"), "{message}");
    assert!(!message.contains("dropped"), "{message}");
}

#[test]
fn a_history_role_left_by_an_earlier_replay_is_named_as_the_cause() {
    let project = project("history role");
    let role = format!("mg_test_history_role_{}", std::process::id());
    project.migration(
        "20240104000000_role",
        &format!("CREATE ROLE {role};\nGRANT SELECT ON \"User\" TO {role};\n"),
    );
    project.migration(PENDING, "SELECT 1;\n");
    let mut templates = Templates(Vec::new());
    let first = trace(&project, &mut templates, &[]);
    // A new history migration: the template is rebuilt, and the role is already there.
    project.migration("20240105000000_more", "SELECT 2;\n");
    let second = trace(&project, &mut templates, &[]);
    drop(templates);
    admin_execute(&server_url(), &format!("DROP ROLE {role}"));
    assert_eq!(first.status.code(), Some(0), "{}", stderr(&first));
    assert_eq!(second.status.code(), Some(2), "{}", stderr(&second));
    let err = stderr(&second);
    assert!(err.contains("already has"), "{err}");
    assert!(
        !err.contains("does not apply to an empty database"),
        "{err}"
    );
}

#[test]
fn sigterm_while_the_template_is_cloned_leaves_no_scratch_database() {
    let project = project("sigterm clone");
    project.migration(PENDING, "SELECT 1;\n");
    let mut templates = Templates(Vec::new());
    let first = trace(&project, &mut templates, &[]);
    assert_eq!(first.status.code(), Some(0), "{}", stderr(&first));
    let template = templates.0.first().expect("the template's name").clone();
    // A session on the template holds the clone back (CREATE DATABASE waits for it to leave).
    let holder = {
        let url = crate::support::with_database(&server_url(), &template);
        std::thread::spawn(move || query_rows(&url, "SELECT pg_sleep(4)::text"))
    };
    std::thread::sleep(Duration::from_millis(500));
    let url = server_url();
    let child = command(&project, &["check", PENDING, "--trace-database-url", &url])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run");
    let pid = child.id();
    std::thread::sleep(Duration::from_millis(1500));
    let killed = Command::new("kill")
        .args(["-TERM", &pid.to_string()])
        .status()
        .expect("kill");
    assert!(killed.success());
    let output = child.wait_with_output().expect("wait");
    let _ = holder.join();
    let err = stderr(&output);
    assert_eq!(output.status.code(), Some(1), "{err}");
    assert!(err.contains("interrupted by SIGTERM"), "{err}");
    assert_eq!(databases_of(pid), Vec::<String>::new(), "left behind");
}

#[test]
fn a_subscription_is_not_run_by_the_trace() {
    let project = project("subscription");
    project.migration(
        PENDING,
        "ALTER TABLE \"User\" ADD COLUMN \"n\" INTEGER;\n\
         CREATE SUBSCRIPTION mg_test_sub CONNECTION 'host=127.0.0.1 port=1 dbname=x' \
         PUBLICATION p WITH (connect = false);\n",
    );
    let mut templates = Templates(Vec::new());
    let output = trace(&project, &mut templates, &["--format", "json"]);
    let report = json(&output);
    let notes = report["notes"].to_string();
    assert!(notes.contains("The trace stopped before"), "{report}");
    assert!(notes.contains(&format!("{PENDING_FILE}:2")), "{report}");
    let subscriptions = query_rows(
        &server_url(),
        "SELECT subname FROM pg_subscription WHERE subname = 'mg_test_sub'",
    );
    assert!(
        subscriptions.is_empty(),
        "the trace created the subscription"
    );
}

#[test]
fn a_history_with_a_subscription_is_refused_before_it_reaches_the_publisher() {
    let project = project("history subscription");
    project.migration(
        "20240104000000_sub",
        "CREATE SUBSCRIPTION mg_test_history_sub CONNECTION 'host=127.0.0.1 port=1 dbname=x' \
         PUBLICATION p WITH (connect = false);\n",
    );
    project.migration(PENDING, "SELECT 1;\n");
    let mut templates = Templates(Vec::new());
    let output = trace(&project, &mut templates, &[]);
    let err = stderr(&output);
    assert_eq!(output.status.code(), Some(2), "{err}");
    assert!(err.contains("20240104000000_sub/migration.sql:1"), "{err}");
    let subscriptions = query_rows(
        &server_url(),
        "SELECT subname FROM pg_subscription WHERE subname = 'mg_test_history_sub'",
    );
    assert!(
        subscriptions.is_empty(),
        "the replay created the subscription"
    );
}
