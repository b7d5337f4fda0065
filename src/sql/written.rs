//! Pieces of a statement exactly as the user wrote them (types, defaults, `USING`), to replace
//! sqlparser's normalised rendering (`'a'::text` rather than `'a'::TEXT`) in what users read.

use super::lex::{strip_collate, text_of, tokenize, trim_closing_paren, Cursor, Token};

/// Pieces of a statement exactly as written in the source, to replace sqlparser's normalised
/// rendering (`'a'::text` rather than `'a'::TEXT`) in what users read.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub(super) struct WrittenTexts {
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
pub(super) fn create_table_texts(text: &str) -> Vec<WrittenTexts> {
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
pub(super) fn alter_table_texts(text: &str) -> Vec<WrittenTexts> {
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
