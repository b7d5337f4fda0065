//! `migration-gate rules` and `migration-gate explain RULE`: the rule catalogue from the command
//! line. The words come from the rules themselves (the catalogue's summary, the rule file's own
//! documentation, and the finding the rule raises on a small example), so they cannot drift.

use crate::error::{exit, AppError, Result};
use crate::lint::engine::{self, AnalysisInput};
use crate::lint::rules::{
    self, allow_without_reason::closest_rule, Example, RuleInfo, CATALOGUE, EXAMPLE_HISTORY,
};
use crate::project::config::Config;
use crate::project::deployer::{Deployer, PrismaVersion};
use crate::project::discover::Migration;

pub fn list() -> Result<u8> {
    let width = CATALOGUE.iter().map(|r| r.id.len()).max().unwrap_or(0);
    for rule in CATALOGUE {
        println!(
            "{:<width$}  {:<7}  {}",
            rule.id,
            rule.default_severity.as_str(),
            rule.summary
        );
    }
    println!("\n`migration-gate explain RULE` tells more about one rule.");
    Ok(exit::OK)
}

pub fn explain(id: &str) -> Result<u8> {
    let Some(rule) = rules::find(id) else {
        let hint = closest_rule(id)
            .map(|close| format!("did you mean `{close}`? "))
            .unwrap_or_default();
        return Err(AppError::usage(format!(
            "unknown rule `{id}`; {hint}`migration-gate rules` lists them all"
        )));
    };
    print!("{}", explanation(rule));
    Ok(exit::OK)
}

/// The rule's id and severity, its file's documentation, and the finding it raises on its
/// example migration (what happens in production, and the SQL to write instead).
fn explanation(rule: &RuleInfo) -> String {
    let mut text = format!(
        "{} ({} by default)\n\n",
        rule.id,
        rule.default_severity.as_str()
    );
    text.push_str(&module_doc(rule));
    let example = example_finding(rule).map(|(sql, finding)| {
        let deployed_by = match rule.example {
            Example::UnderPrisma { version, .. } => {
                format!(", deployed by `prisma migrate deploy` {version}")
            }
            _ => String::new(),
        };
        let setting = format!(
            "Example{deployed_by}, on tables that already hold data:\n\n{}",
            indent(sql)
        );
        (setting, finding)
    });
    if let Some((setting, finding)) = example.or_else(|| git_example_finding(rule)) {
        text.push('\n');
        text.push_str(&setting);
        text.push_str("\nWhat happens in production:\n\n");
        text.push_str(&indent(&finding.message));
        if !finding.help.is_empty() {
            text.push_str("\nWhat to write instead:\n\n");
            text.push_str(&indent(&finding.help));
        }
    }
    text
}

fn indent(text: &str) -> String {
    text.lines()
        .map(|line| {
            if line.is_empty() {
                "\n".to_string()
            } else {
                format!("    {line}\n")
            }
        })
        .collect()
}

/// The `//!` documentation at the top of the rule's file, as plain paragraphs.
fn module_doc(rule: &RuleInfo) -> String {
    let mut paragraphs: Vec<String> = vec![String::new()];
    for line in rule.file.lines().map_while(|l| l.strip_prefix("//!")) {
        let line = line.trim();
        if line.is_empty() {
            paragraphs.push(String::new());
            continue;
        }
        let current = paragraphs.last_mut().expect("one paragraph");
        if !current.is_empty() {
            current.push(' ');
        }
        // Rustdoc links (`[`finding`]`) read as plain code here.
        current.push_str(&line.replace("[`", "`").replace("`]", "`"));
    }
    paragraphs
        .iter()
        .filter(|p| !p.is_empty())
        .map(|p| wrap(p, 96))
        .collect::<Vec<_>>()
        .join("\n")
}

fn wrap(paragraph: &str, width: usize) -> String {
    let mut out = String::new();
    let mut line_len = 0;
    for word in paragraph.split(' ') {
        if line_len > 0 && line_len + 1 + word.len() > width {
            out.push('\n');
            line_len = 0;
        } else if line_len > 0 {
            out.push(' ');
            line_len += 1;
        }
        out.push_str(word);
        line_len += word.len();
    }
    out.push('\n');
    out
}

/// The rules `check --since` raises from git history, on a migration of a feature branch.
fn git_example_finding(rule: &RuleInfo) -> Option<(String, crate::findings::Finding)> {
    let Example::FromGit { setting, finding } = rule.example else {
        return None;
    };
    let migration = Migration::in_memory("20240301000000_add_teams", "SELECT 1;\n");
    Some((setting.to_string(), finding(&migration)))
}

fn example_finding(rule: &RuleInfo) -> Option<(&'static str, crate::findings::Finding)> {
    let (sql, config) = match rule.example {
        Example::Migration(sql) => (sql, Config::default()),
        Example::UnderPrisma { version, sql } => {
            let config = Config {
                deployer: Deployer::Prisma,
                prisma_version: PrismaVersion::parse(version),
                ..Config::default()
            };
            (sql, config)
        }
        Example::FromGit { .. } => return None,
    };
    let history = Migration::in_memory("1_history", EXAMPLE_HISTORY);
    let pending = Migration::in_memory("2_example", sql);
    let report = engine::analyze(AnalysisInput {
        existing: &[&history],
        pending: &[&pending],
        config: &config,
        extra_findings: Vec::new(),
    });
    let finding = report.findings.into_iter().find(|f| f.rule == rule.id)?;
    Some((sql, finding))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_rule_has_its_file_documentation() {
        for rule in CATALOGUE {
            let doc = module_doc(rule);
            assert!(
                doc.starts_with(&format!("`{}`", rule.id)),
                "{}: {doc}",
                rule.id
            );
        }
    }

    #[test]
    fn every_rule_has_an_example_that_raises_it() {
        for rule in CATALOGUE {
            let raised = example_finding(rule)
                .map(|(_, finding)| finding)
                .or_else(|| git_example_finding(rule).map(|(_, finding)| finding));
            assert_eq!(
                raised.map(|finding| finding.rule),
                Some(rule.id),
                "{}: its example should raise it",
                rule.id
            );
        }
    }
}
