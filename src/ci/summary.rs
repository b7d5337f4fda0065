//! The markdown the gate writes for people: the sticky PR comment, the deploy / rollback job
//! summary, and the manual-review report.

use crate::findings::{Report, Severity};
use crate::migrate::{AppliedMigration, DeployOutcome, RollbackOutcome};
use crate::report::{
    findings_section, markdown_cell as prose, markdown_code as table_code,
    markdown_code_span as code, markdown_fence as fence_for, markdown_html as html,
    GITHUB_COMMENT_LIMIT,
};

use super::github::COMMENT_MARKER;
use super::vercel::HookJob;

/// The sticky comment: the hidden marker, then the report's markdown; over GitHub's limit, the
/// report's short form (verdict, counts per rule, link to the run's job summary).
pub fn pr_comment(report: &Report, run_url: Option<&str>) -> String {
    let head = format!("{COMMENT_MARKER}\n");
    let budget = GITHUB_COMMENT_LIMIT - head.chars().count();
    format!(
        "{head}{}",
        crate::report::markdown_within(report, budget, run_url)
    )
}

/// One line a reviewer reads first.
pub fn verdict(report: &Report) -> String {
    let errors = report.count(Severity::Error);
    let warnings = report.count(Severity::Warning);
    let checked = report.migrations.len().max(report.summary.files);
    if errors == 0 && warnings == 0 {
        format!("✅ No dangerous statement in the {checked} migration(s) checked.")
    } else if errors == 0 {
        format!("⚠️ {warnings} warning(s), no error in {checked} migration(s).")
    } else {
        format!("❌ {errors} error(s) and {warnings} warning(s) in {checked} migration(s).")
    }
}

fn applied_table(title: &str, applied: &[AppliedMigration]) -> String {
    if applied.is_empty() {
        return String::new();
    }
    let mut out = format!("\n{title}\n\n| Migration | Duration |\n|---|---:|\n");
    for migration in applied {
        out.push_str(&format!(
            "| {} | {} |\n",
            table_code(&migration.name),
            format_duration(migration.duration)
        ));
    }
    out
}

fn format_duration(duration: std::time::Duration) -> String {
    let ms = duration.as_millis();
    if ms < 1000 {
        format!("{ms} ms")
    } else {
        format!("{:.1} s", duration.as_secs_f64())
    }
}

/// What happened to the Vercel deploy hook, for the summary.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HookReport {
    Fired(HookJob),
    Failed(String),
    NotConfigured,
    /// Not fired because the deploy failed or needs review.
    Withheld,
}

fn hook_line(hook: &HookReport) -> String {
    match hook {
        HookReport::Fired(job) => format!(
            "Vercel deploy hook: job {} ({}).",
            code(&job.id),
            if job.state.is_empty() {
                "accepted"
            } else {
                &job.state
            }
        ),
        HookReport::Failed(reason) => format!("Vercel deploy hook failed: {}", prose(reason)),
        HookReport::NotConfigured => {
            "No Vercel deploy hook configured (`vercel-hook-url` / `VERCEL_DEPLOY_HOOK_URL`)."
                .into()
        }
        HookReport::Withheld => "The Vercel deploy hook was **not** called.".into(),
    }
}

pub const MANUAL_REVIEW_HOWTO: &str = "To review: run the deploy workflow by hand with `type=manual-review` \
(Actions → the dispatch workflow → Run workflow); it writes the review report (each pending migration, \
its findings and its SQL) to the job summary and changes nothing. Once the approving environment's \
reviewers accept, the approved job deploys with the `allow-destructive: true` input and fires the \
deploy hook. Locally: `migration-gate deploy --dry-run`.";

pub fn deploy(outcome: &DeployOutcome, hook: &HookReport) -> String {
    let mut out = String::new();
    if let Some(failure) = &outcome.failure {
        out.push_str("## migration-gate: deploy failed ❌\n\n");
        out.push_str(&format!("{}\n", prose(failure)));
        out.push_str(&applied_table(
            "Applied before the failure:",
            &outcome.applied,
        ));
        out.push_str(&format!(
            "\n{}\n\nFix the failed migration, then mark it rolled back (`migration-gate resolve --rolled-back <name>`) and deploy again. {MANUAL_REVIEW_HOWTO}\n",
            hook_line(hook)
        ));
    } else if outcome.needs_review {
        out.push_str("## migration-gate: deploy needs review ⏸️\n\n");
        out.push_str(&format!(
            "{} pending migration(s) contain error-level findings that are not allowed: nothing was applied.\n\n",
            outcome.pending.len()
        ));
        for finding in outcome
            .report
            .findings
            .iter()
            .filter(|f| f.severity == Severity::Error)
        {
            out.push_str(&format!(
                "- `{}` {}: {}\n",
                finding.rule,
                code(&format!("{}:{}", finding.file, finding.line)),
                prose(&finding.message)
            ));
        }
        out.push_str(&format!("\n{}\n\n{MANUAL_REVIEW_HOWTO}\n", hook_line(hook)));
    } else if outcome.applied.is_empty() {
        out.push_str(
            "## migration-gate: deploy ✅\n\nNo pending migration: the database is up to date.\n",
        );
        out.push_str(&format!("\n{}\n", hook_line(hook)));
    } else {
        out.push_str("## migration-gate: deploy ✅\n");
        out.push_str(&applied_table(
            &format!("Applied {} migration(s):", outcome.applied.len()),
            &outcome.applied,
        ));
        out.push_str(&format!("\n{}\n", hook_line(hook)));
    }
    out
}

pub fn rollback(target: &str, outcome: &RollbackOutcome, hook: &HookReport) -> String {
    let mut out = match &outcome.failure {
        Some(failure) => format!(
            "## migration-gate: rollback failed ❌\n\n{}\n",
            prose(failure)
        ),
        None => format!("## migration-gate: rolled back to {} ✅\n", code(target)),
    };
    out.push_str(&applied_table(
        "Rolled back (newest first):",
        &outcome.rolled_back,
    ));
    out.push_str(&format!("\n{}\n", hook_line(hook)));
    out
}

/// The manual-review report: every pending migration with its findings, the allowed ones, and
/// its SQL, so the approver sees exactly what will run.
pub fn review(database: &str, pending: &[String], report: &Report) -> String {
    let mut out = format!(
        "## migration-gate: manual review\n\n{} migration(s) pending on {}. Nothing was changed.\n",
        pending.len(),
        code(database)
    );
    if pending.is_empty() {
        out.push_str("\nThe database is up to date: there is nothing to review.\n");
        return out;
    }
    out.push_str(&format!("\n{}\n", verdict(report)));
    for name in pending {
        out.push_str(&format!("\n### {}\n\n", code(name)));
        let findings: Vec<_> = report
            .findings
            .iter()
            .filter(|f| &f.migration == name)
            .collect();
        let allowed: Vec<_> = report
            .allowed
            .iter()
            .filter(|a| &a.migration == name)
            .collect();
        let migration = report.migrations.iter().find(|m| &m.name == name);
        if findings.is_empty() && allowed.is_empty() {
            out.push_str("No finding.\n");
        } else {
            // The same tables as the PR comment, so `<value>` placeholders survive GitHub's
            // markdown here too.
            let file = migration.map_or("", |m| m.file.as_str());
            out.push_str(&findings_section(file, &findings, &allowed));
        }
        if let Some(migration) = migration {
            let fence = fence_for(&migration.sql);
            out.push_str(&format!(
                "\n<details><summary>SQL of <code>{}</code></summary>\n\n{fence}sql\n{}\n{fence}\n\n</details>\n",
                html(&migration.file),
                migration.sql.trim_end()
            ));
        }
    }
    out.push_str(
        "\nTo apply: approve the deployment; the approved job deploys with the `allow-destructive: true` input and fires the deploy hook.\n",
    );
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ci::annotations::tests::finding;
    use crate::findings::{AllowedFinding, MigrationReport};
    use std::time::Duration;

    #[test]
    fn clean_pr_comment_says_so() {
        let body = pr_comment(&Report::default(), None);
        assert!(body.starts_with(COMMENT_MARKER));
        assert!(body.contains("no dangerous statements"), "{body}");
    }

    #[test]
    fn oversized_comment_falls_back_to_a_linked_summary() {
        let mut big = finding("m.sql", Severity::Error, &"lock ".repeat(100));
        big.help = "x".repeat(400);
        let report = Report {
            findings: vec![big; 300],
            ..Default::default()
        };
        let run = "https://github.com/acme/shop/actions/runs/42";
        let body = pr_comment(&report, Some(run));
        assert!(body.chars().count() <= GITHUB_COMMENT_LIMIT);
        assert!(body.contains(run), "{body}");
        assert!(body.starts_with(COMMENT_MARKER));
    }

    #[test]
    fn deploy_summary_lists_applied_migrations_and_hook_job() {
        let outcome = DeployOutcome {
            pending: vec!["a".into(), "b".into()],
            applied: vec![
                AppliedMigration {
                    name: "20240101_a".into(),
                    duration: Duration::from_millis(120),
                },
                AppliedMigration {
                    name: "20240102_b".into(),
                    duration: Duration::from_millis(2500),
                },
            ],
            ..Default::default()
        };
        let job = HookJob {
            id: "QmXyz".into(),
            state: "PENDING".into(),
            attempts: 1,
        };
        let text = deploy(&outcome, &HookReport::Fired(job));
        assert!(text.contains("| `20240101_a` | 120 ms |"), "{text}");
        assert!(text.contains("| `20240102_b` | 2.5 s |"), "{text}");
        assert!(text.contains("job `QmXyz` (PENDING)"), "{text}");
    }

    #[test]
    fn needs_review_summary_explains_the_manual_review() {
        let mut outcome = DeployOutcome {
            pending: vec!["a".into()],
            needs_review: true,
            ..Default::default()
        };
        outcome.report.findings = vec![finding("m.sql", Severity::Error, "drops data")];
        let text = deploy(&outcome, &HookReport::Withheld);
        assert!(text.contains("needs review"));
        assert!(text.contains("type=manual-review"));
        assert!(text.contains("**not** called"));
        assert!(text.contains("drops data"));
    }

    #[test]
    fn odd_migration_names_keep_their_code_spans_and_html() {
        // Folder names may hold `|`, backticks and `<`: outside a table `\|` would show its
        // backslash, a backtick would end the code span, and `<b>` in the <summary> is HTML.
        let name = "20240101_a|b`c<b>";
        let file = format!("prisma/migrations/{name}/migration.sql");
        let report = Report {
            migrations: vec![MigrationReport {
                name: name.into(),
                file: file.clone(),
                statements: 1,
                sql: "SELECT 1;".into(),
            }],
            ..Default::default()
        };
        let text = review("db", &[name.into()], &report);
        assert!(text.contains("\n### `` 20240101_a|b`c<b> ``\n"), "{text}");
        assert!(
            text.contains("<summary>SQL of <code>prisma/migrations/20240101_a|b`c&lt;b&gt;/migration.sql</code></summary>"),
            "{text}"
        );
        let outcome = DeployOutcome {
            applied: vec![AppliedMigration {
                name: name.into(),
                duration: Duration::from_millis(5),
            }],
            ..Default::default()
        };
        let text = deploy(&outcome, &HookReport::NotConfigured);
        assert!(
            text.contains("| `` 20240101_a\\|b`c<b> `` | 5 ms |"),
            "{text}"
        );
        let text = rollback(
            name,
            &RollbackOutcome::default(),
            &HookReport::NotConfigured,
        );
        assert!(
            text.contains("rolled back to `` 20240101_a|b`c<b> `` ✅"),
            "{text}"
        );
    }

    #[test]
    fn review_sql_with_a_long_backtick_run_stays_in_its_fence() {
        // Backticks are legal in a dollar-quoted body: a line of four must not close the fence
        // and let the rest of the SQL render as markdown and HTML.
        let sql = "CREATE FUNCTION f() RETURNS text AS $$\n````\n</details><script>x</script>\n$$ LANGUAGE sql;";
        let report = Report {
            migrations: vec![MigrationReport {
                name: "20240101_fn".into(),
                file: "prisma/migrations/20240101_fn/migration.sql".into(),
                statements: 1,
                sql: sql.into(),
            }],
            ..Default::default()
        };
        let text = review("db", &["20240101_fn".into()], &report);
        assert!(
            text.contains(&format!("\n`````sql\n{sql}\n`````\n")),
            "{text}"
        );
    }

    #[test]
    fn review_report_shows_findings_allowed_and_sql() {
        let mut dropped = finding(
            "prisma/migrations/20240101_init/migration.sql",
            Severity::Error,
            "drops data",
        );
        dropped.help =
            "Backfill first:\nUPDATE users SET email = <value> WHERE email IS NULL;".into();
        let mut report = Report {
            findings: vec![dropped],
            ..Default::default()
        };
        report.allowed = vec![AllowedFinding {
            rule: "set-not-null",
            file: "prisma/migrations/20240101_init/migration.sql".into(),
            line: 5,
            allow_line: 4,
            reason: "table has <10> rows".into(),
            migration: "20240101_init".into(),
            message: String::new(),
        }];
        report.migrations = vec![MigrationReport {
            name: "20240101_init".into(),
            file: "prisma/migrations/20240101_init/migration.sql".into(),
            statements: 2,
            sql: "ALTER TABLE users DROP COLUMN email;".into(),
        }];
        let text = review("postgres@db:5432/app", &["20240101_init".into()], &report);
        assert!(text.contains("### `20240101_init`"));
        // The PR comment's layout, and placeholders GitHub would strip as HTML tags escaped.
        assert!(
            text.contains("| Severity | Rule | Line | What happens |\n| --- | --- | --- | --- |\n| ❌ error | `drop-column` | 3 | drops data |"),
            "{text}"
        );
        assert!(
            text.contains("```sql\n-- Backfill first:\nUPDATE users SET email = <value> WHERE email IS NULL;\n```"),
            "{text}"
        );
        assert!(
            text.contains("| `set-not-null` | 5 | table has &lt;10&gt; rows |"),
            "{text}"
        );
        assert!(text.contains("```sql\nALTER TABLE users DROP COLUMN email;\n```"));
        assert!(text.contains("Nothing was changed"));
    }
}
