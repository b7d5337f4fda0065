use crate::cli::ResolveArgs;
use crate::error::{AppError, Result};

pub fn run(args: &ResolveArgs) -> Result<u8> {
    let _ = args;
    Err(AppError::usage("`resolve` is not implemented yet"))
}
