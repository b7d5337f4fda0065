//! `malformed-sql`: an unterminated comment, string, quoted identifier or dollar quote, or a NUL
//! byte. PostgreSQL (and psql, and Prisma) refuse such a file; the splitter could only run the
//! token to the end of the file, so every statement after it would go unchecked. Raised once per
//! file, at the token that is never closed.

use super::{Example, Impact, RuleInfo};
use crate::findings::{Finding, Severity};
use crate::sql::{LexicalError, Position};

pub const RULE: RuleInfo = RuleInfo {
    id: "malformed-sql",
    default_severity: Severity::Error,
    impact: Impact::FailsToApply,
    summary: "an unterminated comment, string, identifier or dollar quote, or a NUL byte: PostgreSQL refuses the file",
    check: None,
    file: include_str!("malformed_sql.rs"),
    example: Example::Migration("ALTER TABLE \"User\" ADD COLUMN \"bio\" TEXT;\n/* the comment never ends\n"),
};

pub fn finding(error: &LexicalError, file: &str, migration: &str, line_text: &str) -> Finding {
    let Position { line, column } = error.position;
    Finding {
        rule: RULE.id,
        severity: RULE.default_severity,
        file: file.to_string(),
        line,
        column,
        end_line: line,
        message: format!(
            "{} starts here: PostgreSQL refuses the file, and nothing after this point could \
             be checked.",
            capitalized(error.what)
        ),
        help: if error.what.starts_with("NUL") {
            "Remove the NUL byte; PostgreSQL cannot receive it in a query.".to_string()
        } else {
            "Close it (`*/`, `'`, `\"` or the matching `$tag$`), then run check again.".to_string()
        },
        statement: line_text.to_string(),
        migration: migration.to_string(),
        table: None,
    }
}

fn capitalized(text: &str) -> String {
    let mut chars = text.chars();
    chars.next().map_or_else(String::new, |first| {
        first.to_uppercase().chain(chars).collect()
    })
}

#[cfg(test)]
mod tests {
    use crate::lint::rules::testing::assert_mentions;
    use super::*;
    use crate::sql::lexical_error;

    #[test]
    fn points_at_the_opening_token_and_says_what_to_do() {
        let error = lexical_error("SELECT 1;\n/* open\nDROP TABLE t;").unwrap();
        let f = finding(&error, "m/migration.sql", "m", "/* open");
        assert_eq!((f.line, f.column), (2, 1));
        assert!(
            f.message.starts_with("Unterminated /* comment starts here"),
            "{}",
            f.message
        );
        assert_mentions(&f.help, "*/");
    }
}
