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
