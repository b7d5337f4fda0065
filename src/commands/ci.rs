use crate::cli::CiArgs;
use crate::error::{AppError, Result};

pub fn run(args: &CiArgs) -> Result<u8> {
    let _ = args;
    Err(AppError::usage("`ci` is not implemented yet"))
}
