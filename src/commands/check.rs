use crate::cli::CheckArgs;
use crate::error::{AppError, Result};

pub fn run(args: &CheckArgs) -> Result<u8> {
    let _ = args;
    Err(AppError::usage("`check` is not implemented yet"))
}
