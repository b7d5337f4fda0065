//! `deploy`: the runner's deploy ([`crate::migrate::deploy()`]), which prints its progress; the
//! outcome becomes the exit code.

use crate::cli::DeployArgs;
use crate::error::{exit, Result};
use crate::migrate;
use crate::project::Project;

pub fn run(args: &DeployArgs) -> Result<u8> {
    let project = Project::load(&args.migrations.project())?;
    let mut options = args.options();
    options.to = args
        .to
        .as_deref()
        .map(|last| super::check::known_name(&project.set, last, "--to"))
        .transpose()?;
    let outcome = migrate::deploy(&project, &options)?;
    Ok(if outcome.needs_review {
        exit::NEEDS_REVIEW
    } else if outcome.failure.is_some() {
        exit::FAILED
    } else {
        exit::OK
    })
}
