//! Statement splitter that keeps exact byte spans and 1-based line/column positions.
//!
//! Correct for `--` and nested `/* */` comments, `'...'` and `E'...'` strings (with `''` and, in
//! `E''`, backslash escapes), `"quoted identifiers"`, `$tag$ ... $tag$` dollar quotes, and
//! `BEGIN ... COMMIT` blocks (each of BEGIN/COMMIT is its own statement). Never panics.

/// Byte offsets into the file's source: `source[start..end]`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct Span {
    pub start: usize,
    pub end: usize,
}

/// 1-based line and column (column counted in characters, as editors and GitHub show it).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub struct Position {
    pub line: u32,
    pub column: u32,
}

/// One statement as it stands in the file, before it is understood.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RawStatement {
    /// From the statement's first token up to and excluding its terminating `;` (or end of file).
    pub span: Span,
    /// Position of the first token.
    pub start: Position,
    /// Position of the last character of the statement (before the `;`).
    pub end: Position,
}

impl RawStatement {
    pub fn text<'a>(&self, source: &'a str) -> &'a str {
        source.get(self.span.start..self.span.end).unwrap_or("")
    }
}

/// Split a whole file. Empty statements (`;;`) and comment-only tails produce nothing.
pub fn split(source: &str) -> Vec<RawStatement> {
    let _ = source;
    todo!("sql::split")
}
