//! The first hour of a new user (issue 9): a bare `check` on a branch, Prisma's `.env`, `deploy
//! --to`, `status` on a database nobody baselined, allow comments written almost right, `--dir
//! prisma`, the help texts, `rules` / `explain`, one duration syntax, and config and version
//! errors that name the right thing.

use std::path::Path;
use std::process::{Command, Output};

use crate::db_deploy::{assert_success, deploy, run_db, states};
use crate::support::{run_in, stderr, stdout, Project, TestDb};

const INIT: &str = "CREATE TABLE \"User\" (\"id\" TEXT NOT NULL, \"legacyHash\" TEXT, \
                    CONSTRAINT \"User_pkey\" PRIMARY KEY (\"id\"));\n";
const DROP_LEGACY: &str = "ALTER TABLE \"User\" DROP COLUMN \"legacyHash\";\n";

fn git(dir: &Path, args: &[&str]) {
    let output = Command::new("git")
        .args(["-c", "user.name=Test", "-c", "user.email=test@example.com"])
        .args(args)
        .current_dir(dir)
        .env_remove("GIT_DIR")
        .env_remove("GIT_WORK_TREE")
        .output()
        .expect("git");
    assert!(
        output.status.success(),
        "git {args:?}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
}

fn json(output: &Output) -> serde_json::Value {
    serde_json::from_slice(&output.stdout)
        .unwrap_or_else(|e| panic!("not JSON ({e}): {}{}", stdout(output), stderr(output)))
}

/// `(rule, file)` of every finding.
fn findings(output: &Output) -> Vec<(String, String)> {
    json(output)["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .map(|f| {
            (
                f["rule"].as_str().unwrap().to_string(),
                f["file"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

fn one_line_error(output: &Output, fragments: &[&str]) {
    let err = stderr(output);
    assert_eq!(output.status.code(), Some(2), "{err}");
    assert_eq!(err.lines().count(), 1, "one line expected: {err}");
    assert!(err.starts_with("error: "), "{err}");
    for fragment in fragments {
        assert!(err.contains(fragment), "`{fragment}` missing in: {err}");
    }
}

/// A Prisma project in a git repository: the init migration committed on `main`.
fn repository() -> Project {
    let project = Project::new();
    project.migration("20240101000000_init", INIT);
    git(project.path(), &["init", "-q", "-b", "main"]);
    git(project.path(), &["add", "-A"]);
    git(project.path(), &["commit", "-q", "-m", "init"]);
    project
}

// --- bare `check` -------------------------------------------------------------------------

#[test]
fn bare_check_on_a_branch_judges_what_the_branch_adds() {
    let project = repository();
    git(project.path(), &["checkout", "-q", "-b", "feature"]);
    project.migration("20240102000000_drop_legacy", DROP_LEGACY);
    git(project.path(), &["add", "-A"]);
    git(project.path(), &["commit", "-q", "-m", "drop"]);

    let output = project.run(&["check", "--format", "json"]);
    assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));
    assert_eq!(
        findings(&output),
        [(
            "drop-column".to_string(),
            "prisma/migrations/20240102000000_drop_legacy/migration.sql".to_string()
        )]
    );
    let note = stderr(&output);
    assert_eq!(note.lines().count(), 1, "{note}");
    assert!(note.contains("as `--since main`"), "{note}");
}

#[test]
fn bare_check_prefers_origin_head() {
    let upstream = repository();
    git(upstream.path(), &["branch", "-m", "main", "trunk"]);
    let clone = tempfile::tempdir().unwrap();
    git(
        clone.path(),
        &["clone", "-q", upstream.path().to_str().unwrap(), "work"],
    );
    let work = clone.path().join("work");
    git(&work, &["checkout", "-q", "-b", "feature"]);
    std::fs::create_dir_all(work.join("prisma/migrations/20240102000000_drop_legacy")).unwrap();
    std::fs::write(
        work.join("prisma/migrations/20240102000000_drop_legacy/migration.sql"),
        DROP_LEGACY,
    )
    .unwrap();

    let output = run_in(&work, &["check", "--format", "json"]);
    assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));
    assert_eq!(findings(&output).len(), 1, "{}", stdout(&output));
    assert!(stderr(&output).contains("`--since origin/trunk`"));
}

#[test]
fn bare_check_on_the_default_branch_says_everything_is_pending() {
    let project = repository();
    project.migration("20240102000000_drop_legacy", DROP_LEGACY);
    let output = project.run(&["check", "--format", "json"]);
    // Every migration pending: the column is new in the pending set, so nothing to report.
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    assert_eq!(json(&output)["summary"]["files"], 2);
    let note = stderr(&output);
    assert_eq!(note.lines().count(), 1, "{note}");
    for fragment in [
        "every migration counts as pending",
        "--since",
        "start_after",
    ] {
        assert!(note.contains(fragment), "`{fragment}` missing: {note}");
    }
}

/// A CI checkout of the branch alone (actions/checkout's default depth of 1) has no default
/// branch to compare with: the note must say so and how to fix it, since "every migration
/// pending" hides a drop of a column the history created.
#[test]
fn bare_check_in_a_clone_without_the_default_branch_says_what_to_fetch() {
    let project = Project::new();
    project.migration("20240101000000_init", INIT);
    project.migration("20240102000000_drop_legacy", DROP_LEGACY);
    git(project.path(), &["init", "-q", "-b", "feature"]);
    git(project.path(), &["add", "-A"]);
    git(project.path(), &["commit", "-q", "-m", "both"]);
    let output = project.run(&["check", "--format", "json"]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let note = stderr(&output);
    assert_eq!(note.lines().count(), 1, "{note}");
    for fragment in [
        "no default branch",
        "fetch-depth: 0",
        "every migration counts as pending",
        "--since",
        "start_after",
    ] {
        assert!(note.contains(fragment), "`{fragment}` missing: {note}");
    }
}

#[test]
fn bare_check_with_start_after_prints_no_note() {
    let project = repository();
    project.write(
        "migration-gate.toml",
        "start_after = \"20240101000000_init\"\n",
    );
    project.migration("20240102000000_drop_legacy", DROP_LEGACY);
    let output = project.run(&["check"]);
    assert_eq!(output.status.code(), Some(1));
    assert_eq!(stderr(&output), "");
}

// --- config and version errors ---------------------------------------------------------

#[test]
fn config_errors_name_the_given_file() {
    let project = Project::new();
    project.migration("20240101000000_init", INIT);
    project.write("other.toml", "start_after = \"20240101000000_inti\"\n");
    let output = project.run(&["check", "--config", "other.toml"]);
    one_line_error(&output, &["other.toml: start_after", "did you mean"]);
    assert!(!stderr(&output).contains("migration-gate.toml"));
}

#[test]
fn unsupported_pg_versions_are_refused_with_the_range() {
    let project = Project::new();
    project.migration("20240101000000_init", INIT);
    for version in ["99", "9", "19"] {
        let output = project.run(&["check", "--pg-version", version]);
        one_line_error(&output, &[&format!("--pg-version {version}"), "10 to 18"]);
    }
    let output = project.run(&["check", "--pg-version", "18", "--format", "json"]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
}

/// A minor version (`15.4`, as `SELECT version()` shows it) or a word is refused with the range
/// too, not with "invalid digit found in string".
#[test]
fn a_pg_version_that_is_not_a_number_is_refused_with_the_range() {
    let project = Project::new();
    project.migration("20240101000000_init", INIT);
    for version in ["15.4", "PostgreSQL 15", "v15"] {
        let output = project.run(&["check", "--pg-version", version]);
        one_line_error(&output, &["--pg-version", version, "10 to 18"]);
    }
}

// --- allow comments and --dir --------------------------------------------------------------

#[test]
fn an_allow_with_its_reason_written_almost_right_raises_one_warning_with_the_fix() {
    let comments = [
        "allow drop-column: unused since the v2 release, backed up",
        "allow drop-column because unused since the v2 release, backed up",
        "allow drop-column reason unused since the v2 release, backed up",
        "allow drop-column reasn: unused since the v2 release, backed up",
    ];
    for comment in comments {
        let project = Project::new();
        project.migration("20240101000000_init", INIT);
        project.migration(
            "20240102000000_drop_legacy",
            &format!("-- migration-gate: {comment}\n{DROP_LEGACY}"),
        );
        let output = project.run(&["check", "20240102000000_drop_legacy", "--format", "json"]);
        let report = json(&output);
        let warnings: Vec<&serde_json::Value> = report["findings"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|f| f["rule"] == "allow-without-reason")
            .collect();
        assert_eq!(warnings.len(), 1, "{comment}: {report}");
        let help = warnings[0]["help"].as_str().unwrap();
        assert!(
            help.contains("`-- migration-gate: allow drop-column reason: ")
                && help.contains("unused since the v2 release, backed up`"),
            "{comment}: {help}"
        );
        // Still ignored until written right: the drop is reported.
        assert_eq!(output.status.code(), Some(1), "{comment}");
    }
}

/// The reason written as plain words after the rules, or after a dash or in parentheses: still
/// one warning with the corrected comment, not one "not a rule id" warning per word.
#[test]
fn an_allow_with_its_reason_as_bare_words_raises_one_warning_with_the_fix() {
    let comments = [
        "allow drop-column unused since the v2 release, backed up",
        "allow drop-column - unused since the v2 release, backed up",
        "allow drop-column -- unused since the v2 release, backed up",
        "allow drop-column \u{2014} unused since the v2 release, backed up",
        "allow drop-column (unused since the v2 release, backed up)",
    ];
    for comment in comments {
        let project = Project::new();
        project.migration("20240101000000_init", INIT);
        project.migration(
            "20240102000000_drop_legacy",
            &format!("-- migration-gate: {comment}\n{DROP_LEGACY}"),
        );
        let output = project.run(&["check", "20240102000000_drop_legacy", "--format", "json"]);
        let report = json(&output);
        let warnings: Vec<&serde_json::Value> = report["findings"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|f| f["rule"] == "allow-without-reason")
            .collect();
        assert_eq!(warnings.len(), 1, "{comment}: {report}");
        let help = warnings[0]["help"].as_str().unwrap();
        assert!(
            help.contains(
                "`-- migration-gate: allow drop-column reason: unused since the v2 release, backed up`"
            ),
            "{comment}: {help}"
        );
        assert_eq!(output.status.code(), Some(1), "{comment}");
    }
}

#[test]
fn dir_pointing_at_the_prisma_folder_suggests_its_migrations() {
    let project = Project::new();
    project.migration("20240101000000_init", INIT);
    project.write("prisma/schema.prisma", "// schema\n");
    let output = project.run(&["check", "--dir", "prisma"]);
    one_line_error(&output, &["--dir prisma/migrations"]);
}

/// `--dir` at one migration's folder must not read its `migration.sql` as a plain-SQL migration
/// named `migration`: `deploy` would record that name in the history and apply the SQL again
/// under its real name later.
#[test]
fn dir_pointing_at_one_migration_folder_suggests_its_parent() {
    let db = TestDb::new();
    let project = Project::new();
    project.migration("20240101000000_init", INIT);
    let folder = "prisma/migrations/20240101000000_init";
    let output = project.run(&["check", "--dir", folder]);
    one_line_error(
        &output,
        &[folder, "one migration", "--dir prisma/migrations"],
    );
    let output = deploy(&project, &db, &["--dir", folder]);
    one_line_error(&output, &["--dir prisma/migrations"]);
    assert!(db
        .query("SELECT to_regclass('_prisma_migrations')::text")
        .iter()
        .all(|row| row[0] == "NULL"));
}

/// `--dir .` at the project root: the suggestion is the migrations folder, not to move folders.
#[test]
fn dir_pointing_at_the_project_root_suggests_its_migrations() {
    let project = Project::new();
    project.migration("20240101000000_init", INIT);
    project.write("prisma/schema.prisma", "// schema\n");
    project.write("src/index.ts", "// app\n");
    let output = project.run(&["check", "--dir", "."]);
    one_line_error(&output, &["--dir prisma/migrations"]);
}

// --- help, rules, explain ----------------------------------------------------------------

#[test]
fn help_texts_say_what_applies() {
    let project = Project::new();
    let deploy_help = stdout(&project.run(&["deploy", "--help"]));
    for fragment in ["DATABASE_URL", "DIRECT_URL", ".env", "--to <NAME>"] {
        assert!(deploy_help.contains(fragment), "{fragment}: {deploy_help}");
    }
    let status_help = stdout(&project.run(&["status", "--help"]));
    for absent in [
        "--allow-pooled",
        "--advisory-lock-timeout",
        "--lock-timeout",
    ] {
        assert!(!status_help.contains(absent), "{absent}: {status_help}");
    }
    assert!(status_help.contains("--database-url"), "{status_help}");
    let check_help = stdout(&project.run(&["check", "--help"]));
    assert!(check_help.contains("Output format"), "{check_help}");
    assert!(
        check_help.contains("- sarif:    SARIF 2.1.0"),
        "{check_help}"
    );
}

#[test]
fn rules_lists_the_catalogue_and_explain_tells_one_rule() {
    let project = Project::new();
    let output = project.run(&["rules"]);
    assert_eq!(output.status.code(), Some(0));
    let listing = stdout(&output);
    assert!(listing
        .lines()
        .any(|l| l.starts_with("drop-column") && l.contains("error") && l.contains("data loss")));
    assert!(listing
        .lines()
        .any(|l| l.starts_with("unbatched-data-change") && l.contains("warning")));

    let output = project.run(&["explain", "set-not-null"]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let text = stdout(&output);
    for fragment in [
        "set-not-null (error by default)",
        "ACCESS EXCLUSIVE",
        "What happens in production",
        "VALIDATE CONSTRAINT",
    ] {
        assert!(text.contains(fragment), "{fragment}: {text}");
    }

    let output = project.run(&["explain", "drop-colum"]);
    one_line_error(
        &output,
        &["unknown rule `drop-colum`", "did you mean `drop-column`"],
    );
}

/// A rule id typed in capitals (as SQL keywords are) or with a stray space still gets its
/// "did you mean", in `explain` and in allow comments alike.
#[test]
fn a_rule_id_in_capitals_gets_did_you_mean() {
    let project = Project::new();
    for id in ["DROP-COLUMN", "Drop-Column ", " drop-column"] {
        let output = project.run(&["explain", id]);
        one_line_error(&output, &["unknown rule", "did you mean `drop-column`"]);
    }
    project.migration("20240101000000_init", INIT);
    project.migration(
        "20240102000000_drop_legacy",
        &format!("-- migration-gate: allow DROP-COLUMN reason: unused since v2\n{DROP_LEGACY}"),
    );
    let output = project.run(&["check", "20240102000000_drop_legacy", "--format", "json"]);
    let report = json(&output);
    assert!(
        report["findings"]
            .as_array()
            .unwrap()
            .iter()
            .any(|f| f["rule"] == "allow-without-reason"
                && f["message"].as_str().unwrap().contains("drop-column")),
        "{report}"
    );
}

// --- durations ---------------------------------------------------------------------------

#[test]
fn a_bad_duration_is_one_line_before_connecting() {
    let project = Project::new();
    project.migration("20240101000000_init", INIT);
    for (flag, value) in [
        ("--lock-timeout", "5x"),
        ("--statement-timeout", "soon"),
        ("--advisory-lock-timeout", "ten"),
    ] {
        // An address that would hang if it were tried.
        let output = project.run(&[
            "deploy",
            flag,
            value,
            "--database-url",
            "postgres://u@10.255.255.1:5432/db?connect_timeout=30",
        ]);
        one_line_error(&output, &[flag, value, "500ms"]);
    }
}

#[test]
fn every_duration_flag_reads_a_bare_number_as_seconds() {
    let db = TestDb::new();
    let project = Project::new();
    project.migration(
        "20240101000000_check_settings",
        "DO $$ BEGIN IF current_setting('lock_timeout') <> '5s' \
         OR current_setting('statement_timeout') <> '2min' THEN \
         RAISE EXCEPTION 'lock_timeout %, statement_timeout %', \
         current_setting('lock_timeout'), current_setting('statement_timeout'); END IF; END $$;\n",
    );
    let output = deploy(
        &project,
        &db,
        &[
            "--lock-timeout",
            "5",
            "--statement-timeout",
            "2m",
            "--advisory-lock-timeout",
            "500ms",
        ],
    );
    assert_success(&output);
}

/// `0` means no timeout for every duration flag, as the README says: `--advisory-lock-timeout 0`
/// waits for the lock instead of giving up at once.
#[test]
fn a_zero_advisory_lock_timeout_waits_for_the_lock() {
    let db = TestDb::new();
    let project = Project::new();
    project.migration("20240101000000_init", INIT);
    let holder = crate::db_deploy::hold_session(
        &db.url,
        "SELECT pg_advisory_lock(72707369)",
        std::time::Duration::from_secs(2),
    );
    let output = deploy(&project, &db, &["--advisory-lock-timeout", "0"]);
    holder.join().unwrap();
    assert_success(&output);
    assert_eq!(
        states(&project, &db),
        [("20240101000000_init".to_string(), "applied".to_string())]
    );
}

// --- .env, deploy --to, status -----------------------------------------------------------

#[test]
fn deploy_reads_the_url_from_dotenv_files_after_the_environment() {
    let db = TestDb::new();
    let project = Project::new();
    project.migration("20240101000000_init", INIT);
    project.write(
        ".env",
        &format!("# local settings\nexport DATABASE_URL=\"{}\"\n", db.url),
    );
    let output = project.run(&["deploy"]);
    assert_success(&output);
    assert_eq!(
        states(&project, &db),
        [("20240101000000_init".to_string(), "applied".to_string())]
    );

    // prisma/.env, next to schema.prisma, works too; the real environment wins over both.
    std::fs::remove_file(project.path().join(".env")).unwrap();
    project.write(
        "prisma/.env",
        "DATABASE_URL='postgres://nobody@127.0.0.1:1/none'\n",
    );
    let output = crate::support::bin()
        .current_dir(project.path())
        .args(["status", "--format", "json"])
        .env("DATABASE_URL", &db.url)
        .env_remove("DIRECT_URL")
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let output = project.run(&["status"]);
    assert_eq!(output.status.code(), Some(2), "{}", stderr(&output));
    assert!(
        stderr(&output).contains("127.0.0.1:1"),
        "{}",
        stderr(&output)
    );

    // The same variable in both files: refused, as Prisma refuses it.
    project.write(".env", &format!("DATABASE_URL={}\n", db.url));
    let output = project.run(&["status"]);
    one_line_error(&output, &[".env", "prisma/.env", "DATABASE_URL"]);
}

/// A committed `.env` must not redirect a CI deploy: the real environment's `DATABASE_URL` (a
/// secret) wins over a `DIRECT_URL` that only a file sets, although `DIRECT_URL` comes first in
/// the order.
#[test]
fn any_url_variable_of_the_environment_wins_over_every_dotenv_file() {
    let db = TestDb::new();
    let project = Project::new();
    project.migration("20240101000000_init", INIT);
    project.write(".env", "DIRECT_URL=postgres://nobody@127.0.0.1:1/wrong\n");
    project.write(
        "prisma/.env",
        "DATABASE_URL_UNPOOLED=postgres://nobody@127.0.0.1:1/wrong2\n",
    );
    let output = crate::support::bin()
        .current_dir(project.path())
        .arg("deploy")
        .env("DATABASE_URL", &db.url)
        .env_remove("DIRECT_URL")
        .env_remove("DATABASE_URL_UNPOOLED")
        .env_remove("POSTGRES_URL_NON_POOLING")
        .env_remove("POSTGRES_URL")
        .output()
        .unwrap();
    assert_success(&output);
    assert_eq!(
        states(&project, &db),
        [("20240101000000_init".to_string(), "applied".to_string())]
    );
}

/// A malformed URL read from a file names the file (the shell has no such variable to look at)
/// and never shows the URL or its password.
#[test]
fn a_malformed_url_from_a_dotenv_file_names_the_file_not_the_secret() {
    let project = Project::new();
    project.migration("20240101000000_init", INIT);
    project.write(
        "prisma/.env",
        "DATABASE_URL=\"mysql://app:S3cretPass@db.internal:3306/app\"\n",
    );
    let output = project.run(&["status"]);
    one_line_error(&output, &["DATABASE_URL", "prisma/.env", "postgresql://"]);
    let err = stderr(&output);
    assert!(
        !err.contains("S3cretPass") && !err.contains("mysql://"),
        "{err}"
    );
}

#[test]
fn deploy_to_stops_after_the_named_migration() {
    let db = TestDb::new();
    let project = Project::new();
    project.migration("1_a", "CREATE TABLE a (id int);\n");
    project.migration("2_b", "CREATE TABLE b (id int);\n");
    project.migration("3_c", "CREATE TABLE c (id int);\n");

    let output = deploy(&project, &db, &["--to", "2_bb"]);
    one_line_error(&output, &["--to 2_bb", "did you mean: 2_b"]);
    assert!(db
        .query("SELECT to_regclass('_prisma_migrations')::text")
        .iter()
        .all(|row| row[0] == "NULL"));

    assert_success(&deploy(&project, &db, &["--to", "2_b"]));
    let pair = |name: &str, state: &str| (name.to_string(), state.to_string());
    assert_eq!(
        states(&project, &db),
        [
            pair("1_a", "applied"),
            pair("2_b", "applied"),
            pair("3_c", "pending")
        ]
    );
    assert_success(&deploy(&project, &db, &[]));
    assert_eq!(states(&project, &db)[2], pair("3_c", "applied"));
}

/// `deploy --to` takes what `check` takes: the folder as the shell completes it (`2_b/`,
/// `prisma/migrations/2_b`) or its migration.sql.
#[test]
fn deploy_to_takes_a_folder_path_as_check_does() {
    let db = TestDb::new();
    let project = Project::new();
    project.migration("1_a", "CREATE TABLE a (id int);\n");
    project.migration("2_b", "CREATE TABLE b (id int);\n");
    project.migration("3_c", "CREATE TABLE c (id int);\n");
    assert_success(&deploy(&project, &db, &["--to", "prisma/migrations/1_a/"]));
    assert_success(&deploy(
        &project,
        &db,
        &["--to", "prisma/migrations/2_b/migration.sql"],
    ));
    let pair = |name: &str, state: &str| (name.to_string(), state.to_string());
    assert_eq!(
        states(&project, &db),
        [
            pair("1_a", "applied"),
            pair("2_b", "applied"),
            pair("3_c", "pending")
        ]
    );
}

/// `deploy --to NAME` when NAME is applied already must not say that nothing is pending: the
/// later migrations still are.
#[test]
fn deploy_to_an_applied_migration_says_the_later_ones_stay_pending() {
    let db = TestDb::new();
    let project = Project::new();
    project.migration("1_a", "CREATE TABLE a (id int);\n");
    project.migration("2_b", "CREATE TABLE b (id int);\n");
    assert_success(&deploy(&project, &db, &["--to", "1_a"]));
    let output = deploy(&project, &db, &["--to", "1_a"]);
    assert_success(&output);
    let out = stdout(&output);
    assert!(!out.contains("No pending migrations to apply"), "{out}");
    assert!(
        out.contains("1_a is applied already") && out.contains("1 later migration stays pending"),
        "{out}"
    );
    assert_eq!(states(&project, &db)[1].1, "pending");
}

#[test]
fn status_of_a_database_nobody_baselined_gives_the_baseline_step() {
    let db = TestDb::new();
    db.execute("CREATE TABLE a (id int)");
    let project = Project::new();
    project.migration("1_a", "CREATE TABLE a (id int);\n");
    project.migration("2_b", "CREATE TABLE b (id int);\n");
    let output = run_db(&project, &db, &["status"]);
    let out = stdout(&output);
    assert_eq!(output.status.code(), Some(4), "{out}");
    assert!(out.contains("not managed yet"), "{out}");
    assert!(
        out.contains("migration-gate resolve --applied NAME"),
        "{out}"
    );
    assert!(out.contains("for m in '1_a' '2_b'; do"), "{out}");
    assert!(!out.contains("run migration-gate deploy"), "{out}");

    // Following the advice works: baseline 1_a, then deploy the rest.
    assert_success(&run_db(&project, &db, &["resolve", "--applied", "1_a"]));
    assert_success(&deploy(&project, &db, &[]));
}

/// Prisma writes no `down.sql`: a rollback that lacks one says where it goes and how to produce
/// it (`prisma migrate diff ... --script`), on one line, and touches nothing.
#[test]
fn rollback_without_down_sql_says_how_to_produce_one() {
    let db = TestDb::new();
    let project = Project::new();
    project.migration("1_a", "CREATE TABLE a (id int);\n");
    project.migration("2_b", "CREATE TABLE b (id int);\n");
    assert_success(&deploy(&project, &db, &[]));
    let output = run_db(&project, &db, &["rollback", "--steps", "1"]);
    let err = stderr(&output);
    assert_eq!(output.status.code(), Some(1), "{err}");
    assert_eq!(err.lines().count(), 1, "{err}");
    for fragment in [
        "prisma/migrations/2_b/down.sql",
        "prisma migrate diff",
        "--script",
    ] {
        assert!(err.contains(fragment), "`{fragment}` missing in: {err}");
    }
    assert_eq!(states(&project, &db)[1].1, "applied");
}

/// A migration that ran in one transaction and failed left nothing behind: the message says so
/// and sends the user to the migration and `resolve --rolled-back`, not to "fix the database".
#[test]
fn an_atomic_failure_says_nothing_was_applied_and_to_fix_the_migration() {
    let db = TestDb::new();
    let project = Project::new();
    project.migration(
        "1_a",
        "CREATE TABLE a (id int);\nINSERT INTO a VALUES (1);\nSELECT 1/0;\n",
    );
    let output = deploy(&project, &db, &[]);
    let err = stderr(&output);
    assert_eq!(output.status.code(), Some(1), "{err}");
    assert!(!crate::db_deploy::exists(&db, "a"), "{err}");
    for fragment in [
        "Nothing of `1_a` was applied",
        "fix the migration",
        "migration-gate resolve --rolled-back 1_a",
    ] {
        assert!(err.contains(fragment), "`{fragment}` missing in: {err}");
    }
    assert!(!err.contains("Fix the database"), "{err}");
}
