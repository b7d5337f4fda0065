//! `stats`: every table's size from the catalog ([`crate::db::stats`]), as the JSON file
//! `check --stats` reads, on stdout or into `--output`.

use crate::cli::StatsArgs;
use crate::db::stats;
use crate::error::{exit, AppError, Result};
use crate::project::discover::display_path;
use crate::{complain, say};

pub fn run(args: &StatsArgs) -> Result<u8> {
    let stats = stats::collect(&args.database.options())?;
    let json = stats.to_json();
    match &args.output {
        None => say!("{}", json.trim_end()),
        Some(path) => {
            std::fs::write(path, &json).map_err(|err| {
                AppError::usage(format!(
                    "cannot write the stats to {}: {err}; pass a writable --output path",
                    display_path(path)
                ))
            })?;
            complain!(
                "Wrote the sizes of {} tables (PostgreSQL {}) to {}.",
                stats.tables.len(),
                stats.server_version,
                display_path(path)
            );
        }
    }
    Ok(exit::OK)
}
