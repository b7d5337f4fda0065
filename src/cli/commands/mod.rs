//! One module per subcommand: each reads its arguments, runs the pipeline pieces it needs and
//! returns the process exit code (see [`crate::error::exit`]).

pub mod check;
pub mod ci;
pub mod deploy;
pub mod resolve;
pub mod rollback;
pub mod rules;
pub mod status;
