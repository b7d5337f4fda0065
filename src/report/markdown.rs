//! `--format markdown`: the job summary and the PR comment. A verdict heading, then per migration
//! a table of findings and the findings its suppression comments allowed, then the summary.

use std::fmt::Write;

use super::{plural, summary_line};
use crate::findings::{AllowedFinding, Finding, Report, Severity};

pub fn render(report: &Report) -> String {
    let mut out = heading(report);
    out.push('\n');
    let groups = group_by_migration(report);
    let mut clean = Vec::new();
    for group in &groups {
        if group.findings.is_empty() && group.allowed.is_empty() {
            clean.push(group.name.as_str());
            continue;
        }
        write_migration(&mut out, group);
    }
    if !clean.is_empty() {
        let _ = writeln!(
            out,
            "<details><summary>{} without findings</summary>\n",
            plural(clean.len(), "migration", "migrations")
        );
        let names: Vec<String> = clean.iter().map(|name| code_span(name)).collect();
        let _ = writeln!(out, "{}\n\n</details>\n", names.join(", "));
    }
    for note in &report.notes {
        let _ = writeln!(out, "> **Note:** {}\n", html(note));
    }
    let _ = writeln!(out, "**Summary:** {}", summary_line(&report.summary));
    out
}

/// The full markdown when it fits in `limit_chars` characters (a GitHub comment holds 65,536),
/// otherwise a short version: the verdict, counts per rule and per migration, and a link to the
/// run whose job summary has the full report.
pub fn markdown_within(report: &Report, limit_chars: usize, run_url: Option<&str>) -> String {
    let full = render(report);
    let full_chars = full.chars().count();
    if full_chars <= limit_chars {
        return full;
    }
    let with_migrations = short(report, full_chars, limit_chars, run_url, true);
    if with_migrations.chars().count() <= limit_chars {
        return with_migrations;
    }
    let without_migrations = short(report, full_chars, limit_chars, run_url, false);
    if without_migrations.chars().count() <= limit_chars {
        return without_migrations;
    }
    truncate_chars(&without_migrations, limit_chars)
}

fn heading(report: &Report) -> String {
    let summary = &report.summary;
    let migrations = plural(
        report.migrations.len().max(summary.files),
        "migration",
        "migrations",
    );
    if summary.errors > 0 || report.has_errors() {
        let errors = summary.errors.max(
            report
                .findings
                .iter()
                .filter(|f| f.severity == Severity::Error)
                .count(),
        );
        format!(
            "### ❌ migration-gate: {} {} these migrations\n",
            plural(errors, "error", "errors"),
            if errors == 1 { "blocks" } else { "block" }
        )
    } else if !report.findings.is_empty() {
        format!(
            "### ⚠️ migration-gate: no errors, {} to review\n",
            plural(report.findings.len(), "warning", "warnings")
        )
    } else {
        format!("### ✅ migration-gate: no dangerous statements in {migrations}\n")
    }
}

struct MigrationGroup<'a> {
    name: String,
    file: String,
    findings: Vec<&'a Finding>,
    allowed: Vec<&'a AllowedFinding>,
}

/// Migrations in the report's order (migration order), then any finding whose migration the
/// report does not list, keyed by its migration name or, without one, its file.
fn group_by_migration(report: &Report) -> Vec<MigrationGroup<'_>> {
    let mut groups: Vec<MigrationGroup> = report
        .migrations
        .iter()
        .map(|migration| MigrationGroup {
            name: migration.name.clone(),
            file: migration.file.clone(),
            findings: Vec::new(),
            allowed: Vec::new(),
        })
        .collect();
    let index_of = |groups: &mut Vec<MigrationGroup>, migration: &str, file: &str| {
        let found = groups.iter().position(|group| {
            if migration.is_empty() {
                group.file == file
            } else {
                group.name == migration
            }
        });
        found.unwrap_or_else(|| {
            groups.push(MigrationGroup {
                name: if migration.is_empty() {
                    file
                } else {
                    migration
                }
                .to_string(),
                file: file.to_string(),
                findings: Vec::new(),
                allowed: Vec::new(),
            });
            groups.len() - 1
        })
    };
    for finding in &report.findings {
        let index = index_of(&mut groups, &finding.migration, &finding.file);
        groups[index].findings.push(finding);
    }
    for allowed in &report.allowed {
        let index = index_of(&mut groups, &allowed.migration, &allowed.file);
        groups[index].allowed.push(allowed);
    }
    groups
}

fn write_migration(out: &mut String, group: &MigrationGroup) {
    if group.name == group.file {
        let _ = writeln!(out, "#### {}\n", code_span(&group.name));
    } else {
        let _ = writeln!(
            out,
            "#### {} ({})\n",
            code_span(&group.name),
            code_span(&group.file)
        );
    }
    out.push_str(&findings_section(
        &group.file,
        &group.findings,
        &group.allowed,
    ));
}

/// A markdown table: the header row, its rule, then one row per entry (cells already escaped).
fn write_table(out: &mut String, headers: &[&str], rows: impl IntoIterator<Item = Vec<String>>) {
    let _ = writeln!(out, "| {} |", headers.join(" | "));
    let _ = writeln!(out, "|{}", " --- |".repeat(headers.len()));
    for row in rows {
        let _ = writeln!(out, "| {} |", row.join(" | "));
    }
}

/// One migration's findings and allowed findings, as the PR comment, the job summary and the
/// manual-review report all show them: a table of one line per finding, then each finding's
/// safe alternative in a collapsed block (SQL in a fence, to copy), then the allowed ones.
pub fn findings_section(file: &str, findings: &[&Finding], allowed: &[&AllowedFinding]) -> String {
    let mut out = String::new();
    if !findings.is_empty() {
        write_table(
            &mut out,
            &["Severity", "Rule", "Line", "What happens"],
            findings.iter().map(|finding| {
                vec![
                    severity_cell(finding.severity).to_string(),
                    code(finding.rule),
                    location(file, &finding.file, finding.line),
                    cell(&finding.message),
                ]
            }),
        );
        out.push('\n');
        for finding in findings.iter().filter(|f| !f.help.trim().is_empty()) {
            write_alternative(&mut out, file, finding);
        }
    }
    if !allowed.is_empty() {
        let _ = writeln!(
            out,
            "Allowed by suppression comments ({}):\n",
            allowed.len()
        );
        write_table(
            &mut out,
            &["Rule", "Line", "Reason"],
            allowed.iter().map(|allowed| {
                vec![
                    code(allowed.rule),
                    location(file, &allowed.file, allowed.line),
                    cell(&allowed.reason),
                ]
            }),
        );
        out.push('\n');
    }
    out
}

/// The line alone when the finding is in the migration's own file (the heading names it), which
/// keeps the table narrow enough for a phone.
fn location(migration_file: &str, file: &str, line: u32) -> String {
    if file == migration_file {
        line.to_string()
    } else {
        code(&format!("{file}:{line}"))
    }
}

/// A collapsed block per finding. GitHub renders markdown inside an HTML block only after a blank
/// line, hence the blank lines around the fence.
fn write_alternative(out: &mut String, migration_file: &str, finding: &Finding) {
    let line = if finding.file == migration_file {
        format!("line {}", finding.line)
    } else {
        format!("{}:{}", html(&finding.file), finding.line)
    };
    let (label, body) = match help_as_sql(&finding.help) {
        Some(sql) => {
            let fence = fence_for(&sql);
            ("safe SQL", format!("{fence}sql\n{sql}\n{fence}"))
        }
        None => ("safe alternative", cell(&finding.help)),
    };
    let _ = writeln!(
        out,
        "<details><summary>{} <code>{}</code> {line}: {label}</summary>\n\n{body}\n\n</details>\n",
        severity_icon(finding.severity),
        html(finding.rule),
    );
}

/// A code fence no line of `text` can close: longer than its longest backtick run, at least 3.
pub fn fence_for(text: &str) -> String {
    let longest_run = text.split(|c| c != '`').map(str::len).max().unwrap_or(0);
    "`".repeat(longest_run.max(2) + 1)
}

/// The help as a script to copy: its SQL as written, its prose as `--` comments. `None` when it
/// holds no SQL statement at all (advice in words only).
fn help_as_sql(help: &str) -> Option<String> {
    let help = help.trim().replace("\r\n", "\n");
    let lines: Vec<&str> = help.lines().collect();
    if !lines.iter().any(|line| is_sql(line)) {
        return None;
    }
    let script: Vec<String> = lines
        .iter()
        .map(|line| {
            if is_sql(line) || line.trim_start().starts_with("--") || line.trim().is_empty() {
                line.to_string()
            } else {
                format!("-- {line}")
            }
        })
        .collect();
    Some(script.join("\n"))
}

/// A line of SQL (a statement or its indented continuation), not a sentence about SQL.
fn is_sql(line: &str) -> bool {
    const STARTS: &[&str] = &[
        "ALTER", "CREATE", "DROP", "UPDATE", "INSERT", "DELETE", "SELECT", "WITH", "SET", "RESET",
        "BEGIN", "COMMIT", "LOCK", "VACUUM", "ANALYZE", "REINDEX", "COMMENT", "GRANT", "DO",
        "TRUNCATE",
    ];
    if line.starts_with([' ', '\t']) && !line.trim().is_empty() {
        return true;
    }
    let first = line.split_whitespace().next().unwrap_or("");
    STARTS.contains(&first.trim_end_matches(';'))
}

/// Text inside an HTML element (the `<summary>`): markdown does not apply there.
pub fn html(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

fn short(
    report: &Report,
    full_chars: usize,
    limit_chars: usize,
    run_url: Option<&str>,
    with_migrations: bool,
) -> String {
    let mut out = heading(report);
    out.push('\n');
    let where_to_look = match run_url {
        Some(url) => format!("see the [job summary of the run]({url}) for every finding"),
        None => "run `migration-gate check --format markdown` for every finding".to_string(),
    };
    let _ = writeln!(
        out,
        "The full report ({full_chars} characters) is longer than a comment can hold \
         ({limit_chars}); {where_to_look}.\n"
    );
    for note in &report.notes {
        let _ = writeln!(out, "> **Note:** {}\n", html(note));
    }

    let mut per_rule: Vec<(&str, usize, usize, usize)> = Vec::new();
    let mut count = |rule: &'static str, column: usize| {
        let row = match per_rule.iter().position(|row| row.0 == rule) {
            Some(index) => index,
            None => {
                per_rule.push((rule, 0, 0, 0));
                per_rule.len() - 1
            }
        };
        match column {
            0 => per_rule[row].1 += 1,
            1 => per_rule[row].2 += 1,
            _ => per_rule[row].3 += 1,
        }
    };
    for finding in &report.findings {
        count(
            finding.rule,
            if finding.severity == Severity::Error {
                0
            } else {
                1
            },
        );
    }
    for allowed in &report.allowed {
        count(allowed.rule, 2);
    }
    if !per_rule.is_empty() {
        out.push_str("| Rule | Errors | Warnings | Allowed |\n| --- | --- | --- | --- |\n");
        for (rule, errors, warnings, allowed) in &per_rule {
            let _ = writeln!(
                out,
                "| {} | {errors} | {warnings} | {allowed} |",
                code(rule)
            );
        }
        out.push('\n');
    }

    if with_migrations {
        let groups = group_by_migration(report);
        let flagged: Vec<&MigrationGroup> = groups
            .iter()
            .filter(|group| !group.findings.is_empty() || !group.allowed.is_empty())
            .collect();
        if !flagged.is_empty() {
            out.push_str(
                "| Migration | Errors | Warnings | Allowed |\n| --- | --- | --- | --- |\n",
            );
            for group in flagged {
                let errors = group
                    .findings
                    .iter()
                    .filter(|f| f.severity == Severity::Error)
                    .count();
                let _ = writeln!(
                    out,
                    "| {} | {errors} | {} | {} |",
                    code(&group.name),
                    group.findings.len() - errors,
                    group.allowed.len()
                );
            }
            out.push('\n');
        }
    }
    let _ = writeln!(out, "**Summary:** {}", summary_line(&report.summary));
    out
}

fn truncate_chars(text: &str, limit_chars: usize) -> String {
    const MARK: &str = "\n…\n";
    let keep = limit_chars.saturating_sub(MARK.chars().count());
    match text.char_indices().nth(keep) {
        Some((index, _)) if limit_chars > MARK.chars().count() => {
            format!("{}{MARK}", &text[..index])
        }
        Some(_) => text.chars().take(limit_chars).collect(),
        None => text.to_string(),
    }
}

fn severity_icon(severity: Severity) -> &'static str {
    match severity {
        Severity::Error => "❌",
        Severity::Warning => "⚠️",
    }
}

fn severity_cell(severity: Severity) -> &'static str {
    match severity {
        Severity::Error => "❌ error",
        Severity::Warning => "⚠️ warning",
    }
}

/// A table cell: `|` escaped, line breaks as `<br>`, HTML special characters as entities outside
/// code spans (inside them the text is shown literally anyway). Code spans are recognised as
/// markdown does (a backtick run closed by a run of the same length), and backslashes outside
/// them are escaped, so text markdown would not read as code never keeps a raw `<`.
pub fn cell(text: &str) -> String {
    let text = text.trim().replace("\r\n", "\n").replace('\r', "\n");
    let chars: Vec<char> = text.chars().collect();
    let mut out = String::with_capacity(text.len());
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        if c == '`' {
            let run = backtick_run(&chars, i);
            match closing_run(&chars, i + run, run) {
                Some(close) => {
                    let ticks = "`".repeat(run);
                    out.push_str(&ticks);
                    for &c in &chars[i + run..close] {
                        match c {
                            '|' => out.push_str("\\|"),
                            c if c.is_control() => out.push(' '),
                            c => out.push(c),
                        }
                    }
                    out.push_str(&ticks);
                    i = close + run;
                }
                None => {
                    out.push_str(&"\\`".repeat(run));
                    i += run;
                }
            }
            continue;
        }
        match c {
            '\\' => out.push_str("\\\\"),
            '|' => out.push_str("\\|"),
            '\n' => out.push_str("<br>"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '&' => out.push_str("&amp;"),
            c if c.is_control() && c != '\t' => out.push(' '),
            c => out.push(c),
        }
        i += 1;
    }
    out
}

fn backtick_run(chars: &[char], start: usize) -> usize {
    chars[start..].iter().take_while(|&&c| c == '`').count()
}

/// Where the next run of exactly `len` backticks at or after `from` starts.
fn closing_run(chars: &[char], from: usize, len: usize) -> Option<usize> {
    let mut i = from;
    while i < chars.len() {
        if chars[i] == '`' {
            let run = backtick_run(chars, i);
            if run == len {
                return Some(i);
            }
            i += run;
        } else {
            i += 1;
        }
    }
    None
}

/// A code span that survives any content: a fence longer than any backtick run inside, pipes
/// escaped (GitHub tables split on them even in code), line breaks as spaces.
pub fn code(text: &str) -> String {
    code_span(&text.replace('|', "\\|"))
}

/// A code span outside a table (headings, lists): there a `\|` would show its backslash.
pub fn code_span(text: &str) -> String {
    let text: String = text
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    let longest_run = text.split(|c| c != '`').map(str::len).max().unwrap_or(0);
    if longest_run == 0 {
        format!("`{text}`")
    } else {
        let fence = "`".repeat(longest_run + 1);
        format!("{fence} {text} {fence}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cells_escape_pipes_line_breaks_and_html() {
        assert_eq!(
            cell("a | b\r\nc <d> & `x | y`"),
            "a \\| b<br>c &lt;d&gt; &amp; `x \\| y`"
        );
        assert_eq!(cell("odd ` tick"), "odd \\` tick");
    }

    #[test]
    fn html_in_a_cell_is_escaped_unless_markdown_really_reads_a_code_span() {
        // A run of three backticks has no closing run of three: markdown shows the backticks
        // as text, so the tag after them is live HTML unless escaped (a table name can be
        // anything between double quotes).
        let escaped = cell(r#"Dropping "``` <img src=x>`" deletes its data"#);
        assert!(escaped.contains("&lt;img src=x&gt;"), "{escaped}");
        // A backslash before a backtick would escape it in markdown; escaped itself, it shows
        // as a backslash and the code span is one for markdown too.
        assert_eq!(cell(r"a \` <b>x</b> ` c"), r"a \\` <b>x</b> ` c");
        // Real code spans stay literal, with their pipes escaped for the table.
        assert_eq!(cell("`` a`<b>|c ``"), "`` a`<b>\\|c ``");
    }

    #[test]
    fn sql_fences_outrun_every_backtick_run_inside() {
        assert_eq!(fence_for("SELECT 1"), "```");
        assert_eq!(fence_for("/*\n````\n*/"), "`````");
    }

    #[test]
    fn code_spans_hold_backticks_and_pipes() {
        assert_eq!(code("a|b"), "`a\\|b`");
        assert_eq!(code("a`b"), "`` a`b ``");
        assert_eq!(code("line\nbreak"), "`line break`");
        // Outside a table GitHub shows `\|` literally in code.
        assert_eq!(code_span("a|b"), "`a|b`");
    }

    #[test]
    fn truncation_respects_the_limit_in_characters() {
        let text = "é".repeat(100);
        let cut = truncate_chars(&text, 10);
        assert_eq!(cut.chars().count(), 10);
        assert!(cut.ends_with("…\n"));
    }
}
