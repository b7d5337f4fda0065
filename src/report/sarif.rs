//! `--format sarif`: SARIF 2.1.0 for GitHub code scanning (`github/codeql-action/upload-sarif`).
//! Rule metadata comes from the catalogue; allowed findings are results with an in-source
//! suppression so the review trail is visible in code scanning too.

use std::collections::HashMap;

use serde_json::{json, Value};
use sha2::{Digest, Sha256};

use crate::findings::{Report, Severity};
use crate::lint::rules::{RuleInfo, CATALOGUE};

const SCHEMA: &str = "https://json.schemastore.org/sarif-2.1.0.json";
/// The key GitHub deduplicates alerts by across runs; versioned so a change of the hashed text
/// can get a new key instead of silently re-opening every alert.
const FINGERPRINT_KEY: &str = "migrationGateStatementHash/v1";

pub fn render(report: &Report) -> String {
    let mut fingerprints = Fingerprints::default();
    let mut results = Vec::with_capacity(report.findings.len() + report.allowed.len());

    for finding in &report.findings {
        let mut result = json!({
            "ruleId": finding.rule,
            "level": level(finding.severity),
            "message": {
                "text": format!(
                    "{}\n\nSafe alternative: {}",
                    finding.message.trim_end(),
                    finding.help.trim_end()
                ),
            },
            "locations": [location(
                &finding.file,
                json!({
                    "startLine": finding.line.max(1),
                    "startColumn": finding.column.max(1),
                    "endLine": finding.end_line.max(finding.line).max(1),
                }),
            )],
            "partialFingerprints": {
                FINGERPRINT_KEY: fingerprints.next(finding.rule, &finding.file, &finding.statement),
            },
        });
        add_rule_index(&mut result, finding.rule);
        results.push(result);
    }

    for allowed in &report.allowed {
        let severity = rule_info(allowed.rule)
            .map(|(_, info)| info.default_severity)
            .unwrap_or(Severity::Error);
        let message = if allowed.message.trim().is_empty() {
            format!("{} (allowed by a suppression comment)", allowed.rule)
        } else {
            allowed.message.trim_end().to_string()
        };
        // The allowed finding carries no statement text; its message names the objects, which
        // is stable across line moves in the same way.
        let fingerprint = fingerprints.next(allowed.rule, &allowed.file, &message);
        let mut result = json!({
            "ruleId": allowed.rule,
            "level": level(severity),
            "message": { "text": message },
            "locations": [location(
                &allowed.file,
                json!({ "startLine": allowed.line.max(1) }),
            )],
            "partialFingerprints": { FINGERPRINT_KEY: fingerprint },
            "suppressions": [{
                "kind": "inSource",
                "justification": allowed.reason,
            }],
        });
        add_rule_index(&mut result, allowed.rule);
        results.push(result);
    }

    let mut document = json!({
        "$schema": SCHEMA,
        "version": "2.1.0",
        "runs": [{
            "tool": {
                "driver": {
                    "name": "migration-gate",
                    "version": env!("CARGO_PKG_VERSION"),
                    "semanticVersion": env!("CARGO_PKG_VERSION"),
                    "informationUri": env!("CARGO_PKG_REPOSITORY"),
                    "rules": CATALOGUE.iter().map(rule_descriptor).collect::<Vec<_>>(),
                },
            },
            "columnKind": "unicodeCodePoints",
            "results": results,
        }],
    });
    // The report's notes (stale table sizes, the deployer's version) are shown in every format:
    // SARIF's place for them is the run's invocation, as tool notifications.
    if !report.notes.is_empty() {
        let notifications: Vec<Value> = report
            .notes
            .iter()
            .map(|note| json!({ "level": "note", "message": { "text": note } }))
            .collect();
        document["runs"][0]["invocations"] = json!([{
            "executionSuccessful": true,
            "toolExecutionNotifications": notifications,
        }]);
    }
    let mut out = serde_json::to_string_pretty(&document).expect("a JSON value always serialises");
    out.push('\n');
    out
}

fn rule_descriptor(rule: &RuleInfo) -> Value {
    let severity = rule.default_severity.as_str();
    json!({
        "id": rule.id,
        "name": rule_name(rule.id),
        "shortDescription": { "text": rule.summary },
        "fullDescription": { "text": format!("{}.", rule.summary) },
        "help": {
            "text": help_text(rule),
            "markdown": help_markdown(rule),
        },
        "helpUri": format!("{}#{}", env!("CARGO_PKG_REPOSITORY"), rule.id),
        "defaultConfiguration": { "level": severity },
        "properties": {
            "tags": ["migration", "postgresql", "safety"],
        },
    })
}

fn help_text(rule: &RuleInfo) -> String {
    format!(
        "{}. Each finding names the safe alternative (the SQL to write instead). If the change is \
         intended, add `-- migration-gate: allow {} reason: <why>` on the line above the statement.",
        rule.summary, rule.id
    )
}

fn help_markdown(rule: &RuleInfo) -> String {
    format!(
        "**{}**: {}.\n\nEach finding names the safe alternative (the SQL to write instead). If the \
         change is intended, add a suppression with a reason on the line above the statement:\n\n\
         ```sql\n-- migration-gate: allow {} reason: <why>\n```",
        rule.id, rule.summary, rule.id
    )
}

/// `drop-column` → `DropColumn` (SARIF's `name` is an identifier-like form of the rule).
fn rule_name(id: &str) -> String {
    id.split('-')
        .map(|word| {
            let mut chars = word.chars();
            match chars.next() {
                Some(first) => first.to_uppercase().chain(chars).collect::<String>(),
                None => String::new(),
            }
        })
        .collect()
}

fn rule_info(id: &str) -> Option<(usize, &'static RuleInfo)> {
    CATALOGUE.iter().enumerate().find(|(_, rule)| rule.id == id)
}

fn add_rule_index(result: &mut Value, rule: &str) {
    if let (Some((index, _)), Some(object)) = (rule_info(rule), result.as_object_mut()) {
        object.insert("ruleIndex".to_string(), json!(index));
    }
}

fn level(severity: Severity) -> &'static str {
    match severity {
        Severity::Error => "error",
        Severity::Warning => "warning",
    }
}

fn location(file: &str, region: Value) -> Value {
    json!({
        "physicalLocation": {
            "artifactLocation": { "uri": artifact_uri(file) },
            "region": region,
        },
    })
}

/// A relative URI reference with forward slashes. Everything outside the unreserved set is
/// percent-encoded: a space or `%` would make it invalid, and a `:` in the first segment would
/// make it read as a URI scheme.
pub fn artifact_uri(file: &str) -> String {
    let path = file.replace('\\', "/");
    let (prefix, path) = match path.strip_prefix('/') {
        Some(rest) => ("file:///", rest.to_string()),
        None => ("", path.trim_start_matches("./").to_string()),
    };
    let mut uri = String::from(prefix);
    for byte in path.bytes() {
        match byte {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' | b'/' => {
                uri.push(byte as char)
            }
            _ => uri.push_str(&format!("%{byte:02X}")),
        }
    }
    uri
}

/// Stable across line moves: a hash of the rule, the file and the statement with its whitespace
/// normalised, plus the occurrence number when the same statement appears twice in a file.
#[derive(Default)]
struct Fingerprints {
    seen: HashMap<String, usize>,
}

impl Fingerprints {
    fn next(&mut self, rule: &str, file: &str, text: &str) -> String {
        let normalized = text.split_whitespace().collect::<Vec<_>>().join(" ");
        let mut hasher = Sha256::new();
        for part in [rule, file.replace('\\', "/").as_str(), normalized.as_str()] {
            hasher.update(part.as_bytes());
            hasher.update([0u8]);
        }
        let digest = hasher.finalize();
        let hex: String = digest[..16].iter().map(|b| format!("{b:02x}")).collect();
        let occurrence = self.seen.entry(hex.clone()).or_insert(0);
        *occurrence += 1;
        format!("{hex}:{occurrence}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uris_are_relative_with_forward_slashes_and_encoded() {
        assert_eq!(
            artifact_uri("prisma\\migrations\\20240101_init\\migration.sql"),
            "prisma/migrations/20240101_init/migration.sql"
        );
        assert_eq!(
            artifact_uri("./migrations/a b:c,d%e|f/migration.sql"),
            "migrations/a%20b%3Ac%2Cd%25e%7Cf/migration.sql"
        );
        assert_eq!(artifact_uri("/abs/x.sql"), "file:///abs/x.sql");
    }

    #[test]
    fn fingerprints_ignore_whitespace_and_count_repeats() {
        let mut fingerprints = Fingerprints::default();
        let first = fingerprints.next("drop-table", "m.sql", "DROP TABLE \"A\";");
        let mut other = Fingerprints::default();
        let reformatted = other.next("drop-table", "m.sql", "DROP  TABLE\n  \"A\";");
        assert_eq!(first, reformatted);
        assert!(first.ends_with(":1"));
        let repeat = fingerprints.next("drop-table", "m.sql", "DROP TABLE \"A\";");
        assert_eq!(repeat, first.replace(":1", ":2"));
        let other_rule = fingerprints.next("truncate-table", "m.sql", "DROP TABLE \"A\";");
        assert_ne!(other_rule[..32], first[..32]);
    }

    #[test]
    fn rule_names_are_camel_case() {
        assert_eq!(
            rule_name("add-foreign-key-validating"),
            "AddForeignKeyValidating"
        );
    }
}
