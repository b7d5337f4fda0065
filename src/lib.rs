//! migration-gate: stands between SQL migrations and production PostgreSQL.
//!
//! The analysis pipeline reads top to bottom:
//! [`discover`] → [`sql`] (split with positions → parse, with a token fallback) → [`schema`] model →
//! [`rules`] → [`findings`] → [`report`]. [`analysis`] drives it; [`suppress`] and [`config`] shape
//! what is reported. The database side is separate: [`db`] (connection → history table → lock)
//! under the [`migrate`] runner. [`ci`] binds both into the GitHub Action; [`cli`] is the command
//! line. README.md, "How the code is laid out", lists the layers.

pub mod ci;
pub mod cli;
pub mod db;
pub mod error;
pub mod findings;
pub mod lint;
pub mod migrate;
pub mod project;
pub mod report;
pub mod spelling;
pub mod sql;
pub mod surface;

// Restructure shims: the old paths of modules that moved into `lint/`.
pub use lint::{engine as analysis, rules, schema, suppress};
