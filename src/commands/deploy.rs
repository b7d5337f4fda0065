use crate::cli::DeployArgs;
use crate::db::DeployOutcome;
use crate::error::{AppError, Result};

/// Apply the pending migrations (progress printed to stdout, Prisma-style). The CI layer calls
/// this directly.
pub fn execute(args: &DeployArgs) -> Result<DeployOutcome> {
    let _ = args;
    Err(AppError::usage("`deploy` is not implemented yet"))
}

pub fn run(args: &DeployArgs) -> Result<u8> {
    execute(args).map(|_| 0)
}
