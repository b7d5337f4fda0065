//! Find the migrations of a project: Prisma's `<dir>/<folder>/migration.sql` layout, or a plain
//! folder of `*.sql` files for teams not on Prisma.

use std::path::{Path, PathBuf};

use crate::error::Result;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Layout {
    /// `<dir>/<name>/migration.sql` (+ optional `down.sql`), `migration_lock.toml`.
    Prisma,
    /// `<dir>/*.sql`, sorted by file name.
    PlainSql,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Migration {
    /// Prisma: the folder name (what `_prisma_migrations.migration_name` holds). Plain: the file
    /// name without `.sql`.
    pub name: String,
    /// The SQL file itself.
    pub path: PathBuf,
    /// The path as reports show it: relative to the working directory when below it.
    pub display_path: String,
    /// The file's contents (UTF-8 checked). Checksums are computed from these bytes.
    pub source: String,
    /// `down.sql` next to `migration.sql`, when present (used by `rollback`).
    pub down_path: Option<PathBuf>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MigrationSet {
    pub dir: PathBuf,
    pub layout: Layout,
    /// In apply order: byte order of the folder (or file) names.
    pub migrations: Vec<Migration>,
}

impl MigrationSet {
    pub fn find(&self, name: &str) -> Option<&Migration> {
        self.migrations.iter().find(|m| m.name == name)
    }
}

/// The default `--dir`: `prisma/migrations` if present, else `migrations`.
pub fn default_dir() -> PathBuf {
    let prisma = Path::new("prisma/migrations");
    if prisma.is_dir() {
        prisma.to_path_buf()
    } else {
        PathBuf::from("migrations")
    }
}

pub fn discover(dir: &Path) -> Result<MigrationSet> {
    let _ = dir;
    todo!("discover")
}
