//! The linter: the schema model and its replay ([`schema`]), suppression comments
//! ([`suppress`]), which migrations are pending ([`pending`]), the rules ([`rules`]) and the engine
//! that walks pending statements through them ([`engine`]). Reads `project` and `sql`; knows
//! nothing of databases or the command line.

pub mod cache;
pub mod engine;
pub mod locks;
pub mod pending;
pub mod rules;
pub mod schema;
pub mod sizes;
pub mod suppress;

pub use engine::{analyze, analyze_with_applied_elsewhere, refuse_malformed, AnalysisInput};

use std::path::Path;

use crate::error::Result;
use crate::findings::Severity;
use crate::project::config::Config;
use crate::project::{Project, ProjectOptions};
use rules::RuleInfo;

// The project layer reads the config but cannot know the rule catalogue, which is defined here:
// these are the loaders every command uses, checking `[rules]` ids against the catalogue.
impl Config {
    /// [`Config::load_knowing`] the rule catalogue.
    pub fn load(path: Option<&Path>) -> Result<Config> {
        Config::load_knowing(path, &rules::ids())
    }

    /// The severity `rule` reports at, `None` when it is turned off.
    pub fn severity_of(&self, rule: &RuleInfo) -> Option<Severity> {
        self.severity(rule.id, rule.default_severity)
    }
}

impl Project {
    /// [`Project::load_knowing`] the rule catalogue.
    pub fn load(options: &ProjectOptions) -> Result<Project> {
        Project::load_knowing(options, &rules::ids())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn config_rule_ids_are_checked_against_the_catalogue() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("gate.toml");
        std::fs::write(&path, "[rules]\ndrop-colum = \"off\"\n").unwrap();
        let err = Config::load(Some(&path)).unwrap_err();
        assert!(
            err.message.contains(
                "unknown rule id `drop-colum` in [rules]; valid ids: drop-table, drop-column,"
            ),
            "{}",
            err.message
        );
        std::fs::write(&path, "[rules]\nmalformed-sql = \"warning\"\n").unwrap();
        let config = Config::load(Some(&path)).unwrap();
        let malformed = rules::find("malformed-sql").unwrap();
        assert_eq!(config.severity_of(malformed), Some(Severity::Warning));
    }
}
