//! The table-size statistics file `migration-gate stats` writes and `check --stats` reads:
//! `{"version": 1, "server_version": "15.4", "collected_at": "2026-12-04T17:00:00Z", "tables":
//! [{"schema": "public", "name": "User", "rows": 1234, "bytes": 567890, "indexes": 3}]}`.
//! Plain data: collecting is in [`crate::db::stats`], judging findings by it in
//! [`crate::lint::sizes`].

use std::path::Path;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde::{Deserialize, Serialize};

use crate::error::{AppError, Result};
use crate::project::discover::display_path;
use crate::sql::ident::quote_if_needed;

/// The format version this build reads and writes.
pub const STATS_VERSION: u32 = 1;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Stats {
    pub version: u32,
    /// `SHOW server_version`'s number, e.g. `15.4`.
    pub server_version: String,
    /// When the catalog was read, UTC, `YYYY-MM-DDTHH:MM:SSZ`.
    pub collected_at: String,
    /// The schema unqualified names meant for the URL the statistics were read through, when
    /// it is not `public` (Prisma's `?schema=app`): the migrations' unqualified tables are
    /// looked up there.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub default_schema: Option<String>,
    pub tables: Vec<TableStats>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TableStats {
    pub schema: String,
    pub name: String,
    /// The planner's estimate (`reltuples`), or a count of a small table never analysed;
    /// `null` when neither is known (never analysed, and the role may not read it).
    pub rows: Option<u64>,
    /// The table with its indexes and TOAST (`pg_total_relation_size`).
    pub bytes: u64,
    pub indexes: u32,
}

impl Stats {
    /// Read and check a stats file; every problem is one line saying what to do.
    pub fn load(path: &Path) -> Result<Stats> {
        let shown = display_path(path);
        let text = std::fs::read_to_string(path).map_err(|err| {
            let what = match err.kind() {
                std::io::ErrorKind::NotFound => "does not exist".to_string(),
                _ => format!("cannot be read ({err})"),
            };
            AppError::usage(format!(
                "stats file {shown} {what}; write it with `migration-gate stats --output {shown}`, \
                 or {}",
                crate::surface::Setting::StatsFile.instruction()
            ))
        })?;
        Stats::parse(&text, &shown)
    }

    /// Parse the JSON text of a stats file; `shown` names it in errors.
    pub fn parse(text: &str, shown: &str) -> Result<Stats> {
        let again = format!("write it again with `migration-gate stats --output {shown}`");
        // The version first: a file of another version is told as such, not as malformed.
        let value: serde_json::Value = serde_json::from_str(text).map_err(|err| {
            AppError::usage(format!(
                "stats file {shown} is not valid JSON (line {}: {}); {again}",
                err.line(),
                first_clause(&err)
            ))
        })?;
        match value.get("version").and_then(serde_json::Value::as_u64) {
            Some(version) if version == u64::from(STATS_VERSION) => {}
            Some(version) => {
                return Err(AppError::usage(format!(
                    "stats file {shown} has format version {version}, this migration-gate reads \
                     version {STATS_VERSION}; {again} (with this version of migration-gate)"
                )))
            }
            None => {
                return Err(AppError::usage(format!(
                    "stats file {shown} has no \"version\": {STATS_VERSION}, so it is not a file \
                     `migration-gate stats` wrote; {again}"
                )))
            }
        }
        let stats: Stats = serde_json::from_value(value).map_err(|err| {
            AppError::usage(format!(
                "stats file {shown} is not in the stats format ({}); {again}",
                first_clause(&err)
            ))
        })?;
        // Two entries for one table (files merged by hand) would judge it by whichever came
        // first, perhaps the small one.
        let mut seen = std::collections::HashSet::new();
        for table in &stats.tables {
            if !seen.insert((table.schema.as_str(), table.name.as_str())) {
                return Err(AppError::usage(format!(
                    "stats file {shown} lists the table {}.{} twice; {again}",
                    quote_if_needed(&table.schema),
                    quote_if_needed(&table.name)
                )));
            }
        }
        if parse_utc(&stats.collected_at).is_none() {
            return Err(AppError::usage(format!(
                "stats file {shown}: collected_at \"{}\" is not a UTC time like \
                 2026-12-04T17:00:00Z; {again}",
                stats.collected_at
            )));
        }
        Ok(stats)
    }

    /// The file's text: pretty JSON ending with a newline.
    pub fn to_json(&self) -> String {
        let mut text =
            serde_json::to_string_pretty(self).expect("stats of strings and integers serialise");
        text.push('\n');
        text
    }

    /// The statistics of `schema.name`, if the file knows the table.
    pub fn table(&self, schema: &str, name: &str) -> Option<&TableStats> {
        self.tables
            .iter()
            .find(|t| t.schema == schema && t.name == name)
    }

    /// How long before `now` the statistics were collected (zero if in the future).
    pub fn age(&self, now: SystemTime) -> Duration {
        let collected = parse_utc(&self.collected_at).unwrap_or(0);
        let now = now
            .duration_since(UNIX_EPOCH)
            .map_or(0, |since| since.as_secs());
        Duration::from_secs(now.saturating_sub(collected))
    }
}

/// serde_json's message without its " at line L column C" tail (the line is said apart).
fn first_clause(err: &serde_json::Error) -> String {
    let text = err.to_string();
    match text.find(" at line ") {
        Some(cut) => text[..cut].to_string(),
        None => text,
    }
}

/// Seconds since the Unix epoch of `YYYY-MM-DDTHH:MM:SSZ` (a fraction of a second is allowed).
pub fn parse_utc(text: &str) -> Option<u64> {
    let text = text.strip_suffix('Z')?;
    let (date, time) = text.split_once('T')?;
    let mut date_parts = date.splitn(3, '-').map(|p| p.parse::<i64>().ok());
    let (year, month, day) = (
        date_parts.next()??,
        date_parts.next()??,
        date_parts.next()??,
    );
    let time = time.split('.').next()?;
    let mut time_parts = time.splitn(3, ':').map(|p| p.parse::<u64>().ok());
    let (hour, minute, second) = (
        time_parts.next()??,
        time_parts.next()??,
        time_parts.next()??,
    );
    if !(1..=12).contains(&month) || !(1..=31).contains(&day) || hour > 23 || minute > 59 {
        return None;
    }
    if second > 60 {
        return None;
    }
    let days = u64::try_from(days_from_civil(year, month, day)).ok()?;
    Some(days * 86_400 + hour * 3_600 + minute * 60 + second)
}

/// `secs` since the epoch as `YYYY-MM-DDTHH:MM:SSZ`.
pub fn format_utc(secs: u64) -> String {
    let days = (secs / 86_400) as i64;
    let rest = secs % 86_400;
    let (year, month, day) = civil_from_days(days);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}Z",
        rest / 3_600,
        rest % 3_600 / 60,
        rest % 60
    )
}

// Howard Hinnant's civil-calendar algorithms (proleptic Gregorian, days since 1970-01-01).
fn days_from_civil(year: i64, month: i64, day: i64) -> i64 {
    let year = if month <= 2 { year - 1 } else { year };
    let era = year.div_euclid(400);
    let year_of_era = year - era * 400;
    let day_of_year = (153 * (if month > 2 { month - 3 } else { month + 9 }) + 2) / 5 + day - 1;
    let day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
    era * 146_097 + day_of_era - 719_468
}

fn civil_from_days(days: i64) -> (i64, i64, i64) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let day_of_era = z - era * 146_097;
    let year_of_era =
        (day_of_era - day_of_era / 1_460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let mp = (5 * day_of_year + 2) / 153;
    let day = day_of_year - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = year_of_era + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

#[cfg(test)]
mod tests {
    use super::*;

    const FILE: &str = r#"{"version": 1, "server_version": "15.4",
        "collected_at": "2026-12-04T17:00:00Z",
        "tables": [{"schema": "public", "name": "User", "rows": 1234, "bytes": 567890, "indexes": 3},
                   {"schema": "app", "name": "fresh", "rows": null, "bytes": 8192, "indexes": 0}]}"#;

    #[test]
    fn a_stats_file_round_trips() {
        let stats = Stats::parse(FILE, "stats.json").unwrap();
        assert_eq!(stats.table("public", "User").unwrap().rows, Some(1234));
        assert_eq!(stats.table("app", "fresh").unwrap().rows, None);
        assert!(stats.table("public", "user").is_none());
        assert_eq!(Stats::parse(&stats.to_json(), "x").unwrap(), stats);
        // Written only for a URL whose `?schema=` is not public.
        assert_eq!(stats.default_schema, None);
        assert!(!stats.to_json().contains("default_schema"));
        let app = Stats {
            default_schema: Some("app".into()),
            ..stats
        };
        assert_eq!(Stats::parse(&app.to_json(), "x").unwrap(), app);
    }

    #[test]
    fn the_age_counts_from_collected_at() {
        let stats = Stats::parse(FILE, "stats.json").unwrap();
        let later = UNIX_EPOCH + Duration::from_secs(parse_utc("2026-12-14T17:00:00Z").unwrap());
        assert_eq!(stats.age(later), Duration::from_secs(10 * 86_400));
        assert_eq!(stats.age(UNIX_EPOCH), Duration::ZERO);
    }

    #[test]
    fn utc_times_parse_and_format_both_ways() {
        assert_eq!(parse_utc("1970-01-01T00:00:00Z"), Some(0));
        assert_eq!(parse_utc("2000-03-01T00:00:01.5Z"), Some(951_868_801));
        for secs in [0, 951_868_801, 1_764_867_600, 4_107_542_400] {
            assert_eq!(parse_utc(&format_utc(secs)), Some(secs));
        }
        assert_eq!(parse_utc("2026-12-04 17:00:00"), None);
        assert_eq!(parse_utc("2026-13-04T17:00:00Z"), None);
    }

    #[test]
    fn a_wrong_file_is_one_line_saying_what_to_do() {
        let cases = [
            ("{\"version\": 2, \"tables\": []}", "has format version 2"),
            ("[1, 2", "is not valid JSON (line 1"),
            ("{\"tables\": []}", "has no \"version\": 1"),
            (
                "{\"version\": 1, \"server_version\": \"15\", \"collected_at\": \"x\", \"tables\": []}",
                "collected_at \"x\" is not a UTC time",
            ),
            (
                "{\"version\": 1, \"server_version\": \"15\", \"collected_at\": \"2026-12-04T17:00:00Z\", \"tables\": [{\"schema\": \"public\"}]}",
                "is not in the stats format (missing field `name`)",
            ),
            (
                "{\"version\": 1, \"server_version\": \"15\", \"collected_at\": \"2026-12-04T17:00:00Z\", \"tables\": [\
                 {\"schema\": \"public\", \"name\": \"User\", \"rows\": 1, \"bytes\": 8192, \"indexes\": 0},\
                 {\"schema\": \"app\", \"name\": \"User\", \"rows\": 1, \"bytes\": 8192, \"indexes\": 0},\
                 {\"schema\": \"public\", \"name\": \"User\", \"rows\": 9000000, \"bytes\": 819200000, \"indexes\": 0}]}",
                "lists the table public.\"User\" twice",
            ),
        ];
        for (text, says) in cases {
            let err = Stats::parse(text, "stats.json").unwrap_err();
            assert!(err.message.contains(says), "{}", err.message);
            assert!(
                err.message
                    .ends_with("`migration-gate stats --output stats.json`")
                    || err
                        .message
                        .contains("--output stats.json` (with this version"),
                "{}",
                err.message
            );
            assert!(!err.message.contains('\n'), "{}", err.message);
        }
        let missing = Stats::load(Path::new("/no/such/stats.json")).unwrap_err();
        assert!(
            missing
                .message
                .starts_with("stats file /no/such/stats.json does not exist; write it with"),
            "{}",
            missing.message
        );
    }
}
