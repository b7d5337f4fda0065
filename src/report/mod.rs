//! Render a [`Report`]: human, json, sarif, github, markdown. Reports depend only on
//! [`crate::findings`] (and the rule catalogue, for SARIF rule metadata).

mod github;
mod human;
mod json;
mod markdown;
mod sarif;

use crate::findings::{Report, Summary};

pub use markdown::markdown_within;
/// The pieces the CI reports share with `--format markdown`, so they look and escape the same.
pub use markdown::{
    cell as markdown_cell, code as markdown_code, code_span as markdown_code_span,
    fence_for as markdown_fence, findings_section, html as markdown_html,
};

/// The formats a report renders in; a new one is a variant here, its module, and its arm in
/// [`render`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OutputFormat {
    /// Findings grouped by file, with the SQL to write instead (colour on a terminal).
    Human,
    /// One JSON object: findings, allowed findings, summary.
    Json,
    /// SARIF 2.1.0, for GitHub code scanning.
    Sarif,
    /// GitHub Actions workflow-command annotations.
    Github,
    /// Markdown, as the job summary and the PR comment show it.
    Markdown,
}

/// GitHub rejects comment and check-run summary bodies longer than this many characters.
pub const GITHUB_COMMENT_LIMIT: usize = 65_536;

#[derive(Debug, Clone, Default)]
pub struct RenderOptions {
    /// ANSI colour (human format, on a terminal, NO_COLOR unset).
    pub color: bool,
    /// Link to the CI run, for bodies that must be shortened (markdown over GitHub's limit).
    pub run_url: Option<String>,
}

/// The report in `format`, ready to print (ends with a newline).
pub fn render(report: &Report, format: OutputFormat, options: &RenderOptions) -> String {
    match format {
        OutputFormat::Human => human::render(report, options.color),
        OutputFormat::Json => json::render(report),
        OutputFormat::Sarif => sarif::render(report),
        OutputFormat::Github => github::render(report),
        OutputFormat::Markdown => markdown::render(report),
    }
}

/// `2 errors, 1 warning in 3 files (40 statements, 1 not understood)`: the same words in every
/// format, so a reader recognises it in the log, the job summary and the PR comment.
pub(crate) fn summary_line(summary: &Summary) -> String {
    format!(
        "{}, {} in {} ({}, {} not understood)",
        plural(summary.errors, "error", "errors"),
        plural(summary.warnings, "warning", "warnings"),
        plural(summary.files, "file", "files"),
        plural(summary.statements, "statement", "statements"),
        summary.unparsed,
    )
}

pub(crate) fn plural(count: usize, one: &str, many: &str) -> String {
    if count == 1 {
        format!("{count} {one}")
    } else {
        format!("{count} {many}")
    }
}

#[cfg(test)]
mod tests {
    //! Golden tests: one fixed report with the awkward parts (several rules, an allowed finding,
    //! `%`, `|`, CR/LF, `:` and `,` in file names) rendered in every format and compared with
    //! `fixtures/golden/`. Regenerate with `UPDATE_GOLDEN=1 cargo test --lib report`.

    use std::path::PathBuf;

    use serde_json::Value;

    use super::*;
    use crate::findings::{AllowedFinding, Finding, MigrationReport, Severity};
    use crate::lint::rules::CATALOGUE;

    const ORDERS: &str = "20240301120000_orders";
    const ORDERS_FILE: &str = "prisma/migrations/20240301120000_orders/migration.sql";
    const ODD: &str = "20240302090000_fix: 100%, a|b";
    const ODD_FILE: &str = "prisma/migrations/20240302090000_fix: 100%, a|b/migration.sql";
    const CLEAN: &str = "20240303000000_add_comments";

    fn finding(
        rule: &'static str,
        severity: Severity,
        (migration, file): (&str, &str),
        (line, column, end_line): (u32, u32, u32),
        message: &str,
        help: &str,
        statement: &str,
    ) -> Finding {
        Finding {
            rule,
            severity,
            file: file.to_string(),
            line,
            column,
            end_line,
            message: message.to_string(),
            help: help.to_string(),
            statement: statement.to_string(),
            migration: migration.to_string(),
            table: None,
        }
    }

    fn sample_report() -> Report {
        let orders = (ORDERS, ORDERS_FILE);
        let odd = (ODD, ODD_FILE);
        Report {
            findings: vec![
                finding(
                    "drop-column",
                    Severity::Error,
                    orders,
                    (12, 1, 12),
                    "Dropping column \"email\" of table \"User\" deletes its data, and the running app still reads it.",
                    "Deploy the app without \"User\".\"email\" first, then drop the column in a later migration.",
                    "ALTER TABLE \"User\" DROP COLUMN \"email\";",
                ),
                finding(
                    "create-index-blocking",
                    Severity::Error,
                    orders,
                    (15, 1, 15),
                    "CREATE INDEX without CONCURRENTLY takes a SHARE lock on \"Order\": writes wait for the whole build.",
                    "CREATE INDEX CONCURRENTLY \"Order_userId_idx\" ON \"Order\"(\"userId\");\n-- in its own migration: CONCURRENTLY cannot run in a transaction",
                    "CREATE INDEX \"Order_userId_idx\" ON \"Order\"(\"userId\");",
                ),
                finding(
                    "alter-column-type",
                    Severity::Error,
                    orders,
                    (18, 3, 26),
                    "Changing \"Order\".\"status\" to \"OrderStatus_new\" rewrites the table under ACCESS EXCLUSIVE.",
                    "Add a new column, backfill it in batches, switch the app | then drop the old one.",
                    "ALTER TABLE \"Order\" ALTER COLUMN \"status\" TYPE \"OrderStatus_new\"\n  USING (\"status\"::text::\"OrderStatus_new\");\nALTER TABLE \"Order\"\n  ALTER COLUMN \"status\" SET DEFAULT 'PENDING';\n-- 1\n-- 2\n-- 3\n-- 4",
                ),
                finding(
                    "unbatched-data-change",
                    Severity::Warning,
                    odd,
                    (3, 1, 4),
                    "UPDATE of every row matching 100% of \"Order\"\r\nholds row locks until the migration commits.",
                    "Backfill in batches of 1,000 rows: UPDATE ... WHERE id IN (SELECT id ... LIMIT 1000).",
                    "UPDATE \"Order\" SET \"note\" = '50% | off'\r\nWHERE \"note\" IS NULL;",
                ),
                finding(
                    "unparsed-statement",
                    Severity::Warning,
                    odd,
                    (7, 5, 9),
                    "migration-gate could not understand this statement: review it by hand.",
                    "Check what it locks and rewrites; allow it with a reason once reviewed.",
                    "CREATE PUBLICATION \"orders\" FOR TABLE \"Order\";",
                ),
            ],
            allowed: vec![AllowedFinding {
                rule: "drop-table",
                file: ODD_FILE.to_string(),
                line: 11,
                allow_line: 10,
                reason: "legacy table, empty since 2023 | ticket OPS-12: confirmed".to_string(),
                migration: ODD.to_string(),
                message: "Dropping table \"LegacyCart\" deletes its data.".to_string(),
            }],
            summary: Summary {
                files: 3,
                statements: 14,
                unparsed: 1,
                errors: 3,
                warnings: 2,
            },
            migrations: vec![
                MigrationReport {
                    name: ORDERS.to_string(),
                    file: ORDERS_FILE.to_string(),
                    statements: 8,
                    sql: String::new(),
                },
                MigrationReport {
                    name: ODD.to_string(),
                    file: ODD_FILE.to_string(),
                    statements: 4,
                    sql: String::new(),
                },
                MigrationReport {
                    name: CLEAN.to_string(),
                    file: format!("prisma/migrations/{CLEAN}/migration.sql"),
                    statements: 2,
                    sql: String::new(),
                },
            ],
            notes: vec![
                "The table statistics are 9 days old (collected 2026-11-25): sizes may have grown."
                    .to_string(),
            ],
        }
    }

    fn clean_report() -> Report {
        Report {
            summary: Summary {
                files: 2,
                statements: 9,
                ..Summary::default()
            },
            ..Report::default()
        }
    }

    /// Compare with `fixtures/golden/<name>`, or write it when `UPDATE_GOLDEN` is set.
    fn assert_golden(name: &str, actual: &str) {
        let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
            .join("fixtures/golden")
            .join(name);
        if std::env::var_os("UPDATE_GOLDEN").is_some() {
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(&path, actual).unwrap();
            return;
        }
        let expected = std::fs::read_to_string(&path).unwrap_or_else(|error| {
            panic!(
                "{}: {error}; run UPDATE_GOLDEN=1 cargo test --lib report",
                path.display()
            )
        });
        assert!(
            expected == actual,
            "{name} differs from {}; if the change is intended, run UPDATE_GOLDEN=1 cargo test --lib report\n--- expected\n{expected}\n--- actual\n{actual}",
            path.display()
        );
    }

    fn render_sample(format: OutputFormat, color: bool) -> String {
        let options = RenderOptions {
            color,
            run_url: None,
        };
        render(&sample_report(), format, &options)
    }

    #[test]
    fn human_matches_golden() {
        assert_golden(
            "report.human.txt",
            &render_sample(OutputFormat::Human, false),
        );
    }

    #[test]
    fn human_colour_matches_golden() {
        let coloured = render_sample(OutputFormat::Human, true);
        assert!(coloured.contains("\x1b[1;31merror\x1b[0m"));
        assert_golden("report.human-color.txt", &coloured);
    }

    #[test]
    fn human_without_colour_has_no_escape_sequences() {
        let plain = render_sample(OutputFormat::Human, false);
        assert!(!plain.contains('\x1b'));
        assert!(!plain.contains('\r'));
        assert!(plain.contains(
            "error[drop-column] prisma/migrations/20240301120000_orders/migration.sql:12:1"
        ));
        assert!(plain.ends_with(
            "Blocked: 3 errors, 2 warnings in 3 files (14 statements, 1 not understood)\n"
        ));
    }

    #[test]
    fn human_clean_run_says_so() {
        let out = render(
            &clean_report(),
            OutputFormat::Human,
            &RenderOptions::default(),
        );
        assert_eq!(
            out,
            "No dangerous statements found: 0 errors, 0 warnings in 2 files (9 statements, 0 not understood)\n"
        );
        assert_golden("clean.human.txt", &out);
    }

    #[test]
    fn json_matches_golden() {
        assert_golden("report.json", &render_sample(OutputFormat::Json, false));
    }

    #[test]
    fn json_has_exactly_the_documented_shape() {
        let value: Value = serde_json::from_str(&render_sample(OutputFormat::Json, false)).unwrap();
        let keys =
            |value: &Value| -> Vec<String> { value.as_object().unwrap().keys().cloned().collect() };
        let mut top = keys(&value);
        top.sort();
        assert_eq!(top, ["allowed", "findings", "notes", "summary"]);
        for finding in value["findings"].as_array().unwrap() {
            let mut fields = keys(finding);
            fields.sort();
            assert_eq!(
                fields,
                [
                    "column",
                    "end_line",
                    "file",
                    "help",
                    "line",
                    "message",
                    "rule",
                    "severity",
                    "statement"
                ]
            );
        }
        assert_eq!(value["findings"][3]["severity"], "warning");
        assert_eq!(value["findings"][3]["file"], ODD_FILE);
        let mut allowed = keys(&value["allowed"][0]);
        allowed.sort();
        assert_eq!(allowed, ["allow_line", "file", "line", "reason", "rule"]);
        let mut summary = keys(&value["summary"]);
        summary.sort();
        assert_eq!(
            summary,
            ["errors", "files", "statements", "unparsed", "warnings"]
        );
        assert_eq!(value["summary"]["errors"], 3);
    }

    #[test]
    fn sarif_matches_golden() {
        let sarif =
            render_sample(OutputFormat::Sarif, false).replace(env!("CARGO_PKG_VERSION"), "VERSION");
        assert_golden("report.sarif", &sarif);
    }

    #[test]
    fn sarif_is_structurally_valid_2_1_0() {
        let report = sample_report();
        let value: Value =
            serde_json::from_str(&render_sample(OutputFormat::Sarif, false)).unwrap();
        assert_eq!(value["version"], "2.1.0");
        assert!(value["$schema"].as_str().unwrap().contains("sarif-2.1.0"));
        let run = &value["runs"][0];
        let driver = &run["tool"]["driver"];
        assert_eq!(driver["name"], "migration-gate");
        assert_eq!(driver["version"], env!("CARGO_PKG_VERSION"));
        assert!(driver["informationUri"]
            .as_str()
            .unwrap()
            .starts_with("https://"));
        let rules = driver["rules"].as_array().unwrap();
        assert_eq!(rules.len(), CATALOGUE.len());
        for (rule, info) in rules.iter().zip(CATALOGUE) {
            assert_eq!(rule["id"], info.id);
            assert_eq!(rule["shortDescription"]["text"], info.summary);
            assert!(!rule["fullDescription"]["text"].as_str().unwrap().is_empty());
            assert!(rule["help"]["text"].as_str().unwrap().contains(info.id));
            assert_eq!(
                rule["defaultConfiguration"]["level"],
                info.default_severity.as_str()
            );
        }

        let results = run["results"].as_array().unwrap();
        assert_eq!(results.len(), report.findings.len() + report.allowed.len());
        for result in results {
            let rule_id = result["ruleId"].as_str().unwrap();
            let index = result["ruleIndex"].as_u64().unwrap() as usize;
            assert_eq!(rules[index]["id"], rule_id);
            assert!(["error", "warning"].contains(&result["level"].as_str().unwrap()));
            assert!(!result["message"]["text"].as_str().unwrap().is_empty());
            let location = &result["locations"][0]["physicalLocation"];
            let uri = location["artifactLocation"]["uri"].as_str().unwrap();
            assert!(uri.starts_with("prisma/migrations/"), "{uri}");
            assert!(!uri.contains(['\\', ' ', ':', '|', ',']), "{uri}");
            let region = &location["region"];
            assert!(region["startLine"].as_u64().unwrap() >= 1);
            if let Some(column) = region.get("startColumn") {
                assert!(column.as_u64().unwrap() >= 1);
                assert!(region["endLine"].as_u64() >= region["startLine"].as_u64());
            }
            let fingerprint = result["partialFingerprints"]
                .as_object()
                .unwrap()
                .values()
                .next()
                .unwrap();
            assert!(!fingerprint.as_str().unwrap().is_empty());
        }

        let first = &results[0];
        assert_eq!(first["ruleId"], "drop-column");
        assert_eq!(
            first["locations"][0]["physicalLocation"]["region"]["startLine"],
            12
        );
        assert_eq!(
            first["locations"][0]["physicalLocation"]["region"]["startColumn"],
            1
        );
        assert!(first["message"]["text"]
            .as_str()
            .unwrap()
            .contains("Deploy the app without"));
        assert_eq!(
            results[3]["locations"][0]["physicalLocation"]["artifactLocation"]["uri"],
            "prisma/migrations/20240302090000_fix%3A%20100%25%2C%20a%7Cb/migration.sql"
        );
        let allowed = results.last().unwrap();
        assert_eq!(allowed["ruleId"], "drop-table");
        assert_eq!(allowed["suppressions"][0]["kind"], "inSource");
        assert_eq!(
            allowed["suppressions"][0]["justification"],
            "legacy table, empty since 2023 | ticket OPS-12: confirmed"
        );
        assert!(results[..results.len() - 1]
            .iter()
            .all(|result| result.get("suppressions").is_none()));
    }

    #[test]
    fn every_format_shows_the_notes() {
        let note = &sample_report().notes[0];
        for format in [
            OutputFormat::Human,
            OutputFormat::Json,
            OutputFormat::Sarif,
            OutputFormat::Github,
            OutputFormat::Markdown,
        ] {
            let out = render_sample(format, false);
            assert!(out.contains(note.as_str()), "{format:?}: {out}");
        }
        let sarif: Value =
            serde_json::from_str(&render_sample(OutputFormat::Sarif, false)).unwrap();
        let notification = &sarif["runs"][0]["invocations"][0]["toolExecutionNotifications"][0];
        assert_eq!(notification["level"], "note");
        assert_eq!(notification["message"]["text"], note.as_str());
        let clean = render(
            &clean_report(),
            OutputFormat::Sarif,
            &RenderOptions::default(),
        );
        assert!(!clean.contains("invocations"), "{clean}");
    }

    #[test]
    fn sarif_fingerprints_survive_moved_lines() {
        let fingerprints = |report: &Report| -> Vec<Value> {
            let out = render(report, OutputFormat::Sarif, &RenderOptions::default());
            let value: Value = serde_json::from_str(&out).unwrap();
            value["runs"][0]["results"]
                .as_array()
                .unwrap()
                .iter()
                .map(|result| result["partialFingerprints"].clone())
                .collect()
        };
        let report = sample_report();
        let mut moved = report.clone();
        for finding in &mut moved.findings {
            finding.line += 40;
            finding.end_line += 40;
        }
        moved.allowed[0].line += 40;
        assert_eq!(fingerprints(&report), fingerprints(&moved));
        let mut edited = report.clone();
        edited.findings[0].statement = "ALTER TABLE \"User\" DROP COLUMN \"name\";".to_string();
        assert_ne!(fingerprints(&report)[0], fingerprints(&edited)[0]);
    }

    #[test]
    fn github_matches_golden() {
        assert_golden(
            "report.github.txt",
            &render_sample(OutputFormat::Github, false),
        );
    }

    #[test]
    fn github_annotations_escape_data_and_properties() {
        let out = render_sample(OutputFormat::Github, false);
        let lines: Vec<&str> = out.lines().collect();
        assert!(lines[0].starts_with(
            "::error file=prisma/migrations/20240301120000_orders/migration.sql,line=12,endLine=12,col=1,title=migration-gate drop-column::Dropping column"
        ));
        let odd_warning = lines
            .iter()
            .find(|line| line.starts_with("::warning") && line.contains("unbatched"))
            .unwrap();
        assert!(odd_warning.starts_with(
            "::warning file=prisma/migrations/20240302090000_fix%3A 100%25%2C a|b/migration.sql,line=3,endLine=4,col=1,"
        ));
        assert!(odd_warning
            .contains("::UPDATE of every row matching 100%25 of \"Order\"%0D%0Aholds row locks"));
        assert!(!out.contains('\r'));
        assert_eq!(out.lines().filter(|l| l.starts_with("::")).count(), 6);
        assert!(out.contains("::notice title=migration-gate::The table statistics are 9 days old"));
    }

    #[test]
    fn github_caps_annotations_at_ten_per_severity_then_one_notice() {
        let mut report = Report {
            notes: Vec::new(),
            ..sample_report()
        };
        let error = report.findings[0].clone();
        let warning = report.findings[3].clone();
        report.findings = (0..14)
            .map(|i| Finding {
                line: i + 1,
                ..error.clone()
            })
            .chain((0..12).map(|i| Finding {
                line: i + 1,
                ..warning.clone()
            }))
            .collect();
        let out = render(&report, OutputFormat::Github, &RenderOptions::default());
        let count = |prefix: &str| out.lines().filter(|l| l.starts_with(prefix)).count();
        assert_eq!(count("::error "), 10);
        assert_eq!(count("::warning "), 10);
        assert_eq!(count("::notice"), 1);
        let notice = out.lines().find(|l| l.starts_with("::notice")).unwrap();
        assert!(
            notice.contains("::6 more findings are not shown"),
            "{notice}"
        );
        assert!(notice.contains("job summary"));
    }

    #[test]
    fn github_clean_run_has_no_annotations() {
        let out = render(
            &clean_report(),
            OutputFormat::Github,
            &RenderOptions::default(),
        );
        assert!(!out.contains("::"));
        assert!(out.contains("0 errors, 0 warnings in 2 files"));
    }

    #[test]
    fn markdown_matches_golden() {
        assert_golden("report.md", &render_sample(OutputFormat::Markdown, false));
    }

    #[test]
    fn markdown_tables_keep_their_columns() {
        let out = render_sample(OutputFormat::Markdown, false);
        assert!(out.starts_with("### ❌ migration-gate: 3 errors block these migrations\n"));
        // Every row of a table has as many unescaped pipes as its header.
        let unescaped_pipes = |line: &str| line.matches('|').count() - line.matches("\\|").count();
        let mut header_pipes = None;
        let mut rows = 0;
        for line in out.lines() {
            if !line.starts_with('|') {
                header_pipes = None;
                continue;
            }
            match header_pipes {
                None => header_pipes = Some(unescaped_pipes(line)),
                Some(expected) => {
                    assert_eq!(unescaped_pipes(line), expected, "{line}");
                    rows += 1;
                }
            }
        }
        // Two separator rows and one per finding, in each of the three tables.
        assert_eq!(rows, 3 + 6);
        assert!(out.contains(
            "**Summary:** 3 errors, 2 warnings in 3 files (14 statements, 1 not understood)"
        ));
        assert!(out.contains(CLEAN));
    }

    #[test]
    fn markdown_clean_run_says_so() {
        let out = render(
            &clean_report(),
            OutputFormat::Markdown,
            &RenderOptions::default(),
        );
        assert!(out.starts_with("### ✅ migration-gate: no dangerous statements in 2 migrations"));
        assert_golden("clean.md", &out);
    }

    #[test]
    fn markdown_within_keeps_the_full_body_when_it_fits() {
        let report = sample_report();
        let full = render(&report, OutputFormat::Markdown, &RenderOptions::default());
        assert_eq!(
            markdown_within(
                &report,
                GITHUB_COMMENT_LIMIT,
                Some("https://example.test/run/1")
            ),
            full
        );
    }

    #[test]
    fn markdown_within_falls_back_to_a_summary_with_the_run_link() {
        let mut report = sample_report();
        let template = report.findings[0].clone();
        report.findings = (0..2_000)
            .map(|i| Finding {
                line: i + 1,
                ..template.clone()
            })
            .collect();
        report.summary.errors = 2_000;
        let full = render(&report, OutputFormat::Markdown, &RenderOptions::default());
        assert!(full.chars().count() > GITHUB_COMMENT_LIMIT);
        let run_url = "https://github.com/acme/shop/actions/runs/42";
        let body = markdown_within(&report, GITHUB_COMMENT_LIMIT, Some(run_url));
        assert!(body.chars().count() <= GITHUB_COMMENT_LIMIT);
        assert!(body.starts_with("### ❌ migration-gate: 2000 errors block these migrations"));
        assert!(body.contains(&format!("[job summary of the run]({run_url})")));
        assert!(body.contains("| `drop-column` | 2000 | 0 | 0 |"));
        assert!(body.contains("| `drop-table` | 0 | 0 | 1 |"));
        assert!(body.contains("**Summary:** 2000 errors"));
        assert_golden(
            "long.within-2000.md",
            &markdown_within(&report, 2_000, Some(run_url)),
        );
        let tiny = markdown_within(&report, 200, None);
        assert!(tiny.chars().count() <= 200);
    }
}
