//! Where the user sets an option: a command-line flag, or an input of the GitHub Action.
//!
//! Messages that tell the user what to change name a [`Setting`] instead of spelling out a flag;
//! `migration-gate ci` switches the wording to the Action's inputs once at start, so the same
//! error reads "pass --database-url" in a terminal and "pass the `database-url` input" in a
//! workflow log, where no flag can be passed.

use std::fmt;
use std::sync::atomic::{AtomicBool, Ordering};

static ACTION: AtomicBool = AtomicBool::new(false);

/// From now on, name the Action's inputs (called by `migration-gate ci`).
pub fn speak_as_action() {
    ACTION.store(true, Ordering::Relaxed);
}

fn in_action() -> bool {
    ACTION.load(Ordering::Relaxed)
}

/// An option a message can ask the user to set.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Setting {
    DatabaseUrl,
    AllowDestructive,
    AllowPooled,
    RollbackTarget,
    MigrationsDir,
    Mode,
    Config,
    StatsFile,
}

impl Setting {
    /// The instruction: what to pass, phrased for where the user is.
    pub fn instruction(self) -> &'static str {
        match (self, in_action()) {
            (Setting::DatabaseUrl, false) => "pass --database-url",
            (Setting::DatabaseUrl, true) => {
                "pass the `database-url` input from a secret (`database-url: ${{ secrets.DIRECT_URL }}`)"
            }
            (Setting::AllowDestructive, false) => "after a human review, re-run with --allow-destructive",
            (Setting::AllowDestructive, true) => {
                "run the dispatch workflow with `type: manual-review`: once a reviewer approves, its \
                 apply job deploys with the `allow-destructive: true` input"
            }
            (Setting::AllowPooled, false) => "pass --allow-pooled if the pooler runs in session mode",
            // The Action has no input for it on purpose: CI deploys go to the direct URL.
            (Setting::AllowPooled, true) => {
                "the Action always needs the direct URL in its `database-url` input"
            }
            (Setting::RollbackTarget, false) => "pass --to NAME",
            (Setting::RollbackTarget, true) => {
                "set the `target` input (the dispatch input `target`)"
            }
            (Setting::MigrationsDir, false) => "pass --dir",
            (Setting::MigrationsDir, true) => "set the `migrations-dir` input",
            (Setting::Mode, false) => "pass --mode (check, deploy, manual-review, rollback)",
            (Setting::Mode, true) => {
                "set the `mode` input (check, deploy, manual-review, rollback)"
            }
            (Setting::Config, false) => "check the --config path",
            (Setting::Config, true) => "check the `config` input",
            (Setting::StatsFile, false) => "check the --stats path (config key `stats`)",
            (Setting::StatsFile, true) => "check the `stats-file` input (config key `stats`)",
        }
    }
}

/// The bare name: `--allow-destructive` or the input `allow-destructive`.
impl fmt::Display for Setting {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (flag, input) = match self {
            Setting::DatabaseUrl => ("--database-url", "database-url"),
            Setting::AllowDestructive => ("--allow-destructive", "allow-destructive"),
            Setting::AllowPooled => ("--allow-pooled", "database-url"),
            Setting::RollbackTarget => ("--to", "target"),
            Setting::MigrationsDir => ("--dir", "migrations-dir"),
            Setting::Mode => ("--mode", "mode"),
            Setting::Config => ("--config", "config"),
            Setting::StatsFile => ("--stats", "stats-file"),
        };
        if in_action() {
            write!(f, "the `{input}` input")
        } else {
            f.write_str(flag)
        }
    }
}
