//! `migration-gate.toml`: rule severity overrides, the target PostgreSQL version, the migrations
//! directory. Unknown keys and unknown rule ids are errors, not silence.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use crate::error::{AppError, Result};
use crate::findings::Severity;
use crate::project::deployer::{Deployer, PrismaVersion};
use crate::project::discover::{display_path, read_utf8};

pub const DEFAULT_PG_VERSION: u32 = 15;
pub const FILE_NAME: &str = "migration-gate.toml";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RuleSetting {
    Error,
    Warning,
    Off,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Config {
    pub pg_version: u32,
    /// Severity overrides by rule id (ids validated against the catalogue at load time).
    pub rules: BTreeMap<String, RuleSetting>,
    pub migrations_dir: Option<PathBuf>,
    /// `start_after = "<migration name>"`: that migration and every one before it are the
    /// existing history when `check` is given no MIGRATION and no `--since` (strong_migrations'
    /// `start_after`, for teams adopting the gate on an existing history).
    pub start_after: Option<String>,
    /// `deployer = "migration-gate" | "prisma"`: who applies the migrations in production,
    /// hence which statements share a transaction (default: `migration-gate deploy`).
    pub deployer: Deployer,
    /// `prisma_version = "7.4.0"`: overrides the version found in the project (with
    /// `deployer = "prisma"`).
    pub prisma_version: Option<PrismaVersion>,
    /// The file the settings came from, as errors name it (`None`: the defaults).
    pub file: Option<String>,
    /// `stats = "path"`: the table-size statistics `check` judges blocking findings by (what
    /// `migration-gate stats --output` wrote), relative to the config file.
    pub stats: Option<PathBuf>,
    /// A table with fewer estimated rows than this (and fewer bytes than `small_table_bytes`)
    /// is small: its lock, scan or rewrite findings are warnings.
    pub small_table_rows: u64,
    pub small_table_bytes: u64,
    /// Statistics older than this many days get a note in the report.
    pub stats_max_age_days: u64,
}

pub const DEFAULT_SMALL_TABLE_ROWS: u64 = 10_000;
pub const DEFAULT_SMALL_TABLE_BYTES: u64 = 10 * 1024 * 1024;
pub const DEFAULT_STATS_MAX_AGE_DAYS: u64 = 7;

impl Default for Config {
    fn default() -> Self {
        Config {
            pg_version: DEFAULT_PG_VERSION,
            rules: BTreeMap::new(),
            migrations_dir: None,
            start_after: None,
            deployer: Deployer::default(),
            prisma_version: None,
            file: None,
            stats: None,
            small_table_rows: DEFAULT_SMALL_TABLE_ROWS,
            small_table_bytes: DEFAULT_SMALL_TABLE_BYTES,
            stats_max_age_days: DEFAULT_STATS_MAX_AGE_DAYS,
        }
    }
}

impl Config {
    /// `--dir` when given, else the config's `migrations_dir`, else `prisma/migrations` or
    /// `migrations` (see [`crate::project::discover::default_dir`]).
    pub fn migrations_dir(&self, flag: Option<&Path>) -> PathBuf {
        flag.map(Path::to_path_buf)
            .or_else(|| self.migrations_dir.clone())
            .unwrap_or_else(crate::project::discover::default_dir)
    }

    /// The severity rule `id` reports at (`default` unless overridden), `None` when it is
    /// turned off.
    pub fn severity(&self, id: &str, default: Severity) -> Option<Severity> {
        match self.rules.get(id) {
            None => Some(default),
            Some(RuleSetting::Error) => Some(Severity::Error),
            Some(RuleSetting::Warning) => Some(Severity::Warning),
            Some(RuleSetting::Off) => None,
        }
    }

    /// `path` if given (must exist), else `migration-gate.toml` in the working directory if
    /// present, else the defaults. `[rules]` may name only `rule_ids` (the catalogue lives above
    /// this layer: `Config::load` in `lint` passes it).
    pub fn load_knowing(path: Option<&Path>, rule_ids: &[&str]) -> Result<Config> {
        match path {
            Some(path) => {
                if !path.is_file() {
                    return Err(AppError::usage(format!(
                        "config file {} does not exist; {}",
                        display_path(path),
                        crate::surface::Setting::Config.instruction()
                    )));
                }
                Config::from_file(path, rule_ids)
            }
            None => {
                let default = Path::new(FILE_NAME);
                if default.is_file() {
                    Config::from_file(default, rule_ids)
                } else {
                    Ok(Config::default())
                }
            }
        }
    }

    fn from_file(path: &Path, rule_ids: &[&str]) -> Result<Config> {
        let text = read_utf8(path)?;
        let shown = display_path(path);
        let mut config = Config::parse_knowing(&text, &shown, rule_ids)?;
        config.file = Some(shown);
        // A relative `migrations_dir` means: next to the config file.
        if let (Some(dir), Some(base)) = (&config.migrations_dir, path.parent()) {
            if dir.is_relative() && !base.as_os_str().is_empty() {
                config.migrations_dir = Some(base.join(dir));
            }
        }
        // So does a relative `stats`.
        if let (Some(stats), Some(base)) = (&config.stats, path.parent()) {
            if stats.is_relative() && !base.as_os_str().is_empty() {
                config.stats = Some(base.join(stats));
            }
        }
        Ok(config)
    }

    /// Parse the TOML text of a config file; `shown` names the file in errors, `[rules]` may
    /// name only `rule_ids`.
    pub fn parse_knowing(text: &str, shown: &str, rule_ids: &[&str]) -> Result<Config> {
        let table: toml::Table = text.parse().map_err(|err: toml::de::Error| {
            let line = err
                .span()
                .map(|span| format!(" at line {}", line_of(text, span.start)))
                .unwrap_or_default();
            AppError::usage(format!(
                "{shown}: invalid TOML{line}: {}",
                err.message().trim()
            ))
        })?;
        let mut config = Config::default();
        for (key, value) in &table {
            match key.as_str() {
                "pg_version" => config.pg_version = pg_version(value, shown)?,
                "migrations_dir" => {
                    config.migrations_dir = Some(PathBuf::from(string(value, shown, key)?))
                }
                "start_after" => config.start_after = Some(string(value, shown, key)?.to_string()),
                "rules" => config.rules = rule_settings(value, shown, rule_ids)?,
                "stats" => config.stats = Some(PathBuf::from(string(value, shown, key)?)),
                "small_table_rows" => config.small_table_rows = count(value, shown, key)?,
                "small_table_bytes" => config.small_table_bytes = count(value, shown, key)?,
                "stats_max_age_days" => config.stats_max_age_days = count(value, shown, key)?,
                "deployer" => {
                    let text = string(value, shown, key)?;
                    config.deployer = Deployer::parse(text).ok_or_else(|| {
                        AppError::usage(format!(
                            "{shown}: deployer = \"{text}\" is not a deployer; use {}",
                            Deployer::NAMES
                        ))
                    })?
                }
                "prisma_version" => {
                    let text = string(value, shown, key)?;
                    config.prisma_version = Some(PrismaVersion::parse(text).ok_or_else(|| {
                        AppError::usage(format!(
                            "{shown}: prisma_version = \"{text}\" is not a version; write it like prisma_version = \"7.4.0\""
                        ))
                    })?)
                }
                _ => {
                    return Err(AppError::usage(format!(
                        "{shown}: unknown key `{key}`; valid keys: {}",
                        KEYS.join(", ")
                    )))
                }
            }
        }
        Ok(config)
    }
}

const KEYS: &[&str] = &[
    "pg_version",
    "migrations_dir",
    "start_after",
    "stats",
    "small_table_rows",
    "small_table_bytes",
    "stats_max_age_days",
    "deployer",
    "prisma_version",
    "[rules]",
];

fn line_of(text: &str, offset: usize) -> usize {
    text.as_bytes()[..offset.min(text.len())]
        .iter()
        .filter(|&&b| b == b'\n')
        .count()
        + 1
}

fn string<'v>(value: &'v toml::Value, shown: &str, key: &str) -> Result<&'v str> {
    value.as_str().ok_or_else(|| {
        AppError::usage(format!(
            "{shown}: `{key}` must be a string, e.g. {key} = \"...\""
        ))
    })
}

fn count(value: &toml::Value, shown: &str, key: &str) -> Result<u64> {
    value
        .as_integer()
        .and_then(|v| u64::try_from(v).ok())
        .ok_or_else(|| {
            AppError::usage(format!(
                "{shown}: `{key}` must be a whole number of at least 0, e.g. {key} = 10000"
            ))
        })
}

/// The PostgreSQL major versions whose behaviour the rules know (the facts they depend on
/// changed in 11 and 12; nothing they check changed after 18).
pub const SUPPORTED_PG_VERSIONS: std::ops::RangeInclusive<u32> = 10..=18;

/// "PostgreSQL 10 to 18", for the messages that refuse another version.
pub fn supported_pg_versions() -> String {
    format!(
        "PostgreSQL {} to {}",
        SUPPORTED_PG_VERSIONS.start(),
        SUPPORTED_PG_VERSIONS.end()
    )
}

fn pg_version(value: &toml::Value, shown: &str) -> Result<u32> {
    match value.as_integer().and_then(|v| u32::try_from(v).ok()) {
        Some(version) if SUPPORTED_PG_VERSIONS.contains(&version) => Ok(version),
        _ => Err(AppError::usage(format!(
            "{shown}: `pg_version` must be a supported PostgreSQL major version ({}), e.g. pg_version = {DEFAULT_PG_VERSION}",
            supported_pg_versions()
        ))),
    }
}

fn rule_settings(
    value: &toml::Value,
    shown: &str,
    rule_ids: &[&str],
) -> Result<BTreeMap<String, RuleSetting>> {
    let table = value.as_table().ok_or_else(|| {
        AppError::usage(format!(
            "{shown}: `rules` must be a table: [rules] then lines like drop-column = \"warning\""
        ))
    })?;
    let mut settings = BTreeMap::new();
    for (id, setting) in table {
        if !rule_ids.contains(&id.as_str()) {
            return Err(AppError::usage(format!(
                "{shown}: unknown rule id `{id}` in [rules]; valid ids: {}",
                rule_ids.join(", ")
            )));
        }
        let setting = match setting.as_str() {
            Some("error") => RuleSetting::Error,
            Some("warning") => RuleSetting::Warning,
            Some("off") => RuleSetting::Off,
            _ => {
                return Err(AppError::usage(format!(
                    "{shown}: [rules] {id} = {setting} is not a severity; use \"error\", \"warning\" or \"off\""
                )))
            }
        };
        settings.insert(id.clone(), setting);
    }
    Ok(settings)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A few ids stand in for the catalogue, which this layer does not know.
    const IDS: &[&str] = &[
        "drop-table",
        "drop-column",
        "rename-table",
        "unbatched-data-change",
    ];

    fn parse(text: &str, shown: &str) -> Result<Config> {
        Config::parse_knowing(text, shown, IDS)
    }

    #[test]
    fn full_file_parses() {
        let config = parse(
            "pg_version = 13\nmigrations_dir = \"db/migrations\"\nstart_after = \"20240101_init\"\n\n[rules]\ndrop-column = \"warning\"\nrename-table = \"off\"\nunbatched-data-change = \"error\"\n",
            "migration-gate.toml",
        )
        .unwrap();
        assert_eq!(config.pg_version, 13);
        assert_eq!(config.migrations_dir, Some(PathBuf::from("db/migrations")));
        assert_eq!(config.start_after.as_deref(), Some("20240101_init"));
        let severity = |id| config.severity(id, Severity::Error);
        assert_eq!(severity("drop-column"), Some(Severity::Warning));
        assert_eq!(severity("rename-table"), None);
        assert_eq!(
            config.severity("unbatched-data-change", Severity::Warning),
            Some(Severity::Error)
        );
        assert_eq!(severity("drop-table"), Some(Severity::Error));
    }

    #[test]
    fn table_size_keys_parse_and_default() {
        let config = parse(
            "stats = \"db-stats.json\"\nsmall_table_rows = 500\nsmall_table_bytes = 1048576\nstats_max_age_days = 2\n",
            "c.toml",
        )
        .unwrap();
        assert_eq!(config.stats, Some(PathBuf::from("db-stats.json")));
        assert_eq!(
            (
                config.small_table_rows,
                config.small_table_bytes,
                config.stats_max_age_days
            ),
            (500, 1_048_576, 2)
        );
        let defaults = Config::default();
        assert_eq!(
            (
                defaults.small_table_rows,
                defaults.small_table_bytes,
                defaults.stats_max_age_days
            ),
            (10_000, 10 * 1024 * 1024, 7)
        );
        let err = parse("small_table_rows = -1\n", "c.toml").unwrap_err();
        assert_eq!(
            err.message,
            "c.toml: `small_table_rows` must be a whole number of at least 0, e.g. small_table_rows = 10000"
        );
    }

    #[test]
    fn empty_file_is_the_defaults() {
        assert_eq!(parse("", "x.toml").unwrap(), Config::default());
        assert_eq!(Config::default().pg_version, 15);
    }

    #[test]
    fn unknown_key_is_named_with_the_valid_ones() {
        let err = parse("pg_verison = 14\n", "migration-gate.toml").unwrap_err();
        assert_eq!(
            err.message,
            "migration-gate.toml: unknown key `pg_verison`; valid keys: pg_version, migrations_dir, start_after, stats, small_table_rows, small_table_bytes, stats_max_age_days, deployer, prisma_version, [rules]"
        );
    }

    #[test]
    fn unknown_rule_id_is_named_with_the_valid_ones() {
        let err = parse("[rules]\ndrop-colum = \"off\"\n", "cfg.toml").unwrap_err();
        assert_eq!(
            err.message,
            "cfg.toml: unknown rule id `drop-colum` in [rules]; valid ids: drop-table, drop-column, rename-table, unbatched-data-change"
        );
    }

    #[test]
    fn bad_values_are_errors() {
        let bad_severity = parse("[rules]\ndrop-column = \"fatal\"\n", "c.toml").unwrap_err();
        assert!(
            bad_severity.message.contains("drop-column"),
            "{}",
            bad_severity.message
        );
        let bad_version = parse("pg_version = \"15\"\n", "c.toml").unwrap_err();
        assert!(
            bad_version.message.contains("pg_version"),
            "{}",
            bad_version.message
        );
        let bad_toml = parse("\n[rules\n", "c.toml").unwrap_err();
        assert!(
            bad_toml
                .message
                .starts_with("c.toml: invalid TOML at line 2"),
            "{}",
            bad_toml.message
        );
        assert!(!bad_toml.message.contains('\n'), "{}", bad_toml.message);
    }

    #[test]
    fn deployer_and_prisma_version_parse_and_bad_values_are_one_line_errors() {
        let config = parse(
            "deployer = \"prisma\"\nprisma_version = \"7.4.0\"\n",
            "c.toml",
        )
        .unwrap();
        assert_eq!(config.deployer, Deployer::Prisma);
        assert_eq!(config.prisma_version, PrismaVersion::parse("7.4.0"));
        assert_eq!(Config::default().deployer, Deployer::MigrationGate);
        let bad = parse("deployer = \"flyway\"\n", "c.toml").unwrap_err();
        assert_eq!(
            bad.message,
            "c.toml: deployer = \"flyway\" is not a deployer; use \"migration-gate\" or \"prisma\""
        );
        let bad = parse("prisma_version = \"seven\"\n", "c.toml").unwrap_err();
        assert!(
            bad.message.contains("prisma_version = \"7.4.0\""),
            "{}",
            bad.message
        );
    }

    #[test]
    fn load_missing_explicit_file_is_an_error() {
        let err =
            Config::load_knowing(Some(Path::new("/no/such/migration-gate.toml")), IDS).unwrap_err();
        assert!(
            err.message.contains("/no/such/migration-gate.toml"),
            "{}",
            err.message
        );
        assert!(err.message.contains("--config"), "{}", err.message);
    }

    #[test]
    fn load_resolves_migrations_dir_next_to_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("gate.toml");
        std::fs::write(&path, "migrations_dir = \"db\"\n").unwrap();
        let config = Config::load_knowing(Some(&path), IDS).unwrap();
        assert_eq!(config.migrations_dir, Some(dir.path().join("db")));
    }
}
