//! Shared test plumbing: the built binary, a private database per test, temporary projects.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::atomic::{AtomicU32, Ordering};

/// The `migration-gate` binary cargo built for this test run.
pub fn bin() -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_migration-gate"));
    // The history cache of the tests' temporary projects stays out of the user's cache folder.
    command.env(
        "MIGRATION_GATE_CACHE_DIR",
        std::env::temp_dir().join("migration-gate-test-cache"),
    );
    command
}

/// Run the binary in `dir` with `args`, no inherited database variables.
pub fn run_in(dir: &Path, args: &[&str]) -> Output {
    let mut cmd = bin();
    cmd.current_dir(dir).args(args);
    for var in [
        "DIRECT_URL",
        "DATABASE_URL_UNPOOLED",
        "POSTGRES_URL_NON_POOLING",
        "DATABASE_URL",
        "POSTGRES_URL",
        "NO_COLOR",
    ] {
        cmd.env_remove(var);
    }
    cmd.output().expect("run migration-gate")
}

pub fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

pub fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

/// The repository root (for `migrations/` and `fixtures/`).
pub fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The server tests run against: `TEST_DATABASE_URL`, else the local default the README documents.
pub fn server_url() -> String {
    std::env::var("TEST_DATABASE_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".to_string())
}

static NEXT_DB: AtomicU32 = AtomicU32::new(0);

/// A database of its own for one test, dropped when the test ends.
pub struct TestDb {
    pub name: String,
    /// URL of this test's database.
    pub url: String,
    admin_url: String,
}

impl TestDb {
    pub fn new() -> TestDb {
        let admin_url = server_url();
        let name = format!(
            "mg_test_{}_{}",
            std::process::id(),
            NEXT_DB.fetch_add(1, Ordering::SeqCst)
        );
        admin_execute(
            &admin_url,
            &format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"),
        );
        admin_execute(&admin_url, &format!("CREATE DATABASE {name}"));
        let url = with_database(&admin_url, &name);
        TestDb {
            name,
            url,
            admin_url,
        }
    }

    /// Run SQL on this database and return the rows' columns as text (NULL → "NULL").
    pub fn query(&self, sql: &str) -> Vec<Vec<String>> {
        query_rows(&self.url, sql)
    }

    pub fn execute(&self, sql: &str) {
        admin_execute(&self.url, sql);
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        admin_execute(
            &self.admin_url,
            &format!("DROP DATABASE IF EXISTS {} WITH (FORCE)", self.name),
        );
    }
}

/// Replace the database name in a postgres URL.
pub fn with_database(url: &str, database: &str) -> String {
    let (base, query) = match url.split_once('?') {
        Some((base, query)) => (base, Some(query)),
        None => (url, None),
    };
    let after_scheme = base.find("://").map(|i| i + 3).unwrap_or(0);
    let base = match base[after_scheme..].find('/') {
        Some(slash) => &base[..after_scheme + slash],
        None => base,
    };
    match query {
        Some(query) => format!("{base}/{database}?{query}"),
        None => format!("{base}/{database}"),
    }
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("tokio runtime")
}

pub fn admin_execute(url: &str, sql: &str) {
    runtime().block_on(async {
        let (client, connection) = tokio_postgres::connect(url, tokio_postgres::NoTls)
            .await
            .unwrap_or_else(|e| panic!("test server unreachable ({e}); see README 'Tests'"));
        tokio::spawn(connection);
        client
            .batch_execute(sql)
            .await
            .unwrap_or_else(|e| panic!("{sql}: {e}"));
    })
}

pub fn query_rows(url: &str, sql: &str) -> Vec<Vec<String>> {
    runtime().block_on(async {
        let (client, connection) = tokio_postgres::connect(url, tokio_postgres::NoTls)
            .await
            .unwrap_or_else(|e| panic!("test server unreachable ({e}); see README 'Tests'"));
        tokio::spawn(connection);
        let messages = client
            .simple_query(sql)
            .await
            .unwrap_or_else(|e| panic!("{sql}: {e}"));
        messages
            .into_iter()
            .filter_map(|m| match m {
                tokio_postgres::SimpleQueryMessage::Row(row) => Some(
                    (0..row.len())
                        .map(|i| row.get(i).unwrap_or("NULL").to_string())
                        .collect(),
                ),
                _ => None,
            })
            .collect()
    })
}

/// A temporary project directory holding a Prisma migrations folder.
pub struct Project {
    pub dir: tempfile::TempDir,
}

impl Project {
    pub fn new() -> Project {
        let dir = tempfile::tempdir().expect("tempdir");
        let project = Project { dir };
        project.write(
            "prisma/migrations/migration_lock.toml",
            "# Please do not edit this file manually\nprovider = \"postgresql\"\n",
        );
        project
    }

    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    pub fn migrations_dir(&self) -> PathBuf {
        self.path().join("prisma/migrations")
    }

    pub fn write(&self, relative: &str, contents: &str) -> PathBuf {
        let path = self.path().join(relative);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, contents).unwrap();
        path
    }

    /// Add `prisma/migrations/<name>/migration.sql`.
    pub fn migration(&self, name: &str, sql: &str) -> PathBuf {
        self.write(&format!("prisma/migrations/{name}/migration.sql"), sql)
    }

    pub fn run(&self, args: &[&str]) -> Output {
        run_in(self.path(), args)
    }
}
