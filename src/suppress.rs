//! Suppression comments, the review trail:
//! `-- migration-gate: allow drop-column,rename-column reason: <text>` on the comment lines
//! directly above a statement, and `-- migration-gate: allow-file <rules> reason: <text>` before
//! the first statement of a file. The reason is mandatory: an allow without one is ignored (and
//! the analysis reports `allow-without-reason`).

use crate::sql::Statement;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Allow {
    /// Rule ids as written (unknown ids are kept; the analysis decides what to say of them).
    pub rules: Vec<String>,
    /// `None` when the comment has no (or an empty) reason: the allow is then ignored.
    pub reason: Option<String>,
    /// 1-based line of the comment.
    pub line: u32,
    /// 1-based column of the comment's `--`.
    pub column: u32,
    /// The comment as it should read, when it gives a reason in another form than `reason:`
    /// (`allow drop-column: text`, `because text`, `reason text`, `reasn: text`). The allow is
    /// ignored like one without a reason, and its warning shows this fix.
    pub corrected: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Suppressions {
    /// `allow-file` comments before the first statement.
    pub file: Vec<Allow>,
    /// Allows directly above each statement; index-aligned with the statements given to `parse`.
    pub by_statement: Vec<Vec<Allow>>,
    /// Allow comments that cover nothing because of where they stand: not directly above a
    /// statement (a blank line or code in between), or an `allow-file` after the first statement.
    pub detached: Vec<Allow>,
}

impl Suppressions {
    /// The allow (with a reason) that covers `rule` on statement `index`: the statement's own
    /// first, then the file's.
    pub fn covering(&self, index: usize, rule: &str) -> Option<&Allow> {
        let own = self.by_statement.get(index).into_iter().flatten();
        own.chain(self.file.iter())
            .find(|allow| allow.reason.is_some() && allow.rules.iter().any(|r| r == rule))
    }

    /// Every allow comment, for reporting the ones without a reason.
    pub fn all(&self) -> impl Iterator<Item = &Allow> {
        self.file.iter().chain(self.by_statement.iter().flatten())
    }
}

/// Find the allow comments of one file.
pub fn parse(source: &str, statements: &[Statement]) -> Suppressions {
    let first_statement = statements.first().map_or(source.len(), |s| s.span.start);
    let file = comment_lines(source, 0, first_statement)
        .filter_map(|(line, column, text)| parse_comment(text, line, column))
        .filter(|(scope, _)| *scope == Scope::File)
        .map(|(_, allow)| allow)
        .collect();

    let mut gap_start = 0;
    let by_statement = statements
        .iter()
        .map(|statement| {
            let allows = directly_above(source, gap_start, statement)
                .into_iter()
                .filter_map(|(line, column, text)| parse_comment(text, line, column))
                .filter(|(scope, _)| *scope == Scope::Statement)
                .map(|(_, allow)| allow)
                .collect();
            gap_start = statement.span.end;
            allows
        })
        .collect();
    let mut suppressions = Suppressions {
        file,
        by_statement,
        detached: Vec::new(),
    };
    suppressions.detached = detached(source, statements, &suppressions);
    suppressions
}

/// Every allow comment between statements that neither `file` nor `by_statement` took.
fn detached(source: &str, statements: &[Statement], taken: &Suppressions) -> Vec<Allow> {
    let taken: std::collections::HashSet<u32> = taken.all().map(|a| a.line).collect();
    let mut spans = statements.iter().map(|s| s.span).peekable();
    let mut found = Vec::new();
    let mut line_start = 0;
    for (index, line) in source.split('\n').enumerate() {
        let start = line_start;
        line_start += line.len() + 1;
        let Some((column, text)) = line_comment(line) else {
            continue;
        };
        let at = start + (line.len() - text.len() - "--".len());
        while spans.peek().is_some_and(|span| span.end <= at) {
            spans.next();
        }
        // A comment line inside a statement (a CREATE TABLE, a DO body) is not an allow.
        if spans.peek().is_some_and(|span| span.start <= at) {
            continue;
        }
        let line_number = index as u32 + 1;
        if taken.contains(&line_number) {
            continue;
        }
        if let Some((_, allow)) = parse_comment(text, line_number, column) {
            found.push(allow);
        }
    }
    found
}

#[derive(Debug, PartialEq, Eq)]
enum Scope {
    File,
    Statement,
}

/// `(line, column, text after "--")` of every `--` comment that stands alone on a line within
/// `source[from..to]`.
fn comment_lines(source: &str, from: usize, to: usize) -> impl Iterator<Item = (u32, u32, &str)> {
    let region = source.get(from..to).unwrap_or("");
    let first_line = line_of(source, from);
    let starts_mid_line = from > 0 && !source[..from].ends_with('\n');
    region
        .split('\n')
        .enumerate()
        .filter(move |(i, _)| !(*i == 0 && starts_mid_line))
        .filter_map(move |(i, line)| {
            let (column, text) = line_comment(line)?;
            Some((first_line + i as u32, column, text))
        })
}

/// The run of comment-only lines directly above `statement` (no blank line in between), after
/// the previous statement ended at `gap_start`.
fn directly_above<'a>(
    source: &'a str,
    gap_start: usize,
    statement: &Statement,
) -> Vec<(u32, u32, &'a str)> {
    let gap_end = statement.span.start.min(source.len());
    let gap_start = gap_start.min(gap_end);
    // The statement's own line (up to its first token) is not a line above it.
    let above_end = source[..gap_end].rfind('\n').map_or(0, |i| i + 1);
    if above_end <= gap_start {
        return Vec::new();
    }
    let lines: Vec<&str> = source[gap_start..above_end - 1].split('\n').collect();
    let starts_mid_line = gap_start > 0 && !source[..gap_start].ends_with('\n');
    // Counted back from the statement's own line: no rescan of the file per statement.
    let statement_line = statement.start.line;
    let mut run = Vec::new();
    for (i, line) in lines.iter().enumerate().rev() {
        if i == 0 && starts_mid_line {
            break;
        }
        let Some((column, text)) = line_comment(line) else {
            break;
        };
        let above = (lines.len() - i) as u32;
        run.push((statement_line.saturating_sub(above), column, text));
    }
    run.reverse();
    run
}

/// `(column, text after "--")` of a line that holds only a `--` comment. A byte order mark
/// (which editors on Windows put before the first line) is not indentation.
fn line_comment(line: &str) -> Option<(u32, &str)> {
    let line = line.strip_prefix('\u{feff}').unwrap_or(line);
    let trimmed = line.trim_start();
    let text = trimmed.strip_prefix("--")?;
    let indent = line[..line.len() - trimmed.len()].chars().count();
    Some((indent as u32 + 1, text))
}

fn line_of(source: &str, offset: usize) -> u32 {
    let offset = offset.min(source.len());
    source.as_bytes()[..offset]
        .iter()
        .filter(|&&b| b == b'\n')
        .count() as u32
        + 1
}

/// ` migration-gate: allow[-file] r1,r2 reason: text` (the text after `--`).
fn parse_comment(text: &str, line: u32, column: u32) -> Option<(Scope, Allow)> {
    let rest = text.trim().strip_prefix("migration-gate")?.trim_start();
    let rest = rest.strip_prefix(':')?.trim_start();
    let (scope, rest) = if let Some(rest) = rest.strip_prefix("allow-file") {
        (Scope::File, rest)
    } else {
        (Scope::Statement, rest.strip_prefix("allow")?)
    };
    // `allowance` is not `allow`: the keyword must end there.
    if !rest.is_empty() && !rest.starts_with(char::is_whitespace) {
        return None;
    }
    // `Reason:` works too; ASCII lower-casing keeps the byte offsets.
    let (rules, reason, attempted) = match rest.to_ascii_lowercase().find("reason:") {
        Some(at) => (&rest[..at], Some(rest[at + "reason:".len()..].trim()), None),
        None => match reason_near_miss(rest) {
            Some((rules_end, attempted)) => (&rest[..rules_end], None, Some(attempted)),
            None => (rest, None, None),
        },
    };
    let rules: Vec<String> = rules
        .split(|c: char| c == ',' || c.is_whitespace())
        .filter(|r| !r.is_empty())
        .map(str::to_string)
        .collect();
    let reason = reason.filter(|r| !r.is_empty()).map(str::to_string);
    let keyword = match scope {
        Scope::File => "allow-file",
        Scope::Statement => "allow",
    };
    let corrected = attempted.filter(|text| !text.is_empty()).map(|text| {
        format!(
            "-- migration-gate: {keyword} {} reason: {text}",
            rules.join(",")
        )
    });
    Some((
        scope,
        Allow {
            rules,
            reason,
            line,
            column,
            corrected,
        },
    ))
}

/// A reason written another way than `reason: <text>`: where the rule list ends, and the
/// reason text meant. Recognised: a colon after the last rule (`drop-column: text`), `because
/// text`, `reason` without its colon (`reason text`, `reason - text`, `reason=text`) and a
/// misspelled `reason` (`reasn: text`).
fn reason_near_miss(rest: &str) -> Option<(usize, String)> {
    let mut offset = 0;
    for token in rest.split_inclusive(char::is_whitespace) {
        let start = offset;
        offset += token.len();
        let word = token.trim();
        if word.is_empty() {
            continue;
        }
        // `reason=text` is one token: judge the word before the `=` or `:`.
        let bare = word
            .split([':', '='])
            .next()
            .unwrap_or(word)
            .trim_end_matches(['-', ','])
            .to_ascii_lowercase();
        let after = rest[offset..].trim_start_matches([' ', '\t', ':', '-', '=']);
        if bare == "because" {
            return Some((start, rest[start..].trim().to_string()));
        }
        let misspelled_reason = (4..=8).contains(&bare.len())
            && crate::rules::find(&bare).is_none()
            && crate::rules::allow_without_reason::edit_distance(&bare, "reason") <= 2;
        if bare == "reason" || misspelled_reason {
            let glued = word
                .split_once(['=', ':'])
                .map_or("", |(_, text)| text)
                .trim();
            let text = if glued.is_empty() {
                after.trim().to_string()
            } else {
                format!("{glued} {}", after.trim()).trim().to_string()
            };
            return Some((start, text));
        }
        if let Some(rule) = word.strip_suffix(':') {
            return Some((start + rule.len(), after.trim().to_string()));
        }
        // After the rules, a word that is no rule id starts the reason: bare prose (`unused since
        // v2`), a dash (`- unused`, `— unused`) or a parenthesis. Without this each word would be
        // reported as an unknown rule id.
        if start > 0 && !names_rules(word) {
            let text = rest[start..]
                .trim()
                .trim_start_matches(['-', '\u{2014}', '\u{2013}'])
                .trim();
            let text = text
                .strip_prefix('(')
                .and_then(|inner| inner.strip_suffix(')'))
                .unwrap_or(text);
            return Some((start, text.trim().to_string()));
        }
    }
    None
}

/// Whether `word` reads as rule ids (`drop-column`, `drop-column,rename-column,`, a misspelt
/// id), rather than as the first word of a reason.
fn names_rules(word: &str) -> bool {
    let mut ids = word.split(',').filter(|id| !id.is_empty()).peekable();
    ids.peek().is_some()
        && ids.all(|id| {
            let id = id.to_ascii_lowercase();
            let id_shaped = id.contains('-')
                && id.chars().any(|c| c.is_ascii_alphabetic())
                && id
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
            id_shaped || crate::rules::allow_without_reason::closest_rule(&id).is_some()
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sql::{Position, Span, Understanding};

    /// Statements at the given `(source)` substrings, positioned the way the splitter would.
    fn statements(source: &str, texts: &[&str]) -> Vec<Statement> {
        let mut from = 0;
        texts
            .iter()
            .map(|text| {
                let start = from + source[from..].find(text).expect("statement in source");
                let end = start + text.len();
                from = end;
                let line = line_of(source, start);
                Statement {
                    text: text.to_string(),
                    span: Span { start, end },
                    start: Position { line, column: 1 },
                    end: Position {
                        line: line_of(source, end),
                        column: 1,
                    },
                    ops: vec![],
                    understanding: Understanding::Parsed,
                }
            })
            .collect()
    }

    #[test]
    fn allow_directly_above_a_statement_covers_it() {
        let source = "CREATE TABLE a (id int);\n\
                      -- migration-gate: allow drop-column,rename-column reason: column unused since v2\n\
                      -- AlterTable\n\
                      ALTER TABLE a DROP COLUMN b;\n";
        let stmts = statements(
            source,
            &["CREATE TABLE a (id int)", "ALTER TABLE a DROP COLUMN b"],
        );
        let s = parse(source, &stmts);
        assert!(s.by_statement[0].is_empty());
        assert_eq!(
            s.by_statement[1],
            vec![Allow {
                rules: vec!["drop-column".into(), "rename-column".into()],
                reason: Some("column unused since v2".into()),
                line: 2,
                column: 1,
                corrected: None,
            }]
        );
        assert_eq!(s.covering(1, "drop-column").map(|a| a.line), Some(2));
        assert!(s.covering(1, "drop-table").is_none());
        assert!(s.covering(0, "drop-column").is_none());
    }

    #[test]
    fn a_blank_line_or_code_breaks_the_run() {
        let source = "-- migration-gate: allow drop-table reason: old\n\
                      \n\
                      DROP TABLE a;\n\
                      SELECT 1; -- migration-gate: allow drop-table reason: trailing\n\
                      DROP TABLE b;\n";
        let stmts = statements(source, &["DROP TABLE a", "SELECT 1", "DROP TABLE b"]);
        let s = parse(source, &stmts);
        assert!(s.by_statement.iter().all(Vec::is_empty), "{s:?}");
        assert_eq!(
            s.detached.iter().map(|a| a.line).collect::<Vec<_>>(),
            vec![1]
        );
    }

    #[test]
    fn misplaced_allows_are_detached_and_comments_inside_statements_are_not_allows() {
        let source = "CREATE TABLE a (\n\
                      -- migration-gate: allow drop-table reason: inside the statement\n\
                      id int);\n\
                      -- migration-gate: allow-file drop-table reason: too late\n\
                      \n\
                      -- migration-gate: allow drop-column reason: above a blank line\n\
                      \n\
                      -- migration-gate: allow drop-table reason: taken\n\
                      DROP TABLE a;\n\
                      -- migration-gate: allow truncate-table reason: after everything\n";
        let stmts = statements(
            source,
            &["CREATE TABLE a (\n-- migration-gate: allow drop-table reason: inside the statement\nid int)", "DROP TABLE a"],
        );
        let s = parse(source, &stmts);
        assert_eq!(s.by_statement[1].len(), 1);
        let lines: Vec<u32> = s.detached.iter().map(|a| a.line).collect();
        assert_eq!(lines, vec![4, 6, 10]);
    }

    #[test]
    fn allow_without_reason_is_kept_but_covers_nothing() {
        let source = "  -- migration-gate: allow drop-table\nDROP TABLE a;\n\
                      -- migration-gate: allow drop-table reason:   \nDROP TABLE b;";
        let stmts = statements(source, &["DROP TABLE a", "DROP TABLE b"]);
        let s = parse(source, &stmts);
        assert_eq!(s.by_statement[0][0].reason, None);
        assert_eq!(s.by_statement[0][0].column, 3);
        assert_eq!(s.by_statement[1][0].reason, None);
        assert!(s.covering(0, "drop-table").is_none());
        assert_eq!(s.all().filter(|a| a.reason.is_none()).count(), 2);
        let source = "-- migration-gate: allow drop-table Reason: Legacy\nDROP TABLE a;";
        let s = parse(source, &statements(source, &["DROP TABLE a"]));
        assert_eq!(s.by_statement[0][0].reason.as_deref(), Some("Legacy"));
    }

    #[test]
    fn allows_on_the_first_line_after_a_byte_order_mark_count() {
        let source = "\u{feff}-- migration-gate: allow drop-column reason: unused since v2\n\
                      ALTER TABLE a DROP COLUMN b;\n";
        let s = parse(
            source,
            &statements(source, &["ALTER TABLE a DROP COLUMN b"]),
        );
        let allow = s
            .covering(0, "drop-column")
            .expect("the allow covers the statement");
        assert_eq!((allow.line, allow.column), (1, 1));

        let source = "\u{feff}-- migration-gate: allow-file drop-table reason: staging reset\n\
                      \n\
                      DROP TABLE a;\n";
        let s = parse(source, &statements(source, &["DROP TABLE a"]));
        assert_eq!(s.covering(0, "drop-table").map(|a| a.line), Some(1));
        assert!(s.detached.is_empty());
    }

    #[test]
    fn allow_file_before_the_first_statement_covers_every_statement() {
        let source =
            "-- migration-gate: allow-file drop-table, truncate-table reason: staging reset\n\
                      -- DropTable\n\
                      DROP TABLE a;\n\
                      -- migration-gate: allow-file drop-column reason: too late, ignored\n\
                      TRUNCATE b;\n";
        let stmts = statements(source, &["DROP TABLE a", "TRUNCATE b"]);
        let s = parse(source, &stmts);
        assert_eq!(s.file.len(), 1);
        assert_eq!(s.file[0].rules, vec!["drop-table", "truncate-table"]);
        assert_eq!(s.covering(1, "truncate-table").map(|a| a.line), Some(1));
        assert!(s.covering(1, "drop-column").is_none());
        // The file-level allow is not also a statement allow.
        assert!(s.by_statement[0].is_empty());
    }

    #[test]
    fn other_comments_and_lookalikes_are_not_allows() {
        let source = "-- migration-gate: allowance drop-table reason: x\n\
                      -- migration gate: allow drop-table reason: x\n\
                      -- just a note\n\
                      DROP TABLE a;";
        let stmts = statements(source, &["DROP TABLE a"]);
        assert!(parse(source, &stmts).by_statement[0].is_empty());
    }

    #[test]
    fn file_without_statements_and_odd_input_do_not_panic() {
        let s = parse("-- migration-gate: allow-file drop-table reason: x", &[]);
        assert_eq!(s.file.len(), 1);
        let bogus = statements("x", &["x"]);
        let mut far = bogus[0].clone();
        far.span = Span {
            start: 99,
            end: 120,
        };
        let _ = parse("ab\ncd", &[far]);
    }

    #[test]
    fn reasons_written_almost_right_are_corrected_not_taken() {
        let corrected = |text: &str| {
            let (_, allow) = parse_comment(text, 1, 1).expect("an allow");
            assert_eq!(allow.reason, None, "{text}");
            (allow.rules, allow.corrected)
        };
        let fixed = |rules: &str, reason: &str| {
            Some(format!("-- migration-gate: allow {rules} reason: {reason}"))
        };
        assert_eq!(
            corrected(" migration-gate: allow drop-column,rename-column: old, unused"),
            (
                vec!["drop-column".to_string(), "rename-column".to_string()],
                fixed("drop-column,rename-column", "old, unused")
            )
        );
        assert_eq!(
            corrected(" migration-gate: allow drop-column Because: unused").1,
            fixed("drop-column", "Because: unused")
        );
        assert_eq!(
            corrected(" migration-gate: allow drop-column reason=unused now").1,
            fixed("drop-column", "unused now")
        );
        assert_eq!(
            corrected(" migration-gate: allow drop-column resaon - unused").1,
            fixed("drop-column", "unused")
        );
        let (_, file) =
            parse_comment(" migration-gate: allow-file drop-table: gone", 1, 1).unwrap();
        assert_eq!(
            file.corrected.as_deref(),
            Some("-- migration-gate: allow-file drop-table reason: gone")
        );
        // Nothing that looks like a reason: a plain allow without one, nothing to correct.
        assert_eq!(
            corrected(" migration-gate: allow drop-column"),
            (vec!["drop-column".to_string()], None)
        );
        assert_eq!(corrected(" migration-gate: allow drop-column:").1, None);
        // Rule ids after the first one, misspelt ones included, are still rules.
        assert_eq!(
            corrected(" migration-gate: allow drop-column, rename-colum,drop-tabel"),
            (
                vec![
                    "drop-column".to_string(),
                    "rename-colum".to_string(),
                    "drop-tabel".to_string()
                ],
                None
            )
        );
        assert_eq!(
            corrected(" migration-gate: allow drop-column,rename-column \u{2014} old, unused"),
            (
                vec!["drop-column".to_string(), "rename-column".to_string()],
                fixed("drop-column,rename-column", "old, unused")
            )
        );
        // The real syntax is untouched.
        let (_, right) =
            parse_comment(" migration-gate: allow drop-column reason: because x", 1, 1).unwrap();
        assert_eq!(right.reason.as_deref(), Some("because x"));
        assert_eq!(right.corrected, None);
    }
}
