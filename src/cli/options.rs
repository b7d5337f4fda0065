//! From flags to the plain option structs the layers below take (as ripgrep turns its low-level
//! arguments into the objects that do the work), and the flag values of their enums.

use clap::builder::PossibleValue;
use clap::ValueEnum;

use super::{CiArgs, DatabaseArgs, DeployArgs, GitHubArgs, ResolveArgs, RollbackArgs, SafetyArgs};
use crate::ci::{CiMode, CiOptions, FailOn, GitHubEnv};
use crate::migrate::{
    BackupPolicy, DatabaseOptions, DeployOptions, Resolution, RollbackOptions, RollbackTarget,
    SafetyOptions,
};
use crate::report::OutputFormat;

impl DatabaseArgs {
    /// How to reach the database.
    pub fn options(&self) -> DatabaseOptions {
        DatabaseOptions {
            url: self.database_url.clone(),
            allow_pooled: self.allow_pooled,
            advisory_lock_timeout: self.advisory_lock_timeout,
        }
    }
}

impl SafetyArgs {
    /// The session settings for migrations (the retry backoff is not a flag).
    pub fn options(&self) -> SafetyOptions {
        SafetyOptions {
            lock_timeout: self.lock_timeout.clone(),
            statement_timeout: self.statement_timeout.clone(),
            lock_retries: self.lock_retries,
            ..SafetyOptions::default()
        }
    }
}

impl DeployArgs {
    /// What `deploy` asks of the runner.
    pub fn options(&self) -> DeployOptions {
        DeployOptions {
            database: self.database.options(),
            safety: self.safety.options(),
            allow_destructive: self.allow_destructive,
            backup_dir: self.backup_dir.clone(),
            backup: self.backup,
            dry_run: self.dry_run,
            to: self.to.clone(),
        }
    }
}

impl RollbackArgs {
    /// What `rollback` asks of the runner (clap makes sure one of --to and --steps is given).
    pub fn options(&self) -> RollbackOptions {
        let target = match &self.to {
            Some(name) => RollbackTarget::To(name.clone()),
            None => RollbackTarget::Steps(self.steps.unwrap_or(0)),
        };
        RollbackOptions {
            database: self.database.options(),
            safety: self.safety.options(),
            target,
            dry_run: self.dry_run,
        }
    }
}

impl ResolveArgs {
    /// What to record (clap makes sure exactly one of the two flags is given).
    pub fn resolution(&self) -> Resolution {
        match (&self.applied, &self.rolled_back) {
            (Some(name), _) => Resolution::Applied(name.clone()),
            (None, name) => Resolution::RolledBack(name.clone().unwrap_or_default()),
        }
    }
}

impl CiArgs {
    /// Everything the Action needs.
    pub fn options(&self) -> CiOptions {
        CiOptions {
            mode: self.mode,
            project: self.migrations.project(),
            database: self.database.options(),
            safety: self.safety.options(),
            vercel_hook_url: self.vercel_hook_url.clone(),
            fail_on: self.fail_on,
            check_run: self.check_run,
            target: self.target.clone(),
            allow_destructive: self.allow_destructive,
            allow_any_branch: self.allow_any_branch,
            stats: self.stats.clone(),
            stats_database_url: self.stats_database_url.clone(),
            deployer: self.deployer,
            trace_database_url: self.trace_database_url.clone(),
            github: self.github.env(),
        }
    }
}

impl GitHubArgs {
    /// The runner environment as `ci` reads it.
    pub fn env(&self) -> GitHubEnv {
        GitHubEnv {
            event_name: self.event_name.clone(),
            event_path: self.event_path.clone(),
            repository: self.repository.clone(),
            api_url: self.api_url.clone(),
            server_url: self.server_url.clone(),
            run_id: self.run_id.clone(),
            sha: self.sha.clone(),
            workspace: self.workspace.clone(),
            step_summary: self.step_summary.clone(),
            output: self.output.clone(),
            github_token: self.github_token.clone(),
            pr: self.pr,
            base_sha: self.base_sha.clone(),
            head_sha: self.head_sha.clone(),
            no_comment: self.no_comment,
            hook_retry_delay_ms: self.hook_retry_delay_ms,
        }
    }
}

/// A flag value for each variant of an enum a lower layer owns, with its `--help` line.
macro_rules! flag_values {
    ($ty:ident { $($variant:ident => $name:literal $(: $help:literal)?),+ $(,)? }) => {
        impl ValueEnum for $ty {
            fn value_variants<'a>() -> &'a [Self] {
                &[$($ty::$variant),+]
            }

            fn to_possible_value(&self) -> Option<PossibleValue> {
                Some(match self {
                    $($ty::$variant => PossibleValue::new($name)$(.help($help))?),+
                })
            }
        }
    };
}

flag_values!(OutputFormat {
    Human => "human": "Findings grouped by file, with the SQL to write instead (colour on a terminal)",
    Json => "json": "One JSON object: findings, allowed findings, summary",
    Sarif => "sarif": "SARIF 2.1.0, for GitHub code scanning",
    Github => "github": "GitHub Actions workflow-command annotations",
    Markdown => "markdown": "Markdown, as the job summary and the PR comment show it",
});

flag_values!(BackupPolicy {
    Destructive => "destructive": "Back up before a deploy with destructive findings",
    Always => "always": "Back up before every deploy",
});

flag_values!(CiMode {
    Check => "check": "Check the migrations a pull request adds or modifies",
    Deploy => "deploy": "Apply pending migrations, then fire the deploy hook",
    ManualReview => "manual-review": "Report what is pending and its dangers; change nothing",
    Rollback => "rollback": "Roll back to --target, then fire the deploy hook",
});

flag_values!(FailOn {
    Error => "error",
    Warning => "warning",
    Never => "never",
});

#[cfg(test)]
mod tests {
    use clap::Parser;

    use super::*;
    use crate::cli::{Cli, Command};

    fn parse(args: &[&str]) -> Command {
        let argv = std::iter::once("migration-gate").chain(args.iter().copied());
        Cli::try_parse_from(argv).expect("valid arguments").command
    }

    #[test]
    fn flags_become_the_options_of_the_layers_below() {
        let Command::Rollback(args) = parse(&["rollback", "--steps", "2", "--lock-timeout", "2"])
        else {
            panic!("rollback");
        };
        let options = args.options();
        assert_eq!(options.target, RollbackTarget::Steps(2));
        assert_eq!(options.safety.lock_timeout, "2000ms");
        assert!(!options.dry_run);

        let Command::Resolve(args) = parse(&["resolve", "--rolled-back", "1_init"]) else {
            panic!("resolve");
        };
        assert_eq!(
            args.resolution(),
            Resolution::RolledBack("1_init".to_string())
        );

        let Command::Deploy(args) = parse(&["deploy", "--backup", "always", "--backup-dir", "b"])
        else {
            panic!("deploy");
        };
        let options = args.options();
        assert_eq!(options.backup, BackupPolicy::Always);
        assert_eq!(options.backup_dir, Some("b".into()));
    }

    #[test]
    fn every_variant_of_a_flag_enum_is_reachable_by_its_name() {
        for (name, format) in [
            ("human", OutputFormat::Human),
            ("json", OutputFormat::Json),
            ("sarif", OutputFormat::Sarif),
            ("github", OutputFormat::Github),
            ("markdown", OutputFormat::Markdown),
        ] {
            let Command::Check(args) = parse(&["check", "--format", name]) else {
                panic!("check");
            };
            assert_eq!(args.format, format);
        }
        let Command::Ci(args) = parse(&["ci", "--mode", "manual-review", "--fail-on", "warning"])
        else {
            panic!("ci");
        };
        let options = args.options();
        assert_eq!(options.mode, Some(CiMode::ManualReview));
        assert_eq!(options.fail_on, FailOn::Warning);
    }
}
