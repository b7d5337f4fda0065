//! Deploys racing each other: the advisory lock lets exactly one apply each migration.

use std::process::Stdio;
use std::time::Duration;

use crate::db_deploy::{assert_success, exists, hold_session, wait_for_query};
use crate::support::{bin, stderr, Project, TestDb};

#[test]
fn five_concurrent_deploys_apply_each_migration_exactly_once() {
    let db = TestDb::new();
    let project = Project::new();
    for i in 1..=8 {
        project.migration(
            &format!("{i:02}_table"),
            &format!("CREATE TABLE t{i} (id int);\nINSERT INTO t{i} VALUES ({i});\n"),
        );
    }
    let children: Vec<_> = (0..5)
        .map(|_| {
            bin()
                .current_dir(project.path())
                .args(["deploy", "--database-url", &db.url])
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .spawn()
                .unwrap()
        })
        .collect();
    for child in children {
        assert_success(&child.wait_with_output().unwrap());
    }
    let counts =
        db.query("SELECT migration_name, count(*) FROM _prisma_migrations GROUP BY 1 ORDER BY 1");
    assert_eq!(counts.len(), 8);
    assert!(counts.iter().all(|row| row[1] == "1"), "{counts:?}");
    for i in 1..=8 {
        assert!(exists(&db, &format!("t{i}")));
        assert_eq!(db.query(&format!("SELECT count(*) FROM t{i}"))[0][0], "1");
    }
}

#[test]
fn a_held_advisory_lock_times_out_with_a_clear_error() {
    let db = TestDb::new();
    let project = Project::new();
    project.migration("1_init", "CREATE TABLE a (id int);\n");
    // Another deploy (ours or Prisma's) holds the migration lock.
    let holder = hold_session(
        &db.url,
        "SET application_name = 'prisma-migrate'; SELECT pg_advisory_lock(72707369)",
        Duration::from_secs(3),
    );
    let output = project.run(&[
        "deploy",
        "--database-url",
        &db.url,
        "--advisory-lock-timeout",
        "1",
    ]);
    holder.join().unwrap();
    assert_eq!(output.status.code(), Some(2));
    let err = stderr(&output);
    assert!(err.contains("advisory lock (72707369)"), "{err}");
    assert!(
        err.contains("(application `prisma-migrate`, user "),
        "{err}"
    );
    assert!(err.contains("--advisory-lock-timeout"), "{err}");
    assert!(!exists(&db, "a"));

    // Once released, deploy goes through.
    assert_success(&project.run(&["deploy", "--database-url", &db.url]));
    assert!(exists(&db, "a"));
}

#[test]
fn status_and_dry_run_write_nothing_not_even_the_schema() {
    let db = TestDb::new();
    let project = Project::new();
    project.migration("1_init", "CREATE TABLE a (id int);\n");
    let url = format!("{}?schema=fresh_one", db.url);
    let status = project.run(&["status", "--database-url", &url]);
    assert_eq!(status.status.code(), Some(4), "{}", stderr(&status));
    let dry = project.run(&["deploy", "--dry-run", "--database-url", &url]);
    assert_success(&dry);
    assert_eq!(
        db.query("SELECT count(*) FROM pg_namespace WHERE nspname = 'fresh_one'")[0][0],
        "0"
    );
    assert_success(&project.run(&["deploy", "--database-url", &url]));
    assert!(exists(&db, "fresh_one.a"));
    assert!(exists(&db, "fresh_one._prisma_migrations"));
}

#[test]
fn concurrent_first_runs_do_not_race_on_creating_the_schema() {
    for round in 0..3 {
        let db = TestDb::new();
        let project = Project::new();
        project.migration("1_init", "CREATE TABLE a (id int);\n");
        let url = format!("{}?schema=brand_new_{round}", db.url);
        let children: Vec<_> = (0..6)
            .map(|_| {
                bin()
                    .current_dir(project.path())
                    .args(["deploy", "--database-url", &url])
                    .stdout(Stdio::piped())
                    .stderr(Stdio::piped())
                    .spawn()
                    .unwrap()
            })
            .collect();
        for child in children {
            assert_success(&child.wait_with_output().unwrap());
        }
        assert_eq!(
            db.query(&format!(
                "SELECT count(*) FROM brand_new_{round}._prisma_migrations"
            ))[0][0],
            "1"
        );
    }
}

#[test]
fn a_migration_that_releases_the_advisory_lock_does_not_let_a_second_deploy_in() {
    let db = TestDb::new();
    let project = Project::new();
    // DISCARD ALL (pasted from a pooler's reset query) and pg_advisory_unlock_all() release
    // every advisory lock of the session, the deploy's own included.
    project.migration(
        "1_unlock",
        "CREATE TABLE a (id int);\nSELECT pg_advisory_unlock_all();\n",
    );
    project.migration("2_slow", "SELECT pg_sleep(3);\nCREATE TABLE b (id int);\n");
    let first = bin()
        .current_dir(project.path())
        .args(["deploy", "--database-url", &db.url])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    wait_for_query(&db, "SELECT pg_sleep(3)");
    let second = project.run(&[
        "deploy",
        "--database-url",
        &db.url,
        "--advisory-lock-timeout",
        "1",
    ]);
    assert_success(&first.wait_with_output().unwrap());
    assert_eq!(second.status.code(), Some(2), "{}", stderr(&second));
    assert!(
        stderr(&second).contains("advisory lock (72707369)"),
        "{}",
        stderr(&second)
    );
    let rows = db.query(
        "SELECT migration_name, count(*), bool_and(finished_at IS NOT NULL) \
         FROM _prisma_migrations GROUP BY 1 ORDER BY 1",
    );
    assert_eq!(
        rows,
        vec![
            vec!["1_unlock".to_string(), "1".to_string(), "t".to_string()],
            vec!["2_slow".to_string(), "1".to_string(), "t".to_string()],
        ]
    );
}

#[test]
fn a_migration_whose_lock_another_session_took_meanwhile_does_not_commit() {
    let db = TestDb::new();
    let project = Project::new();
    project.migration(
        "1_unlock",
        "CREATE TABLE a (id int);\nSELECT pg_advisory_unlock_all();\nSELECT pg_sleep(2);\n",
    );
    let child = bin()
        .current_dir(project.path())
        .args(["deploy", "--database-url", &db.url])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    wait_for_query(&db, "SELECT pg_sleep(2)");
    // Another deploy takes the released lock while the migration still runs.
    let other = hold_session(
        &db.url,
        "SELECT pg_advisory_lock(72707369)",
        Duration::from_secs(4),
    );
    let output = child.wait_with_output().unwrap();
    other.join().unwrap();
    assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));
    let err = stderr(&output);
    assert!(err.contains("advisory lock"), "{err}");
    assert!(err.contains("pg_advisory_unlock_all"), "{err}");
    assert!(!exists(&db, "a"), "committed without holding the lock");
    // Nothing is written to the history while another deploy holds the lock.
    assert_eq!(
        db.query("SELECT count(*) FROM _prisma_migrations")[0][0],
        "0"
    );
}

#[test]
fn sigterm_while_the_history_table_is_locked_says_nothing_was_changed() {
    let db = TestDb::new();
    let project = Project::new();
    project.migration("1_a", "CREATE TABLE a (id int);\n");
    assert_success(&project.run(&["deploy", "--database-url", &db.url]));
    project.migration("2_b", "CREATE TABLE b (id int);\n");
    let holder = hold_session(
        &db.url,
        "BEGIN; LOCK TABLE _prisma_migrations IN ACCESS EXCLUSIVE MODE",
        Duration::from_secs(5),
    );
    let child = bin()
        .current_dir(project.path())
        .args(["deploy", "--database-url", &db.url])
        .args(["--advisory-lock-timeout", "30"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    wait_for_query(&db, "FROM \"public\"._prisma_migrations ORDER BY");
    let kill = std::process::Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(kill.success());
    let output = child.wait_with_output().unwrap();
    holder.join().unwrap();
    let err = stderr(&output);
    assert_eq!(output.status.code(), Some(1), "{err}");
    assert!(err.contains("interrupted by SIGTERM"), "{err}");
    assert!(err.contains("nothing was changed"), "{err}");
    assert!(!err.contains("57014"), "{err}");
    assert!(!exists(&db, "b"));
}
