//! `deploy`: the runner's deploy ([`crate::migrate::deploy`]), which prints its progress; the
//! outcome becomes the exit code.

use crate::cli::DeployArgs;
use crate::error::{exit, Result};
use crate::migrate;
use crate::project::Project;

pub fn run(args: &DeployArgs) -> Result<u8> {
    let project = Project::load(&args.migrations.project())?;
    if let Some(last) = &args.to {
        super::check::ensure_known(&project.set, last, "--to")?;
    }
    let outcome = migrate::deploy(&project, &args.options())?;
    Ok(if outcome.needs_review {
        exit::NEEDS_REVIEW
    } else if outcome.failure.is_some() {
        exit::FAILED
    } else {
        exit::OK
    })
}
