use crate::cli::StatusArgs;
use crate::error::{AppError, Result};

pub fn run(args: &StatusArgs) -> Result<u8> {
    let _ = args;
    Err(AppError::usage("`status` is not implemented yet"))
}
