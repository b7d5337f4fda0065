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
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Suppressions {
    /// `allow-file` comments before the first statement.
    pub file: Vec<Allow>,
    /// Allows directly above each statement; index-aligned with the statements given to `parse`.
    pub by_statement: Vec<Vec<Allow>>,
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
    let _ = (source, statements);
    todo!("suppress::parse")
}
