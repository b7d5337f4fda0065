//! Table sizes (`check --stats`): a finding that makes traffic wait ([`Impact::Blocks`]: a lock
//! held while rows are scanned, rewritten, indexed or changed) costs what the table's size
//! makes it cost. On a small table it is a warning that says the size; on a bigger one it stays
//! what it was and says the size and an order-of-magnitude duration. Findings of any other
//! impact (data loss, a broken app, a failing migration) keep their severity whatever the size,
//! and so does a finding on a table the statistics do not know. Tables created in the pending
//! set carry no target (they are empty), as without statistics.

use std::time::{Duration, SystemTime};

use crate::findings::{Report, Severity, TableTarget, TableWork};
use crate::lint::rules::{self, Impact};
use crate::lint::schema::Schema;
use crate::project::config::{Config, RuleSetting};
use crate::project::stats::{Stats, TableStats};
use crate::sql::ident::quote_if_needed;
use crate::sql::{ConstraintKind, Op, ReindexTarget};

// Throughputs measured with `bench/calibrate-sizes.sh` (1,000,000 rows, 94.5 MB with its primary
// key) on the 2-core machine this project is built on, PostgreSQL 15.20, on 2026-12-04, while
// other builds ran (two runs differed by up to 2x; the faster one is taken). The sizes are
// `pg_total_relation_size`, as `stats` records them. Production servers are often faster and
// busier: the figures give an order of magnitude, not a promise.
/// Validating a CHECK / foreign key or SET NOT NULL reads the table at this rate (0.16 s).
const SCAN_MB_PER_SEC: f64 = 600.0;
/// CREATE INDEX on a text column (1.32 s).
const INDEX_BUILD_MB_PER_SEC: f64 = 70.0;
/// ALTER COLUMN TYPE writes a new heap and rebuilds the indexes (3.73 s).
const REWRITE_MB_PER_SEC: f64 = 25.0;
/// A whole-table UPDATE changes this many rows per second (11.57 s for 1,000,000 rows).
const ROWS_CHANGED_PER_SEC: f64 = 85_000.0;

/// The smallest space a row takes on a page (a 24-byte header and a 4-byte line pointer): a
/// table of `bytes` holds at most `bytes / 28` rows, which bounds a never-analysed table.
const MIN_ROW_BYTES: u64 = 28;

/// Where a table is small, from the config (`small_table_rows`, `small_table_bytes`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SmallTable {
    pub rows: u64,
    pub bytes: u64,
}

impl SmallTable {
    pub fn from_config(config: &Config) -> SmallTable {
        SmallTable {
            rows: config.small_table_rows,
            bytes: config.small_table_bytes,
        }
    }
}

/// The existing table `op` works on, and how: what a finding on it records for [`apply`].
/// `None` for an op on no single table, or on a table created in the pending set (empty).
pub fn target(op: &Op, schema: &Schema) -> Option<TableTarget> {
    let (table, work) = match op {
        // Deleting from a table others reference checks (or cascades into) each of them, row
        // by row, and a new type for a referenced column validates their keys again: its own
        // size says nothing of that.
        Op::Delete { table, .. } if schema.is_referenced_by_existing_table(table, None) => {
            return None
        }
        Op::AlterColumnType { table, column, .. }
            if schema.is_referenced_by_existing_table(table, Some(column)) =>
        {
            return None
        }
        Op::CreateIndex { table, .. } => (table.clone(), TableWork::IndexBuild),
        Op::DropIndex { name, .. } => (schema.index(name)?.table.clone(), TableWork::Lock),
        Op::AlterColumnType { table, .. } | Op::AddColumn { table, .. } => {
            (table.clone(), TableWork::Rewrite)
        }
        Op::SetNotNull { table, .. } | Op::ValidateConstraint { table, .. } => {
            (table.clone(), TableWork::Scan)
        }
        Op::AddConstraint { table, constraint } => match constraint.kind {
            ConstraintKind::PrimaryKey { .. }
            | ConstraintKind::Unique { .. }
            | ConstraintKind::Exclude => (table.clone(), TableWork::IndexBuild),
            ConstraintKind::ForeignKey { .. } | ConstraintKind::Check { .. } => {
                (table.clone(), TableWork::Scan)
            }
        },
        Op::Update { table, has_where } | Op::Delete { table, has_where } => {
            let work = if *has_where {
                TableWork::SomeRowsChange
            } else {
                TableWork::RowChange
            };
            (table.clone(), work)
        }
        Op::RewriteTable {
            table: Some(table), ..
        } => (table.clone(), TableWork::Rewrite),
        Op::Reindex {
            target: Some(ReindexTarget::Table(table)),
            ..
        } => (table.clone(), TableWork::IndexBuild),
        Op::Reindex {
            target: Some(ReindexTarget::Index(index)),
            ..
        } => (schema.index(index)?.table.clone(), TableWork::IndexBuild),
        Op::CreateTrigger { table, .. } => (table.clone(), TableWork::Lock),
        // LOCK TABLE holds its lock to the end of the transaction, however small the table: its
        // cost is what else the transaction does, not the size. REFRESH MATERIALIZED VIEW holds
        // its lock while the view's query runs: a 1-row view of totals may read a huge table.
        _ => return None,
    };
    if schema.is_new_table(&table) {
        return None;
    }
    // Renamed earlier in the pending set: production's statistics know it by its old name.
    let resolved = schema
        .table(&table)
        .and_then(|t| t.production_name.clone())
        .unwrap_or_else(|| schema.resolve(&table));
    Some(TableTarget {
        schema: resolved.schema.unwrap_or_else(|| "public".to_string()),
        name: resolved.name,
        work,
    })
}

/// What `check` and the Action do with statistics: [`apply`] them with the config's thresholds
/// and, for statistics read from a file (not live), note them when they are stale.
pub fn judge_report(report: &mut Report, stats: &Stats, config: &Config, read_live: bool) {
    apply(report, stats, config);
    if !read_live {
        let note = staleness_note(stats, config.stats_max_age_days, SystemTime::now());
        report.notes.extend(note);
    }
}

/// Judge the report's blocking findings by the size of their table, with the config's
/// thresholds. A rule the config's `[rules]` sets to "error" is the team's choice to block it
/// whatever the size: its findings stay errors, and say the size all the same.
pub fn apply(report: &mut Report, stats: &Stats, config: &Config) {
    let small = SmallTable::from_config(config);
    for finding in &mut report.findings {
        let blocks = rules::find(finding.rule).is_some_and(|rule| rule.impact == Impact::Blocks);
        let Some(target) = finding.table.as_ref().filter(|_| blocks) else {
            continue;
        };
        // The model puts unqualified names in public; production put them in the URL's schema.
        let schema = match &stats.default_schema {
            Some(default) if target.schema == "public" => default,
            _ => &target.schema,
        };
        let Some(table) = stats.table(schema, &target.name) else {
            continue;
        };
        let looked_up = TableTarget {
            schema: schema.clone(),
            ..target.clone()
        };
        let (is_small, mut sentence) = verdict(&looked_up, table, small);
        let pinned = config.rules.get(finding.rule) == Some(&RuleSetting::Error);
        if is_small && pinned {
            sentence = format!(
                "{}, but [rules] sets {} = \"error\", so it stays an error.",
                sentence.trim_end_matches(", so this is a warning."),
                finding.rule
            );
        } else if is_small {
            finding.severity = finding.severity.min(Severity::Warning);
        }
        finding.message = format!("{} {sentence}", finding.message.trim_end());
    }
    report.recount();
}

/// The note for statistics older than `max_age_days`, saying their age.
pub fn staleness_note(stats: &Stats, max_age_days: u64, now: SystemTime) -> Option<String> {
    let age = stats.age(now);
    if age <= Duration::from_secs(max_age_days.saturating_mul(86_400)) {
        return None;
    }
    let days = age.as_secs() / 86_400;
    Some(format!(
        "The table sizes are {days} days old (collected at {}; stats_max_age_days = \
         {max_age_days}): tables may have grown since, so findings softened to warnings on small \
         tables may be wrong. Collect them again with `migration-gate stats --output FILE`.",
        stats.collected_at
    ))
}

/// Whether the table is small, and the sentence that says its size and what the work costs.
fn verdict(target: &TableTarget, table: &TableStats, small: SmallTable) -> (bool, String) {
    // Quoted as the messages write tables: public."User".
    let name = format!(
        "{}.{}",
        quote_if_needed(&target.schema),
        quote_if_needed(&target.name)
    );
    // A never-analysed table the role could not count: its bytes bound its rows.
    let (rows, rows_text) = match table.rows {
        Some(rows) => (rows, format!("about {}", thousands(rows))),
        None => {
            let bound = table.bytes / MIN_ROW_BYTES;
            (bound, format!("at most {}", thousands(bound)))
        }
    };
    let unit = if rows == 1 { "row" } else { "rows" };
    let size = format!(
        "{name} holds {rows_text} {unit} ({})",
        bytes_text(table.bytes)
    );
    let is_small = rows < small.rows && table.bytes < small.bytes;
    if is_small {
        // What the size bounds is the work, not the lock: that is held to the end of the
        // transaction, after whatever else the migration does (`slow-under-lock` judges that).
        let lasts = match target.work {
            TableWork::Lock => "the statement takes milliseconds",
            TableWork::Scan => "the scan takes milliseconds",
            TableWork::IndexBuild => "building the index takes milliseconds",
            TableWork::Rewrite => "rewriting the table takes milliseconds",
            TableWork::RowChange | TableWork::SomeRowsChange => "changing them takes milliseconds",
        };
        return (
            true,
            format!("Table sizes: {size}: {lasts}, so this is a warning."),
        );
    }
    let mb = table.bytes as f64 / (1024.0 * 1024.0);
    let (what, seconds) = match target.work {
        TableWork::Lock => {
            return (
                false,
                format!(
                    "Table sizes: {size}: the lock itself is short, but it waits for every \
                     running query on the table and everything after it waits too."
                ),
            )
        }
        TableWork::Scan => ("the scan under the lock", mb / SCAN_MB_PER_SEC),
        TableWork::IndexBuild => ("building the index", mb / INDEX_BUILD_MB_PER_SEC),
        TableWork::Rewrite => ("rewriting the table", mb / REWRITE_MB_PER_SEC),
        TableWork::RowChange => ("changing every row", rows as f64 / ROWS_CHANGED_PER_SEC),
        TableWork::SomeRowsChange => (
            "changing the rows, if the WHERE matches them all,",
            rows as f64 / ROWS_CHANGED_PER_SEC,
        ),
    };
    (
        false,
        format!(
            "Table sizes: {size}: {what} takes {} at the rates bench/calibrate-sizes.sh \
             measured (an order of magnitude; a busy server is slower).",
            magnitude(seconds)
        ),
    )
}

/// An order of magnitude: "under a second", "about 3 seconds", "about 40 minutes".
fn magnitude(seconds: f64) -> String {
    let one_figure = |value: f64| {
        let power = 10f64.powf(value.log10().floor());
        let rounded = (value / power).round() * power;
        thousands(rounded as u64)
    };
    let plural = |n: String, unit: &str| {
        if n == "1" {
            format!("about 1 {unit}")
        } else {
            format!("about {n} {unit}s")
        }
    };
    if seconds < 1.0 {
        "under a second".to_string()
    } else if seconds < 90.0 {
        plural(one_figure(seconds), "second")
    } else if seconds < 90.0 * 60.0 {
        plural(one_figure(seconds / 60.0), "minute")
    } else {
        plural(one_figure(seconds / 3600.0), "hour")
    }
}

/// 300000 → "300,000".
fn thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// 567890 → "555 kB", 25000000 → "24 MB".
fn bytes_text(bytes: u64) -> String {
    const KB: u64 = 1024;
    match bytes {
        b if b < KB * KB => format!("{} kB", b.div_ceil(KB)),
        b if b < KB * KB * KB => format!("{} MB", (b as f64 / (KB * KB) as f64).round()),
        b => format!("{:.1} GB", b as f64 / (KB * KB * KB) as f64),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::findings::Finding;
    use crate::lint::engine::{analyze, AnalysisInput};
    use crate::project::discover::Migration;
    use crate::project::stats::STATS_VERSION;
    use std::time::UNIX_EPOCH;

    const HISTORY: &str = "CREATE TABLE big (id int8 PRIMARY KEY, email text, n int4);\n\
                           CREATE TABLE tiny (id int8 PRIMARY KEY, email text, n int4);\n\
                           CREATE INDEX big_n_idx ON big (n);\n";

    fn stats() -> Stats {
        let table = |name: &str, rows, bytes| TableStats {
            schema: "public".into(),
            name: name.into(),
            rows,
            bytes,
            indexes: 1,
        };
        Stats {
            version: STATS_VERSION,
            server_version: "15.4".into(),
            collected_at: "2026-12-01T00:00:00Z".into(),
            default_schema: None,
            tables: vec![
                table("big", Some(300_000), 30 * 1024 * 1024),
                table("tiny", Some(10), 16 * 1024),
                table("unanalysed", None, 8 * 1024),
            ],
        }
    }

    /// The findings on `pending`, judged with [`stats`].
    fn judged(pending: &str) -> Vec<Finding> {
        judged_with(pending, &Config::default())
    }

    fn judged_with(pending: &str, config: &Config) -> Vec<Finding> {
        let history = Migration::in_memory("1_history", HISTORY);
        let pending = Migration::in_memory("2_pending", pending);
        let mut report = analyze(AnalysisInput {
            existing: &[&history],
            pending: &[&pending],
            config,
            extra_findings: Vec::new(),
        });
        apply(&mut report, &stats(), config);
        report.findings
    }

    #[test]
    fn a_rule_the_config_sets_to_error_stays_an_error_on_a_small_table() {
        let mut config = Config::default();
        for (rule, setting) in [
            ("create-index-blocking", RuleSetting::Error),
            ("unbatched-data-change", RuleSetting::Error),
            ("set-not-null", RuleSetting::Warning),
        ] {
            config.rules.insert(rule.to_string(), setting);
        }
        let findings = judged_with(
            "CREATE INDEX tiny_email_idx ON tiny (email);\n\
             UPDATE tiny SET n = 1 WHERE id < 5;\n\
             ALTER TABLE tiny ALTER COLUMN n SET NOT NULL;\n",
            &config,
        );
        let verdict = |rule: &str| {
            let f = findings.iter().find(|f| f.rule == rule).unwrap();
            (f.severity, f.message.clone())
        };
        let (severity, message) = verdict("create-index-blocking");
        assert_eq!(severity, Severity::Error);
        assert!(
            message.ends_with(
                "Table sizes: public.tiny holds about 10 rows (16 kB): building the index takes \
                 milliseconds, but [rules] sets create-index-blocking = \"error\", so it stays \
                 an error."
            ),
            "{message}"
        );
        // Targeted: a warning by default, an error because the config says so.
        assert_eq!(verdict("unbatched-data-change").0, Severity::Error);
        let (severity, message) = verdict("set-not-null");
        assert_eq!(severity, Severity::Warning);
        assert!(message.ends_with("so this is a warning."), "{message}");
        // Without the override the same index build is softened.
        assert_eq!(
            only("CREATE INDEX tiny_email_idx ON tiny (email);").severity,
            Severity::Warning
        );
    }

    #[test]
    fn a_quick_step_on_a_small_table_does_not_hide_a_slow_one_after_it() {
        // The SHARE lock on tiny is held while big is changed: whatever tiny's size, the
        // migration blocks.
        let findings =
            judged("CREATE INDEX tiny_email_idx ON tiny (email);\nUPDATE big SET n = 1;");
        let index = findings
            .iter()
            .find(|f| f.rule == "create-index-blocking")
            .unwrap();
        assert_eq!(index.severity, Severity::Warning);
        assert!(!index.message.contains("lock lasts"), "{}", index.message);
        assert!(
            findings
                .iter()
                .any(|f| f.rule == "slow-under-lock" && f.severity == Severity::Error),
            "{findings:#?}"
        );
    }

    fn only(pending: &str) -> Finding {
        let mut findings = judged(pending);
        assert_eq!(findings.len(), 1, "{findings:#?}");
        findings.remove(0)
    }

    #[test]
    fn an_index_build_on_a_small_table_is_a_warning_that_says_the_size() {
        let finding = only("CREATE INDEX tiny_email_idx ON tiny (email);");
        assert_eq!(finding.rule, "create-index-blocking");
        assert_eq!(finding.severity, Severity::Warning);
        assert!(
            finding.message.ends_with(
                "Table sizes: public.tiny holds about 10 rows (16 kB): building the index \
                 takes milliseconds, so this is a warning."
            ),
            "{}",
            finding.message
        );
    }

    #[test]
    fn an_index_build_on_a_big_table_stays_an_error_with_size_and_duration() {
        let finding = only("CREATE INDEX big_email_idx ON big (email);");
        assert_eq!(finding.severity, Severity::Error);
        assert!(
            finding.message.contains(
                "Table sizes: public.big holds about 300,000 rows (30 MB): building the index \
                 takes under a second at the rates"
            ),
            "{}",
            finding.message
        );
    }

    #[test]
    fn whole_table_updates_follow_the_size_and_targeted_ones_stay_warnings() {
        let big = only("UPDATE big SET n = 1;");
        assert_eq!(big.severity, Severity::Error);
        assert!(
            big.message
                .contains("changing every row takes about 4 seconds at the rates"),
            "{}",
            big.message
        );
        assert_eq!(only("UPDATE tiny SET n = 1;").severity, Severity::Warning);
        let targeted = only("UPDATE big SET n = 1 WHERE id < 10;");
        assert_eq!(targeted.severity, Severity::Warning);
        // It changes the matching rows, not every row: the duration is a bound.
        assert!(
            targeted.message.contains(
                "300,000 rows (30 MB): changing the rows, if the WHERE matches them all, takes \
                 about 4 seconds"
            ),
            "{}",
            targeted.message
        );
    }

    #[test]
    fn data_loss_and_app_breaking_findings_keep_their_severity_on_a_small_table() {
        for sql in [
            "DROP TABLE tiny;",
            "ALTER TABLE tiny DROP COLUMN email;",
            "ALTER TABLE tiny RENAME COLUMN email TO mail;",
            "ALTER TABLE tiny ADD COLUMN owner int4 NOT NULL;",
        ] {
            let finding = only(sql);
            assert_eq!(finding.severity, Severity::Error, "{sql}");
            assert!(!finding.message.contains("Table sizes"), "{sql}");
        }
    }

    #[test]
    fn a_table_the_stats_do_not_know_is_judged_as_without_stats() {
        let history = "CREATE TABLE other (id int8, email text);\n";
        let migration = Migration::in_memory("1_history", history);
        let pending = Migration::in_memory("2_pending", "CREATE INDEX o ON other (email);");
        let mut report = analyze(AnalysisInput {
            existing: &[&migration],
            pending: &[&pending],
            config: &Config::default(),
            extra_findings: Vec::new(),
        });
        let before = report.findings.clone();
        apply(&mut report, &stats(), &Config::default());
        assert_eq!(report.findings, before);
        assert_eq!(report.findings[0].severity, Severity::Error);
    }

    #[test]
    fn a_refresh_is_not_judged_by_the_size_of_the_view() {
        let history = Migration::in_memory(
            "1_history",
            &format!("{HISTORY}CREATE MATERIALIZED VIEW totals AS SELECT count(*) FROM big;\n"),
        );
        let pending = Migration::in_memory("2_pending", "REFRESH MATERIALIZED VIEW totals;");
        let mut report = analyze(AnalysisInput {
            existing: &[&history],
            pending: &[&pending],
            config: &Config::default(),
            extra_findings: Vec::new(),
        });
        let mut stats = stats();
        stats.tables.push(TableStats {
            schema: "public".into(),
            name: "totals".into(),
            rows: Some(1),
            bytes: 8192,
            indexes: 0,
        });
        apply(&mut report, &stats, &Config::default());
        let finding = &report.findings[0];
        assert_eq!(finding.rule, "refresh-materialized-view-blocking");
        assert_eq!(finding.severity, Severity::Error);
        assert!(
            !finding.message.contains("Table sizes"),
            "{}",
            finding.message
        );
    }

    #[test]
    fn a_delete_from_a_referenced_table_is_not_judged_by_its_size() {
        // 100 rows of tiny took 8.7 s to delete when 500,000 rows of a table cascaded from them.
        let history = Migration::in_memory(
            "1_history",
            &format!(
                "{HISTORY}ALTER TABLE big ADD CONSTRAINT big_n_fk FOREIGN KEY (n) \
                 REFERENCES tiny (id) ON DELETE CASCADE;\n"
            ),
        );
        let pending = Migration::in_memory(
            "2_pending",
            "DELETE FROM tiny;\nCOMMIT;\nUPDATE tiny SET n = 1;\nCOMMIT;\n\
             ALTER TABLE tiny ALTER COLUMN id TYPE int4;\nCOMMIT;\n\
             ALTER TABLE tiny ALTER COLUMN n TYPE int8;",
        );
        let mut report = analyze(AnalysisInput {
            existing: &[&history],
            pending: &[&pending],
            config: &Config::default(),
            extra_findings: Vec::new(),
        });
        apply(&mut report, &stats(), &Config::default());
        let line = |n: u32| report.findings.iter().find(|f| f.line == n).unwrap();
        assert_eq!(line(1).severity, Severity::Error);
        assert!(
            !line(1).message.contains("Table sizes"),
            "{}",
            line(1).message
        );
        // An UPDATE that changes no key fires no foreign-key check: judged by size.
        assert_eq!(line(3).severity, Severity::Warning);
        // A new type for the referenced key validates big's foreign key again (it reads big).
        assert!(
            !line(5).message.contains("Table sizes"),
            "{}",
            line(5).message
        );
        assert_eq!(line(5).severity, Severity::Error);
        // Another column's type: only tiny is rewritten.
        assert!(
            line(7).message.contains("Table sizes: public.tiny"),
            "{}",
            line(7).message
        );
    }

    #[test]
    fn unqualified_tables_are_looked_up_in_the_schema_of_the_stats_url() {
        // Prisma's `?schema=app`: the migrations say tiny, production has app.tiny. Another
        // application's public.tiny is big.
        let history = Migration::in_memory("1_history", HISTORY);
        let pending = Migration::in_memory("2_pending", "CREATE INDEX t ON tiny (email);");
        let mut report = analyze(AnalysisInput {
            existing: &[&history],
            pending: &[&pending],
            config: &Config::default(),
            extra_findings: Vec::new(),
        });
        let mut stats = stats();
        stats.default_schema = Some("app".into());
        stats.tables[1].name = "other".into();
        stats.tables.push(TableStats {
            schema: "app".into(),
            name: "tiny".into(),
            rows: Some(21),
            bytes: 16 * 1024,
            indexes: 1,
        });
        stats.tables.push(TableStats {
            schema: "public".into(),
            name: "tiny".into(),
            rows: Some(3_000_000),
            bytes: 900 * 1024 * 1024,
            indexes: 1,
        });
        apply(&mut report, &stats, &Config::default());
        let finding = &report.findings[0];
        assert_eq!(finding.severity, Severity::Warning);
        assert!(
            finding
                .message
                .contains("Table sizes: app.tiny holds about 21 rows (16 kB)"),
            "{}",
            finding.message
        );
    }

    #[test]
    fn a_table_created_in_the_pending_set_has_no_target() {
        let findings = judged(
            "CREATE TABLE big2 (id int8, n int4);\nCREATE INDEX big2_n ON big2 (n);\n\
             UPDATE big2 SET n = 1;",
        );
        assert!(findings.is_empty(), "{findings:#?}");
        let schema = Schema::new();
        let op = Op::Update {
            table: crate::sql::ObjectName::unqualified("big"),
            has_where: false,
        };
        let target = target(&op, &schema).unwrap();
        assert_eq!(
            (target.schema.as_str(), target.name.as_str()),
            ("public", "big")
        );
    }

    #[test]
    fn a_table_renamed_in_the_pending_set_is_judged_by_its_production_size() {
        // Production's tiny is dropped and big takes its name: the index is built on big.
        let findings = judged(
            "DROP TABLE tiny;\nALTER TABLE big RENAME TO tiny;\n\
             CREATE INDEX tiny_email_idx ON tiny (email);",
        );
        let index = findings
            .iter()
            .find(|f| f.rule == "create-index-blocking")
            .unwrap();
        assert_eq!(index.severity, Severity::Error);
        assert!(
            index
                .message
                .contains("public.big holds about 300,000 rows"),
            "{}",
            index.message
        );
    }

    #[test]
    fn a_drop_index_is_judged_by_the_table_of_the_index() {
        let finding = only("DROP INDEX big_n_idx;");
        assert_eq!(finding.severity, Severity::Error);
        assert!(
            finding
                .message
                .contains("public.big holds about 300,000 rows"),
            "{}",
            finding.message
        );
    }

    #[test]
    fn a_never_analysed_table_is_bounded_by_its_bytes() {
        let target = TableTarget {
            schema: "public".into(),
            name: "unanalysed".into(),
            work: TableWork::IndexBuild,
        };
        let stats = stats();
        let table = stats.table("public", "unanalysed").unwrap();
        let small = SmallTable::from_config(&Config::default());
        let (is_small, sentence) = verdict(&target, table, small);
        assert!(is_small);
        assert!(
            sentence.contains("holds at most 292 rows (8 kB)"),
            "{sentence}"
        );
    }

    #[test]
    fn the_thresholds_come_from_the_config_and_both_must_hold() {
        let target = TableTarget {
            schema: "public".into(),
            name: "tiny".into(),
            work: TableWork::Scan,
        };
        let stats = stats();
        let tiny = stats.table("public", "tiny").unwrap();
        let strict = SmallTable {
            rows: 5,
            bytes: 1 << 30,
        };
        assert!(!verdict(&target, tiny, strict).0);
        let few_bytes = SmallTable {
            rows: 1_000,
            bytes: 1024,
        };
        assert!(!verdict(&target, tiny, few_bytes).0);
    }

    #[test]
    fn stale_statistics_get_a_note_with_their_age() {
        let stats = stats();
        let at = |text| {
            UNIX_EPOCH + Duration::from_secs(crate::project::stats::parse_utc(text).unwrap())
        };
        assert_eq!(staleness_note(&stats, 7, at("2026-12-05T00:00:00Z")), None);
        // A huge limit means never stale, not an overflow.
        assert_eq!(
            staleness_note(&stats, u64::MAX, at("2099-12-05T00:00:00Z")),
            None
        );
        let note = staleness_note(&stats, 7, at("2026-12-13T12:00:00Z")).unwrap();
        assert!(
            note.starts_with(
                "The table sizes are 12 days old (collected at 2026-12-01T00:00:00Z; \
                 stats_max_age_days = 7)"
            ),
            "{note}"
        );
    }

    #[test]
    fn names_that_need_quotes_are_quoted_as_in_sql() {
        let target = TableTarget {
            schema: "public".into(),
            name: "Setting".into(),
            work: TableWork::Lock,
        };
        let table = TableStats {
            schema: "public".into(),
            name: "Setting".into(),
            rows: Some(1),
            bytes: 8192,
            indexes: 1,
        };
        let small = SmallTable::from_config(&Config::default());
        let (_, sentence) = verdict(&target, &table, small);
        assert_eq!(
            sentence,
            "Table sizes: public.\"Setting\" holds about 1 row (8 kB): the statement takes \
             milliseconds, so this is a warning."
        );
    }

    #[test]
    fn durations_are_told_as_orders_of_magnitude() {
        assert_eq!(magnitude(0.2), "under a second");
        assert_eq!(magnitude(1.2), "about 1 second");
        assert_eq!(magnitude(43.0), "about 40 seconds");
        assert_eq!(magnitude(600.0), "about 10 minutes");
        assert_eq!(magnitude(7_000.0), "about 2 hours");
        assert_eq!(thousands(1_234_567), "1,234,567");
        assert_eq!(bytes_text(567_890), "555 kB");
    }
}
