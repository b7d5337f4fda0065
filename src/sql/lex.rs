//! Tokens of a statement for the readers that do not use sqlparser: the splitter's own lexical
//! rules, so tokens keep byte offsets (needed to cut a `DO` body or an `IF ... THEN` prefix) and
//! never fail on unterminated input; a [`Cursor`] for the small grammar pieces they know.

use super::ident;
use super::model::ObjectName;
use super::split::{
    dollar_tag_end, is_word_start, skip_block_comment, skip_dollar_quoted, skip_line_comment,
    skip_quoted, skip_word,
};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Kind {
    /// Unquoted identifier or keyword.
    Word,
    /// `"quoted identifier"`.
    QuotedIdent,
    /// `'...'`, `E'...'`, `$tag$...$tag$`.
    String,
    /// Anything else: punctuation, operators, numbers, parameters.
    Other,
}

#[derive(Debug, Clone, Copy)]
pub(super) struct Token<'a> {
    pub(super) kind: Kind,
    /// The token as written.
    pub(super) text: &'a str,
    pub(super) start: usize,
    pub(super) end: usize,
}

impl Token<'_> {
    pub(super) fn is_word(&self, keyword: &str) -> bool {
        self.kind == Kind::Word && self.text.eq_ignore_ascii_case(keyword)
    }

    pub(super) fn is_punct(&self, punct: &str) -> bool {
        self.kind == Kind::Other && self.text == punct
    }

    /// An identifier folded the PostgreSQL way.
    pub(super) fn ident(&self) -> Option<String> {
        match self.kind {
            Kind::Word => Some(ident::fold(self.text, false)),
            Kind::QuotedIdent => Some(ident::fold(&unquote(self.text, '"'), true)),
            _ => None,
        }
    }

    /// The value of a string literal.
    pub(super) fn string_value(&self) -> Option<String> {
        if self.kind != Kind::String {
            return None;
        }
        let text = self.text;
        if let Some(after_dollar) = text.strip_prefix('$') {
            let tag_len = after_dollar.find('$').map_or(text.len(), |i| i + 2);
            let inner = text.get(tag_len..text.len().saturating_sub(tag_len));
            return Some(inner.unwrap_or("").to_string());
        }
        let quote = text.find('\'')?;
        let escapes = text[..quote].eq_ignore_ascii_case("e");
        let value = unquote(&text[quote..], '\'');
        Some(if escapes {
            value.replace("\\'", "'").replace("\\\\", "\\")
        } else {
            value
        })
    }
}

/// Strip the surrounding quotes and undouble the inner ones; tolerates a missing closing quote.
fn unquote(text: &str, quote: char) -> String {
    let inner = text.strip_prefix(quote).unwrap_or(text);
    let inner = inner.strip_suffix(quote).unwrap_or(inner);
    let doubled = [quote, quote].iter().collect::<String>();
    inner.replace(&doubled, &quote.to_string())
}

/// Tokens of `text`, comments and whitespace dropped.
pub(super) fn tokenize(text: &str) -> Vec<Token<'_>> {
    Tokens::new(text).collect()
}

/// The tokens of a text one at a time, for scans that must not hold them all (a 30 MB INSERT).
pub(super) struct Tokens<'a> {
    text: &'a str,
    at: usize,
}

impl<'a> Tokens<'a> {
    pub(super) fn new(text: &'a str) -> Self {
        Tokens { text, at: 0 }
    }
}

impl<'a> Iterator for Tokens<'a> {
    type Item = Token<'a>;

    fn next(&mut self) -> Option<Token<'a>> {
        let text = self.text;
        let bytes = text.as_bytes();
        let mut i = self.at;
        while i < bytes.len() {
            let b = bytes[i];
            if b.is_ascii_whitespace() || b == b'\x0b' {
                i += 1;
                continue;
            }
            if b == b'-' && bytes.get(i + 1) == Some(&b'-') {
                i = skip_line_comment(bytes, i);
                continue;
            }
            if b == b'/' && bytes.get(i + 1) == Some(&b'*') {
                i = skip_block_comment(bytes, i);
                continue;
            }
            let start = i;
            let (kind, end) = token_at(bytes, i);
            let end = end.min(bytes.len());
            i = end;
            // Every branch of token_at stops at an ASCII byte or the end: on char boundaries.
            if let Some(token_text) = text.get(start..end) {
                super::work::read(end - self.at);
                self.at = end;
                return Some(Token {
                    kind,
                    text: token_text,
                    start,
                    end,
                });
            }
        }
        self.at = bytes.len();
        None
    }
}

/// The kind and end of the token starting at `i` (not blank, not a comment).
fn token_at(bytes: &[u8], mut i: usize) -> (Kind, usize) {
    let b = bytes[i];
    let kind;
    match b {
        b'\'' => {
            kind = Kind::String;
            i = skip_quoted(bytes, i, b'\'', false);
        }
        b'"' => {
            kind = Kind::QuotedIdent;
            i = skip_quoted(bytes, i, b'"', false);
        }
        b'$' => match dollar_tag_end(bytes, i) {
            Some(tag_end) => {
                kind = Kind::String;
                i = skip_dollar_quoted(bytes, i, tag_end);
            }
            None => {
                kind = Kind::Other;
                i = skip_word(bytes, i + 1);
            }
        },
        _ if is_word_start(b) => {
            let end = skip_word(bytes, i);
            if bytes.get(end) == Some(&b'\'') {
                kind = Kind::String;
                let escapes = end - i == 1 && (b == b'e' || b == b'E');
                i = skip_quoted(bytes, end, b'\'', escapes);
            } else {
                kind = Kind::Word;
                i = end;
            }
        }
        b'0'..=b'9' => {
            kind = Kind::Other;
            i = skip_word(bytes, i);
            // A decimal point and fraction belong to the number.
            if bytes.get(i) == Some(&b'.') {
                i = skip_word(bytes, i + 1);
            }
        }
        b':' if bytes.get(i + 1) == Some(&b':') || bytes.get(i + 1) == Some(&b'=') => {
            kind = Kind::Other;
            i += 2;
        }
        b'<' | b'>' if bytes.get(i + 1) == Some(&b) => {
            kind = Kind::Other;
            i += 2;
        }
        _ => {
            kind = Kind::Other;
            i += 1;
        }
    }
    (kind, i)
}

/// A cursor over a statement's tokens for the small grammar pieces the classifier knows.
pub(super) struct Cursor<'t, 'a> {
    pub(super) tokens: &'t [Token<'a>],
    pub(super) at: usize,
}

impl<'t, 'a> Cursor<'t, 'a> {
    pub(super) fn new(tokens: &'t [Token<'a>]) -> Self {
        Cursor { tokens, at: 0 }
    }

    pub(super) fn peek(&self) -> Option<&Token<'a>> {
        self.tokens.get(self.at)
    }

    pub(super) fn peek_word(&self, keyword: &str) -> bool {
        self.peek().is_some_and(|t| t.is_word(keyword))
    }

    pub(super) fn eat(&mut self, keyword: &str) -> bool {
        let found = self.peek_word(keyword);
        if found {
            self.at += 1;
        }
        found
    }

    /// Eat the whole keyword sequence, or nothing.
    pub(super) fn eat_all(&mut self, keywords: &[&str]) -> bool {
        let matches = keywords.iter().enumerate().all(|(i, keyword)| {
            self.tokens
                .get(self.at + i)
                .is_some_and(|t| t.is_word(keyword))
        });
        if matches {
            self.at += keywords.len();
        }
        matches
    }

    pub(super) fn eat_punct(&mut self, punct: &str) -> bool {
        let found = self.peek().is_some_and(|t| t.is_punct(punct));
        if found {
            self.at += 1;
        }
        found
    }

    pub(super) fn ident(&mut self) -> Option<String> {
        let ident = self.peek()?.ident()?;
        self.at += 1;
        Some(ident)
    }

    pub(super) fn string(&mut self) -> Option<String> {
        let value = self.peek()?.string_value()?;
        self.at += 1;
        Some(value)
    }

    /// `name` or `schema.name`.
    pub(super) fn object_name(&mut self) -> Option<ObjectName> {
        let first = self.ident()?;
        let mut parts = vec![first];
        while self.peek().is_some_and(|t| t.is_punct(".")) {
            self.at += 1;
            parts.push(self.ident()?);
        }
        let name = parts.pop()?;
        Some(ObjectName {
            schema: parts.pop(),
            name,
        })
    }

    /// Comma-separated object names.
    pub(super) fn object_names(&mut self) -> Vec<ObjectName> {
        let mut names = Vec::new();
        while let Some(name) = self.object_name() {
            names.push(name);
            if !self.eat_punct(",") {
                break;
            }
        }
        names
    }

    pub(super) fn at_end(&self) -> bool {
        self.at >= self.tokens.len()
    }

    /// The rest of the tokens, up to the next depth-0 `,` (not consumed).
    pub(super) fn until_comma(&mut self) -> &'t [Token<'a>] {
        let start = self.at;
        let mut depth = 0i32;
        while let Some(token) = self.peek() {
            if token.is_punct("(") || token.is_punct("[") {
                depth += 1;
            } else if token.is_punct(")") || token.is_punct("]") {
                depth -= 1;
            } else if depth <= 0 && token.is_punct(",") {
                break;
            }
            self.at += 1;
        }
        &self.tokens[start..self.at]
    }

    /// Skip to just past the `)` closing the group whose `(` was just eaten; return its inside.
    pub(super) fn until_comma_or_paren_end(&mut self) -> &'t [Token<'a>] {
        let start = self.at;
        let mut depth = 0i32;
        while let Some(token) = self.peek() {
            if token.is_punct("(") {
                depth += 1;
            } else if token.is_punct(")") {
                if depth == 0 {
                    let inside = &self.tokens[start..self.at];
                    self.at += 1;
                    return inside;
                }
                depth -= 1;
            }
            self.at += 1;
        }
        &self.tokens[start..]
    }
}

/// Source text covered by a run of tokens.
pub(super) fn text_of<'a>(text: &'a str, tokens: &[Token<'_>]) -> &'a str {
    match (tokens.first(), tokens.last()) {
        (Some(first), Some(last)) => text.get(first.start..last.end).unwrap_or(""),
        _ => "",
    }
}

/// The last element of a column list runs up to the list's `)` and whatever follows it.
pub(super) fn trim_closing_paren<'t, 'a>(element: &'t [Token<'a>]) -> &'t [Token<'a>] {
    let mut depth = 0i32;
    for (i, token) in element.iter().enumerate() {
        if token.is_punct("(") {
            depth += 1;
        } else if token.is_punct(")") {
            if depth == 0 {
                return &element[..i];
            }
            depth -= 1;
        }
    }
    element
}

pub(super) fn strip_collate<'t, 'a>(tokens: &'t [Token<'a>]) -> &'t [Token<'a>] {
    match tokens.iter().position(|t| t.is_word("collate")) {
        Some(at) => &tokens[..at],
        None => tokens,
    }
}

/// The statement's leading keywords in upper case: `CREATE EXTENSION`, `GRANT`, `COMMENT ON`,
/// `CREATE FUNCTION` for `CREATE OR REPLACE FUNCTION`, `CREATE INDEX` for `CREATE UNIQUE INDEX`.
pub(super) fn leading_keywords(text: &str) -> String {
    leading_keywords_of(&tokenize(text))
}

pub(super) fn leading_keywords_of(tokens: &[Token<'_>]) -> String {
    let words: Vec<String> = tokens
        .iter()
        .take(8)
        .take_while(|t| t.kind == Kind::Word)
        .map(|t| t.text.to_ascii_uppercase())
        .collect();
    let Some(first) = words.first() else {
        return String::new();
    };
    let mut kind = vec![first.as_str()];
    let rest = &words[1..];
    let mut take_object_kind = |skippable: &[&str], compound: &[&str]| {
        let mut rest = rest
            .iter()
            .map(String::as_str)
            .skip_while(|w| skippable.contains(w));
        if let Some(object) = rest.next() {
            kind.push(object);
            if compound.contains(&object) {
                if let Some(second) = rest.next() {
                    kind.push(second);
                    if second == "SEARCH" {
                        if let Some(third) = rest.next() {
                            kind.push(third);
                        }
                    }
                }
            }
        }
    };
    let compound = [
        "MATERIALIZED",
        "FOREIGN",
        "EVENT",
        "USER",
        "ACCESS",
        "TEXT",
        "DEFAULT",
        "LARGE",
    ];
    match first.as_str() {
        "CREATE" => take_object_kind(
            &[
                "OR",
                "REPLACE",
                "UNIQUE",
                "TEMP",
                "TEMPORARY",
                "UNLOGGED",
                "GLOBAL",
                "LOCAL",
                "TRUSTED",
                "PROCEDURAL",
                "CONSTRAINT",
                "RECURSIVE",
            ],
            &compound,
        ),
        "ALTER" | "DROP" => take_object_kind(&[], &compound),
        "COMMENT" | "SECURITY" | "IMPORT" => take_object_kind(&[], &[]),
        "START" => take_object_kind(&[], &[]),
        "REFRESH" => take_object_kind(&[], &["MATERIALIZED"]),
        _ => {}
    }
    // USER MAPPING is compound but CREATE USER alone is a role.
    if kind.len() == 3 && kind[1] == "USER" && kind[2] != "MAPPING" {
        kind.truncate(2);
    }
    kind.join(" ")
}

/// Binary operators and set operations at any depth: each is one level of the left-deep tree
/// sqlparser builds for `1 + 1 + ...` or `a OR b OR ...`, which is then walked and dropped
/// recursively.
/// The longest run of binary operators that sqlparser would fold into one left-deep tree: the
/// operators of one expression at one nesting level. A `,` or a CASE's WHEN/THEN/ELSE ends an
/// expression, and parentheses or CASE ... END nest a new one, so a 2,500-row VALUES list or a
/// 3,000-branch CASE has short chains however many operators it holds.
pub(super) fn longest_operator_chain(text: &str) -> usize {
    let mut open_levels = vec![0usize];
    let mut longest = 0;
    for token in Tokens::new(text) {
        let nested = open_levels.len() > 1;
        let current = open_levels
            .last_mut()
            .expect("the outermost level is never closed");
        match token.kind {
            Kind::Other if token.is_punct("(") => open_levels.push(0),
            Kind::Other if token.is_punct(")") && nested => {
                open_levels.pop();
            }
            Kind::Other if token.is_punct(",") => *current = 0,
            // A `::` cast nests its operand like a binary operator does.
            Kind::Other
                if token.text == "::"
                    || token.text.bytes().all(|b| b"+-*/%<>=!~^&|#@?".contains(&b)) =>
            {
                *current += 1;
                longest = longest.max(*current);
            }
            Kind::Word if token.is_word("case") => open_levels.push(0),
            Kind::Word if token.is_word("end") && nested => {
                open_levels.pop();
            }
            Kind::Word if ["when", "then", "else"].iter().any(|k| token.is_word(k)) => {
                *current = 0;
            }
            Kind::Word
                if ["and", "or", "union", "intersect", "except"]
                    .iter()
                    .any(|k| token.is_word(k)) =>
            {
                *current += 1;
                longest = longest.max(*current);
            }
            _ => {}
        }
    }
    longest
}

pub(super) fn has_word(text: &str, word: &str) -> bool {
    tokenize(text).iter().any(|t| t.is_word(word))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn leading_keywords_name_the_statement_kind() {
        for (sql, kind) in [
            (
                "create or replace function f() returns int",
                "CREATE FUNCTION",
            ),
            ("CREATE UNIQUE INDEX i ON t (a)", "CREATE INDEX"),
            (
                "create materialized view v as select 1",
                "CREATE MATERIALIZED VIEW",
            ),
            ("COMMENT ON TABLE t IS 'x'", "COMMENT ON"),
            ("GRANT SELECT ON t TO r", "GRANT"),
            ("CREATE USER bob", "CREATE USER"),
            (
                "CREATE USER MAPPING FOR bob SERVER s",
                "CREATE USER MAPPING",
            ),
            (
                "ALTER DEFAULT PRIVILEGES GRANT SELECT ON TABLES TO r",
                "ALTER DEFAULT PRIVILEGES",
            ),
            (
                "CREATE TEXT SEARCH CONFIGURATION c (COPY = english)",
                "CREATE TEXT SEARCH CONFIGURATION",
            ),
        ] {
            assert_eq!(leading_keywords(sql), kind, "{sql}");
        }
    }
}
