//! Token-level classifier for statements `sqlparser` does not parse (seen in real histories:
//! `DROP INDEX CONCURRENTLY IF EXISTS`, `ALTER SEQUENCE`, `CREATE PUBLICATION`, ...). It recognises
//! the statement kind and its target; when it cannot, it still scans the tokens for destructive
//! sequences so nothing dangerous passes silently.

use super::model::{Op, Understanding};

pub(crate) fn classify(text: &str) -> (Vec<Op>, Understanding) {
    let _ = text;
    (Vec::new(), Understanding::Unparsed)
}

pub(crate) fn understand_do_block(text: &str) -> Option<(Vec<Op>, Understanding)> {
    let _ = text;
    None
}

/// The statement's leading keywords in upper case: `CREATE EXTENSION`, `GRANT`, `COMMENT ON`.
pub(crate) fn leading_keywords(text: &str) -> String {
    let words: Vec<&str> = text
        .split(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
        .filter(|w| !w.is_empty())
        .take(4)
        .collect();
    let mut kind = Vec::new();
    for word in words {
        let upper = word.to_ascii_uppercase();
        kind.push(upper);
        if kind.len() >= 2 {
            break;
        }
    }
    kind.join(" ")
}

pub(crate) fn has_word(text: &str, word: &str) -> bool {
    text.split(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
        .any(|w| w.eq_ignore_ascii_case(word))
}
