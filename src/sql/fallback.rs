//! Token-level classifier for statements `sqlparser` does not parse (seen in real histories:
//! `DROP INDEX CONCURRENTLY IF EXISTS`, `ALTER SEQUENCE`, `CREATE PUBLICATION`, ...). It recognises
//! the statement kind and its target; when it cannot, it still scans the tokens for destructive
//! sequences so nothing dangerous passes silently.
//!
//! `DO` blocks are analysed here too: the PL/pgSQL frame is stripped and the SQL inside is
//! understood statement by statement, so a `DO` block that drops a column yields `DropColumn`.
//!
//! The tokens come from the splitter's own lexical rules rather than sqlparser's tokenizer: they
//! keep byte offsets (needed to cut a `DO` body or an `IF ... THEN` prefix) and never fail on
//! unterminated input.

use super::model::{
    BodyOp, ColumnSpec, ObjectName, Op, TransactionControl, TypeName, Understanding,
};
use super::split::{
    dollar_tag_end, is_word_start, skip_block_comment, skip_dollar_quoted, skip_line_comment,
    skip_quoted, skip_word, split,
};

/// Nested `DO` / `EXECUTE '...'` deeper than this is not followed (it only guards the stack).
const MAX_NESTING: u32 = 8;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
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
struct Token<'a> {
    kind: Kind,
    /// The token as written.
    text: &'a str,
    start: usize,
    end: usize,
}

impl Token<'_> {
    fn is_word(&self, keyword: &str) -> bool {
        self.kind == Kind::Word && self.text.eq_ignore_ascii_case(keyword)
    }

    fn is_punct(&self, punct: &str) -> bool {
        self.kind == Kind::Other && self.text == punct
    }

    /// An identifier folded the PostgreSQL way.
    fn ident(&self) -> Option<String> {
        match self.kind {
            Kind::Word => Some(self.text.to_ascii_lowercase()),
            Kind::QuotedIdent => Some(unquote(self.text, '"')),
            _ => None,
        }
    }

    /// The value of a string literal.
    fn string_value(&self) -> Option<String> {
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
fn tokenize(text: &str) -> Vec<Token<'_>> {
    Tokens::new(text).collect()
}

/// The tokens of a text one at a time, for scans that must not hold them all (a 30 MB INSERT).
struct Tokens<'a> {
    text: &'a str,
    at: usize,
}

impl<'a> Tokens<'a> {
    fn new(text: &'a str) -> Self {
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
struct Cursor<'t, 'a> {
    tokens: &'t [Token<'a>],
    at: usize,
}

impl<'t, 'a> Cursor<'t, 'a> {
    fn new(tokens: &'t [Token<'a>]) -> Self {
        Cursor { tokens, at: 0 }
    }

    fn peek(&self) -> Option<&Token<'a>> {
        self.tokens.get(self.at)
    }

    fn peek_word(&self, keyword: &str) -> bool {
        self.peek().is_some_and(|t| t.is_word(keyword))
    }

    fn eat(&mut self, keyword: &str) -> bool {
        let found = self.peek_word(keyword);
        if found {
            self.at += 1;
        }
        found
    }

    /// Eat the whole keyword sequence, or nothing.
    fn eat_all(&mut self, keywords: &[&str]) -> bool {
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

    fn eat_punct(&mut self, punct: &str) -> bool {
        let found = self.peek().is_some_and(|t| t.is_punct(punct));
        if found {
            self.at += 1;
        }
        found
    }

    fn ident(&mut self) -> Option<String> {
        let ident = self.peek()?.ident()?;
        self.at += 1;
        Some(ident)
    }

    fn string(&mut self) -> Option<String> {
        let value = self.peek()?.string_value()?;
        self.at += 1;
        Some(value)
    }

    /// `name` or `schema.name`.
    fn object_name(&mut self) -> Option<ObjectName> {
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
    fn object_names(&mut self) -> Vec<ObjectName> {
        let mut names = Vec::new();
        while let Some(name) = self.object_name() {
            names.push(name);
            if !self.eat_punct(",") {
                break;
            }
        }
        names
    }

    fn at_end(&self) -> bool {
        self.at >= self.tokens.len()
    }

    /// The rest of the tokens, up to the next depth-0 `,` (not consumed).
    fn until_comma(&mut self) -> &'t [Token<'a>] {
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
}

/// Source text covered by a run of tokens.
fn text_of<'a>(text: &'a str, tokens: &[Token<'_>]) -> &'a str {
    match (tokens.first(), tokens.last()) {
        (Some(first), Some(last)) => text.get(first.start..last.end).unwrap_or(""),
        _ => "",
    }
}

/// Classify a statement sqlparser could not (or not faithfully) map.
pub(crate) fn classify(text: &str) -> (Vec<Op>, Understanding) {
    let tokens = tokenize(text);
    if let Some(ops) = classify_tokens(text, &tokens) {
        return (ops, Understanding::Classified);
    }
    (scan_destructive(text, &tokens), Understanding::Unparsed)
}

fn classify_tokens(text: &str, tokens: &[Token<'_>]) -> Option<Vec<Op>> {
    let mut c = Cursor::new(tokens);
    let first = c.peek()?;
    if first.kind != Kind::Word {
        return None;
    }
    let kind = leading_keywords_of(tokens);
    let other = || Some(vec![Op::Other { kind: kind.clone() }]);
    let non_transactional = || Some(vec![Op::NonTransactional { kind: kind.clone() }]);
    match kind.as_str() {
        "DROP INDEX" => drop_index(&mut c),
        "CREATE INDEX" => create_index(text, &mut c),
        "ALTER TYPE" => alter_type(&mut c).or_else(other),
        "ALTER TABLE" => {
            let ops = alter_table(text, &mut c);
            ops.complete.then_some(ops.ops)
        }
        "ALTER INDEX" => alter_index(&mut c).or_else(other),
        "REINDEX" => Some(reindex(&mut c)),
        "DROP TABLE" => {
            c.eat_all(&["drop", "table"]);
            let if_exists = c.eat_all(&["if", "exists"]);
            let names = c.object_names();
            let cascade = c.eat("cascade");
            c.eat("restrict");
            (c.at_end() && !names.is_empty()).then(|| {
                names
                    .into_iter()
                    .map(|table| Op::DropTable {
                        table,
                        if_exists,
                        cascade,
                    })
                    .collect()
            })
        }
        "DROP SCHEMA" => {
            let ops = drop_schemas(&mut c);
            (!ops.is_empty() && c.at_end()).then_some(ops)
        }
        "DROP DATABASE" => {
            c.eat_all(&["drop", "database"]);
            c.eat_all(&["if", "exists"]);
            Some(vec![
                Op::DropDatabase { name: c.ident()? },
                Op::NonTransactional {
                    kind: "DROP DATABASE".to_string(),
                },
            ])
        }
        "TRUNCATE" => {
            let ops = truncate(&mut c);
            (!ops.is_empty()).then_some(ops)
        }
        "BEGIN" | "START TRANSACTION" => Some(vec![Op::Transaction(TransactionControl::Begin)]),
        "COMMIT" | "END" => Some(vec![Op::Transaction(TransactionControl::Commit)]),
        "ROLLBACK" | "ABORT" if !tokens.iter().any(|t| t.is_word("to")) => {
            Some(vec![Op::Transaction(TransactionControl::Rollback)])
        }
        "VACUUM"
        | "ALTER SYSTEM"
        | "CREATE DATABASE"
        | "CREATE TABLESPACE"
        | "DROP TABLESPACE"
        | "CREATE SUBSCRIPTION"
        | "DROP SUBSCRIPTION" => non_transactional(),
        "ALTER SEQUENCE"
        | "CREATE SEQUENCE"
        | "DROP SEQUENCE"
        | "CREATE PUBLICATION"
        | "ALTER PUBLICATION"
        | "DROP PUBLICATION"
        | "ALTER SUBSCRIPTION"
        | "COMMENT ON"
        | "GRANT"
        | "REVOKE"
        | "SET"
        | "RESET"
        | "SELECT"
        | "ANALYZE"
        | "CREATE EXTENSION"
        | "ALTER EXTENSION"
        | "DROP EXTENSION"
        | "CREATE FUNCTION"
        | "ALTER FUNCTION"
        | "DROP FUNCTION"
        | "CREATE PROCEDURE"
        | "ALTER PROCEDURE"
        | "DROP PROCEDURE"
        | "CREATE TRIGGER"
        | "ALTER TRIGGER"
        | "DROP TRIGGER"
        | "CREATE VIEW"
        | "ALTER VIEW"
        | "DROP VIEW"
        | "CREATE MATERIALIZED VIEW"
        | "ALTER MATERIALIZED VIEW"
        | "DROP MATERIALIZED VIEW"
        | "REFRESH MATERIALIZED VIEW"
        | "CREATE POLICY"
        | "ALTER POLICY"
        | "DROP POLICY"
        | "CREATE ROLE"
        | "ALTER ROLE"
        | "DROP ROLE"
        | "CREATE USER"
        | "ALTER USER"
        | "DROP USER"
        | "ALTER DEFAULT PRIVILEGES"
        | "CREATE DOMAIN"
        | "ALTER DOMAIN"
        | "DROP DOMAIN"
        | "CREATE AGGREGATE"
        | "DROP AGGREGATE"
        | "CREATE CAST"
        | "DROP CAST"
        | "CREATE COLLATION"
        | "DROP COLLATION"
        | "CREATE STATISTICS"
        | "ALTER STATISTICS"
        | "DROP STATISTICS"
        | "CREATE RULE"
        | "DROP RULE"
        | "CREATE EVENT TRIGGER"
        | "DROP EVENT TRIGGER"
        | "CREATE SERVER"
        | "CREATE FOREIGN TABLE"
        | "CREATE USER MAPPING"
        | "IMPORT FOREIGN"
        | "CREATE TEXT SEARCH"
        | "SECURITY LABEL"
        | "NOTIFY"
        | "LISTEN"
        | "SAVEPOINT"
        | "RELEASE"
        | "CHECKPOINT"
        | "DISCARD"
        | "LOCK"
        | "CALL"
        | "ALTER SCHEMA"
        | "ALTER DATABASE"
        | "CREATE OPERATOR"
        | "CREATE LANGUAGE"
        | "ALTER LARGE OBJECT"
        | "CREATE ACCESS METHOD"
        | "CLUSTER"
        | "ROLLBACK"
        | "ABORT"
        | "DROP OWNED"
        | "REASSIGN OWNED"
        | "ALTER TABLESPACE"
        | "ALTER OPERATOR"
        | "DROP OPERATOR"
        | "ALTER COLLATION"
        | "ALTER SERVER"
        | "DROP SERVER"
        | "ALTER FOREIGN TABLE"
        | "DROP FOREIGN TABLE"
        | "DROP USER MAPPING"
        | "ALTER USER MAPPING"
        | "ALTER TEXT SEARCH"
        | "DROP TEXT SEARCH"
        | "DROP LANGUAGE"
        | "ALTER LANGUAGE"
        | "DROP ACCESS METHOD"
        | "ALTER EVENT TRIGGER"
        | "CREATE GROUP"
        | "ALTER GROUP"
        | "DROP GROUP"
        | "ALTER AGGREGATE"
        | "COPY"
        | "SHOW"
        | "EXPLAIN"
        | "PREPARE"
        | "DEALLOCATE"
        | "VALUES"
        | "CREATE CONVERSION"
        | "DROP CONVERSION"
        | "CREATE TRANSFORM"
        | "DROP TRANSFORM"
        | "ALTER RULE" => other(),
        "CREATE TYPE" => {
            c.eat_all(&["create", "type"]);
            let name = c.object_name()?;
            if !c.eat_all(&["as", "enum"]) {
                return other();
            }
            c.eat_punct("(").then_some(())?;
            let mut values = Vec::new();
            while let Some(value) = c.string() {
                values.push(value);
                if !c.eat_punct(",") {
                    break;
                }
            }
            (c.eat_punct(")") && c.at_end()).then_some(vec![Op::CreateEnum { name, values }])
        }
        "CREATE SCHEMA" => {
            c.eat_all(&["create", "schema"]);
            let if_not_exists = c.eat_all(&["if", "not", "exists"]);
            Some(vec![Op::CreateSchema {
                name: c.ident()?,
                if_not_exists,
            }])
        }
        "CREATE TABLE" => {
            // LIKE, PARTITION OF, OF type, ...: a new table whose columns we do not know.
            c.eat("create");
            while ["temp", "temporary", "unlogged", "global", "local"]
                .iter()
                .any(|k| c.eat(k))
            {}
            c.eat("table");
            let if_not_exists = c.eat_all(&["if", "not", "exists"]);
            Some(vec![Op::CreateTable {
                table: c.object_name()?,
                columns: Vec::new(),
                constraints: Vec::new(),
                if_not_exists,
                from_query: true,
            }])
        }
        "DROP TYPE" => {
            c.eat_all(&["drop", "type"]);
            let if_exists = c.eat_all(&["if", "exists"]);
            let names = c.object_names();
            (!names.is_empty()).then(|| {
                names
                    .into_iter()
                    .map(|type_name| Op::DropType {
                        type_name,
                        if_exists,
                    })
                    .collect()
            })
        }
        _ => None,
    }
}

fn drop_index(c: &mut Cursor<'_, '_>) -> Option<Vec<Op>> {
    c.eat_all(&["drop", "index"]);
    let concurrently = c.eat("concurrently");
    let if_exists = c.eat_all(&["if", "exists"]);
    let names = c.object_names();
    c.eat("cascade");
    c.eat("restrict");
    if names.is_empty() || !c.at_end() {
        return None;
    }
    Some(
        names
            .into_iter()
            .map(|name| Op::DropIndex {
                name,
                concurrently,
                if_exists,
            })
            .collect(),
    )
}

fn create_index(text: &str, c: &mut Cursor<'_, '_>) -> Option<Vec<Op>> {
    c.eat("create");
    let unique = c.eat("unique");
    c.eat("index");
    let concurrently = c.eat("concurrently");
    let if_not_exists = c.eat_all(&["if", "not", "exists"]);
    let name = if c.peek_word("on") {
        None
    } else {
        Some(c.ident()?)
    };
    if !c.eat("on") {
        return None;
    }
    c.eat("only");
    let table = c.object_name()?;
    if c.eat("using") {
        c.ident()?;
    }
    if !c.eat_punct("(") {
        return None;
    }
    let mut columns = Vec::new();
    loop {
        let element = c.until_comma();
        let element = trim_closing_paren(element);
        columns.push(match element {
            [single] => single.ident().unwrap_or_else(|| single.text.to_string()),
            _ => text_of(text, element).to_string(),
        });
        if !c.eat_punct(",") {
            break;
        }
    }
    Some(vec![Op::CreateIndex {
        name,
        table,
        columns,
        unique,
        concurrently,
        if_not_exists,
    }])
}

/// The last element of a column list runs up to the list's `)` and whatever follows it.
fn trim_closing_paren<'t, 'a>(element: &'t [Token<'a>]) -> &'t [Token<'a>] {
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

fn alter_type(c: &mut Cursor<'_, '_>) -> Option<Vec<Op>> {
    c.eat_all(&["alter", "type"]);
    let type_name = c.object_name()?;
    if c.eat_all(&["add", "value"]) {
        let if_not_exists = c.eat_all(&["if", "not", "exists"]);
        let value = c.string()?;
        return Some(vec![Op::AddEnumValue {
            type_name,
            value,
            if_not_exists,
        }]);
    }
    if c.eat_all(&["rename", "value"]) {
        let value = c.string()?;
        c.eat("to").then_some(())?;
        let new_value = c.string()?;
        return Some(vec![Op::RenameEnumValue {
            type_name,
            value,
            new_value,
        }]);
    }
    if c.eat_all(&["rename", "to"]) {
        let new_name = c.ident()?;
        return Some(vec![Op::RenameType {
            type_name,
            new_name,
        }]);
    }
    None
}

fn alter_index(c: &mut Cursor<'_, '_>) -> Option<Vec<Op>> {
    c.eat_all(&["alter", "index"]);
    c.eat_all(&["if", "exists"]);
    let name = c.object_name()?;
    if c.eat_all(&["rename", "to"]) {
        let new_name = c.ident()?;
        return c.at_end().then(|| vec![Op::RenameIndex { name, new_name }]);
    }
    None
}

fn reindex(c: &mut Cursor<'_, '_>) -> Vec<Op> {
    c.eat("reindex");
    if c.eat_punct("(") {
        // REINDEX (CONCURRENTLY, VERBOSE) TABLE x is the PG 14+ spelling.
        let options = c.until_comma_or_paren_end();
        if options.iter().any(|t| t.is_word("concurrently")) {
            return with_scope(c, true);
        }
    }
    with_scope(c, false)
}

fn with_scope(c: &mut Cursor<'_, '_>, concurrently_option: bool) -> Vec<Op> {
    let scope = c
        .peek()
        .map(|t| t.text.to_ascii_uppercase())
        .unwrap_or_default();
    if !c.at_end() {
        c.at += 1;
    }
    let concurrently = concurrently_option || c.eat("concurrently");
    let mut ops = vec![Op::Reindex { concurrently }];
    // REINDEX SCHEMA / DATABASE / SYSTEM cannot run inside a transaction block.
    if !concurrently && matches!(scope.as_str(), "SCHEMA" | "DATABASE" | "SYSTEM") {
        ops.push(Op::NonTransactional {
            kind: format!("REINDEX {scope}"),
        });
    }
    ops
}

impl<'t, 'a> Cursor<'t, 'a> {
    /// Skip to just past the `)` closing the group whose `(` was just eaten; return its inside.
    fn until_comma_or_paren_end(&mut self) -> &'t [Token<'a>] {
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

fn drop_schemas(c: &mut Cursor<'_, '_>) -> Vec<Op> {
    c.eat_all(&["drop", "schema"]);
    c.eat_all(&["if", "exists"]);
    let mut names = Vec::new();
    while let Some(name) = c.ident() {
        names.push(name);
        if !c.eat_punct(",") {
            break;
        }
    }
    let cascade = c.eat("cascade");
    c.eat("restrict");
    names
        .into_iter()
        .map(|name| Op::DropSchema { name, cascade })
        .collect()
}

fn truncate(c: &mut Cursor<'_, '_>) -> Vec<Op> {
    c.eat("truncate");
    c.eat("table");
    let mut ops = Vec::new();
    loop {
        c.eat("only");
        let Some(table) = c.object_name() else { break };
        c.eat_punct("*");
        ops.push(Op::Truncate { table });
        if !c.eat_punct(",") {
            break;
        }
    }
    ops
}

/// What the token-level ALTER TABLE reader found.
struct AlterTableOps {
    ops: Vec<Op>,
    /// Every action was understood.
    complete: bool,
}

/// `ALTER TABLE [IF EXISTS] [ONLY] name action [, action ...]`, at token level.
fn alter_table(text: &str, c: &mut Cursor<'_, '_>) -> AlterTableOps {
    let mut result = AlterTableOps {
        ops: Vec::new(),
        complete: false,
    };
    c.eat_all(&["alter", "table"]);
    c.eat_all(&["if", "exists"]);
    c.eat("only");
    let Some(table) = c.object_name() else {
        return result;
    };
    c.eat_punct("*");
    let mut complete = true;
    loop {
        let action = c.until_comma();
        match alter_table_action(text, &table, action) {
            Some(op) => result.ops.push(op),
            None => complete = false,
        }
        if !c.eat_punct(",") {
            break;
        }
    }
    result.complete = complete;
    result
}

fn alter_table_action(text: &str, table: &ObjectName, action: &[Token<'_>]) -> Option<Op> {
    let mut c = Cursor::new(action);
    let table = table.clone();
    let op = if c.eat("drop") {
        let op = if c.eat("constraint") {
            c.eat_all(&["if", "exists"]);
            Op::DropConstraint {
                table,
                name: c.ident()?,
            }
        } else {
            c.eat("column");
            let if_exists = c.eat_all(&["if", "exists"]);
            Op::DropColumn {
                table,
                column: c.ident()?,
                if_exists,
            }
        };
        // Only what else goes with it depends on these; the drop is the same.
        let _ = c.eat("cascade") || c.eat("restrict");
        op
    } else if c.eat("rename") {
        if c.eat("to") {
            Op::RenameTable {
                table,
                new_name: c.ident()?,
            }
        } else if c.eat("constraint") {
            let name = c.ident()?;
            c.eat("to").then_some(())?;
            Op::RenameConstraint {
                table,
                name,
                new_name: c.ident()?,
            }
        } else {
            c.eat("column");
            let column = c.ident()?;
            c.eat("to").then_some(())?;
            Op::RenameColumn {
                table,
                column,
                new_name: c.ident()?,
            }
        }
    } else if c.eat_all(&["set", "schema"]) {
        Op::SetTableSchema {
            table,
            new_schema: c.ident()?,
        }
    } else if c.eat_all(&["validate", "constraint"]) {
        Op::ValidateConstraint {
            table,
            name: c.ident()?,
        }
    } else if c.eat("alter") {
        c.eat("column");
        let column = c.ident()?;
        if c.eat_all(&["set", "data", "type"]) || c.eat("type") {
            let rest = &action[c.at..];
            let using_at = rest.iter().position(|t| t.is_word("using"));
            let type_tokens = &rest[..using_at.unwrap_or(rest.len())];
            let type_tokens = strip_collate(type_tokens);
            if type_tokens.is_empty() {
                return None;
            }
            let using = using_at.map(|at| text_of(text, &rest[at + 1..]).to_string());
            return Some(Op::AlterColumnType {
                table,
                column,
                new_type: TypeName::parse(text_of(text, type_tokens)),
                using,
            });
        }
        if is_harmless_column_action(&action[c.at..]) {
            return Some(alter_table_other());
        }
        if c.eat_all(&["set", "not", "null"]) {
            Op::SetNotNull { table, column }
        } else if c.eat_all(&["drop", "not", "null"]) {
            Op::DropNotNull { table, column }
        } else if c.eat_all(&["drop", "default"]) {
            Op::DropDefault { table, column }
        } else if c.eat_all(&["set", "default"]) {
            return Some(Op::SetDefault {
                table,
                column,
                default: text_of(text, &action[c.at..]).to_string(),
            });
        } else {
            return None;
        }
    } else if c.eat("add") {
        return add_column_by_tokens(text, table, &mut c);
    } else if c.eat_all(&["detach", "partition"]) {
        let concurrently = action.iter().any(|t| t.is_word("concurrently"));
        return Some(if concurrently {
            Op::NonTransactional {
                kind: "ALTER TABLE DETACH PARTITION CONCURRENTLY".to_string(),
            }
        } else {
            alter_table_other()
        });
    } else if is_harmless_table_action(action) {
        return Some(alter_table_other());
    } else {
        return None;
    };
    c.at_end().then_some(op)
}

fn alter_table_other() -> Op {
    Op::Other {
        kind: "ALTER TABLE".to_string(),
    }
}

/// Table-level actions no rule looks at (they take brief locks or only touch the catalog).
fn is_harmless_table_action(action: &[Token<'_>]) -> bool {
    const STARTS: &[&[&str]] = &[
        &["enable"],
        &["disable"],
        &["force", "row"],
        &["no", "force"],
        &["owner", "to"],
        &["cluster", "on"],
        &["set", "without"],
        &["set", "("],
        &["reset", "("],
        &["replica", "identity"],
        &["inherit"],
        &["no", "inherit"],
        &["of"],
        &["not", "of"],
        &["attach", "partition"],
        &["set", "logged"],
        &["set", "unlogged"],
        &["set", "tablespace"],
        &["set", "access"],
    ];
    starts_with_words(action, STARTS)
}

/// Column-level actions no rule looks at.
fn is_harmless_column_action(rest: &[Token<'_>]) -> bool {
    const STARTS: &[&[&str]] = &[
        &["set", "statistics"],
        &["set", "storage"],
        &["set", "compression"],
        &["set", "("],
        &["reset", "("],
        &["add", "generated"],
        &["set", "generated"],
        &["restart"],
        &["drop", "identity"],
        &["drop", "expression"],
    ];
    starts_with_words(rest, STARTS)
}

/// `tokens` begins with one of the word sequences (`(` matches the punctuation).
fn starts_with_words(tokens: &[Token<'_>], starts: &[&[&str]]) -> bool {
    starts.iter().any(|words| {
        words.iter().enumerate().all(|(i, word)| {
            tokens.get(i).is_some_and(|t| {
                if *word == "(" {
                    t.is_punct("(")
                } else {
                    t.is_word(word)
                }
            })
        })
    })
}

fn strip_collate<'t, 'a>(tokens: &'t [Token<'a>]) -> &'t [Token<'a>] {
    match tokens.iter().position(|t| t.is_word("collate")) {
        Some(at) => &tokens[..at],
        None => tokens,
    }
}

/// `ADD [COLUMN] [IF NOT EXISTS] name type [NOT NULL] [DEFAULT expr]` when that is all there is;
/// anything more elaborate is left to sqlparser.
fn add_column_by_tokens(text: &str, table: ObjectName, c: &mut Cursor<'_, '_>) -> Option<Op> {
    if c.peek_word("constraint")
        || c.peek_word("primary")
        || c.peek_word("unique")
        || c.peek_word("foreign")
        || c.peek_word("check")
    {
        return None;
    }
    c.eat("column");
    let if_not_exists = c.eat_all(&["if", "not", "exists"]);
    let name = c.ident()?;
    let rest = &c.tokens[c.at..];
    let type_end = rest
        .iter()
        .position(|t| {
            ["not", "null", "default", "collate", "constraint", "primary"]
                .iter()
                .any(|k| t.is_word(k))
        })
        .unwrap_or(rest.len());
    if type_end == 0 {
        return None;
    }
    let data_type = TypeName::parse(text_of(text, &rest[..type_end]));
    let mut c = Cursor::new(&rest[type_end..]);
    let mut not_null = false;
    let mut default = None;
    loop {
        if c.eat_all(&["not", "null"]) {
            not_null = true;
        } else if c.eat("null") {
            not_null = false;
        } else if c.eat("default") {
            let start = c.at;
            while !c.at_end() && !c.peek_word("not") && !c.peek_word("null") {
                c.at += 1;
            }
            default = Some(text_of(text, &c.tokens[start..c.at]).to_string());
        } else {
            break;
        }
    }
    c.at_end().then(|| Op::AddColumn {
        table,
        column: ColumnSpec {
            name,
            data_type,
            not_null,
            default,
            generated_stored: false,
            identity: false,
            constraints: Vec::new(),
        },
        if_not_exists,
    })
}

/// Pieces of a statement exactly as written in the source, to replace sqlparser's normalised
/// rendering (`'a'::text` rather than `'a'::TEXT`) in what users read.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub(crate) struct WrittenTexts {
    /// The column a piece belongs to, folded (column definitions only).
    pub column: Option<String>,
    pub type_sql: Option<String>,
    pub default: Option<String>,
    pub using: Option<String>,
}

/// Words that end a column's type or DEFAULT expression in a column definition.
const COLUMN_OPTION_WORDS: &[&str] = &[
    "not",
    "null",
    "default",
    "collate",
    "constraint",
    "primary",
    "unique",
    "references",
    "check",
    "generated",
];

/// `name type [options]`: the type and DEFAULT as written.
fn column_definition_texts(text: &str, element: &[Token<'_>]) -> Option<WrittenTexts> {
    let name = element.first()?.ident()?;
    let rest = &element[1..];
    let type_end = depth0_position(rest, |t| COLUMN_OPTION_WORDS.iter().any(|k| t.is_word(k)))
        .unwrap_or(rest.len());
    let type_sql = (type_end > 0).then(|| text_of(text, &rest[..type_end]).to_string());
    let default = depth0_position(rest, |t| t.is_word("default")).and_then(|at| {
        let expression = &rest[at + 1..];
        // The first token is always the expression's own (`DEFAULT NULL`).
        let end = expression.get(1..).map_or(0, |after_first| {
            1 + depth0_position(after_first, |t| {
                COLUMN_OPTION_WORDS.iter().any(|k| t.is_word(k))
            })
            .unwrap_or(after_first.len())
        });
        let written = text_of(text, &expression[..end]);
        (!written.is_empty()).then(|| written.to_string())
    });
    Some(WrittenTexts {
        column: Some(name),
        type_sql,
        default,
        using: None,
    })
}

/// Index of the first token outside parentheses that satisfies `found`.
fn depth0_position(tokens: &[Token<'_>], found: impl Fn(&Token<'_>) -> bool) -> Option<usize> {
    let mut depth = 0i32;
    for (i, token) in tokens.iter().enumerate() {
        if token.is_punct("(") || token.is_punct("[") {
            depth += 1;
        } else if token.is_punct(")") || token.is_punct("]") {
            depth -= 1;
        } else if depth <= 0 && found(token) {
            return Some(i);
        }
    }
    None
}

/// The column definitions of a `CREATE TABLE name (...)`, as written.
pub(crate) fn create_table_texts(text: &str) -> Vec<WrittenTexts> {
    let tokens = tokenize(text);
    let Some(open) = tokens.iter().position(|t| t.is_punct("(")) else {
        return Vec::new();
    };
    let mut c = Cursor::new(&tokens[open + 1..]);
    let mut columns = Vec::new();
    loop {
        let element = trim_closing_paren(c.until_comma());
        let is_table_constraint = element.first().is_some_and(|t| {
            [
                "constraint",
                "primary",
                "unique",
                "foreign",
                "check",
                "exclude",
                "like",
            ]
            .iter()
            .any(|k| t.is_word(k))
        });
        if !is_table_constraint {
            columns.extend(column_definition_texts(text, element));
        }
        if !c.eat_punct(",") {
            break;
        }
    }
    columns
}

/// One entry per action of an `ALTER TABLE`, in order: its pieces as written.
pub(crate) fn alter_table_texts(text: &str) -> Vec<WrittenTexts> {
    let tokens = tokenize(text);
    let mut c = Cursor::new(&tokens);
    c.eat_all(&["alter", "table"]);
    c.eat_all(&["if", "exists"]);
    c.eat("only");
    if c.object_name().is_none() {
        return Vec::new();
    }
    c.eat_punct("*");
    let mut actions = Vec::new();
    loop {
        actions.push(action_texts(text, c.until_comma()));
        if !c.eat_punct(",") {
            break;
        }
    }
    actions
}

fn action_texts(text: &str, action: &[Token<'_>]) -> WrittenTexts {
    let mut c = Cursor::new(action);
    if c.eat("add") {
        c.eat("column");
        c.eat_all(&["if", "not", "exists"]);
        return column_definition_texts(text, &action[c.at..]).unwrap_or_default();
    }
    if !c.eat("alter") {
        return WrittenTexts::default();
    }
    c.eat("column");
    let Some(column) = c.ident() else {
        return WrittenTexts::default();
    };
    let mut texts = WrittenTexts {
        column: Some(column),
        ..WrittenTexts::default()
    };
    if c.eat_all(&["set", "data", "type"]) || c.eat("type") {
        let rest = &action[c.at..];
        let using_at = depth0_position(rest, |t| t.is_word("using"));
        let type_tokens = strip_collate(&rest[..using_at.unwrap_or(rest.len())]);
        texts.type_sql = Some(text_of(text, type_tokens).to_string());
        texts.using = using_at.map(|at| text_of(text, &rest[at + 1..]).to_string());
    } else if c.eat_all(&["set", "default"]) {
        let written = text_of(text, &action[c.at..]);
        texts.default = (!written.is_empty()).then(|| written.to_string());
    }
    texts
}

/// For a statement nobody understood: the destructive operations its tokens spell out, so the
/// matching rules still fire (targets best effort).
fn scan_destructive(text: &str, tokens: &[Token<'_>]) -> Vec<Op> {
    let mut ops = Vec::new();
    scan_destructive_until(text, tokens, tokens.len(), &mut ops);
    ops
}

/// [`scan_destructive`] over the tokens starting before `limit` (later ones are only looked
/// ahead at); returns where the scan stopped, at or after `limit`.
fn scan_destructive_until(
    text: &str,
    tokens: &[Token<'_>],
    limit: usize,
    ops: &mut Vec<Op>,
) -> usize {
    let mut i = 0;
    while i < limit {
        let mut c = Cursor::new(&tokens[i..]);
        if c.eat_all(&["drop", "table"]) {
            let if_exists = c.eat_all(&["if", "exists"]);
            let names = or_unknown(c.object_names());
            let cascade = c.eat("cascade");
            ops.extend(names.into_iter().map(|table| Op::DropTable {
                table,
                if_exists,
                cascade,
            }));
        } else if c.peek_word("drop") && c.tokens.get(1).is_some_and(|t| t.is_word("schema")) {
            ops.extend(drop_schemas(&mut c));
        } else if c.eat_all(&["drop", "database"]) {
            c.eat_all(&["if", "exists"]);
            if let Some(name) = c.ident() {
                ops.push(Op::DropDatabase { name });
            }
        } else if c.eat_all(&["drop", "index"]) {
            let concurrently = c.eat("concurrently");
            let if_exists = c.eat_all(&["if", "exists"]);
            ops.extend(c.object_names().into_iter().map(|name| Op::DropIndex {
                name,
                concurrently,
                if_exists,
            }));
        } else if c.peek_word("truncate") {
            let found = truncate(&mut c);
            if found.is_empty() {
                ops.push(Op::Truncate {
                    table: unknown_target(),
                });
            }
            ops.extend(found);
        } else if c.peek_word("alter") && c.tokens.get(1).is_some_and(|t| t.is_word("table")) {
            // Only the actions that destroy or break something: the rest needs a real parse.
            let found = alter_table(text, &mut c);
            ops.extend(found.ops.into_iter().filter(|op| {
                matches!(
                    op,
                    Op::DropColumn { .. }
                        | Op::AlterColumnType { .. }
                        | Op::RenameColumn { .. }
                        | Op::RenameTable { .. }
                        | Op::SetTableSchema { .. }
                        | Op::SetNotNull { .. }
                )
            }));
        }
        i += c.at.max(1);
    }
    i
}

/// A statement too large to hold all its tokens at once (a 30 MB seed INSERT): `INSERT INTO t`
/// is recognised from its first tokens; anything else is scanned for destructive sequences
/// through a bounded window of tokens and stays unparsed (reviewed by hand).
pub(crate) fn classify_large(text: &str) -> (Vec<Op>, Understanding) {
    const WINDOW: usize = 1 << 16;
    const LOOKAHEAD: usize = 1 << 12;
    let head: Vec<Token<'_>> = Tokens::new(text).take(8).collect();
    let mut c = Cursor::new(&head);
    if c.eat_all(&["insert", "into"]) {
        if let Some(table) = c.object_name() {
            return (vec![Op::Insert { table }], Understanding::Classified);
        }
    }
    let mut tokens = Tokens::new(text);
    let mut window: Vec<Token<'_>> = Vec::with_capacity(WINDOW);
    let mut ops = Vec::new();
    loop {
        window.extend(tokens.by_ref().take(WINDOW - window.len()));
        let exhausted = window.len() < WINDOW;
        let limit = if exhausted {
            window.len()
        } else {
            WINDOW - LOOKAHEAD
        };
        let stopped = scan_destructive_until(text, &window, limit, &mut ops);
        if exhausted {
            break;
        }
        window.drain(..stopped.min(window.len()));
    }
    (ops, Understanding::Unparsed)
}

/// Target of a destructive operation whose name is only known at run time (dynamic SQL).
fn unknown_target() -> ObjectName {
    ObjectName::unqualified("?")
}

fn or_unknown(names: Vec<ObjectName>) -> Vec<ObjectName> {
    if names.is_empty() {
        vec![unknown_target()]
    } else {
        names
    }
}

/// The statement's leading keywords in upper case: `CREATE EXTENSION`, `GRANT`, `COMMENT ON`,
/// `CREATE FUNCTION` for `CREATE OR REPLACE FUNCTION`, `CREATE INDEX` for `CREATE UNIQUE INDEX`.
pub(crate) fn leading_keywords(text: &str) -> String {
    leading_keywords_of(&tokenize(text))
}

fn leading_keywords_of(tokens: &[Token<'_>]) -> String {
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
pub(crate) fn longest_operator_chain(text: &str) -> usize {
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

pub(crate) fn has_word(text: &str, word: &str) -> bool {
    tokenize(text).iter().any(|t| t.is_word(word))
}

/// A `DO` block: the ops of the SQL in its body. `None` when `text` is not a `DO` statement.
pub(crate) fn understand_do_block(text: &str) -> Option<(Vec<Op>, Understanding)> {
    understand_do_block_nested(text, 0)
}

fn understand_do_block_nested(text: &str, depth: u32) -> Option<(Vec<Op>, Understanding)> {
    // Cheap check first: this runs for every statement of every file.
    let starts_with_do = text.get(..2).is_some_and(|w| w.eq_ignore_ascii_case("do"))
        && !text
            .as_bytes()
            .get(2)
            .is_some_and(|&b| super::split::is_word_byte(b));
    if !starts_with_do {
        return None;
    }
    let tokens = tokenize(text);
    let mut c = Cursor::new(&tokens);
    if !c.eat("do") {
        return None;
    }
    let mut language = None;
    if c.eat("language") {
        language = c
            .ident()
            .or_else(|| c.string().map(|l| l.to_ascii_lowercase()));
    }
    let body = c.string();
    if c.eat("language") {
        language = c
            .ident()
            .or_else(|| c.string().map(|l| l.to_ascii_lowercase()));
    }
    let plpgsql = language.as_deref().is_none_or(|l| l == "plpgsql");
    let Some(body) = body.filter(|_| plpgsql && c.at_end() && depth < MAX_NESTING) else {
        return Some((Vec::new(), Understanding::Unparsed));
    };
    let (mut ops, understood) = analyse_plpgsql(&body, depth + 1);
    // COMMIT / ROLLBACK inside a block act on the block's own transaction: the DO statement
    // must not look like transaction control to the rules or the deploy engine.
    ops.retain(|op| !matches!(op, Op::Transaction(_)));
    let understanding = if understood {
        Understanding::Parsed
    } else {
        Understanding::Unparsed
    };
    Some((ops, understanding))
}

/// Understand the SQL inside a PL/pgSQL block. Returns the ops and whether every statement of
/// the body was understood.
fn analyse_plpgsql(body: &str, depth: u32) -> (Vec<Op>, bool) {
    let (ops, understood) = analyse_plpgsql_lines(body, depth);
    (ops.into_iter().map(|o| o.op).collect(), understood)
}

/// [`analyse_plpgsql`], each op with the body line (0-based) of its statement.
fn analyse_plpgsql_lines(body: &str, depth: u32) -> (Vec<BodyOp>, bool) {
    let mut ops = Vec::new();
    let mut understood = true;
    let mut in_declare = false;
    for raw in split(body) {
        let statement = raw.text(body);
        // Tokenized once: peeling one frame keyword after another must not re-read the rest
        // (20,000 nested IFs in one statement).
        let all_tokens = tokenize(statement);
        let mut from = 0;
        // Peel the block frame off the front of the statement until SQL remains.
        loop {
            let tokens = &all_tokens[from..];
            let Some(first) = tokens.first() else {
                break;
            };
            let after = |index: Option<usize>| index.map_or(all_tokens.len(), |i| from + i + 1);
            if in_declare {
                let begin = tokens.iter().position(|t| t.is_word("begin"));
                if begin.is_some() {
                    in_declare = false;
                }
                from = after(begin);
                continue;
            }
            if first.is_word("declare") {
                in_declare = true;
                from = after(Some(0));
                continue;
            }
            if first.is_punct("<<") {
                from = after(tokens.iter().position(|t| t.is_punct(">>")));
                continue;
            }
            if ["begin", "else", "loop", "exception"]
                .iter()
                .any(|k| first.is_word(k))
            {
                from = after(Some(0));
                continue;
            }
            if ["if", "elsif", "elseif", "when", "case"]
                .iter()
                .any(|k| first.is_word(k))
            {
                let then = depth0_word(tokens, "then");
                understood &= then.is_some();
                from = after(then);
                continue;
            }
            if ["for", "while", "foreach"].iter().any(|k| first.is_word(k)) {
                let body_start = depth0_word(tokens, "loop");
                understood &= body_start.is_some();
                from = after(body_start);
                continue;
            }
            if first.is_word("end") {
                // END, END IF, END LOOP, END CASE [label]: the statement is only the frame.
                from = all_tokens.len();
            }
            break;
        }
        let tokens = &all_tokens[from..];
        let Some(first) = tokens.first() else {
            continue;
        };
        let text = statement.get(first.start..).unwrap_or("");
        let line = raw.start.line.saturating_sub(1) + newlines(&statement[..first.start]);
        let at_line = |op| BodyOp { line, op };
        let is_assignment = is_plpgsql_assignment(tokens);
        if is_assignment
            || [
                "raise", "null", "return", "get", "assert", "exit", "continue", "open", "close",
                "fetch", "move",
            ]
            .iter()
            .any(|k| first.is_word(k))
        {
            continue;
        }
        if first.is_word("perform") {
            ops.push(at_line(Op::Other {
                kind: "PERFORM".to_string(),
            }));
            continue;
        }
        if first.is_word("execute") {
            let literal = tokens.get(1).and_then(Token::string_value);
            // `EXECUTE 'sql' [INTO ...] [USING ...]` runs exactly that literal.
            let only_literal = tokens
                .get(2)
                .is_none_or(|t| t.is_word("using") || t.is_word("into"));
            match literal {
                Some(sql) if only_literal => {
                    let (inner_ops, inner_understood) = analyse_sql(&sql, depth);
                    ops.extend(inner_ops.into_iter().map(at_line));
                    understood &= inner_understood;
                }
                _ => {
                    // Dynamic SQL: what it runs is only known at run time. Scan its literal
                    // parts anyway so `EXECUTE 'DROP TABLE ' || t` is not silent.
                    understood = false;
                    // format('... %I ...', 'User', col): its other literals are the values
                    // of the placeholders, not SQL.
                    let literals: Vec<String> = match format_string(tokens) {
                        Some(sql) => vec![sql],
                        None => tokens.iter().filter_map(Token::string_value).collect(),
                    };
                    // format('... %I ...', name): the placeholders stand for unknown names.
                    let joined = literals
                        .join(" ")
                        .replace("%I", "\"?\"")
                        .replace("%s", "\"?\"")
                        .replace("%L", "'?'");
                    ops.extend(
                        scan_destructive(&joined, &tokenize(&joined))
                            .into_iter()
                            .map(at_line),
                    );
                }
            }
            continue;
        }
        let (inner_ops, inner_understood) = analyse_sql(text, depth);
        ops.extend(inner_ops.into_iter().map(at_line));
        understood &= inner_understood;
    }
    (ops, understood)
}

/// The format string of `EXECUTE format('...', ...)`.
fn format_string(tokens: &[Token<'_>]) -> Option<String> {
    let [_, call, open, literal, ..] = tokens else {
        return None;
    };
    if call.is_word("format") && open.is_punct("(") {
        literal.string_value()
    } else {
        None
    }
}

/// `n := n + 1`, `rec.field := 0`, `arr[1] = 2`: a PL/pgSQL assignment, not SQL.
fn is_plpgsql_assignment(tokens: &[Token<'_>]) -> bool {
    let Some(operator) = tokens
        .iter()
        .position(|t| t.is_punct(":=") || t.is_punct("="))
    else {
        return false;
    };
    let target = &tokens[..operator];
    let is_name = |t: &Token<'_>| matches!(t.kind, Kind::Word | Kind::QuotedIdent);
    // A variable reference never has two names in a row; `UPDATE t SET a = 1` does.
    let two_names_in_a_row = target
        .windows(2)
        .any(|pair| is_name(&pair[0]) && is_name(&pair[1]));
    operator > 0
        && !two_names_in_a_row
        && target.iter().all(|t| {
            matches!(t.kind, Kind::Word | Kind::QuotedIdent)
                || t.is_punct(".")
                || t.is_punct("[")
                || t.is_punct("]")
                || t.text.bytes().all(|b| b.is_ascii_digit())
        })
}

/// Split and understand plain SQL found inside a block (a body statement or `EXECUTE` literal).
fn analyse_sql(sql: &str, depth: u32) -> (Vec<Op>, bool) {
    let (ops, understood) = analyse_sql_lines(sql, depth);
    (ops.into_iter().map(|o| o.op).collect(), understood)
}

fn analyse_sql_lines(sql: &str, depth: u32) -> (Vec<BodyOp>, bool) {
    let mut ops = Vec::new();
    let mut understood = true;
    for raw in split(sql) {
        let text = raw.text(sql);
        let (inner_ops, understanding) = match understand_do_block_nested(text, depth) {
            Some(result) => result,
            None => super::parse::understand_text(text),
        };
        let line = raw.start.line.saturating_sub(1);
        ops.extend(inner_ops.into_iter().map(|op| BodyOp { line, op }));
        understood &= understanding != Understanding::Unparsed;
    }
    (ops, understood)
}

fn newlines(text: &str) -> u32 {
    text.bytes().filter(|&b| b == b'\n').count() as u32
}

/// `CREATE [OR REPLACE] FUNCTION / PROCEDURE name(...) ... AS 'body' | BEGIN ATOMIC ... END`
/// in SQL or PL/pgSQL: the routine and what its body does. `None` for other statements.
pub(crate) fn understand_routine(text: &str) -> Option<(Vec<Op>, Understanding)> {
    // Cheap check first: this runs for every statement of every file.
    if !text.get(..6)?.eq_ignore_ascii_case("create") {
        return None;
    }
    let tokens = tokenize(text);
    let mut c = Cursor::new(&tokens);
    c.eat("create");
    c.eat_all(&["or", "replace"]);
    if !(c.eat("function") || c.eat("procedure")) {
        return None;
    }
    let name = c.object_name()?;
    let signature = argument_list(&tokens[c.at..]);
    let mut language = None;
    let mut body: Option<(String, usize)> = None;
    let mut depth = 0i32;
    let rest = &tokens[c.at..];
    let mut i = 0;
    while i < rest.len() {
        let token = &rest[i];
        if token.is_punct("(") {
            depth += 1;
        } else if token.is_punct(")") {
            depth -= 1;
        } else if depth <= 0 && token.is_word("language") {
            language = rest
                .get(i + 1)
                .and_then(|t| t.ident().or_else(|| t.string_value()))
                .map(|l| l.to_ascii_lowercase());
        } else if depth <= 0 && token.is_word("as") {
            // `AS 'obj_file', 'link_symbol'` is a C function: no SQL body.
            let is_object_file = rest.get(i + 2).is_some_and(|t| t.is_punct(","));
            if let Some(value) = rest.get(i + 1).and_then(Token::string_value) {
                if !is_object_file {
                    body = Some((value, rest[i + 1].start));
                }
            }
        } else if depth <= 0
            && token.is_word("begin")
            && rest.get(i + 1).is_some_and(|t| t.is_word("atomic"))
        {
            let start = rest.get(i + 2).map_or(text.len(), |t| t.start);
            let end = rest
                .iter()
                .rposition(|t| t.is_word("end"))
                .filter(|&end| end > i + 1)
                .map_or(text.len(), |end| rest[end].start);
            body = Some((text.get(start..end).unwrap_or("").to_string(), start));
            language = Some("sql".to_string());
            break;
        }
        i += 1;
    }
    let mut calls = Vec::new();
    let body_ops = match (body, language.as_deref()) {
        (Some((body, at)), Some(language @ ("sql" | "plpgsql"))) => {
            calls = called_routines(&body);
            let (ops, _) = if language == "sql" {
                analyse_sql_lines(&body, 1)
            } else {
                analyse_plpgsql_lines(&body, 1)
            };
            let first_line = newlines(&text[..at.min(text.len())]);
            ops.into_iter()
                .filter(|o| !matches!(o.op, Op::Transaction(_)))
                .map(|o| BodyOp {
                    line: first_line + o.line,
                    op: o.op,
                })
                .collect()
        }
        _ => Vec::new(),
    };
    Some((
        vec![Op::CreateRoutine {
            name,
            signature,
            body: body_ops,
            calls,
        }],
        Understanding::Parsed,
    ))
}

/// The tokens inside the parentheses that open `tokens`, lower case, joined by spaces.
fn argument_list(tokens: &[Token<'_>]) -> String {
    let mut depth = 0;
    let mut words = Vec::new();
    for token in tokens {
        if token.is_punct("(") {
            depth += 1;
            if depth == 1 {
                continue;
            }
        } else if token.is_punct(")") {
            depth -= 1;
            if depth == 0 {
                break;
            }
        }
        if depth == 0 {
            break;
        }
        words.push(token.text.to_lowercase());
    }
    words.join(" ")
}

/// `ALTER FUNCTION|PROCEDURE|ROUTINE name [(args)] RENAME TO new | SET SCHEMA s`; `None` for
/// any other statement (other ALTER FUNCTION forms stay `Other`).
pub(crate) fn understand_routine_rename(text: &str) -> Option<(Vec<Op>, Understanding)> {
    // Cheap check first: this runs for every statement of every file.
    if !text.get(..5)?.eq_ignore_ascii_case("alter") {
        return None;
    }
    let tokens = tokenize(text);
    let mut c = Cursor::new(&tokens);
    c.eat("alter");
    if !(c.eat("function") || c.eat("procedure") || c.eat("routine")) {
        return None;
    }
    let routine = c.object_name()?;
    if c.eat_punct("(") {
        let mut depth = 1;
        while depth > 0 {
            let token = c.peek()?;
            if token.is_punct("(") {
                depth += 1;
            } else if token.is_punct(")") {
                depth -= 1;
            }
            c.at += 1;
        }
    }
    let new_name = if c.eat_all(&["rename", "to"]) {
        ObjectName {
            schema: routine.schema.clone(),
            name: c.ident()?,
        }
    } else if c.eat_all(&["set", "schema"]) {
        ObjectName {
            schema: Some(c.ident()?),
            name: routine.name.clone(),
        }
    } else {
        return None;
    };
    c.at_end().then_some((
        vec![Op::RenameRoutine { routine, new_name }],
        Understanding::Parsed,
    ))
}

/// Names written just before a `(`, also inside string literals (a DO body, an EXECUTE
/// literal); read as a stream, so a huge statement costs no memory.
pub(crate) fn called_routines(text: &str) -> Vec<ObjectName> {
    let mut names = Vec::new();
    collect_calls(text, 0, &mut names);
    names
}

fn collect_calls(text: &str, depth: u32, names: &mut Vec<ObjectName>) {
    let mut parts: Vec<String> = Vec::new();
    let mut after_dot = false;
    for token in Tokens::new(text) {
        if let Some(ident) = token.ident() {
            if !after_dot {
                parts.clear();
            }
            parts.push(ident);
            after_dot = false;
            continue;
        }
        if token.is_punct(".") && !parts.is_empty() {
            after_dot = true;
            continue;
        }
        if token.is_punct("(") && !after_dot {
            if let Some(name) = parts.pop() {
                names.push(ObjectName {
                    schema: parts.pop(),
                    name,
                });
            }
        } else if depth < MAX_NESTING {
            if let Some(inner) = token.string_value() {
                collect_calls(&inner, depth + 1, names);
            }
        }
        parts.clear();
        after_dot = false;
    }
}

/// Index of the first `keyword` outside parentheses.
fn depth0_word(tokens: &[Token<'_>], keyword: &str) -> Option<usize> {
    let mut depth = 0i32;
    for (i, token) in tokens.iter().enumerate() {
        if token.is_punct("(") {
            depth += 1;
        } else if token.is_punct(")") {
            depth -= 1;
        } else if depth <= 0 && token.is_word(keyword) {
            return Some(i);
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sql::analyze_source;
    use crate::sql::parse::understand_text;

    fn name(name: &str) -> ObjectName {
        ObjectName::unqualified(name)
    }

    fn classified(sql: &str) -> Vec<Op> {
        let (ops, understanding) = understand_text(sql);
        assert_eq!(understanding, Understanding::Classified, "{sql}: {ops:?}");
        ops
    }

    fn unparsed(sql: &str) -> Vec<Op> {
        let (ops, understanding) = understand_text(sql);
        assert_eq!(understanding, Understanding::Unparsed, "{sql}: {ops:?}");
        ops
    }

    #[test]
    fn drop_index_concurrently_if_exists() {
        assert_eq!(
            classified("DROP INDEX CONCURRENTLY IF EXISTS \"Post_title_idx\", app.other"),
            vec![
                Op::DropIndex {
                    name: name("Post_title_idx"),
                    concurrently: true,
                    if_exists: true
                },
                Op::DropIndex {
                    name: ObjectName::new(Some("app"), "other"),
                    concurrently: true,
                    if_exists: true
                },
            ]
        );
    }

    #[test]
    fn create_index_concurrently_if_not_exists() {
        let ops = understand_text(
            "CREATE UNIQUE INDEX CONCURRENTLY IF NOT EXISTS \"i\" ON ONLY \"T\" USING btree (\"a\", lower(b)) WHERE x",
        )
        .0;
        assert_eq!(
            ops,
            vec![Op::CreateIndex {
                name: Some("i".into()),
                table: name("T"),
                columns: vec!["a".into(), "lower(b)".into()],
                unique: true,
                concurrently: true,
                if_not_exists: true
            }]
        );
        let sql = "CREATE INDEX CONCURRENTLY ON t (a, (b + 1))";
        let tokens = tokenize(sql);
        let token_level = create_index(sql, &mut Cursor::new(&tokens));
        let Some(
            [Op::CreateIndex {
                name: None,
                columns,
                concurrently: true,
                ..
            }],
        ) = token_level.as_deref()
        else {
            panic!("token-level CREATE INDEX not understood: {token_level:?}");
        };
        assert_eq!(columns, &vec!["a".to_string(), "(b + 1)".to_string()]);
    }

    #[test]
    fn harmless_statements_sqlparser_misses() {
        assert_eq!(
            understand_text("ALTER SEQUENCE \"User_id_seq\" RESTART WITH 100").0,
            vec![Op::Other {
                kind: "ALTER SEQUENCE".into()
            }]
        );
        assert_eq!(
            classified("CREATE PUBLICATION p FOR ALL TABLES"),
            vec![Op::Other {
                kind: "CREATE PUBLICATION".into()
            }]
        );
    }

    #[test]
    fn enum_values_at_token_level() {
        let mut tokens =
            tokenize("ALTER TYPE app.\"Role\" ADD VALUE IF NOT EXISTS 'GUEST' AFTER 'USER'");
        let mut c = Cursor::new(&tokens);
        assert_eq!(
            alter_type(&mut c),
            Some(vec![Op::AddEnumValue {
                type_name: ObjectName::new(Some("app"), "Role"),
                value: "GUEST".into(),
                if_not_exists: true
            }])
        );
        tokens = tokenize("ALTER TYPE mood RENAME VALUE 'it''s' TO E'it\\'s'");
        let mut c = Cursor::new(&tokens);
        assert_eq!(
            alter_type(&mut c),
            Some(vec![Op::RenameEnumValue {
                type_name: name("mood"),
                value: "it's".into(),
                new_value: "it's".into()
            }])
        );
    }

    #[test]
    fn reindex_and_vacuum_are_recognised() {
        assert_eq!(
            classified("REINDEX INDEX CONCURRENTLY \"i\""),
            vec![Op::Reindex { concurrently: true }]
        );
        assert_eq!(
            classified("REINDEX (CONCURRENTLY, VERBOSE) TABLE t"),
            vec![Op::Reindex { concurrently: true }]
        );
        assert_eq!(
            classified("REINDEX TABLE t"),
            vec![Op::Reindex {
                concurrently: false
            }]
        );
        let (ops, _) = understand_text("VACUUM (ANALYZE) users");
        assert_eq!(
            ops,
            vec![Op::NonTransactional {
                kind: "VACUUM".into()
            }]
        );
        let (ops, _) = understand_text("ALTER SYSTEM SET work_mem = '64MB'");
        assert!(ops.iter().all(Op::requires_autocommit) && !ops.is_empty());
    }

    #[test]
    fn alter_table_actions_sqlparser_misses() {
        assert_eq!(
            classified("ALTER TABLE \"User\" SET SCHEMA archive"),
            vec![Op::SetTableSchema {
                table: name("User"),
                new_schema: "archive".into()
            }]
        );
        assert_eq!(
            classified("ALTER TABLE a DETACH PARTITION b CONCURRENTLY"),
            vec![Op::NonTransactional {
                kind: "ALTER TABLE DETACH PARTITION CONCURRENTLY".into()
            }]
        );
    }

    #[test]
    fn drop_column_cascade_next_to_an_action_sqlparser_misses_is_still_a_drop() {
        assert_eq!(
            classified(
                "ALTER TABLE \"User\" DROP COLUMN \"name\" CASCADE, ALTER COLUMN \"email\" SET STATISTICS 5"
            ),
            vec![
                Op::DropColumn {
                    table: name("User"),
                    column: "name".into(),
                    if_exists: false
                },
                alter_table_other()
            ]
        );
        assert_eq!(
            classified(
                "ALTER TABLE a DROP CONSTRAINT c RESTRICT, ALTER COLUMN b SET COMPRESSION lz4"
            )[0],
            Op::DropConstraint {
                table: name("a"),
                name: "c".into()
            }
        );
    }

    #[test]
    fn create_table_sqlparser_misses_is_a_new_table_with_unknown_columns() {
        assert_eq!(
            classified("CREATE TABLE IF NOT EXISTS app.\"Copy\" (LIKE \"User\" INCLUDING ALL)"),
            vec![Op::CreateTable {
                table: ObjectName::new(Some("app"), "Copy"),
                columns: vec![],
                constraints: vec![],
                if_not_exists: true,
                from_query: true
            }]
        );
    }

    #[test]
    fn enum_created_at_token_level() {
        let tokens = tokenize("CREATE TYPE app.\"Mood\" AS ENUM ('sad', 'it''s ok')");
        assert_eq!(
            classify_tokens("", &tokens),
            Some(vec![Op::CreateEnum {
                name: ObjectName::new(Some("app"), "Mood"),
                values: vec!["sad".into(), "it's ok".into()]
            }])
        );
        assert_eq!(
            classified("DROP OWNED BY legacy_role"),
            vec![Op::Other {
                kind: "DROP OWNED".into()
            }]
        );
    }

    #[test]
    fn unknown_statements_still_report_destruction() {
        assert_eq!(
            unparsed("FROBNICATE NOW; DROP TABLE IF EXISTS \"Audit\" CASCADE"),
            vec![Op::DropTable {
                table: name("Audit"),
                if_exists: true,
                cascade: true
            }]
        );
        let ops = unparsed("WITH weird AS (x) ALTER TABLE \"User\" DROP COLUMN \"legacy\", ALTER COLUMN \"n\" SET DATA TYPE bigint USING n::bigint");
        assert_eq!(
            ops,
            vec![
                Op::DropColumn {
                    table: name("User"),
                    column: "legacy".into(),
                    if_exists: false
                },
                Op::AlterColumnType {
                    table: name("User"),
                    column: "n".into(),
                    new_type: TypeName::parse("bigint"),
                    using: Some("n::bigint".into())
                },
            ]
        );
        assert_eq!(
            unparsed("OOPS TRUNCATE TABLE ONLY a, b"),
            vec![
                Op::Truncate { table: name("a") },
                Op::Truncate { table: name("b") }
            ]
        );
        assert_eq!(
            unparsed("OOPS DROP SCHEMA legacy CASCADE"),
            vec![Op::DropSchema {
                name: "legacy".into(),
                cascade: true
            }]
        );
        assert_eq!(
            unparsed("OOPS ALTER TABLE t RENAME COLUMN a TO b"),
            vec![Op::RenameColumn {
                table: name("t"),
                column: "a".into(),
                new_name: "b".into()
            }]
        );
        assert_eq!(unparsed("FROBNICATE 'DROP TABLE x'"), vec![]);
    }

    #[test]
    fn do_block_that_drops_a_column_yields_drop_column() {
        let source = "-- Remove legacy column\nDO $$\nDECLARE\n  n int := 0;\n  r record;\nBEGIN\n  IF EXISTS (SELECT 1 FROM information_schema.columns WHERE table_name = 'User' AND column_name = 'legacy') THEN\n    ALTER TABLE \"User\" DROP COLUMN \"legacy\";\n  END IF;\n  PERFORM pg_sleep(0);\n  n := n + 1;\n  r.total := 2;\n  UPDATE \"User\" SET \"n\" = 1 WHERE id = 'x';\n  RAISE NOTICE 'done';\nEXCEPTION WHEN undefined_column THEN NULL;\nEND $$;\n";
        let statements = analyze_source(source);
        assert_eq!(statements.len(), 1);
        assert_eq!(statements[0].understanding, Understanding::Parsed);
        assert_eq!(statements[0].start.line, 2);
        assert_eq!(
            statements[0].ops,
            vec![
                Op::DropColumn {
                    table: name("User"),
                    column: "legacy".into(),
                    if_exists: false
                },
                Op::Other {
                    kind: "PERFORM".into()
                },
                Op::Update {
                    table: name("User"),
                    has_where: true
                }
            ]
        );
    }

    #[test]
    fn do_block_language_forms_and_execute_literals() {
        let (ops, understanding) = understand_text(
            "DO LANGUAGE plpgsql $body$ BEGIN CREATE TYPE \"Mood\" AS ENUM ('a'); EXECUTE 'ALTER TABLE \"Post\" RENAME COLUMN \"a\" TO \"b\"'; EXCEPTION WHEN duplicate_object THEN null; END $body$",
        );
        assert_eq!(understanding, Understanding::Parsed);
        assert_eq!(
            ops,
            vec![
                Op::CreateEnum {
                    name: name("Mood"),
                    values: vec!["a".into()]
                },
                Op::RenameColumn {
                    table: name("Post"),
                    column: "a".into(),
                    new_name: "b".into()
                }
            ]
        );
        let (ops, understanding) = understand_text(
            "DO 'BEGIN FOR r IN SELECT 1 LOOP DELETE FROM t; END LOOP; END' LANGUAGE plpgsql",
        );
        assert_eq!(understanding, Understanding::Parsed);
        assert_eq!(
            ops,
            vec![Op::Delete {
                table: name("t"),
                has_where: false
            }]
        );
    }

    #[test]
    fn commit_inside_a_do_block_is_not_transaction_control() {
        let statements = analyze_source("DO $$ BEGIN UPDATE t SET a = 1 WHERE b; COMMIT; END $$;");
        assert_eq!(statements[0].transaction_control(), None);
        assert_eq!(
            statements[0].ops,
            vec![Op::Update {
                table: name("t"),
                has_where: true
            }]
        );
    }

    #[test]
    fn dynamic_sql_in_do_block_is_unparsed_but_not_silent() {
        let (ops, understanding) =
            understand_text("DO $$ BEGIN EXECUTE 'DROP TABLE ' || quote_ident(t); END $$");
        assert_eq!(understanding, Understanding::Unparsed);
        assert_eq!(
            ops,
            vec![Op::DropTable {
                table: name("?"),
                if_exists: false,
                cascade: false
            }]
        );
        let (ops, understanding) = understand_text(
            "DO $$ BEGIN EXECUTE format('ALTER TABLE %I DROP COLUMN %I', t, c); END $$ LANGUAGE 'plpgsql'",
        );
        assert_eq!(understanding, Understanding::Unparsed);
        assert_eq!(
            ops,
            vec![Op::DropColumn {
                table: name("?"),
                column: "?".into(),
                if_exists: false
            }]
        );
        // Literal arguments of format() are values for its placeholders, not more SQL.
        let (ops, _) = understand_text(
            "DO $$ BEGIN EXECUTE format('ALTER TABLE %I DROP COLUMN %I', 'User', 'legacy'); END $$",
        );
        assert_eq!(
            ops,
            vec![Op::DropColumn {
                table: name("?"),
                column: "?".into(),
                if_exists: false
            }]
        );
        let (ops, understanding) = understand_text(
            "DO $$ BEGIN CASE 1 WHEN 1 THEN EXECUTE 'TRUNCATE \"Log\"' USING 1; END CASE; END $$",
        );
        assert_eq!(understanding, Understanding::Parsed);
        assert_eq!(ops, vec![Op::Truncate { table: name("Log") }]);
        let (ops, understanding) = understand_text("DO $$ import os $$ LANGUAGE plpython3u");
        assert_eq!((ops, understanding), (vec![], Understanding::Unparsed));
    }

    #[test]
    fn a_huge_insert_is_an_insert() {
        let rows = vec!["(1, 'a;b')"; 200_000].join(", ");
        let (ops, understanding) =
            classify_large(&format!("INSERT INTO \"Seed\" (a, b) VALUES {rows}"));
        assert_eq!(understanding, Understanding::Classified);
        assert_eq!(
            ops,
            vec![Op::Insert {
                table: name("Seed")
            }]
        );
    }

    #[test]
    fn a_huge_statement_is_scanned_whole_across_token_windows() {
        // The window of 65,536 tokens is scanned up to 61,440 and then refilled: a DROP TABLE on
        // either side of that seam, or of the window's end, is still found.
        for before in [0, 61_438, 61_439, 61_440, 61_441, 65_535, 65_536, 130_000] {
            let text = format!(
                "SELECT {}DROP TABLE users{}",
                "x ".repeat(before),
                " y".repeat(70_000)
            );
            let (ops, understanding) = classify_large(&text);
            assert_eq!(understanding, Understanding::Unparsed);
            assert_eq!(
                ops,
                vec![Op::DropTable {
                    table: name("users"),
                    if_exists: false,
                    cascade: false,
                }],
                "DROP TABLE after {before} tokens"
            );
        }
    }

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
