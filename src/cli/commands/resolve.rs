//! `resolve --applied NAME | --rolled-back NAME`: [`crate::migrate::resolve()`], then the line that
//! confirms it.

use crate::cli::ResolveArgs;
use crate::error::{exit, Result};
use crate::migrate::{self, Resolution};
use crate::project::Project;
use crate::say;

pub fn run(args: &ResolveArgs) -> Result<u8> {
    let project = Project::load(&args.migrations.project())?;
    match migrate::resolve(&project, &args.database.options(), &args.resolution())? {
        Resolution::Applied(name) => say!("Migration `{name}` marked as applied."),
        Resolution::RolledBack(name) => say!("Migration `{name}` marked as rolled back."),
    }
    Ok(exit::OK)
}
