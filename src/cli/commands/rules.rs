//! `migration-gate rules` and `migration-gate explain RULE`: the rule catalogue from the command
//! line. The words come from the rules themselves (the catalogue's summary, the rule file's own
//! documentation, and the finding the rule raises on a small example), so they cannot drift.

use std::path::PathBuf;

use crate::analysis::{self, AnalysisInput};
use crate::config::Config;
use crate::discover::Migration;
use crate::error::{exit, AppError, Result};
use crate::rules::{self, allow_without_reason::closest_rule, RuleInfo, CATALOGUE};

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
    text.push_str(&module_doc(rule.id));
    let example = example_finding(rule.id).map(|(sql, finding)| {
        let setting = format!(
            "Example, on tables that already hold data:\n\n{}",
            indent(sql)
        );
        (setting, finding)
    });
    if let Some((setting, finding)) = example.or_else(|| git_example_finding(rule.id)) {
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

/// The source of every rule file, by module name (the rule id with `_` for `-`).
macro_rules! rule_sources {
    ($($module:literal),* $(,)?) => {
        &[$(($module, include_str!(concat!("../../rules/", $module, ".rs")))),*]
    };
}

static RULE_SOURCES: &[(&str, &str)] = rule_sources!(
    "add_check_validating",
    "add_column_required",
    "add_column_rewrite",
    "add_foreign_key_validating",
    "add_unique_blocking",
    "allow_without_reason",
    "alter_column_type",
    "concurrently_in_transaction",
    "create_index_blocking",
    "drop_column",
    "drop_index_blocking",
    "drop_schema",
    "drop_table",
    "edited_migration",
    "enum_value_used_in_transaction",
    "malformed_sql",
    "out_of_order_migration",
    "rename_column",
    "rename_table",
    "set_not_null",
    "truncate_table",
    "unbatched_data_change",
    "unparsed_statement",
);

/// The `//!` documentation at the top of the rule's file, as plain paragraphs.
fn module_doc(id: &str) -> String {
    let module = id.replace('-', "_");
    let source = RULE_SOURCES
        .iter()
        .find(|(name, _)| *name == module)
        .map_or("", |(_, source)| source);
    let mut paragraphs: Vec<String> = vec![String::new()];
    for line in source.lines().map_while(|l| l.strip_prefix("//!")) {
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

/// The history every example runs against: tables with rows in production.
const EXAMPLE_HISTORY: &str = r#"CREATE TYPE "Role" AS ENUM ('USER');
CREATE TABLE "Team" ("id" INTEGER NOT NULL, CONSTRAINT "Team_pkey" PRIMARY KEY ("id"));
CREATE TABLE "User" (
    "id" INTEGER NOT NULL,
    "email" TEXT,
    "name" TEXT,
    "teamId" INTEGER,
    CONSTRAINT "User_pkey" PRIMARY KEY ("id")
);
CREATE INDEX "User_email_idx" ON "User"("email");
CREATE SCHEMA "legacy";
"#;

/// A pending migration that raises the rule. Rules raised from git history (edited and
/// out-of-order migrations) have none: their documentation says when they fire.
fn example(id: &str) -> Option<&'static str> {
    Some(match id {
        "drop-table" => "DROP TABLE \"Team\";\n",
        "drop-column" => "ALTER TABLE \"User\" DROP COLUMN \"name\";\n",
        "drop-schema" => "DROP SCHEMA \"legacy\" CASCADE;\n",
        "truncate-table" => "TRUNCATE \"User\";\n",
        "rename-table" => "ALTER TABLE \"User\" RENAME TO \"Account\";\n",
        "rename-column" => "ALTER TABLE \"User\" RENAME COLUMN \"name\" TO \"fullName\";\n",
        "alter-column-type" => "ALTER TABLE \"User\" ALTER COLUMN \"teamId\" SET DATA TYPE BIGINT;\n",
        "add-column-required" => "ALTER TABLE \"User\" ADD COLUMN \"age\" INTEGER NOT NULL;\n",
        "add-column-rewrite" => {
            "ALTER TABLE \"User\" ADD COLUMN \"token\" UUID NOT NULL DEFAULT gen_random_uuid();\n"
        }
        "set-not-null" => "ALTER TABLE \"User\" ALTER COLUMN \"email\" SET NOT NULL;\n",
        "create-index-blocking" => "CREATE INDEX \"User_name_idx\" ON \"User\"(\"name\");\n",
        "drop-index-blocking" => "DROP INDEX \"User_email_idx\";\n",
        "add-foreign-key-validating" => {
            "ALTER TABLE \"User\" ADD CONSTRAINT \"User_teamId_fkey\" FOREIGN KEY (\"teamId\") REFERENCES \"Team\"(\"id\");\n"
        }
        "add-check-validating" => {
            "ALTER TABLE \"User\" ADD CONSTRAINT \"User_email_check\" CHECK (\"email\" <> '');\n"
        }
        "add-unique-blocking" => {
            "ALTER TABLE \"User\" ADD CONSTRAINT \"User_email_key\" UNIQUE (\"email\");\n"
        }
        "concurrently-in-transaction" => {
            "BEGIN;\nCREATE INDEX CONCURRENTLY \"User_name_idx\" ON \"User\"(\"name\");\nCOMMIT;\n"
        }
        "enum-value-used-in-transaction" => {
            "ALTER TYPE \"Role\" ADD VALUE 'ADMIN';\nUPDATE \"User\" SET \"name\" = 'x' WHERE 'ADMIN'::\"Role\" = 'ADMIN';\n"
        }
        "unbatched-data-change" => "UPDATE \"User\" SET \"name\" = '';\n",
        "unparsed-statement" => "FROBNICATE \"User\" VERY FAST;\n",
        "malformed-sql" => "ALTER TABLE \"User\" ADD COLUMN \"bio\" TEXT;\n/* the comment never ends\n",
        "allow-without-reason" => {
            "-- migration-gate: allow drop-column\nALTER TABLE \"User\" DROP COLUMN \"name\";\n"
        }
        _ => return None,
    })
}

fn example_migration(name: &str, source: &str) -> Migration {
    Migration {
        name: name.to_string(),
        path: PathBuf::from(format!("{name}/migration.sql")),
        display_path: format!("{name}/migration.sql"),
        source: source.to_string(),
        down_path: None,
    }
}

/// The rules `check --since` raises from git history, on a migration of a feature branch.
fn git_example_finding(id: &str) -> Option<(String, crate::findings::Finding)> {
    let migration = example_migration("20240301000000_add_teams", "SELECT 1;\n");
    let (setting, finding) = match id {
        "edited-migration" => (
            "Example: `check --since main` on a branch that modified 20240301000000_add_teams,\nwhich main already has.\n",
            rules::edited_migration::finding(&migration, "main"),
        ),
        "out-of-order-migration" => (
            "Example: `check --since main` on a branch that adds 20240301000000_add_teams while\nmain already has 20240315000000_invoices.\n",
            rules::out_of_order_migration::finding(&migration, "20240315000000_invoices", "main"),
        ),
        _ => return None,
    };
    Some((setting.to_string(), finding))
}

fn example_finding(id: &str) -> Option<(&'static str, crate::findings::Finding)> {
    let sql = example(id)?;
    let history = example_migration("1_history", EXAMPLE_HISTORY);
    let pending = example_migration("2_example", sql);
    let report = analysis::analyze(AnalysisInput {
        existing: &[&history],
        pending: &[&pending],
        config: &Config::default(),
        extra_findings: Vec::new(),
    });
    let finding = report.findings.into_iter().find(|f| f.rule == id)?;
    Some((sql, finding))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_rule_has_its_file_documentation() {
        for rule in CATALOGUE {
            let doc = module_doc(rule.id);
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
            let raised = example_finding(rule.id)
                .map(|(_, finding)| finding)
                .or_else(|| git_example_finding(rule.id).map(|(_, finding)| finding));
            assert_eq!(
                raised.map(|finding| finding.rule),
                Some(rule.id),
                "{}: its example should raise it",
                rule.id
            );
        }
    }
}
