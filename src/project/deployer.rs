//! Who deploys the migrations, hence how each file is sent to PostgreSQL: `migration-gate deploy`
//! (atomic per migration, CONCURRENTLY alone, lock_timeout with retries) or `prisma migrate
//! deploy`, whose behaviour changed in Prisma 7.4 (prisma-engines, sql-schema-connector's
//! postgres `apply_migration_script`): up to 7.3 the whole file is one simple query (one
//! implicit transaction); from 7.4 a file Prisma's sqlparser can parse is sent statement by
//! statement in autocommit, a file it cannot parse still whole.

use std::fmt;
use std::path::{Path, PathBuf};

use crate::error::{AppError, Result};
use crate::project::config::Config;
use crate::project::discover::display_path;
use crate::sql::transactions::{self, Runner};
use crate::sql::Statement;

/// The tool that applies the migrations in production.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Deployer {
    #[default]
    MigrationGate,
    Prisma,
}

impl Deployer {
    pub const NAMES: &'static str = "\"migration-gate\" or \"prisma\"";

    pub fn parse(text: &str) -> Option<Deployer> {
        match text {
            "migration-gate" => Some(Deployer::MigrationGate),
            "prisma" => Some(Deployer::Prisma),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Deployer::MigrationGate => "migration-gate",
            Deployer::Prisma => "prisma",
        }
    }
}

/// A Prisma CLI version (the lowest a package.json range allows).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct PrismaVersion {
    pub major: u32,
    pub minor: u32,
    pub patch: u32,
}

/// The first Prisma that sends a parseable file statement by statement.
pub const SPLITS_SINCE: PrismaVersion = PrismaVersion {
    major: 7,
    minor: 4,
    patch: 0,
};

impl PrismaVersion {
    /// `7.4.0`, `7.4`, or a package.json spec (`^6.1.0`, `~7.4.2`, `>=7.4.0`, `7.4.0-dev.3`):
    /// the lowest version it allows. `None` for what names no version (`latest`, `*`, a URL).
    pub fn parse(spec: &str) -> Option<PrismaVersion> {
        if spec.contains("||") {
            // `^7.4.0 || ^6.1.0`: the lowest of the alternatives, each of which must name one.
            return spec
                .split("||")
                .map(PrismaVersion::parse)
                .collect::<Option<Vec<_>>>()?
                .into_iter()
                .min();
        }
        let version = spec
            .trim()
            .trim_start_matches(['^', '~', '=', '>', 'v', ' '])
            .split(['-', '+', ' '])
            .next()?;
        let mut parts = version.split('.');
        let number = |part: Option<&str>| -> Option<u32> {
            match part {
                None | Some("x") | Some("*") => Some(0),
                Some(text) => text.parse().ok(),
            }
        };
        let major = parts.next().filter(|p| !p.is_empty())?.parse().ok()?;
        let minor = number(parts.next())?;
        let patch = number(parts.next())?;
        if parts.next().is_some() {
            return None;
        }
        Some(PrismaVersion {
            major,
            minor,
            patch,
        })
    }

    pub fn splits_files(self) -> bool {
        self >= SPLITS_SINCE
    }
}

impl fmt::Display for PrismaVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}.{}", self.major, self.minor, self.patch)
    }
}

/// How `deployer` (with Prisma `version`, `None` when unknown) sends a file of `statements`.
/// An unknown Prisma version is taken as one that sends the whole file (up to 7.3): the
/// behaviour under which more migrations fail outright.
pub fn runner(
    deployer: Deployer,
    version: Option<PrismaVersion>,
    statements: &[Statement],
) -> Runner {
    match deployer {
        Deployer::MigrationGate => Runner::Segmenting,
        Deployer::Prisma => match version {
            // Prisma's own sqlparser decides; ours parsing every statement stands in for it.
            Some(v) if v.splits_files() && transactions::fully_parsed(statements) => {
                Runner::OneByOne
            }
            _ => Runner::WholeFile,
        },
    }
}

/// Where a Prisma version was found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Detected {
    pub version: PrismaVersion,
    /// `node_modules/prisma/package.json (installed)` or `package.json ("prisma": "^7.4.0")`.
    pub source: String,
}

/// The project's Prisma version: the installed CLI's `node_modules/prisma/package.json`
/// version (exact), else the `prisma` spec in a `package.json`'s dependencies or
/// devDependencies; looked for in `cwd`, then in the migrations folder's ancestors (nearest
/// first). `Ok(None)` when none is found; a package.json that is not JSON is an error.
pub fn detect(cwd: &Path, migrations_dir: &Path) -> Result<Option<Detected>> {
    let mut places: Vec<PathBuf> = vec![cwd.to_path_buf()];
    let absolute = if migrations_dir.is_absolute() {
        migrations_dir.to_path_buf()
    } else {
        cwd.join(migrations_dir)
    };
    for ancestor in absolute.ancestors() {
        if !places.iter().any(|p| p == ancestor) {
            places.push(ancestor.to_path_buf());
        }
    }
    for place in &places {
        let installed = place.join("node_modules/prisma/package.json");
        if installed.is_file() {
            let json = read_json(&installed)?;
            if let Some(version) = json
                .get("version")
                .and_then(|v| v.as_str())
                .and_then(PrismaVersion::parse)
            {
                return Ok(Some(Detected {
                    version,
                    source: format!("{} (installed)", display_path(&installed)),
                }));
            }
        }
    }
    for place in &places {
        let manifest = place.join("package.json");
        if !manifest.is_file() {
            continue;
        }
        let json = read_json(&manifest)?;
        for section in ["dependencies", "devDependencies"] {
            let Some(spec) = json
                .get(section)
                .and_then(|d| d.get("prisma"))
                .and_then(|v| v.as_str())
            else {
                continue;
            };
            if let Some(version) = PrismaVersion::parse(spec) {
                return Ok(Some(Detected {
                    version,
                    source: format!("{} (\"prisma\": \"{spec}\")", display_path(&manifest)),
                }));
            }
        }
    }
    Ok(None)
}

/// Settle who deploys for a `check`: `flag` (`--deployer`, the Action's `deployer` input) over
/// the config's `deployer`; with Prisma and no `prisma_version` in the config, the version
/// found in the project ([`detect`] from the working directory and `migrations_dir`). Returns
/// the note the report shows on how files were judged (`None` for `migration-gate deploy`,
/// the default).
pub fn settle(
    config: &mut Config,
    flag: Option<Deployer>,
    migrations_dir: &Path,
) -> Result<Option<String>> {
    if let Some(deployer) = flag {
        config.deployer = deployer;
    }
    if config.deployer == Deployer::MigrationGate {
        return Ok(None);
    }
    let source = match config.prisma_version {
        Some(_) => "prisma_version in the config".to_string(),
        None => {
            let cwd = std::env::current_dir().unwrap_or_else(|_| PathBuf::from("."));
            match detect(&cwd, migrations_dir)? {
                Some(found) => {
                    config.prisma_version = Some(found.version);
                    found.source
                }
                None => {
                    return Ok(Some(
                        "Judged as deployed by `prisma migrate deploy` of unknown version (no \
                         node_modules/prisma/package.json, and no package.json here or above \
                         the migrations folder whose \"prisma\" dependency names a version such \
                         as \"^7.3.0\": \"latest\", \"workspace:*\" or a URL name none): \
                         assumed up to 7.3, \
                         which sends each file as one query, one transaction. Set \
                         prisma_version in migration-gate.toml if yours is 7.4 or later."
                            .to_string(),
                    ))
                }
            }
        }
    };
    let version = config.prisma_version.unwrap_or(SPLITS_SINCE);
    let how = if version.splits_files() {
        "files it can parse run statement by statement, each committed on its own; others as \
         one query, one transaction"
    } else {
        "each file runs as one query, one transaction"
    };
    Ok(Some(format!(
        "Judged as deployed by `prisma migrate deploy` {version} (from {source}): {how}."
    )))
}

fn read_json(path: &Path) -> Result<serde_json::Value> {
    let text = std::fs::read_to_string(path)
        .map_err(|err| AppError::usage(format!("cannot read {}: {err}", display_path(path))))?;
    // npm and Node accept a byte-order mark before the JSON (editors on Windows write one).
    let json = text.strip_prefix('\u{feff}').unwrap_or(&text);
    serde_json::from_str(json).map_err(|err| {
        AppError::usage(format!(
            "{} is not valid JSON (line {}, column {}): fix it, or set prisma_version in migration-gate.toml",
            display_path(path),
            err.line(),
            err.column()
        ))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v(major: u32, minor: u32, patch: u32) -> Option<PrismaVersion> {
        Some(PrismaVersion {
            major,
            minor,
            patch,
        })
    }

    #[test]
    fn versions_and_package_json_specs_parse_to_their_lowest_version() {
        assert_eq!(PrismaVersion::parse("7.4.0"), v(7, 4, 0));
        assert_eq!(PrismaVersion::parse("^6.1.0"), v(6, 1, 0));
        assert_eq!(PrismaVersion::parse("~7.4.2"), v(7, 4, 2));
        assert_eq!(PrismaVersion::parse(">=7.4"), v(7, 4, 0));
        assert_eq!(PrismaVersion::parse("7.5.0-dev.12"), v(7, 5, 0));
        assert_eq!(PrismaVersion::parse("^7.4.0 || ^6.1.0"), v(6, 1, 0));
        assert_eq!(PrismaVersion::parse("^7.4.0 || latest"), None);
        assert_eq!(PrismaVersion::parse("latest"), None);
        assert_eq!(PrismaVersion::parse("*"), None);
        assert!(PrismaVersion::parse("7.4.0").unwrap().splits_files());
        assert!(!PrismaVersion::parse("7.3.9").unwrap().splits_files());
    }

    #[test]
    fn the_installed_cli_wins_over_the_spec_and_ancestors_are_searched() {
        let root = tempfile::tempdir().unwrap();
        let migrations = root.path().join("app/prisma/migrations");
        std::fs::create_dir_all(&migrations).unwrap();
        let elsewhere = tempfile::tempdir().unwrap();
        assert_eq!(detect(elsewhere.path(), &migrations).unwrap(), None);
        std::fs::write(
            root.path().join("app/package.json"),
            r#"{"devDependencies": {"prisma": "^7.3.0"}}"#,
        )
        .unwrap();
        let found = detect(elsewhere.path(), &migrations).unwrap().unwrap();
        assert_eq!(Some(found.version), v(7, 3, 0));
        assert!(found.source.contains("^7.3.0"), "{}", found.source);
        std::fs::create_dir_all(root.path().join("app/node_modules/prisma")).unwrap();
        std::fs::write(
            root.path().join("app/node_modules/prisma/package.json"),
            r#"{"name": "prisma", "version": "7.4.1"}"#,
        )
        .unwrap();
        let found = detect(elsewhere.path(), &migrations).unwrap().unwrap();
        assert_eq!(Some(found.version), v(7, 4, 1));
    }

    #[test]
    fn settle_takes_the_flag_over_the_config_and_notes_the_prisma_version() {
        let root = tempfile::tempdir().unwrap();
        let mut config = Config::default();
        assert_eq!(settle(&mut config, None, root.path()).unwrap(), None);
        config.prisma_version = PrismaVersion::parse("7.4.0");
        let note = settle(&mut config, Some(Deployer::Prisma), root.path()).unwrap();
        assert_eq!(config.deployer, Deployer::Prisma);
        let note = note.unwrap();
        assert!(
            note.contains("7.4.0 (from prisma_version in the config)"),
            "{note}"
        );
        assert!(note.contains("statement by statement"), "{note}");
    }

    #[test]
    fn a_dependency_without_a_version_number_is_an_unknown_version() {
        let root = tempfile::tempdir().unwrap();
        std::fs::write(
            root.path().join("package.json"),
            r#"{"devDependencies": {"prisma": "workspace:*"}}"#,
        )
        .unwrap();
        let mut config = Config {
            deployer: Deployer::Prisma,
            ..Config::default()
        };
        // settle looks in the working directory too: point the migrations at the temp dir.
        let note = settle(&mut config, None, &root.path().join("migrations"))
            .unwrap()
            .unwrap();
        assert_eq!(config.prisma_version, None);
        assert!(note.contains("names a version"), "{note}");
    }

    #[test]
    fn a_package_json_with_a_byte_order_mark_is_read() {
        let root = tempfile::tempdir().unwrap();
        std::fs::write(
            root.path().join("package.json"),
            "\u{feff}{\"devDependencies\": {\"prisma\": \"7.4.0\"}}",
        )
        .unwrap();
        let found = detect(root.path(), Path::new("migrations"))
            .unwrap()
            .unwrap();
        assert_eq!(Some(found.version), v(7, 4, 0));
    }

    #[test]
    fn a_malformed_package_json_is_a_one_line_error() {
        let root = tempfile::tempdir().unwrap();
        std::fs::write(root.path().join("package.json"), "{ not json").unwrap();
        let err = detect(root.path(), Path::new("migrations")).unwrap_err();
        assert!(
            err.message.contains("package.json is not valid JSON"),
            "{}",
            err.message
        );
        assert!(!err.message.contains('\n'));
    }
}
