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
    split_checked(source).0
}

/// Text PostgreSQL would refuse before running anything: an unterminated comment, string,
/// quoted identifier or dollar quote (the splitter ran it to the end of the file, so whatever
/// follows it would be silently dropped or sent as part of it), or a NUL byte.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LexicalError {
    /// What is wrong, e.g. "unterminated /* comment".
    pub what: &'static str,
    /// Where the offending token starts.
    pub offset: usize,
    pub position: Position,
}

impl LexicalError {
    /// `file:line:col: <what>; <what to do>`, the one line `check` and `deploy` print.
    pub fn describe(&self, file: &str) -> String {
        let Position { line, column } = self.position;
        let fix = if self.what.starts_with("NUL") {
            "remove it (PostgreSQL cannot receive it)"
        } else {
            "close it; everything after it would otherwise be swallowed by it"
        };
        format!("{file}:{line}:{column}: {}; {fix}", self.what)
    }
}

/// The statements and the first lexical error, if any.
pub fn split_checked(source: &str) -> (Vec<RawStatement>, Option<LexicalError>) {
    super::work::read(source.len());
    let mut splitter = Splitter {
        bytes: source.as_bytes(),
        cursor: PositionCursor::new(source.as_bytes()),
        statements: Vec::new(),
        unterminated: None,
    };
    splitter.run();
    let nul = source
        .find('\0')
        .map(|offset| (offset, "NUL byte (\\0) in the file"));
    let first = match (splitter.unterminated, nul) {
        (Some(a), Some(b)) => Some(if a.0 <= b.0 { a } else { b }),
        (a, b) => a.or(b),
    };
    let error = first.map(|(offset, what)| LexicalError {
        what,
        offset,
        position: PositionCursor::new(source.as_bytes()).position_at(offset),
    });
    (splitter.statements, error)
}

/// The first lexical error of `source`, if any (see [`LexicalError`]).
pub fn lexical_error(source: &str) -> Option<LexicalError> {
    split_checked(source).1
}

/// One pass over the bytes. Every delimiter PostgreSQL knows is ASCII, so walking bytes and only
/// cutting at ASCII bytes keeps every span on a char boundary.
struct Splitter<'a> {
    bytes: &'a [u8],
    cursor: PositionCursor<'a>,
    statements: Vec<RawStatement>,
    /// Offset and kind of the first token that runs to the end of the file unterminated.
    unterminated: Option<(usize, &'static str)>,
}

#[derive(Default, Clone, Copy, PartialEq, Eq)]
enum RoutineHeader {
    #[default]
    Start,
    Create,
    CreateOr,
    CreateOrReplace,
    Routine,
    NotRoutine,
}

impl RoutineHeader {
    fn next(self, word: Option<&[u8]>) -> Self {
        use RoutineHeader::*;
        let is = |keyword: &str| word.is_some_and(|w| w.eq_ignore_ascii_case(keyword.as_bytes()));
        match self {
            Start if is("create") => Create,
            Create if is("or") => CreateOr,
            CreateOr if is("replace") => CreateOrReplace,
            Create | CreateOrReplace if is("function") || is("procedure") => Routine,
            Routine | NotRoutine => self,
            _ => NotRoutine,
        }
    }
}

/// Tracks where the current statement stands, for `CREATE FUNCTION ... BEGIN ATOMIC ... END`
/// bodies whose inner `;` do not end the statement.
#[derive(Default)]
struct StatementState {
    /// Byte offset of the first token, once seen.
    start: Option<usize>,
    /// Byte offset just after the last token seen.
    last_token_end: usize,
    /// How far the statement's leading words match CREATE [OR REPLACE] FUNCTION|PROCEDURE
    /// (only those can hold a BEGIN ATOMIC body, as psql and the server read it).
    header: RoutineHeader,
    /// Parentheses open at this point: BEGIN, CASE and END count only outside them (as in psql).
    paren_depth: u32,
    /// The previous token was the word BEGIN.
    previous_was_begin: bool,
    /// Nesting of BEGIN ATOMIC / CASE ... END inside an atomic body; 0 outside one.
    atomic_depth: u32,
}

impl Splitter<'_> {
    fn run(&mut self) {
        let bytes = self.bytes;
        let mut state = StatementState::default();
        let mut i = bom_len(bytes);
        while i < bytes.len() {
            let b = bytes[i];
            match b {
                b' ' | b'\t' | b'\n' | b'\r' | b'\x0c' | b'\x0b' => {
                    i += 1;
                    continue;
                }
                b'-' if bytes.get(i + 1) == Some(&b'-') => {
                    i = skip_line_comment(bytes, i);
                    continue;
                }
                b'/' if bytes.get(i + 1) == Some(&b'*') => {
                    let end = block_comment_end(bytes, i);
                    self.note_unterminated(end, i, "unterminated /* comment");
                    i = end.unwrap_or(bytes.len());
                    continue;
                }
                b';' if state.atomic_depth == 0 => {
                    self.finish(&state);
                    state = StatementState::default();
                    i += 1;
                    continue;
                }
                _ => {}
            }
            let token_start = i;
            let mut word = None;
            i = match b {
                b'\'' => {
                    let end = quoted_end(bytes, i, b'\'', false);
                    self.note_unterminated(end, i, "unterminated quoted string");
                    end.unwrap_or(bytes.len())
                }
                b'"' => {
                    let end = quoted_end(bytes, i, b'"', false);
                    self.note_unterminated(end, i, "unterminated quoted identifier");
                    end.unwrap_or(bytes.len())
                }
                b'$' => match dollar_tag_end(bytes, i) {
                    Some(tag_end) => {
                        let end = dollar_quoted_end(bytes, i, tag_end);
                        self.note_unterminated(end, i, "unterminated dollar-quoted string");
                        end.unwrap_or(bytes.len())
                    }
                    None => skip_word(bytes, i + 1),
                },
                _ if is_word_start(b) => {
                    let end = skip_word(bytes, i);
                    let escape = end - i == 1 && (b == b'e' || b == b'E');
                    if bytes.get(end) == Some(&b'\'') {
                        // E'...' takes backslash escapes; U&'..', B'..', X'..', N'..' do not.
                        let close = quoted_end(bytes, end, b'\'', escape);
                        self.note_unterminated(close, i, "unterminated quoted string");
                        close.unwrap_or(bytes.len())
                    } else {
                        word = Some(&bytes[i..end]);
                        end
                    }
                }
                _ => i + 1,
            };
            let i_end = i.min(bytes.len());
            i = i_end;
            if state.start.is_none() {
                state.start = Some(token_start);
            }
            state.last_token_end = i_end;
            track_atomic_body(&mut state, word, b);
        }
        self.finish(&state);
    }

    fn note_unterminated(&mut self, end: Option<usize>, start: usize, what: &'static str) {
        if end.is_none() && self.unterminated.is_none() {
            self.unterminated = Some((start, what));
        }
    }

    fn finish(&mut self, state: &StatementState) {
        let Some(start) = state.start else { return };
        let end = state.last_token_end;
        let start_position = self.cursor.position_at(start);
        let end_position = self.cursor.position_of_last_char_before(end);
        self.statements.push(RawStatement {
            span: Span { start, end },
            start: start_position,
            end: end_position,
        });
    }
}

fn track_atomic_body(state: &mut StatementState, word: Option<&[u8]>, first_byte: u8) {
    state.header = state.header.next(word);
    match first_byte {
        b'(' => state.paren_depth += 1,
        b')' => state.paren_depth = state.paren_depth.saturating_sub(1),
        _ => {}
    }
    let Some(word) = word else {
        state.previous_was_begin = false;
        return;
    };
    if state.header == RoutineHeader::Routine && state.paren_depth == 0 {
        if state.previous_was_begin && word.eq_ignore_ascii_case(b"atomic") {
            state.atomic_depth += 1;
        } else if state.atomic_depth > 0 {
            if word.eq_ignore_ascii_case(b"case") {
                state.atomic_depth += 1;
            } else if word.eq_ignore_ascii_case(b"end") {
                state.atomic_depth -= 1;
            }
        }
    }
    state.previous_was_begin = word.eq_ignore_ascii_case(b"begin");
}

const BYTE_ORDER_MARK: &[u8] = "\u{feff}".as_bytes();

fn bom_len(bytes: &[u8]) -> usize {
    if bytes.starts_with(BYTE_ORDER_MARK) {
        BYTE_ORDER_MARK.len()
    } else {
        0
    }
}

pub(super) fn is_word_start(b: u8) -> bool {
    b.is_ascii_alphabetic() || b == b'_' || b >= 0x80
}

pub(super) fn is_word_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_' || b == b'$' || b >= 0x80
}

pub(super) fn skip_word(bytes: &[u8], mut i: usize) -> usize {
    while i < bytes.len() && is_word_byte(bytes[i]) {
        i += 1;
    }
    i
}

/// A `--` comment runs to the end of the line; PostgreSQL also ends it at a lone `\r`.
pub(super) fn skip_line_comment(bytes: &[u8], i: usize) -> usize {
    match bytes[i..].iter().position(|&b| b == b'\n' || b == b'\r') {
        Some(newline) => i + newline + 1,
        None => bytes.len(),
    }
}

/// PostgreSQL block comments nest: `/* a /* b */ still comment */`. Unterminated: to the end.
pub(super) fn skip_block_comment(bytes: &[u8], i: usize) -> usize {
    block_comment_end(bytes, i).unwrap_or(bytes.len())
}

/// Offset just past the comment opening at `i`; `None` when it is never closed.
fn block_comment_end(bytes: &[u8], mut i: usize) -> Option<usize> {
    let mut depth = 0u32;
    while i < bytes.len() {
        if bytes[i] == b'/' && bytes.get(i + 1) == Some(&b'*') {
            depth += 1;
            i += 2;
        } else if bytes[i] == b'*' && bytes.get(i + 1) == Some(&b'/') {
            depth -= 1;
            i += 2;
            if depth == 0 {
                return Some(i);
            }
        } else {
            i += 1;
        }
    }
    None
}

/// Skip a `'...'` string or `"..."` identifier starting at the opening quote; a doubled quote is
/// an escaped quote, and with `backslash_escapes` (E'...') so is `\'`. Unterminated: to the end.
pub(super) fn skip_quoted(bytes: &[u8], open: usize, quote: u8, backslash_escapes: bool) -> usize {
    quoted_end(bytes, open, quote, backslash_escapes).unwrap_or(bytes.len())
}

/// Offset just past the closing quote; `None` when the quote is never closed.
fn quoted_end(bytes: &[u8], open: usize, quote: u8, backslash_escapes: bool) -> Option<usize> {
    let mut i = open + 1;
    while i < bytes.len() {
        let b = bytes[i];
        if backslash_escapes && b == b'\\' {
            i += 2;
        } else if b == quote {
            if bytes.get(i + 1) == Some(&quote) {
                i += 2;
            } else {
                return Some(i + 1);
            }
        } else {
            i += 1;
        }
    }
    None
}

/// If a dollar-quote opening tag (`$$`, `$body$`) starts at `i`, the offset just past it.
pub(super) fn dollar_tag_end(bytes: &[u8], i: usize) -> Option<usize> {
    let mut j = i + 1;
    if let Some(&first) = bytes.get(j) {
        if first.is_ascii_digit() {
            return None; // $1: a positional parameter
        }
    }
    while j < bytes.len() && bytes[j] != b'$' {
        if !(bytes[j].is_ascii_alphanumeric() || bytes[j] == b'_' || bytes[j] >= 0x80) {
            return None;
        }
        j += 1;
    }
    (j < bytes.len()).then_some(j + 1)
}

pub(super) fn skip_dollar_quoted(bytes: &[u8], open: usize, tag_end: usize) -> usize {
    dollar_quoted_end(bytes, open, tag_end).unwrap_or(bytes.len())
}

/// Offset just past the closing tag; `None` when the dollar quote is never closed.
fn dollar_quoted_end(bytes: &[u8], open: usize, tag_end: usize) -> Option<usize> {
    let tag = &bytes[open..tag_end];
    let body = &bytes[tag_end..];
    body.windows(tag.len())
        .position(|window| window == tag)
        .map(|close| tag_end + close + tag.len())
}

/// Computes positions for increasing byte offsets in one forward pass over the file.
struct PositionCursor<'a> {
    bytes: &'a [u8],
    offset: usize,
    line: u32,
    /// Column (in characters, 1-based) of the byte at `offset`.
    column: u32,
}

impl<'a> PositionCursor<'a> {
    fn new(bytes: &'a [u8]) -> Self {
        PositionCursor {
            bytes,
            // Editors do not show a byte-order mark: columns count from after it.
            offset: bom_len(bytes),
            line: 1,
            column: 1,
        }
    }

    /// Position of the character starting at byte `target` (offsets must not decrease).
    fn position_at(&mut self, target: usize) -> Position {
        let target = target.min(self.bytes.len());
        while self.offset < target {
            let b = self.bytes[self.offset];
            if b == b'\n' {
                self.line += 1;
                self.column = 1;
            } else if (b & 0xC0) != 0x80 {
                // A UTF-8 continuation byte belongs to the character already counted.
                self.column += 1;
            }
            self.offset += 1;
        }
        Position {
            line: self.line,
            column: self.column,
        }
    }

    /// Position of the last character that ends at byte `end` (exclusive).
    fn position_of_last_char_before(&mut self, end: usize) -> Position {
        let mut last = end.saturating_sub(1);
        while last > 0 && (self.bytes[last] & 0xC0) == 0x80 {
            last -= 1;
        }
        self.position_at(last.max(self.offset))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn texts(source: &str) -> Vec<&str> {
        split(source).iter().map(|s| s.text(source)).collect()
    }

    #[test]
    fn splits_prisma_migration_with_positions() {
        let source = "-- CreateTable\nCREATE TABLE \"User\" (\n    \"id\" TEXT NOT NULL\n);\n\n-- CreateIndex\nCREATE UNIQUE INDEX \"User_email_key\" ON \"User\"(\"email\");\n";
        let statements = split(source);
        assert_eq!(statements.len(), 2);
        assert_eq!(
            statements[0].text(source),
            "CREATE TABLE \"User\" (\n    \"id\" TEXT NOT NULL\n)"
        );
        assert_eq!(statements[0].start, Position { line: 2, column: 1 });
        assert_eq!(statements[0].end, Position { line: 4, column: 1 });
        assert_eq!(statements[1].start, Position { line: 7, column: 1 });
        assert_eq!(
            statements[1].end,
            Position {
                line: 7,
                column: 55
            }
        );
    }

    #[test]
    fn empty_statements_and_comment_tails_produce_nothing() {
        assert_eq!(
            texts(";; ; -- only a comment\n/* and another */"),
            Vec::<&str>::new()
        );
        assert_eq!(
            texts("SELECT 1;;SELECT 2; -- tail"),
            vec!["SELECT 1", "SELECT 2"]
        );
    }

    #[test]
    fn semicolons_in_comments_do_not_split() {
        assert_eq!(
            texts("SELECT 1 -- a; b\n + 1; /* x; /* nested; */ still; */ SELECT 2"),
            vec!["SELECT 1 -- a; b\n + 1", "SELECT 2"]
        );
    }

    #[test]
    fn a_line_comment_ends_at_a_lone_carriage_return_as_in_postgresql() {
        // psql and the server end `--` at \r too: this file drops the table.
        assert_eq!(
            texts("-- harmless\rDROP TABLE users;\r-- done\r"),
            vec!["DROP TABLE users"]
        );
    }

    #[test]
    fn semicolons_in_strings_and_identifiers_do_not_split() {
        assert_eq!(
            texts("SELECT 'a;''b'; SELECT \"x;\"\"y\"; SELECT E'it\\'s; here'; SELECT 'c\\'; SELECT 3"),
            vec![
                "SELECT 'a;''b'",
                "SELECT \"x;\"\"y\"",
                "SELECT E'it\\'s; here'",
                "SELECT 'c\\'",
                "SELECT 3"
            ]
        );
    }

    #[test]
    fn dollar_quotes_hold_semicolons() {
        let source = "DO $$ BEGIN ALTER TABLE a DROP COLUMN b; END $$; CREATE FUNCTION f() RETURNS int AS $body$ SELECT 1; $$ still; $body$ LANGUAGE sql; SELECT $1, a$b";
        assert_eq!(
            texts(source),
            vec![
                "DO $$ BEGIN ALTER TABLE a DROP COLUMN b; END $$",
                "CREATE FUNCTION f() RETURNS int AS $body$ SELECT 1; $$ still; $body$ LANGUAGE sql",
                "SELECT $1, a$b"
            ]
        );
    }

    #[test]
    fn begin_and_commit_are_their_own_statements() {
        assert_eq!(
            texts("BEGIN;\nCREATE TYPE \"Role_new\" AS ENUM ('A');\nCOMMIT;"),
            vec!["BEGIN", "CREATE TYPE \"Role_new\" AS ENUM ('A')", "COMMIT"]
        );
    }

    #[test]
    fn begin_atomic_body_is_one_statement() {
        let source = "CREATE FUNCTION f() RETURNS int LANGUAGE sql BEGIN ATOMIC SELECT 1; SELECT CASE WHEN true THEN 1 END; END; SELECT 2";
        assert_eq!(
            texts(source),
            vec![
                "CREATE FUNCTION f() RETURNS int LANGUAGE sql BEGIN ATOMIC SELECT 1; SELECT CASE WHEN true THEN 1 END; END",
                "SELECT 2"
            ]
        );
    }

    #[test]
    fn begin_atomic_opens_a_body_only_in_create_function_or_procedure() {
        // As psql and the server read it: a column named begin of a domain named atomic.
        assert_eq!(
            texts("CREATE DOMAIN atomic AS int; CREATE TABLE u (begin atomic); DROP TABLE users"),
            vec![
                "CREATE DOMAIN atomic AS int",
                "CREATE TABLE u (begin atomic)",
                "DROP TABLE users"
            ]
        );
        assert_eq!(
            texts("CREATE OR REPLACE PROCEDURE p() BEGIN ATOMIC SELECT 1; SELECT (CASE WHEN true THEN 1 END); END; SELECT 2"),
            vec![
                "CREATE OR REPLACE PROCEDURE p() BEGIN ATOMIC SELECT 1; SELECT (CASE WHEN true THEN 1 END); END",
                "SELECT 2"
            ]
        );
    }

    #[test]
    fn columns_count_characters_not_bytes() {
        let source = "/* é */ SELECT 'ü';\n  SELECT 'ß'";
        let statements = split(source);
        assert_eq!(statements[0].start, Position { line: 1, column: 9 });
        assert_eq!(
            statements[0].end,
            Position {
                line: 1,
                column: 18
            }
        );
        assert_eq!(statements[1].start, Position { line: 2, column: 3 });
        assert_eq!(
            statements[1].end,
            Position {
                line: 2,
                column: 12
            }
        );
    }

    #[test]
    fn byte_order_mark_is_not_part_of_the_first_statement() {
        let source = "\u{feff}CREATE TABLE a (b int);";
        let statements = split(source);
        assert_eq!(statements[0].text(source), "CREATE TABLE a (b int)");
        assert_eq!(statements[0].start, Position { line: 1, column: 1 });
        assert_eq!(
            statements[0].end,
            Position {
                line: 1,
                column: 22
            }
        );
    }

    #[test]
    fn unterminated_tokens_are_reported_where_they_start() {
        let cases = [
            (
                "SELECT 1;\n  /* open\nDROP TABLE users;",
                "unterminated /* comment",
                2,
                3,
            ),
            (
                "SELECT 1; /* a /* b */ still open",
                "unterminated /* comment",
                1,
                11,
            ),
            ("SELECT 'abc; def", "unterminated quoted string", 1, 8),
            ("SELECT 'it''", "unterminated quoted string", 1, 8),
            (
                "SELECT 1;\nSELECT E'x\\'",
                "unterminated quoted string",
                2,
                8,
            ),
            (
                "SELECT \"open; ident",
                "unterminated quoted identifier",
                1,
                8,
            ),
            (
                "DO $b$ BEGIN END $$",
                "unterminated dollar-quoted string",
                1,
                4,
            ),
            (
                "SELECT 1;\nSELECT 'a\0b'",
                "NUL byte (\\0) in the file",
                2,
                10,
            ),
        ];
        for (source, what, line, column) in cases {
            let error = lexical_error(source).unwrap_or_else(|| panic!("no error: {source:?}"));
            assert_eq!(
                (error.what, error.position),
                (what, Position { line, column }),
                "{source:?}"
            );
        }
        let error = lexical_error("SELECT 1;\n/* x").unwrap();
        assert_eq!(
            error.describe("m/migration.sql"),
            "m/migration.sql:2:1: unterminated /* comment; close it; everything after it would \
             otherwise be swallowed by it"
        );
    }

    #[test]
    fn terminated_tokens_are_not_errors() {
        for source in [
            "SELECT 'a''b', E'\\'', \"x\"\"y\", $t$ $$ $t$, $1; /* a /* b */ */ -- tail",
            "SELECT 1 -- /* not a comment opener",
            "CREATE FUNCTION f() RETURNS int LANGUAGE sql BEGIN ATOMIC SELECT 1; END",
        ] {
            assert_eq!(lexical_error(source), None, "{source:?}");
        }
    }

    #[test]
    fn unterminated_constructs_run_to_the_end() {
        assert_eq!(texts("SELECT 'abc; def"), vec!["SELECT 'abc; def"]);
        assert_eq!(texts("SELECT $$ x; y"), vec!["SELECT $$ x; y"]);
        assert_eq!(texts("SELECT 1 /* open; comment"), vec!["SELECT 1"]);
        assert_eq!(texts("SELECT \"open; ident"), vec!["SELECT \"open; ident"]);
    }
}

#[cfg(test)]
mod properties {
    use super::*;
    use proptest::prelude::*;

    /// Lexical fragments that stress the splitter when glued together at random.
    const FRAGMENTS: &[&str] = &[
        "SELECT",
        " ",
        "\n",
        "\r\n",
        "\t",
        ";",
        ";;",
        "'",
        "''",
        "'a;b'",
        "E'",
        "e'\\''",
        "\\",
        "\"",
        "\"x;\"\"y\"",
        "--",
        "-- c;\n",
        "/*",
        "*/",
        "/* a /* b; */ c */",
        "$$",
        "$tag$",
        "$1",
        "a$b",
        "$t$;$t$",
        "BEGIN",
        "ATOMIC",
        "END",
        "CASE",
        "CREATE",
        "FUNCTION",
        "é",
        "ü;",
        "日本",
        "(",
        ")",
        ",",
        "DROP TABLE \"User\"",
        "x",
        "-",
        "/",
        "*",
        "E",
        "U&'a'",
    ];

    /// Statements that are known to be whole, with every lexical feature the splitter handles.
    const STATEMENTS: &[&str] = &[
        "CREATE TABLE \"User\" (\"id\" TEXT NOT NULL, CONSTRAINT \"User_pkey\" PRIMARY KEY (\"id\"))",
        "CREATE UNIQUE INDEX \"User_email_key\" ON \"User\"(\"email\")",
        "SELECT 'a;b', 'it''s', E'back\\'slash;'",
        "SELECT \"we;ird\"\"name\" FROM t",
        "DO $$ BEGIN ALTER TABLE a DROP COLUMN b; END $$",
        "CREATE FUNCTION f() RETURNS int AS $body$ SELECT 1; $body$ LANGUAGE sql",
        "CREATE FUNCTION g() RETURNS int LANGUAGE sql BEGIN ATOMIC SELECT 1; SELECT 2; END",
        "SELECT 1 /* inner; /* nested; */ comment */ + 2",
        "SELECT 1 -- trailing; comment\n + 1",
        "UPDATE t SET name = 'Ünïcödé;日本' WHERE id = $1",
        "BEGIN",
        "COMMIT",
    ];

    const SEPARATORS: &[&str] = &[";", ";\n", ";\n\n-- Next\n", "; /* between; */ ", ";;\n"];

    fn sql_soup() -> impl Strategy<Value = String> {
        prop::collection::vec(prop::sample::select(FRAGMENTS), 0..60)
            .prop_map(|parts| parts.concat())
    }

    /// PostgreSQL's scanner knows only ASCII blanks; anything else is part of a token.
    fn is_sql_whitespace(c: char) -> bool {
        matches!(c, ' ' | '\t' | '\n' | '\r' | '\x0b' | '\x0c')
    }

    /// Recompute a position the slow, obvious way.
    fn naive_position(source: &str, offset: usize) -> Position {
        let before = &source[..offset];
        let line = before.matches('\n').count() as u32 + 1;
        let bom = if source.starts_with('\u{feff}') { 3 } else { 0 };
        let line_start = before.rfind('\n').map_or(bom, |i| i + 1);
        let column = source[line_start..offset].chars().count() as u32 + 1;
        Position { line, column }
    }

    fn check_invariants(source: &str) -> Result<(), TestCaseError> {
        let statements = split(source);
        let mut previous_end = 0;
        for statement in &statements {
            let Span { start, end } = statement.span;
            prop_assert!(previous_end <= start && start < end && end <= source.len());
            prop_assert!(source.is_char_boundary(start) && source.is_char_boundary(end));
            let text = &source[start..end];
            prop_assert!(
                !text.starts_with(is_sql_whitespace),
                "starts with whitespace: {text:?}"
            );
            prop_assert!(
                !text.starts_with("--") && !text.starts_with("/*") && !text.starts_with(';')
            );
            // Only an unterminated string or identifier (running to the end) may end in blanks.
            prop_assert!(
                end == source.len() || !text.ends_with(is_sql_whitespace),
                "ends with whitespace: {text:?}"
            );
            prop_assert_eq!(statement.start, naive_position(source, start));
            let last_char = text.char_indices().last().map_or(start, |(i, _)| start + i);
            prop_assert_eq!(statement.end, naive_position(source, last_char));
            previous_end = end;
        }
        Ok(())
    }

    proptest! {
        #[test]
        fn never_panics_and_spans_are_sound_on_random_text(source in any::<String>()) {
            check_invariants(&source)?;
        }

        #[test]
        fn never_panics_and_spans_are_sound_on_sql_soup(source in sql_soup()) {
            check_invariants(&source)?;
        }

        #[test]
        fn truncated_sql_keeps_spans_sound(
            picks in prop::collection::vec(prop::sample::select(STATEMENTS), 1..8),
            cut in any::<prop::sample::Index>(),
        ) {
            let whole = picks.join(";\n");
            let boundaries: Vec<usize> = whole.char_indices().map(|(i, _)| i).collect();
            let truncated = &whole[..boundaries[cut.index(boundaries.len())]];
            check_invariants(truncated)?;
        }

        #[test]
        fn splitting_joined_statements_gives_them_back(
            picks in prop::collection::vec(
                (prop::sample::select(STATEMENTS), prop::sample::select(SEPARATORS)),
                1..10,
            ),
            leading in prop::sample::select(&["", "-- Migration\n", "\n\n", "/* header */ "][..]),
        ) {
            let mut source = leading.to_string();
            for (statement, separator) in &picks {
                source.push_str(statement);
                source.push_str(separator);
            }
            let texts: Vec<&str> = split(&source).iter().map(|s| s.text(&source)).collect();
            let expected: Vec<&str> = picks.iter().map(|(statement, _)| *statement).collect();
            prop_assert_eq!(texts, expected);
            check_invariants(&source)?;
        }
    }
}
