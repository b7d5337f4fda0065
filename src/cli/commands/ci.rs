use crate::cli::CiArgs;
use crate::error::Result;

/// The GitHub Action entry point; the work lives in [`crate::ci`].
pub fn run(args: &CiArgs) -> Result<u8> {
    crate::ci::run(&args.options())
}
