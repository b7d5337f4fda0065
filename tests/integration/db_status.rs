//! `status`: each state with its documented exit code (0 up to date, 4 pending, 5 failed /
//! edited / missing locally), in human and JSON form.

use crate::db_deploy::{assert_success, deploy, run_db, states, status_json};
use crate::support::{stdout, Project, TestDb};

fn pair(name: &str, state: &str) -> (String, String) {
    (name.to_string(), state.to_string())
}

#[test]
fn an_empty_database_has_everything_pending() {
    let db = TestDb::new();
    let project = Project::new();
    project.migration("1_a", "CREATE TABLE a (id int);\n");
    project.migration("2_b", "CREATE TABLE b (id int);\n");
    let output = run_db(&project, &db, &["status"]);
    assert_eq!(output.status.code(), Some(4));
    let out = stdout(&output);
    assert!(
        out.contains("2 migrations found in prisma/migrations"),
        "{out}"
    );
    assert!(
        out.contains("Following migration(s) have not yet been applied:\n1_a\n2_b"),
        "{out}"
    );
    assert_eq!(
        states(&project, &db),
        vec![pair("1_a", "pending"), pair("2_b", "pending")]
    );
}

#[test]
fn up_to_date_then_pending_with_timestamps() {
    let db = TestDb::new();
    let project = Project::new();
    project.migration("1_a", "CREATE TABLE a (id int);\n");
    assert_success(&deploy(&project, &db, &[]));
    let output = run_db(&project, &db, &["status"]);
    assert_eq!(output.status.code(), Some(0));
    assert!(stdout(&output).contains("Database schema is up to date!"));

    let (code, json) = status_json(&project, &db);
    assert_eq!(code, 0);
    assert_eq!(json["up_to_date"], true);
    let applied = &json["migrations"][0];
    assert_eq!(applied["state"], "applied");
    let finished = applied["finished_at"].as_str().unwrap();
    assert!(
        finished.ends_with('Z') && finished.contains('T'),
        "{finished}"
    );

    project.migration("2_b", "CREATE TABLE b (id int);\n");
    let (code, json) = status_json(&project, &db);
    assert_eq!(code, 4);
    assert_eq!(json["migrations"][1]["state"], "pending");
    assert!(json["migrations"][1]["finished_at"].is_null());
}

#[test]
fn failed_edited_and_missing_migrations_exit_5() {
    let db = TestDb::new();
    let project = Project::new();
    project.migration("1_a", "CREATE TABLE a (id int);\n");
    project.migration("2_gone", "CREATE TABLE gone (id int);\n");
    assert_success(&deploy(&project, &db, &[]));

    // Edited after applying.
    project.migration("1_a", "CREATE TABLE a (id bigint);\n");
    assert_eq!(
        states(&project, &db),
        vec![pair("1_a", "edited"), pair("2_gone", "applied")]
    );
    let output = run_db(&project, &db, &["status"]);
    assert_eq!(output.status.code(), Some(5));
    assert!(stdout(&output).contains("The migration `1_a` was modified after it was applied."));

    // Present in the database, missing locally.
    project.migration("1_a", "CREATE TABLE a (id int);\n");
    std::fs::remove_dir_all(project.migrations_dir().join("2_gone")).unwrap();
    let output = run_db(&project, &db, &["status"]);
    assert_eq!(output.status.code(), Some(5));
    assert!(
        stdout(&output).contains("not found locally"),
        "{}",
        stdout(&output)
    );
    assert_eq!(
        states(&project, &db),
        vec![pair("1_a", "applied"), pair("2_gone", "missing_locally")]
    );

    // A failed migration.
    project.migration("2_gone", "CREATE TABLE gone (id int);\n");
    project.migration("3_broken", "CREATE TABLE broken (id nosuchtype);\n");
    assert_eq!(deploy(&project, &db, &[]).status.code(), Some(1));
    let (code, json) = status_json(&project, &db);
    assert_eq!(code, 5);
    assert_eq!(json["migrations"][2]["state"], "failed");
    assert!(json["migrations"][2]["logs"]
        .as_str()
        .unwrap()
        .contains("nosuchtype"));
    let human = run_db(&project, &db, &["status"]);
    assert!(stdout(&human).contains("Following migration(s) have failed:\n3_broken"));
}

#[test]
fn an_index_being_built_concurrently_right_now_is_not_reported_as_left_behind() {
    let db = TestDb::new();
    let project = Project::new();
    project.migration("1_a", "CREATE TABLE a (id int);\n");
    assert_success(&deploy(&project, &db, &[]));
    // A writer keeps the build waiting after it created its (not yet valid) catalog entry,
    // as any long build on a busy table does.
    let writer = crate::db_deploy::hold_session(
        &db.url,
        "BEGIN; INSERT INTO a VALUES (1)",
        std::time::Duration::from_secs(4),
    );
    let url = db.url.clone();
    let build = std::thread::spawn(move || {
        crate::support::admin_execute(&url, "CREATE INDEX CONCURRENTLY a_id_idx ON a (id)")
    });
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while db.query("SELECT count(*) FROM pg_index WHERE indrelid = 'a'::regclass")[0][0] == "0" {
        assert!(
            std::time::Instant::now() < deadline,
            "the build never started"
        );
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    let output = run_db(&project, &db, &["status"]);
    writer.join().unwrap();
    build.join().unwrap();
    let out = stdout(&output);
    assert_eq!(output.status.code(), Some(0), "{out}");
    assert!(!out.contains("a_id_idx"), "{out}");
}

#[test]
fn an_invalid_index_of_an_extension_is_not_drift_of_the_migrations() {
    let db = TestDb::new();
    let project = Project::new();
    project.migration("1_a", "CREATE TABLE a (id int);\n");
    assert_success(&deploy(&project, &db, &[]));
    // A table an extension owns, with an index that a failed build left INVALID: the
    // extension's affair, not the migrations'.
    db.execute(
        "CREATE SCHEMA ext; CREATE TABLE ext.cache (k int); INSERT INTO ext.cache VALUES (1), (1)",
    );
    let failed_build = std::process::Command::new("psql")
        .args([
            &db.url,
            "-c",
            "CREATE UNIQUE INDEX CONCURRENTLY ext_cache_k ON ext.cache (k)",
        ])
        .output()
        .unwrap();
    assert!(
        !failed_build.status.success(),
        "the duplicate must fail the build"
    );
    db.execute(
        "CREATE EXTENSION IF NOT EXISTS pgcrypto; ALTER EXTENSION pgcrypto ADD TABLE ext.cache",
    );
    assert_eq!(
        db.query("SELECT indisvalid FROM pg_index WHERE indexrelid = 'ext.ext_cache_k'::regclass"),
        vec![vec!["f".to_string()]]
    );
    let output = run_db(&project, &db, &["status"]);
    let out = stdout(&output);
    assert_eq!(output.status.code(), Some(0), "{out}");
    assert!(!out.contains("ext_cache_k"), "{out}");
}
