//! The one harness for the rules' unit tests: a history and a pending migration written in SQL go
//! through the real engine ([`crate::lint::analyze`]) with every other rule turned off, and the
//! findings of the rule under test come back as violations.

use super::{RuleInfo, Violation, CATALOGUE};
use crate::lint::engine::{analyze, AnalysisInput};
use crate::project::config::{Config, RuleSetting, DEFAULT_PG_VERSION};
use crate::project::deployer::{Deployer, PrismaVersion};
use crate::project::discover::Migration;

/// Every violation `rule` raises on the `pending` SQL, given the `history` SQL.
pub fn violations(history: &str, pending: &str, rule: &RuleInfo) -> Vec<Violation> {
    violations_on(DEFAULT_PG_VERSION, history, pending, rule)
}

/// [`violations`] for PostgreSQL `pg_version`.
pub fn violations_on(
    pg_version: u32,
    history: &str,
    pending: &str,
    rule: &RuleInfo,
) -> Vec<Violation> {
    let config = Config {
        pg_version,
        ..Config::default()
    };
    violations_with(config, history, pending, rule)
}

/// [`violations`] when `prisma migrate deploy` at `prisma_version` (`None`: unknown) applies
/// the migrations.
pub fn violations_under_prisma(
    prisma_version: Option<&str>,
    history: &str,
    pending: &str,
    rule: &RuleInfo,
) -> Vec<Violation> {
    let config = Config {
        deployer: Deployer::Prisma,
        prisma_version: prisma_version.and_then(PrismaVersion::parse),
        ..Config::default()
    };
    violations_with(config, history, pending, rule)
}

/// [`violations`] under `config` (its rules other than `rule` turned off).
pub fn violations_with(
    mut config: Config,
    history: &str,
    pending: &str,
    rule: &RuleInfo,
) -> Vec<Violation> {
    for other in CATALOGUE.iter().filter(|other| other.id != rule.id) {
        config.rules.insert(other.id.to_string(), RuleSetting::Off);
    }
    let history = Migration::in_memory("1_history", history);
    let pending = Migration::in_memory("2_pending", pending);
    let report = analyze(AnalysisInput {
        existing: &[&history],
        pending: &[&pending],
        config: &config,
        extra_findings: Vec::new(),
    });
    report
        .findings
        .into_iter()
        .map(|finding| Violation {
            message: finding.message,
            help: finding.help,
            // What the user sees: the rule's or the violation's own, as the engine decided.
            severity: Some(finding.severity),
        })
        .collect()
}

/// The single violation `rule` raises; fails the test on none or several.
pub fn only_violation(history: &str, pending: &str, rule: &RuleInfo) -> Violation {
    let mut found = violations(history, pending, rule);
    assert_eq!(
        found.len(),
        1,
        "expected exactly one violation, got {found:#?}"
    );
    found.remove(0)
}

/// Whether `rule` raises anything on the `pending` SQL.
pub fn flags(history: &str, pending: &str, rule: &RuleInfo) -> bool {
    !violations(history, pending, rule).is_empty()
}

/// The history most rule tests start from: `User` (`id`, `email`) and the enum `Role` (`USER`)
/// exist, with rows in production.
pub const HISTORY: &str = "CREATE TABLE \"User\" (id int4, email text);\n\
                           CREATE TYPE \"Role\" AS ENUM ('USER');\n";

/// A pending statement creating `Draft`: new, so empty in production.
pub const CREATE_DRAFT: &str = "CREATE TABLE \"Draft\" (id int4, email text);\n";

/// `text` (a message or help) says `needle`; on failure the whole text is shown.
#[track_caller]
pub fn assert_mentions(text: &str, needle: &str) {
    assert!(text.contains(needle), "`{needle}` missing in:\n{text}");
}
