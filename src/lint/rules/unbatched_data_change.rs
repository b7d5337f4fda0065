//! `unbatched-data-change`: UPDATE / DELETE over an existing table in one transaction: long row
//! locks, bloat. A migration holds every touched row locked until it commits.
//!
//! Without a WHERE clause the statement touches every row of the table: an error. A targeted one
//! (with WHERE) stays a warning, since how many rows it touches is not known.

use super::{Example, Impact, RuleContext, RuleInfo, Violation, key_column};
use crate::sql::Op;
use crate::findings::Severity;

pub const RULE: RuleInfo = RuleInfo {
    id: "unbatched-data-change",
    default_severity: Severity::Warning,
    impact: Impact::Blocks,
    summary: "UPDATE / DELETE over an existing table in one transaction: long row locks, bloat (an error without WHERE)",
    check: Some(check),
    file: include_str!("unbatched_data_change.rs"),
    example: Example::Migration("UPDATE \"User\" SET \"name\" = '';\n"),
};

pub fn check(op: &Op, ctx: &RuleContext) -> Option<Violation> {
    let (verb, table, has_where) = match op {
        Op::Update { table, has_where } => ("UPDATE", table, *has_where),
        Op::Delete { table, has_where } => ("DELETE", table, *has_where),
        _ => return None,
    };
    if ctx.schema.is_new_table(table) {
        return None;
    }
    let id = key_column(ctx.schema, table);
    let rows = if has_where {
        "every matching row"
    } else {
        "every row"
    };
    // Only a statement that is just this one change can be reused in a batch loop; reading the
    // clauses of a DO block with thousands of changes, once per change, was quadratic.
    let single = ctx.statement.ops.len() == 1;
    let clauses = if single {
        clauses(&ctx.statement.text)
    } else {
        None
    };
    let condition = clauses
        .as_ref()
        .and_then(|c| c.condition.clone())
        .unwrap_or_else(|| match verb {
            "UPDATE" => "<not yet changed>".to_string(),
            _ => "<condition>".to_string(),
        });
    let batch = match verb {
        "UPDATE" => {
            let change = clauses
                .and_then(|c| c.assignments)
                .unwrap_or_else(|| "<change>".to_string());
            format!(
                "UPDATE {table} SET {change} WHERE {id} IN (SELECT {id} FROM {table} WHERE \
                 {condition} LIMIT 1000);"
            )
        }
        _ => format!(
            "DELETE FROM {table} WHERE {id} IN (SELECT {id} FROM {table} WHERE {condition} LIMIT \
             1000);"
        ),
    };
    let violation = Violation::new(
        format!(
            "{verb} on {table} changes {rows} in one transaction: the rows stay locked against \
             the app's writes until that transaction commits, and on a big table it means a long \
             migration, heavy WAL and dead-row bloat."
        ),
        format!(
            "Change the data outside the migration (a script or job), in batches that each \
             commit on their own, repeating until it affects 0 rows (the condition must leave \
             out rows already done):\n{batch}"
        ),
    );
    // Every row of the table is worse than a targeted change: an error (on a small table, the
    // table sizes of `check --stats` make it a warning again).
    Some(if has_where {
        violation
    } else {
        violation.at(Severity::Error)
    })
}

/// The parts of a plain `UPDATE t SET ... [WHERE ...]` / `DELETE FROM t [WHERE ...]` that a
/// batched loop reuses. `None` for forms a loop cannot simply reuse (FROM, USING, RETURNING, CTEs).
struct Clauses {
    assignments: Option<String>,
    condition: Option<String>,
}

fn clauses(text: &str) -> Option<Clauses> {
    let words = top_level_words(text);
    let find = |keyword: &str| words.iter().find(|(w, _)| w.eq_ignore_ascii_case(keyword));
    let first = words.first()?;
    if ["FROM", "USING", "RETURNING"]
        .iter()
        .filter(|k| !(first.0.eq_ignore_ascii_case("DELETE") && **k == "FROM"))
        .any(|k| find(k).is_some())
    {
        return None;
    }
    let where_at = find("WHERE").map(|(_, at)| *at);
    let condition = where_at.map(|at| text[at + "WHERE".len()..].trim().to_string());
    let assignments = if first.0.eq_ignore_ascii_case("UPDATE") {
        let (_, set_at) = find("SET")?;
        let end = where_at.unwrap_or(text.len());
        Some(text.get(set_at + "SET".len()..end)?.trim().to_string())
    } else if first.0.eq_ignore_ascii_case("DELETE") {
        None
    } else {
        return None;
    };
    Some(Clauses {
        assignments,
        condition,
    })
}

/// Bare words outside strings, quoted identifiers, comments and parentheses, with their byte
/// offsets.
fn top_level_words(text: &str) -> Vec<(&str, usize)> {
    crate::sql::work::read(text.len());
    let bytes = text.as_bytes();
    let mut words = Vec::new();
    let (mut i, mut depth) = (0, 0usize);
    while i < bytes.len() {
        let b = bytes[i];
        match b {
            b'\'' | b'"' => {
                i += 1;
                while i < bytes.len() && bytes[i] != b {
                    i += 1;
                }
                i += 1;
            }
            b'-' if bytes.get(i + 1) == Some(&b'-') => {
                while i < bytes.len() && bytes[i] != b'\n' {
                    i += 1;
                }
            }
            b'(' => {
                depth += 1;
                i += 1;
            }
            b')' => {
                depth = depth.saturating_sub(1);
                i += 1;
            }
            b if b.is_ascii_alphabetic() || b == b'_' => {
                let start = i;
                while i < bytes.len() && (bytes[i].is_ascii_alphanumeric() || bytes[i] == b'_') {
                    i += 1;
                }
                if depth == 0 {
                    words.push((&text[start..i], start));
                }
            }
            _ => i += 1,
        }
    }
    words
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lint::rules::testing::{assert_mentions, flags, only_violation, CREATE_DRAFT, HISTORY};

    #[test]
    fn flags_update_and_delete_on_existing_tables_with_a_batched_loop() {
        let v = only_violation(HISTORY, "UPDATE \"User\" SET x = 1;", &RULE);
        assert_mentions(&v.message, "every row");
        assert_eq!(v.severity, Some(Severity::Error), "no WHERE: every row");
        assert_mentions(&v.help, "UPDATE \"User\" SET x = 1 WHERE id IN (SELECT id FROM \"User\" WHERE <not yet changed> LIMIT 1000);");
        let v = only_violation(HISTORY, "DELETE FROM \"User\" WHERE x;", &RULE);
        assert_mentions(&v.message, "every matching row");
        assert_eq!(v.severity, Some(Severity::Warning), "targeted: a warning");
        let v = only_violation(HISTORY, "DELETE FROM \"User\";", &RULE);
        assert_eq!(v.severity, Some(Severity::Error));
        assert_mentions(&v.help, "DELETE FROM \"User\" WHERE id IN");
    }

    #[test]
    fn the_batched_loop_reuses_the_statement_s_own_change_and_condition() {
        let v = only_violation(
            HISTORY,
            "UPDATE \"Workspace\" SET \"logoUrl\" = NULL WHERE \"logoUrl\" = '' AND (SELECT 1) = 1;",
            &RULE,
        );
        assert!(v.help.contains(
            "UPDATE \"Workspace\" SET \"logoUrl\" = NULL WHERE id IN (SELECT id FROM \"Workspace\" \
             WHERE \"logoUrl\" = '' AND (SELECT 1) = 1 LIMIT 1000);"
        ), "{}", v.help);
        let v = only_violation(
            HISTORY,
            "DELETE FROM \"User\" WHERE \"email\" LIKE '%where%';",
            &RULE,
        );
        assert!(
            v.help.contains(
                "DELETE FROM \"User\" WHERE id IN (SELECT id FROM \"User\" WHERE \"email\" LIKE \
             '%where%' LIMIT 1000);"
            ),
            "{}",
            v.help
        );
        let v = only_violation(
            HISTORY,
            "UPDATE \"User\" u SET x = p.y FROM \"Post\" p WHERE p.a = u.id;",
            &RULE,
        );
        assert_mentions(&v.help, "SET <change> WHERE id IN");
    }

    #[test]
    fn the_config_still_decides_the_severity() {
        use crate::lint::engine::{analyze, AnalysisInput};
        use crate::project::config::{Config, RuleSetting};
        use crate::project::discover::Migration;
        let mut config = Config::default();
        config
            .rules
            .insert(RULE.id.to_string(), RuleSetting::Warning);
        let history = Migration::in_memory("1_history", HISTORY);
        let pending = Migration::in_memory("2_pending", "UPDATE \"User\" SET email = '';");
        let report = analyze(AnalysisInput {
            existing: &[&history],
            pending: &[&pending],
            config: &config,
            extra_findings: Vec::new(),
        });
        let found: Vec<_> = report
            .findings
            .iter()
            .filter(|f| f.rule == RULE.id)
            .collect();
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].severity, Severity::Warning);
    }

    #[test]
    fn ignores_new_tables_and_inserts() {
        let new_table = format!("{CREATE_DRAFT}UPDATE \"Draft\" SET x = 1;");
        assert!(!flags(HISTORY, &new_table, &RULE));
        let new_table = format!("{CREATE_DRAFT}DELETE FROM \"Draft\";");
        assert!(!flags(HISTORY, &new_table, &RULE));
        assert!(!flags(HISTORY, "INSERT INTO \"User\" VALUES (1);", &RULE));
    }
}
