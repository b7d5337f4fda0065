//! One thin handler per subcommand: its arguments become the options of the layer that does the
//! work, that layer is called, its outcome printed, and the process exit code returned (see
//! [`crate::error::exit`]).

pub mod check;
pub mod ci;
pub mod deploy;
pub mod resolve;
pub mod rollback;
pub mod rules;
pub mod stats;
pub mod status;
