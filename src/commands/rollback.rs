use crate::cli::RollbackArgs;
use crate::db::RollbackOutcome;
use crate::error::{AppError, Result};

/// Run the down scripts (progress printed to stdout). The CI layer calls this directly.
pub fn execute(args: &RollbackArgs) -> Result<RollbackOutcome> {
    let _ = args;
    Err(AppError::usage("`rollback` is not implemented yet"))
}

pub fn run(args: &RollbackArgs) -> Result<u8> {
    execute(args).map(|_| 0)
}
