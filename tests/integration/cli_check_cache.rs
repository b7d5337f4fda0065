//! `check` with the cache of the history's schema: a cached run says exactly what a fresh one
//! says, byte for byte, whatever state the cache file is in.

use std::path::{Path, PathBuf};
use std::process::Output;

use crate::support::{bin, repo_root, stdout, Project};

/// `check` in `project` with its own cache folder.
fn check(project: &Project, cache: &Path, args: &[&str]) -> Output {
    bin()
        .current_dir(project.path())
        .env("MIGRATION_GATE_CACHE_DIR", cache)
        .env_remove("NO_COLOR")
        .arg("check")
        .args(args)
        .output()
        .expect("run migration-gate")
}

fn cache_files(cache: &Path) -> Vec<PathBuf> {
    std::fs::read_dir(cache)
        .map(|entries| entries.map(|e| e.unwrap().path()).collect())
        .unwrap_or_default()
}

/// The same report from a cold cache, a warm one, a corrupt one and no cache, in every format.
fn assert_cached_runs_identical(project: &Project, pending: &[&str]) {
    let cache = project.path().join("cache");
    for format in ["human", "json", "sarif", "markdown", "github"] {
        let _ = std::fs::remove_dir_all(&cache);
        let mut args = vec!["--format", format];
        args.extend_from_slice(pending);
        let fresh = check(project, &cache, &[&args[..], &["--no-cache"]].concat());
        assert!(
            cache_files(&cache).is_empty(),
            "--no-cache wrote {:?}",
            cache_files(&cache)
        );
        let cold = check(project, &cache, &args);
        assert_eq!(cache_files(&cache).len(), 1, "one cache file per directory");
        let warm = check(project, &cache, &args);
        std::fs::write(&cache_files(&cache)[0], "{\"format\": \"torn").unwrap();
        let corrupt = check(project, &cache, &args);
        for (label, run) in [("cold", &cold), ("warm", &warm), ("corrupt", &corrupt)] {
            assert_eq!(run.status.code(), fresh.status.code(), "{format}, {label}");
            assert_eq!(stdout(run), stdout(&fresh), "{format}, {label} cache");
        }
        assert!(
            !stdout(&fresh).is_empty(),
            "{format}: the report says something"
        );
    }
}

#[test]
fn a_cached_history_gives_byte_identical_reports_on_the_bundled_history() {
    let project = Project::new();
    let mut names: Vec<String> = std::fs::read_dir(repo_root().join("migrations"))
        .unwrap()
        .map(|e| e.unwrap())
        .filter(|e| e.path().is_dir())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    for name in &names {
        let sql = std::fs::read_to_string(
            repo_root()
                .join("migrations")
                .join(name)
                .join("migration.sql"),
        )
        .unwrap();
        project.migration(name, &sql);
    }
    let newest: Vec<&str> = names[names.len() - 3..]
        .iter()
        .map(String::as_str)
        .collect();
    let report = stdout(&check(
        &project,
        &project.path().join("c"),
        &["--no-cache", newest[0], newest[1], newest[2]],
    ));
    assert!(report.contains("drop-column"), "{report}");
    assert_cached_runs_identical(&project, &newest);
}

#[test]
fn a_cached_history_gives_byte_identical_reports_on_the_synthetic_history() {
    let project = Project::new();
    let dir = project.migrations_dir();
    let generated = std::process::Command::new("python3")
        .arg(repo_root().join("bench/gen_history.py"))
        .arg("400")
        .arg(&dir)
        .output()
        .is_ok_and(|o| o.status.success());
    if !generated {
        eprintln!("python3 bench/gen_history.py did not run: skipped");
        return;
    }
    let mut names: Vec<String> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap())
        .filter(|e| e.path().is_dir())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    let newest: Vec<&str> = names[names.len() - 20..]
        .iter()
        .map(String::as_str)
        .collect();
    assert_cached_runs_identical(&project, &newest);
}

#[test]
fn an_edited_history_migration_is_replayed_again() {
    let project = Project::new();
    let cache = project.path().join("cache");
    let purge = |body: &str| {
        format!(
            "CREATE TABLE \"T\" (\"id\" INT);\nCREATE FUNCTION purge() RETURNS int \
             LANGUAGE plpgsql AS $$ BEGIN {body}; RETURN 1; END $$;"
        )
    };
    project.migration("20240101000000_init", &purge("DROP TABLE \"T\""));
    project.migration("20240102000000_more", "CREATE TABLE \"U\" (\"id\" INT);");
    project.migration("20240103000000_call", "SELECT purge();");
    let args = ["--format", "json", "20240103000000_call"];
    let before = stdout(&check(&project, &cache, &args));
    assert!(before.contains("drop-table"), "{before}");
    assert_eq!(cache_files(&cache).len(), 1);
    // The history's first file changes under the cache: purge() no longer drops anything.
    project.migration("20240101000000_init", &purge("PERFORM 1"));
    let after_edit = stdout(&check(&project, &cache, &args));
    assert!(!after_edit.contains("drop-table"), "{after_edit}");
    let fresh = stdout(&check(
        &project,
        &cache,
        &[&args[..], &["--no-cache"]].concat(),
    ));
    assert_eq!(after_edit, fresh);
}

/// A cache file rewritten by hand, with a checksum made to match, to say the history's table was
/// created by the pending set (so dropping it would be harmless): the drop is still an error.
/// And a cache folder that cannot be used (a file, read-only) only costs the cache.
#[test]
fn a_forged_or_unusable_cache_never_changes_the_verdict() {
    use sha2::{Digest, Sha256};

    let project = Project::new();
    let cache = project.path().join("cache");
    project.migration(
        "20240101000000_init",
        "CREATE TABLE \"User\" (\"id\" INT NOT NULL);",
    );
    project.migration("20240102000000_drop", "DROP TABLE \"User\";");
    let args = ["--format", "json", "20240102000000_drop"];
    let fresh = check(&project, &cache, &[&args[..], &["--no-cache"]].concat());
    assert_eq!(fresh.status.code(), Some(1));
    assert!(stdout(&fresh).contains("drop-table"));
    let _ = check(&project, &cache, &args);
    let file = &cache_files(&cache)[0];
    let written = std::fs::read_to_string(file).unwrap();
    let (header, schema) = written.split_once('\n').expect("a header line");
    let forged_schema = schema.replace("\"is_new\":false", "\"is_new\":true");
    assert_ne!(forged_schema, schema);
    let mut forged_header: serde_json::Value = serde_json::from_str(header).unwrap();
    let sum: String = Sha256::digest(forged_schema.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    forged_header["schema_sha256"] = sum.into();
    for forged in [
        format!("{header}\n{forged_schema}"),
        format!("{forged_header}\n{forged_schema}"),
    ] {
        std::fs::write(file, forged).unwrap();
        let run = check(&project, &cache, &args);
        assert_eq!(run.status.code(), Some(1), "{}", stdout(&run));
        assert_eq!(stdout(&run), stdout(&fresh));
    }

    let not_a_folder = project.path().join("cache-file");
    std::fs::write(&not_a_folder, "x").unwrap();
    let run = check(&project, &not_a_folder, &args);
    assert_eq!(stdout(&run), stdout(&fresh));
    assert!(
        run.stderr.is_empty(),
        "{}",
        String::from_utf8_lossy(&run.stderr)
    );

    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let read_only = project.path().join("read-only");
        std::fs::create_dir(&read_only).unwrap();
        std::fs::set_permissions(&read_only, std::fs::Permissions::from_mode(0o555)).unwrap();
        let run = check(&project, &read_only, &args);
        assert_eq!(stdout(&run), stdout(&fresh));
        assert!(
            run.stderr.is_empty(),
            "{}",
            String::from_utf8_lossy(&run.stderr)
        );
        std::fs::set_permissions(&read_only, std::fs::Permissions::from_mode(0o755)).unwrap();
    }
}
