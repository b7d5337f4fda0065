//! The integration test binary: the CLI as a user runs it, against real PostgreSQL and local
//! HTTP servers that behave like GitHub and Vercel.

mod ci_action;
mod ci_event;
mod ci_fake;
mod ci_flows;
mod ci_github;
mod ci_vercel;
mod cli_check;
mod cli_check_cache;
mod cli_first_use;
mod db_concurrency;
mod db_deploy;
mod db_history;
mod db_rollback;
mod db_status;
mod probe;
mod probe_brk_rules;
mod probe_fixes;
mod probe_flow;
mod probe_rewrites;
mod probe_rules;
mod probe_stats;
mod stats;
mod support;
mod trace;

mod db_connect;
