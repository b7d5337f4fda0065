//! The local side of every command: the config file, the migrations folder and what git says
//! changed. Plain data; nothing here talks to a database.

pub mod config;
pub mod deployer;
pub mod discover;
pub mod dotenv;
pub mod git;
pub mod stats;

use std::path::PathBuf;

use crate::error::Result;
use config::Config;
use discover::MigrationSet;

/// Where the project's files are, as the user named them (`--config`, `--dir`).
#[derive(Debug, Clone, Default)]
pub struct ProjectOptions {
    pub config: Option<PathBuf>,
    pub dir: Option<PathBuf>,
}

/// The local side: config and the migrations folder.
pub struct Project {
    pub config: Config,
    pub dir: PathBuf,
    pub set: MigrationSet,
}

impl Project {
    /// Reads the config (whose `[rules]` may name only `rule_ids`) and the migrations folder.
    /// Commands call `Project::load` (in `lint`), which passes the rule catalogue.
    pub fn load_knowing(options: &ProjectOptions, rule_ids: &[&str]) -> Result<Project> {
        let config = Config::load_knowing(options.config.as_deref(), rule_ids)?;
        let dir = config.migrations_dir(options.dir.as_deref());
        let set = discover::discover(&dir)?;
        Ok(Project { config, dir, set })
    }

    /// `N migrations found in prisma/migrations`, as Prisma words it.
    pub fn found_line(&self) -> String {
        let n = self.set.migrations.len();
        let noun = if n == 1 { "migration" } else { "migrations" };
        format!("{n} {noun} found in {}", self.dir.display())
    }
}
