//! `migration-gate stats` and `check --stats` / `--stats-database-url` on a real PostgreSQL: an
//! index build or a whole-table UPDATE blocks on a 300,000-row table and is a warning on a
//! 10-row one.

use serde_json::Value;

use super::support::{stderr, stdout, Project, TestDb};

/// The history both the database and the project have: a big and a tiny table.
const HISTORY: &str = "CREATE TABLE big (id int8 PRIMARY KEY, email text, n int4);\n\
                       CREATE TABLE tiny (id int8 PRIMARY KEY, email text, n int4);\n";

/// One migration per statement judged, so each finding is found by its migration.
const PENDING: &[(&str, &str)] = &[
    (
        "2_index_big",
        "CREATE INDEX big_email_idx ON big (email);\n",
    ),
    (
        "3_index_tiny",
        "CREATE INDEX tiny_email_idx ON tiny (email);\n",
    ),
    ("4_update_big", "UPDATE big SET n = 1;\n"),
    ("5_update_tiny", "UPDATE tiny SET n = 1;\n"),
];

fn database_with_sizes() -> TestDb {
    let db = TestDb::new();
    db.execute(HISTORY);
    db.execute(
        "INSERT INTO big SELECT i, 'user' || i || '@example.com', i % 100 \
           FROM generate_series(1, 300000) AS i;\n\
         INSERT INTO tiny SELECT i, 'user' || i || '@example.com', i \
           FROM generate_series(1, 10) AS i;\n\
         ANALYZE big; ANALYZE tiny;",
    );
    db
}

fn project() -> Project {
    let project = Project::new();
    project.migration("1_init", HISTORY);
    for (name, sql) in PENDING {
        project.migration(name, sql);
    }
    project.write("migration-gate.toml", "start_after = \"1_init\"\n");
    project
}

fn json(text: &str) -> Value {
    serde_json::from_str(text).unwrap_or_else(|e| panic!("{e}: {text}"))
}

/// `(rule, severity, message)` of the finding in migration `name`.
fn finding_in(report: &Value, name: &str) -> (String, String, String) {
    let findings = report["findings"].as_array().unwrap();
    let matching: Vec<&Value> = findings
        .iter()
        .filter(|f| f["file"].as_str().unwrap().contains(name))
        .collect();
    assert_eq!(matching.len(), 1, "{name}: {findings:#?}");
    let f = matching[0];
    let text = |key: &str| f[key].as_str().unwrap().to_string();
    (text("rule"), text("severity"), text("message"))
}

/// The verdicts the issue asks for, with the sizes in the messages.
fn assert_judged_by_size(report: &Value) {
    let (rule, severity, message) = finding_in(report, "2_index_big");
    assert_eq!(
        (rule.as_str(), severity.as_str()),
        ("create-index-blocking", "error")
    );
    assert!(
        message.contains("Table sizes: public.big holds about 300,000 rows (")
            && message.contains("building the index takes"),
        "{message}"
    );
    let (_, severity, message) = finding_in(report, "3_index_tiny");
    assert_eq!(severity, "warning");
    assert!(
        message.contains("Table sizes: public.tiny holds about 10 rows (")
            && message
                .ends_with("kB): building the index takes milliseconds, so this is a warning."),
        "{message}"
    );
    let (rule, severity, message) = finding_in(report, "4_update_big");
    assert_eq!(
        (rule.as_str(), severity.as_str()),
        ("unbatched-data-change", "error")
    );
    assert!(
        message.contains("public.big holds about 300,000 rows")
            && message.contains("changing every row takes"),
        "{message}"
    );
    let (_, severity, message) = finding_in(report, "5_update_tiny");
    assert_eq!(severity, "warning");
    assert!(
        message.contains("public.tiny holds about 10 rows")
            && message.contains("changing them takes milliseconds"),
        "{message}"
    );
    assert_eq!(report["summary"]["errors"], 2);
    assert_eq!(report["summary"]["warnings"], 2);
}

#[test]
fn stats_then_check_with_the_file_blocks_the_big_table_and_warns_on_the_tiny_one() {
    let db = database_with_sizes();
    let project = project();
    let written = project.run(&["stats", "--database-url", &db.url, "--output", "stats.json"]);
    assert_eq!(written.status.code(), Some(0), "{}", stderr(&written));
    assert!(
        stderr(&written).contains("tables (PostgreSQL ") && stdout(&written).is_empty(),
        "{}",
        stderr(&written)
    );
    let stats = json(&std::fs::read_to_string(project.path().join("stats.json")).unwrap());
    assert_eq!(stats["version"], 1);
    let server = db.query("SELECT split_part(current_setting('server_version'), ' ', 1)");
    assert_eq!(stats["server_version"], server[0][0].as_str());
    assert!(stats["collected_at"].as_str().unwrap().ends_with('Z'));
    let tables = stats["tables"].as_array().unwrap();
    let table = |name: &str| {
        tables
            .iter()
            .find(|t| t["schema"] == "public" && t["name"] == name)
            .unwrap_or_else(|| panic!("{name} missing: {tables:#?}"))
            .clone()
    };
    let (big, tiny) = (table("big"), table("tiny"));
    assert_eq!(big["rows"], 300_000);
    assert_eq!(tiny["rows"], 10);
    assert_eq!(
        (big["indexes"].as_u64(), tiny["indexes"].as_u64()),
        (Some(1), Some(1))
    );
    let bytes = db.query("SELECT pg_total_relation_size('big'), pg_total_relation_size('tiny')");
    assert_eq!(big["bytes"].to_string(), bytes[0][0]);
    assert_eq!(tiny["bytes"].to_string(), bytes[0][1]);

    let output = project.run(&["check", "--stats", "stats.json", "--format", "json"]);
    assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));
    let report = json(&stdout(&output));
    assert_judged_by_size(&report);
    // Fresh statistics: no note about their age.
    assert!(report.get("notes").is_none(), "{report:#}");

    // Without statistics, as before: all four block.
    let plain = json(&stdout(&project.run(&["check", "--format", "json"])));
    assert_eq!(plain["summary"]["errors"], 4, "{plain:#}");
}

#[test]
fn check_reads_the_sizes_live_from_a_stats_database_url() {
    let db = database_with_sizes();
    let project = project();
    let output = project.run(&["check", "--stats-database-url", &db.url, "--format", "json"]);
    assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));
    assert_judged_by_size(&json(&stdout(&output)));
}

#[test]
fn a_role_with_only_connect_and_usage_can_collect_the_stats() {
    let db = database_with_sizes();
    // Never analysed and too few rows for autovacuum to analyse it: no estimate.
    db.execute(
        "CREATE TABLE fresh (id int) WITH (autovacuum_enabled = off);\n\
         INSERT INTO fresh VALUES (1), (2), (3);",
    );
    let role = format!("{}_reader", db.name);
    db.execute(&format!(
        "DROP ROLE IF EXISTS {role}; CREATE ROLE {role} LOGIN PASSWORD 'reader-pw'; \
         REVOKE ALL ON ALL TABLES IN SCHEMA public FROM {role}; \
         GRANT CONNECT ON DATABASE {} TO {role}; GRANT USAGE ON SCHEMA public TO {role}",
        db.name
    ));
    let server =
        migration_gate::db::connection::url::DatabaseUrl::parse(&db.url).expect("test URL");
    let url = format!(
        "postgresql://{role}:reader-pw@{}:{}/{}",
        server.host_display(),
        server.port(),
        db.name
    );
    let project = project();
    let as_reader = project.run(&["stats", "--database-url", &url]);
    let as_owner = project.run(&["stats", "--database-url", &db.url]);
    let may_select = db.query(&format!(
        "SELECT has_table_privilege('{role}', 'big', 'SELECT')"
    ));
    db.execute(&format!("DROP OWNED BY {role}; DROP ROLE {role}"));
    assert_eq!(may_select[0][0], "f");
    assert_eq!(as_reader.status.code(), Some(0), "{}", stderr(&as_reader));
    assert!(!stderr(&as_reader).contains("reader-pw"));
    let rows_of = |output: &std::process::Output, name: &str| {
        json(&stdout(output))["tables"]
            .as_array()
            .unwrap()
            .iter()
            .find(|t| t["name"] == name)
            .unwrap()["rows"]
            .clone()
    };
    assert_eq!(rows_of(&as_reader, "big"), 300_000);
    assert_eq!(rows_of(&as_reader, "tiny"), 10);
    // No estimate and no right to count: unknown (check then bounds it by its bytes).
    assert_eq!(rows_of(&as_reader, "fresh"), Value::Null);
    // A role that may read it counts the small never-analysed table.
    assert_eq!(rows_of(&as_owner, "fresh"), 3);
}

#[test]
fn stats_skips_unpopulated_views_and_never_reads_unmeasured_pages_as_empty() {
    let db = TestDb::new();
    // Analysed while empty (reltuples 0, relpages 0), then filled: the estimate says nothing
    // about the 20,000 rows now there. A view created WITH NO DATA cannot be counted (55000).
    db.execute(
        "CREATE TABLE filled (id int, pad text) WITH (autovacuum_enabled = off);\n\
         ANALYZE filled;\n\
         INSERT INTO filled SELECT i, repeat('x', 100) FROM generate_series(1, 20000) AS i;\n\
         CREATE MATERIALIZED VIEW unfilled AS SELECT 1 AS x WITH NO DATA;\n\
         CREATE TABLE tenant (id int) WITH (autovacuum_enabled = off);\n\
         INSERT INTO tenant SELECT generate_series(1, 20000);\n\
         ALTER TABLE tenant ENABLE ROW LEVEL SECURITY;\n\
         CREATE SCHEMA hidden;\n\
         CREATE TABLE hidden.fresh (id int) WITH (autovacuum_enabled = off);\n\
         INSERT INTO hidden.fresh VALUES (1), (2);",
    );
    let role = format!("{}_reader", db.name);
    db.execute(&format!(
        "DROP ROLE IF EXISTS {role}; CREATE ROLE {role} LOGIN PASSWORD 'reader-pw'; \
         GRANT CONNECT ON DATABASE {} TO {role}; GRANT USAGE ON SCHEMA public TO {role}; \
         GRANT SELECT ON tenant TO {role}; GRANT SELECT ON hidden.fresh TO {role}",
        db.name
    ));
    let server =
        migration_gate::db::connection::url::DatabaseUrl::parse(&db.url).expect("test URL");
    let url = format!(
        "postgresql://{role}:reader-pw@{}:{}/{}",
        server.host_display(),
        server.port(),
        db.name
    );
    let project = project();
    let as_reader = project.run(&["stats", "--database-url", &url]);
    let as_owner = project.run(&["stats", "--database-url", &db.url]);
    db.execute(&format!("DROP OWNED BY {role}; DROP ROLE {role}"));
    for output in [&as_reader, &as_owner] {
        assert_eq!(output.status.code(), Some(0), "{}", stderr(output));
    }
    let tables =
        |output: &std::process::Output| json(&stdout(output))["tables"].as_array().unwrap().clone();
    let rows_of = |output: &std::process::Output, name: &str| {
        tables(output)
            .iter()
            .find(|t| t["name"] == name)
            .unwrap_or_else(|| panic!("{name} missing"))["rows"]
            .clone()
    };
    // Unknown, so bounded by its bytes: not "about 0 rows", which would call it small.
    assert_eq!(rows_of(&as_reader, "filled"), Value::Null);
    assert_eq!(rows_of(&as_owner, "filled"), 20_000);
    // Row-level security shows the reader none of tenant's rows: a count would say 0.
    assert_eq!(rows_of(&as_reader, "tenant"), Value::Null);
    assert_eq!(rows_of(&as_owner, "tenant"), 20_000);
    // SELECT on a table of a schema the reader has no USAGE on: listed, not counted.
    assert_eq!(rows_of(&as_reader, "fresh"), Value::Null);
    assert_eq!(rows_of(&as_owner, "fresh"), 2);
    assert!(
        !tables(&as_owner).iter().any(|t| t["name"] == "unfilled"),
        "{}",
        stdout(&as_owner)
    );
}

#[test]
fn a_url_with_a_schema_makes_unqualified_tables_found_in_it() {
    let db = TestDb::new();
    db.execute(
        "CREATE SCHEMA app;\n\
         CREATE TABLE app.tiny (id int8 PRIMARY KEY, email text, n int4);\n\
         INSERT INTO app.tiny SELECT i, 'u' || i, i FROM generate_series(1, 10) AS i;\n\
         ANALYZE app.tiny;",
    );
    let separator = if db.url.contains('?') { '&' } else { '?' };
    let url = format!("{}{separator}schema=app", db.url);
    let project = Project::new();
    project.migration("1_init", HISTORY);
    project.migration("2_index", "CREATE INDEX tiny_email_idx ON tiny (email);\n");
    project.write("migration-gate.toml", "start_after = \"1_init\"\n");
    let written = project.run(&["stats", "--database-url", &url, "--output", "stats.json"]);
    assert_eq!(written.status.code(), Some(0), "{}", stderr(&written));
    let stats = json(&std::fs::read_to_string(project.path().join("stats.json")).unwrap());
    assert_eq!(stats["default_schema"], "app", "{stats:#}");
    for source in [
        ["--stats", "stats.json"],
        ["--stats-database-url", url.as_str()],
    ] {
        let output = project.run(&["check", source[0], source[1], "--format", "json"]);
        assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
        let (_, severity, message) = finding_in(&json(&stdout(&output)), "2_index");
        assert_eq!(severity, "warning");
        assert!(
            message.contains("Table sizes: app.tiny holds about 10 rows"),
            "{message}"
        );
    }
}

/// A stats file written by hand, collected at `collected_at`.
fn stats_file(collected_at: &str) -> String {
    format!(
        r#"{{"version": 1, "server_version": "15.4", "collected_at": "{collected_at}",
  "tables": [
    {{"schema": "public", "name": "big", "rows": 300000, "bytes": 31457280, "indexes": 1}},
    {{"schema": "public", "name": "tiny", "rows": 10, "bytes": 40960, "indexes": 1}}
  ]}}
"#
    )
}

#[test]
fn stale_stats_get_a_note_that_says_their_age_and_the_config_key_sets_the_file() {
    let project = project();
    project.write("old-stats.json", &stats_file("2020-01-01T00:00:00Z"));
    project.write(
        "migration-gate.toml",
        "start_after = \"1_init\"\nstats = \"old-stats.json\"\nstats_max_age_days = 3\n",
    );
    let output = project.run(&["check", "--format", "json"]);
    assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));
    let report = json(&stdout(&output));
    assert_judged_by_size(&report);
    let notes = report["notes"].as_array().unwrap();
    assert_eq!(notes.len(), 1, "{notes:#?}");
    let note = notes[0].as_str().unwrap();
    assert!(
        note.starts_with("The table sizes are ")
            && note
                .contains(" days old (collected at 2020-01-01T00:00:00Z; stats_max_age_days = 3)"),
        "{note}"
    );
    let human = stdout(&project.run(&["check"]));
    assert!(
        human.contains("days old (collected at 2020-01-01"),
        "{human}"
    );
}

#[test]
fn tables_the_stats_do_not_know_and_tables_new_in_the_pending_set_are_judged_as_today() {
    let project = Project::new();
    project.migration(
        "1_init",
        &format!("{HISTORY}CREATE TABLE other (id int8, email text);\n"),
    );
    project.migration(
        "2_other",
        "CREATE INDEX other_email_idx ON other (email);\n",
    );
    project.migration(
        "3_new",
        "CREATE TABLE tiny2 (id int8, email text);\nCREATE INDEX t2 ON tiny2 (email);\n\
         UPDATE tiny2 SET email = NULL;\n",
    );
    project.write("stats.json", &stats_file("2099-01-01T00:00:00Z"));
    let output = project.run(&[
        "check",
        "2_other",
        "3_new",
        "--stats",
        "stats.json",
        "--format",
        "json",
    ]);
    assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));
    let report = json(&stdout(&output));
    let (rule, severity, message) = finding_in(&report, "2_other");
    assert_eq!(
        (rule.as_str(), severity.as_str()),
        ("create-index-blocking", "error")
    );
    assert!(!message.contains("Table sizes"), "{message}");
    assert_eq!(
        report["findings"].as_array().unwrap().len(),
        1,
        "{report:#}"
    );
}

#[test]
fn a_wrong_stats_file_or_an_unreachable_stats_url_is_one_line() {
    let project = project();
    let missing = project.run(&["check", "--stats", "nope.json"]);
    assert_eq!(missing.status.code(), Some(2));
    assert_eq!(
        stderr(&missing).trim_end(),
        "error: stats file nope.json does not exist; write it with `migration-gate stats \
         --output nope.json`, or check the --stats path (config key `stats`)"
    );
    project.write("v2.json", "{\"version\": 2, \"tables\": []}\n");
    let other_version = project.run(&["check", "--stats", "v2.json"]);
    assert_eq!(other_version.status.code(), Some(2));
    let text = stderr(&other_version);
    assert_eq!(text.lines().count(), 1, "{text}");
    assert!(
        text.contains("has format version 2, this migration-gate reads version 1"),
        "{text}"
    );
    project.write("broken.json", "{\"version\": 1,");
    let broken = stderr(&project.run(&["check", "--stats", "broken.json"]));
    assert_eq!(broken.lines().count(), 1, "{broken}");
    assert!(broken.contains("broken.json is not valid JSON"), "{broken}");

    // Nothing listens on port 1.
    let url = "postgresql://reader:s3cret-pw@127.0.0.1:1/app";
    let unreachable = project.run(&["check", "--stats-database-url", url]);
    assert_eq!(
        unreachable.status.code(),
        Some(2),
        "{}",
        stderr(&unreachable)
    );
    let text = stderr(&unreachable);
    assert_eq!(text.lines().count(), 1, "{text}");
    assert!(
        text.starts_with("error: cannot read table stats from the stats database URL: "),
        "{text}"
    );
    assert!(!text.contains("s3cret-pw"), "{text}");
}

fn git(dir: &std::path::Path, args: &[&str]) -> String {
    let out = std::process::Command::new("git")
        .arg("-C")
        .arg(dir)
        .args(["-c", "user.name=Mona", "-c", "user.email=mona@example.com"])
        .args(["-c", "commit.gpgsign=false"])
        .args(args)
        .output()
        .unwrap();
    assert!(out.status.success(), "git {args:?}: {}", stderr(&out));
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

#[test]
fn the_action_check_takes_a_stats_file_and_masks_the_stats_url() {
    use super::ci_event::ci_command;
    use super::ci_fake::{fixture, FakeGitHub, GitHubState};

    let project = Project::new();
    project.migration("1_init", HISTORY);
    project.write("stats.json", &stats_file("2099-01-01T00:00:00Z"));
    let root = project.path();
    git(root, &["init", "-q", "-b", "main"]);
    git(root, &["add", "."]);
    git(root, &["commit", "-q", "-m", "base"]);
    let base = git(root, &["rev-parse", "HEAD"]);
    project.migration(
        "2_index_tiny",
        "CREATE INDEX tiny_email_idx ON tiny (email);\n",
    );
    git(root, &["add", "."]);
    git(root, &["commit", "-q", "-m", "index"]);
    let head = git(root, &["rev-parse", "HEAD"]);

    let runner = tempfile::tempdir().unwrap();
    let mut event = fixture("events/pull_request.json");
    event["pull_request"]["base"]["sha"] = base.as_str().into();
    event["pull_request"]["head"]["sha"] = head.as_str().into();
    let event_path = runner.path().join("event.json");
    std::fs::write(&event_path, event.to_string()).unwrap();
    let github = FakeGitHub::start(GitHubState::default());
    let run = |extra: &[&str], stats_url: Option<&str>| {
        let mut cmd = ci_command(root, "pull_request", None);
        cmd.env("GITHUB_EVENT_PATH", &event_path)
            .env("GITHUB_API_URL", &github.server.url)
            .env("GITHUB_TOKEN", "ghs_testtoken123")
            .env("GITHUB_OUTPUT", runner.path().join("output"))
            .env("GITHUB_STEP_SUMMARY", runner.path().join("summary"))
            .env_remove("MIGRATION_GATE_STATS_DATABASE_URL")
            .args(extra);
        if let Some(url) = stats_url {
            cmd.env("MIGRATION_GATE_STATS_DATABASE_URL", url);
        }
        cmd.output().unwrap()
    };

    let judged = run(&["--stats=stats.json"], None);
    assert_eq!(judged.status.code(), Some(0), "{}", stderr(&judged));
    let text = stdout(&judged);
    assert!(
        text.contains("::warning file=prisma/migrations/2_index_tiny/migration.sql,line=1")
            && text.contains("public.tiny holds about 10 rows"),
        "{text}"
    );
    let plain = run(&[], None);
    assert_eq!(plain.status.code(), Some(1), "{}", stdout(&plain));

    // An unreachable stats URL: masked before anything else is printed, then one error line.
    let url = "postgresql://reader:s3cret-pw@127.0.0.1:1/app";
    let unreachable = run(&[], Some(url));
    assert_eq!(
        unreachable.status.code(),
        Some(2),
        "{}",
        stderr(&unreachable)
    );
    let out = stdout(&unreachable);
    assert!(out.starts_with("::add-mask::"), "{out}");
    assert!(out.contains("::add-mask::s3cret-pw\n"), "{out}");
    assert!(
        stderr(&unreachable).contains("cannot read table stats from the stats database URL"),
        "{}",
        stderr(&unreachable)
    );
}
