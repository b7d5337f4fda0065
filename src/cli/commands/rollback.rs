//! `rollback --to NAME | --steps N`: the runner's rollback ([`crate::migrate::rollback()`]), which
//! prints its progress; the outcome becomes the exit code.

use crate::cli::RollbackArgs;
use crate::error::{exit, Result};
use crate::migrate;
use crate::project::Project;

pub fn run(args: &RollbackArgs) -> Result<u8> {
    let project = Project::load(&args.migrations.project())?;
    let outcome = migrate::rollback(&project, &args.options())?;
    Ok(if outcome.failure.is_some() {
        exit::FAILED
    } else {
        exit::OK
    })
}
