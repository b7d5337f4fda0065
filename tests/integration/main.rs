//! The integration test binary: the CLI as a user runs it, against real PostgreSQL and local
//! HTTP servers that behave like GitHub and Vercel.

mod db_deploy;
mod support;
