//! Drives the analysis pipeline: replay the existing history into the schema model, then walk the
//! pending migrations statement by statement through the rules, apply suppressions and config,
//! and produce a [`Report`].

use crate::config::Config;
use crate::discover::Migration;
use crate::findings::{Finding, Report};

pub struct AnalysisInput<'a> {
    /// Already applied (or merged) migrations, in order: they define the existing schema.
    pub existing: &'a [&'a Migration],
    /// The migrations to judge, in order.
    pub pending: &'a [&'a Migration],
    pub config: &'a Config,
    /// Findings raised outside the statement walk (`edited-migration`, `out-of-order-migration`);
    /// severity already set. Suppression does not apply to them.
    pub extra_findings: Vec<Finding>,
}

pub fn analyze(input: AnalysisInput<'_>) -> Report {
    let _ = input;
    todo!("analysis::analyze")
}
