//! One error type for everything a user can get wrong or the environment can refuse.
//! Every error renders as ONE line that says what is wrong and what to do; never a panic.

use std::fmt;
use std::path::Path;

/// Process exit codes. They are a public interface (documented in the README).
pub mod exit {
    /// Success; `check`: no error-level finding; `status`: up to date.
    pub const OK: u8 = 0;
    /// `check`: at least one error-level finding; `deploy`/`rollback`: a migration failed.
    pub const FAILED: u8 = 1;
    /// Usage, I/O, configuration or connection error.
    pub const USAGE: u8 = 2;
    /// `deploy`: error-level findings that are not allowed; nothing was applied.
    pub const NEEDS_REVIEW: u8 = 3;
    /// `status`: migrations are pending.
    pub const PENDING: u8 = 4;
    /// `status`: a failed, edited or locally missing migration is in the history.
    pub const DRIFT: u8 = 5;
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AppError {
    /// The one-line message shown to the user (no secrets, no stack trace).
    pub message: String,
    /// The exit code the process ends with.
    pub exit_code: u8,
}

impl AppError {
    pub fn usage(message: impl Into<String>) -> Self {
        AppError {
            message: message.into(),
            exit_code: exit::USAGE,
        }
    }

    pub fn failed(message: impl Into<String>) -> Self {
        AppError {
            message: message.into(),
            exit_code: exit::FAILED,
        }
    }

    /// An I/O error on `path`, phrased for a person.
    pub fn io(path: &Path, err: &std::io::Error) -> Self {
        let what = match err.kind() {
            std::io::ErrorKind::NotFound => "does not exist".to_string(),
            std::io::ErrorKind::PermissionDenied => {
                "cannot be read (permission denied)".to_string()
            }
            _ => format!("cannot be read: {err}"),
        };
        AppError::usage(format!("{} {what}", path.display()))
    }
}

impl fmt::Display for AppError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for AppError {}

pub type Result<T> = std::result::Result<T, AppError>;
