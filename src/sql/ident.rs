//! PostgreSQL identifiers, the one place that folds, quotes and cuts them: every reader of SQL
//! (sqlparser's, the token readers', the CHECK-expression reader's) and every writer of SQL (the
//! suggested statements, the history table's queries) goes through here, so they agree.

/// PostgreSQL keeps this many bytes of an identifier (NAMEDATALEN - 1) and drops the rest.
pub const MAX_IDENTIFIER_BYTES: usize = 63;

/// The name PostgreSQL stores for an identifier written `word`: exact when it was quoted,
/// ASCII letters lower-cased when not (as the server folds in a UTF-8 database).
pub fn fold(word: &str, quoted: bool) -> String {
    if quoted {
        word.to_string()
    } else {
        word.to_ascii_lowercase()
    }
}

/// The folded name of `text` when it is exactly one identifier as written in SQL (`users`,
/// `"User"`, `"say ""hi"""`); `None` for anything else (an expression, a qualified name).
pub fn fold_written(text: &str) -> Option<String> {
    if let Some(inner) = text.strip_prefix('"').and_then(|t| t.strip_suffix('"')) {
        if inner.is_empty() || inner.replace("\"\"", "").contains('"') {
            return None;
        }
        return Some(fold(&inner.replace("\"\"", "\""), true));
    }
    let plain = !text.is_empty()
        && text
            .chars()
            .all(|c| c.is_alphanumeric() || c == '_' || c == '$');
    plain.then(|| fold(text, false))
}

/// `name` always in double quotes, inner quotes doubled: for SQL this tool runs, where the exact
/// spelling must survive whatever the name is (a keyword, capitals, spaces).
pub fn quote(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

/// PostgreSQL's reserved and type/function-name keywords (`pg_get_keywords()` categories R and
/// T, PostgreSQL 15): bare, they are not names, so `user` or `order` must be quoted to be one.
/// Sorted, for binary search; a test compares it with the server's own list.
pub const RESERVED_KEYWORDS: &[&str] = &[
    "all",
    "analyse",
    "analyze",
    "and",
    "any",
    "array",
    "as",
    "asc",
    "asymmetric",
    "authorization",
    "binary",
    "both",
    "case",
    "cast",
    "check",
    "collate",
    "collation",
    "column",
    "concurrently",
    "constraint",
    "create",
    "cross",
    "current_catalog",
    "current_date",
    "current_role",
    "current_schema",
    "current_time",
    "current_timestamp",
    "current_user",
    "default",
    "deferrable",
    "desc",
    "distinct",
    "do",
    "else",
    "end",
    "except",
    "false",
    "fetch",
    "for",
    "foreign",
    "freeze",
    "from",
    "full",
    "grant",
    "group",
    "having",
    "ilike",
    "in",
    "initially",
    "inner",
    "intersect",
    "into",
    "is",
    "isnull",
    "join",
    "lateral",
    "leading",
    "left",
    "like",
    "limit",
    "localtime",
    "localtimestamp",
    "natural",
    "not",
    "notnull",
    "null",
    "offset",
    "on",
    "only",
    "or",
    "order",
    "outer",
    "overlaps",
    "placing",
    "primary",
    "references",
    "returning",
    "right",
    "select",
    "session_user",
    "similar",
    "some",
    "symmetric",
    "table",
    "tablesample",
    "then",
    "to",
    "trailing",
    "true",
    "union",
    "unique",
    "user",
    "using",
    "variadic",
    "verbose",
    "when",
    "where",
    "window",
    "with",
];

/// `name` the way a person writes it in SQL they read: bare when PostgreSQL would fold it back
/// to the same name (`users`), quoted otherwise (`"User"`, and keywords: `"user"`). For messages
/// and suggested statements, which must run as written.
pub fn quote_if_needed(name: &str) -> String {
    let plain = !name.is_empty()
        && name
            .chars()
            .next()
            .is_some_and(|c| c.is_ascii_lowercase() || c == '_')
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
        && RESERVED_KEYWORDS.binary_search(&name).is_err();
    if plain {
        name.to_string()
    } else {
        quote(name)
    }
}

/// `name` cut to the bytes PostgreSQL keeps (at a character boundary), as the server does for
/// the names it derives (`Table_column_key`).
pub fn truncate_to_max_bytes(mut name: String) -> String {
    if name.len() > MAX_IDENTIFIER_BYTES {
        let mut cut = MAX_IDENTIFIER_BYTES;
        while !name.is_char_boundary(cut) {
            cut -= 1;
        }
        name.truncate(cut);
    }
    name
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unquoted_names_fold_ascii_letters_only() {
        assert_eq!(fold("UserS", false), "users");
        assert_eq!(fold("UserS", true), "UserS");
        // PostgreSQL leaves non-ASCII letters alone in a UTF-8 database: `Äpfel` stays `Äpfel`.
        assert_eq!(fold("ÄPFEL", false), "Äpfel");
    }

    #[test]
    fn written_identifiers_fold_or_are_refused() {
        assert_eq!(fold_written("Email").as_deref(), Some("email"));
        assert_eq!(fold_written("\"Email\"").as_deref(), Some("Email"));
        assert_eq!(
            fold_written("\"say \"\"hi\"\"\"").as_deref(),
            Some("say \"hi\"")
        );
        assert_eq!(fold_written("\"\""), None);
        assert_eq!(fold_written("\"a\"b\""), None);
        assert_eq!(fold_written("lower(email)"), None);
        assert_eq!(fold_written("app.email"), None);
        assert_eq!(fold_written(""), None);
    }

    #[test]
    fn identifiers_are_quoted() {
        assert_eq!(quote("billing"), "\"billing\"");
        assert_eq!(quote("we\"ird"), "\"we\"\"ird\"");
    }

    #[test]
    fn identifiers_are_quoted_only_when_needed_for_readers() {
        assert_eq!(quote_if_needed("users"), "users");
        assert_eq!(quote_if_needed("_tmp2"), "_tmp2");
        assert_eq!(quote_if_needed("User"), "\"User\"");
        assert_eq!(quote_if_needed("2fa"), "\"2fa\"");
        assert_eq!(quote_if_needed("we\"ird"), "\"we\"\"ird\"");
        assert_eq!(quote_if_needed(""), "\"\"");
        assert_eq!(quote_if_needed("user"), "\"user\"");
        assert_eq!(quote_if_needed("order"), "\"order\"");
        assert_eq!(quote_if_needed("users"), "users");
        assert!(RESERVED_KEYWORDS.windows(2).all(|pair| pair[0] < pair[1]));
    }

    #[test]
    fn long_names_are_cut_at_a_character_boundary() {
        assert_eq!(truncate_to_max_bytes("a".repeat(70)), "a".repeat(63));
        assert_eq!(truncate_to_max_bytes("short".into()), "short");
        // `x` and 31 two-byte characters fill the 63 bytes; the 32nd would straddle the cut.
        let cut = truncate_to_max_bytes(format!("x{}", "é".repeat(40)));
        assert_eq!(cut, format!("x{}", "é".repeat(31)));
    }
}
