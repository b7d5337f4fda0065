//! migration-gate: stands between SQL migrations and production PostgreSQL.
//!
//! Layers, each depending only on the ones above it: [`error`] and [`findings`]; [`sql`] (split
//! with exact positions → parse, with the token classifier as fallback); [`project`] (discover,
//! config, git); [`lint`] (schema model → rules → findings); [`db`] (connection → history table →
//! lock); [`migrate`] (the runner: deploy, rollback, resolve, status); [`report`] (renderers);
//! [`ci`] (the GitHub Action); [`cli`] (flags → options → one of the above → exit code).
//! README.md, "How the code is laid out", says where a new rule, output format or command goes.

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
pub mod trace;
