//! The database side below the runner: [`connection`] (URL → TLS → session), the history table,
//! the advisory lock and `pg_dump` backups. [`crate::migrate`] is built on these.

pub mod backup;
pub mod connection;
pub mod history;
pub mod lock;
pub mod session;
pub mod stats;
