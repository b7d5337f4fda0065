//! `rollback`: down scripts newest first, each in a transaction, history marked rolled back;
//! refused before touching anything when a down.sql is missing.

use crate::db_deploy::{assert_success, deploy, exists, run_db, states};
use crate::support::{repo_root, stderr, stdout, Project, TestDb};

fn pair(name: &str, state: &str) -> (String, String) {
    (name.to_string(), state.to_string())
}

fn three_with_downs() -> Project {
    let project = Project::new();
    project.migration("1_a", "CREATE TABLE a (id int);\n");
    project.migration("2_b", "CREATE TABLE b (id int);\n");
    project.write("prisma/migrations/2_b/down.sql", "DROP TABLE b;\n");
    project.migration(
        "3_c",
        "CREATE TABLE c (id int);\nCREATE INDEX c_id_idx ON c (id);\n",
    );
    project.write(
        "prisma/migrations/3_c/down.sql",
        "DROP INDEX c_id_idx;\nDROP TABLE c;\n",
    );
    project
}

#[test]
fn rollback_to_runs_down_scripts_newest_first_and_redeploy_reapplies() {
    let db = TestDb::new();
    let project = three_with_downs();
    assert_success(&deploy(&project, &db, &[]));

    let output = run_db(&project, &db, &["rollback", "--to", "1_a"]);
    assert_success(&output);
    let out = stdout(&output);
    let c = out.find("Rolling back migration `3_c`").expect(&out);
    let b = out.find("Rolling back migration `2_b`").expect(&out);
    assert!(c < b, "newest first: {out}");
    // The down scripts' findings are shown (dropping a table is destructive).
    assert!(
        stderr(&output).contains("drop-table"),
        "{}",
        stderr(&output)
    );
    assert!(exists(&db, "a") && !exists(&db, "b") && !exists(&db, "c"));
    assert_eq!(
        states(&project, &db),
        vec![
            pair("1_a", "applied"),
            pair("2_b", "rolled_back"),
            pair("3_c", "rolled_back")
        ]
    );
    assert_eq!(run_db(&project, &db, &["status"]).status.code(), Some(4));

    assert_success(&deploy(&project, &db, &["--allow-destructive"]));
    assert!(exists(&db, "b") && exists(&db, "c"));
    assert_eq!(run_db(&project, &db, &["status"]).status.code(), Some(0));
}

#[test]
fn rollback_steps_and_dry_run() {
    let db = TestDb::new();
    let project = three_with_downs();
    assert_success(&deploy(&project, &db, &[]));

    let dry = run_db(&project, &db, &["rollback", "--steps", "2", "--dry-run"]);
    assert_success(&dry);
    assert!(
        stdout(&dry).contains("3_c (prisma/migrations/3_c/down.sql)"),
        "{}",
        stdout(&dry)
    );
    assert!(stdout(&dry).contains("Dry run: nothing was changed."));
    assert!(exists(&db, "c") && exists(&db, "b"));

    assert_success(&run_db(&project, &db, &["rollback", "--steps", "1"]));
    assert!(!exists(&db, "c") && exists(&db, "b"));
}

#[test]
fn a_missing_down_script_refuses_before_touching_anything() {
    let db = TestDb::new();
    let project = three_with_downs();
    assert_success(&deploy(&project, &db, &[]));
    // 1_a has no down.sql: rolling back everything must not run 3_c's or 2_b's either.
    let output = run_db(&project, &db, &["rollback", "--steps", "3"]);
    assert_eq!(output.status.code(), Some(1));
    assert!(
        stderr(&output).contains("no down.sql"),
        "{}",
        stderr(&output)
    );
    assert!(stderr(&output).contains("1_a"));
    // Prisma writes no down.sql: the message says how to produce one.
    assert!(
        stderr(&output).contains("npx prisma migrate diff --from-schema"),
        "{}",
        stderr(&output)
    );
    assert!(
        stderr(&output).contains("--script > "),
        "{}",
        stderr(&output)
    );
    assert!(exists(&db, "b") && exists(&db, "c"));
    assert_eq!(run_db(&project, &db, &["status"]).status.code(), Some(0));
}

#[test]
fn a_failing_down_script_stops_and_keeps_the_migration_applied() {
    let db = TestDb::new();
    let project = three_with_downs();
    assert_success(&deploy(&project, &db, &[]));
    project.write(
        "prisma/migrations/2_b/down.sql",
        "DROP TABLE nosuch_table;\n",
    );
    let output = run_db(&project, &db, &["rollback", "--to", "1_a"]);
    assert_eq!(output.status.code(), Some(1));
    assert!(
        stderr(&output).contains("prisma/migrations/2_b/down.sql:1:1"),
        "{}",
        stderr(&output)
    );
    assert_eq!(
        states(&project, &db),
        vec![
            pair("1_a", "applied"),
            pair("2_b", "applied"),
            pair("3_c", "rolled_back")
        ]
    );
}

#[test]
fn the_bundled_migrations_deploy_and_roll_back_their_newest_three() {
    let db = TestDb::new();
    let dir = repo_root().join("migrations");
    let dir = dir.to_str().unwrap();
    let project = Project::new();
    let deployed = project.run(&[
        "deploy",
        "--dir",
        dir,
        "--allow-destructive",
        "--database-url",
        &db.url,
    ]);
    assert_success(&deployed);
    let output = project.run(&[
        "rollback",
        "--steps",
        "3",
        "--dir",
        dir,
        "--database-url",
        &db.url,
    ]);
    assert_success(&output);
    assert_eq!(
        stdout(&output).matches("Rolling back migration `").count(),
        3
    );
    let status = project.run(&[
        "status",
        "--format",
        "json",
        "--dir",
        dir,
        "--database-url",
        &db.url,
    ]);
    assert_eq!(status.status.code(), Some(4));
    let json: serde_json::Value = serde_json::from_slice(&status.stdout).unwrap();
    let rolled_back = json["migrations"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|m| m["state"] == "rolled_back")
        .count();
    assert_eq!(rolled_back, 3);
    // And forward again: the down scripts really reversed the schema.
    assert_success(&project.run(&[
        "deploy",
        "--dir",
        dir,
        "--allow-destructive",
        "--database-url",
        &db.url,
    ]));
}

#[test]
fn a_rollback_that_stops_part_way_is_reported_by_status() {
    let db = TestDb::new();
    let project = Project::new();
    project.migration(
        "1_a",
        "CREATE TABLE a (id int);\nCREATE INDEX CONCURRENTLY a_id_idx ON a (id);\n",
    );
    // The first segment (DROP INDEX CONCURRENTLY) commits on its own; then the down fails.
    project.write(
        "prisma/migrations/1_a/down.sql",
        "DROP INDEX CONCURRENTLY a_id_idx;\nDROP TABLE nosuch;\nDROP TABLE a;\n",
    );
    assert_success(&deploy(&project, &db, &[]));
    let output = run_db(&project, &db, &["rollback", "--steps", "1"]);
    assert_eq!(output.status.code(), Some(1));
    assert!(
        stderr(&output).contains("stopped part way"),
        "{}",
        stderr(&output)
    );
    assert!(!exists(&db, "a_id_idx") && exists(&db, "a"));

    assert_eq!(
        states(&project, &db),
        vec![pair("1_a", "rollback_incomplete")]
    );
    let status = run_db(&project, &db, &["status"]);
    assert_eq!(status.status.code(), Some(5));
    let out = stdout(&status);
    assert!(
        out.contains("The rollback of `1_a` stopped part way"),
        "{out}"
    );
    assert!(out.contains("DROP INDEX CONCURRENTLY a_id_idx"), "{out}");
    assert!(!out.contains("up to date"), "{out}");

    // Fixed, the rollback completes and the trace goes away.
    project.write(
        "prisma/migrations/1_a/down.sql",
        "DROP INDEX CONCURRENTLY IF EXISTS a_id_idx;\nDROP TABLE a;\n",
    );
    assert_success(&run_db(&project, &db, &["rollback", "--steps", "1"]));
    assert_eq!(states(&project, &db), vec![pair("1_a", "rolled_back")]);
}

#[test]
fn deploy_refuses_to_build_on_a_rollback_that_stopped_part_way() {
    let db = TestDb::new();
    let project = Project::new();
    project.migration(
        "1_a",
        "CREATE TABLE a (id int);\nCREATE INDEX CONCURRENTLY a_id_idx ON a (id);\n",
    );
    project.write(
        "prisma/migrations/1_a/down.sql",
        "DROP INDEX CONCURRENTLY a_id_idx;\nDROP TABLE nosuch;\nDROP TABLE a;\n",
    );
    assert_success(&deploy(&project, &db, &[]));
    assert_eq!(
        run_db(&project, &db, &["rollback", "--steps", "1"])
            .status
            .code(),
        Some(1)
    );
    // A new migration arrives while `status` reports the half-done rollback (exit 5).
    project.migration("2_b", "CREATE TABLE b (id int);\n");
    let output = deploy(&project, &db, &[]);
    assert_eq!(output.status.code(), Some(1), "{}", stdout(&output));
    let err = stderr(&output);
    assert!(err.contains("rollback of `1_a` stopped part way"), "{err}");
    assert!(err.contains("migration-gate rollback"), "{err}");
    assert!(!exists(&db, "b"), "built on a half rolled back migration");
    assert!(!stdout(&output).contains("successfully applied"));
}

#[test]
fn sigterm_during_a_rollback_says_it_was_interrupted_and_what_stays() {
    let db = TestDb::new();
    let project = Project::new();
    project.migration("1_a", "CREATE TABLE a (id int);\n");
    project.write(
        "prisma/migrations/1_a/down.sql",
        "SELECT pg_sleep(30);\nDROP TABLE a;\n",
    );
    assert_success(&deploy(&project, &db, &[]));
    let child = crate::support::bin()
        .current_dir(project.path())
        .args(["rollback", "--steps", "1", "--database-url", &db.url])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    crate::db_deploy::wait_for_query(&db, "SELECT pg_sleep(30)");
    let kill = std::process::Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(kill.success());
    let output = child.wait_with_output().unwrap();
    let err = stderr(&output);
    assert_eq!(output.status.code(), Some(1), "{err}");
    assert!(
        err.contains("interrupted by SIGTERM while rolling back `1_a`"),
        "{err}"
    );
    assert!(!err.contains("57014"), "{err}");
    assert!(err.contains("stays applied"), "{err}");
    assert!(exists(&db, "a"));
    assert_eq!(states(&project, &db), vec![pair("1_a", "applied")]);
}
