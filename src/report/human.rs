//! `--format human`: what a developer reads in the terminal. Findings grouped by file, each with
//! its position, rule, what it does to production, the statement and the safe alternative.

use std::fmt::Write;

use super::{plural, summary_line};
use crate::findings::{Finding, Report, Severity};

/// Statement excerpts longer than this are cut: the file is one click away.
const EXCERPT_LINES: usize = 6;
const EXCERPT_LINE_CHARS: usize = 160;

struct Palette {
    color: bool,
}

impl Palette {
    fn paint(&self, code: &str, text: &str) -> String {
        if self.color {
            format!("\x1b[{code}m{text}\x1b[0m")
        } else {
            text.to_string()
        }
    }

    fn severity(&self, severity: Severity) -> String {
        match severity {
            Severity::Error => self.paint("1;31", "error"),
            Severity::Warning => self.paint("1;33", "warning"),
        }
    }

    fn bold(&self, text: &str) -> String {
        self.paint("1", text)
    }

    fn dim(&self, text: &str) -> String {
        self.paint("2", text)
    }

    fn help(&self, text: &str) -> String {
        self.paint("36", text)
    }

    fn ok(&self, text: &str) -> String {
        self.paint("1;32", text)
    }
}

pub fn render(report: &Report, color: bool) -> String {
    let palette = Palette { color };
    let mut out = String::new();

    let mut current_file: Option<&str> = None;
    for finding in &report.findings {
        if current_file != Some(finding.file.as_str()) {
            if current_file.is_some() {
                out.push('\n');
            }
            let _ = writeln!(out, "{}", palette.bold(&sanitize(&finding.file)));
            current_file = Some(&finding.file);
        }
        write_finding(&mut out, &palette, finding);
    }

    if !report.allowed.is_empty() {
        if !out.is_empty() {
            out.push('\n');
        }
        let _ = writeln!(
            out,
            "{}",
            palette.bold(&format!(
                "Allowed by suppression comments ({}):",
                report.allowed.len()
            ))
        );
        for allowed in &report.allowed {
            let _ = writeln!(
                out,
                "  {} {}:{}  reason: {} {}",
                allowed.rule,
                sanitize(&allowed.file),
                allowed.line,
                sanitize(&allowed.reason),
                palette.dim(&format!("(allow comment on line {})", allowed.allow_line)),
            );
        }
    }

    if !out.is_empty() {
        out.push('\n');
    }
    for note in &report.notes {
        let _ = writeln!(out, "{} {}", palette.bold("Note:"), sanitize(note));
    }
    let summary = summary_line(&report.summary);
    if report.findings.is_empty() {
        let _ = writeln!(
            out,
            "{} {summary}",
            palette.ok("No dangerous statements found:")
        );
    } else if report.has_errors() {
        let _ = writeln!(out, "{} {summary}", palette.paint("1;31", "Blocked:"));
    } else {
        let _ = writeln!(
            out,
            "{} {summary}",
            palette.paint("1;33", "No errors, review the warnings:")
        );
    }
    out
}

fn write_finding(out: &mut String, palette: &Palette, finding: &Finding) {
    let _ = writeln!(
        out,
        "  {}{} {}:{}:{}",
        palette.severity(finding.severity),
        palette.bold(&format!("[{}]", finding.rule)),
        sanitize(&finding.file),
        finding.line,
        finding.column,
    );
    for line in sanitize(&finding.message).lines() {
        let _ = writeln!(out, "    {line}");
    }
    for line in excerpt(&finding.statement, finding.line) {
        let _ = writeln!(out, "    {}", palette.dim(&line));
    }
    for (index, line) in sanitize(&finding.help).lines().enumerate() {
        let label = if index == 0 { "help: " } else { "      " };
        let _ = writeln!(out, "    {}", palette.help(&format!("{label}{line}")));
    }
}

/// The statement with line numbers in a gutter, cut to a few lines.
fn excerpt(statement: &str, first_line: u32) -> Vec<String> {
    let clean = sanitize(statement.trim_end());
    let lines: Vec<&str> = clean.lines().collect();
    let width = (first_line as usize + lines.len().min(EXCERPT_LINES))
        .to_string()
        .len();
    let mut excerpt: Vec<String> = lines
        .iter()
        .take(EXCERPT_LINES)
        .enumerate()
        .map(|(offset, line)| {
            format!(
                "{:>width$} | {}",
                first_line as usize + offset,
                cut(line, EXCERPT_LINE_CHARS)
            )
        })
        .collect();
    if lines.len() > EXCERPT_LINES {
        let hidden = lines.len() - EXCERPT_LINES;
        excerpt.push(format!(
            "{:>width$} | ... {} more",
            "",
            plural(hidden, "line", "lines")
        ));
    }
    excerpt
}

fn cut(line: &str, max_chars: usize) -> String {
    match line.char_indices().nth(max_chars) {
        Some((index, _)) => format!("{}...", &line[..index]),
        None => line.to_string(),
    }
}

/// Control characters from migration files (an ESC starts a terminal escape sequence) are shown,
/// not obeyed. CR LF and lone CR become plain line breaks.
fn sanitize(text: &str) -> String {
    let text = text.replace("\r\n", "\n").replace('\r', "\n");
    text.chars()
        .map(|c| match c {
            '\n' | '\t' => c,
            c if c.is_control() => char::REPLACEMENT_CHARACTER,
            c => c,
        })
        .collect()
}
