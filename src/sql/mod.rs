//! SQL front end: split a migration file into statements with exact positions, then understand
//! each one as a list of [`model::Op`]s. [`understand`] decides who reads a statement: the
//! PL/pgSQL reader for `DO` blocks and routines, `sqlparser` (`parse`) for the rest, the token
//! classifier (`classify`) when sqlparser cannot or must not; bodies come back through it.

mod classify;
pub mod ident;
mod lex;
pub mod model;
mod parse;
mod plpgsql;
pub mod split;
pub mod transactions;
mod written;

pub use classify::{alter_table_actions, HARMLESS_COLUMN_ACTIONS};
pub use model::{
    BodyOp, ColumnSpec, ConstraintKind, ConstraintSpec, LockMode, ObjectName, Op, ReindexTarget,
    Statement, TransactionControl, TypeName, Understanding, Volatility,
};
pub use split::{lexical_error, split, LexicalError, Position, RawStatement, Span};

/// Bytes read by the front end, the rules and the report's excerpts, counted on the current
/// thread in tests: a test asserts linear work by comparing counts, not by timing a run.
pub(crate) mod work {
    #[cfg(test)]
    thread_local! {
        static BYTES_READ: std::cell::Cell<u64> = const { std::cell::Cell::new(0) };
    }

    #[inline]
    pub(crate) fn read(_bytes: usize) {
        #[cfg(test)]
        BYTES_READ.with(|count| count.set(count.get() + _bytes as u64));
    }

    /// The count so far, reset to zero (always zero outside tests).
    pub(crate) fn take() -> u64 {
        #[cfg(test)]
        return BYTES_READ.with(|count| count.replace(0));
        #[cfg(not(test))]
        0
    }
}

/// User routines a statement that runs calls (`SELECT f()`, `CALL p()`, `PERFORM f()` in a DO
/// body, ...): names written before a `(`, looked up by the caller in the schema model.
pub fn called_routines(text: &str) -> Vec<ObjectName> {
    plpgsql::called_routines(text)
}

/// `text` holds the keyword `word` outside strings, quoted names and comments.
pub fn has_word(text: &str, word: &str) -> bool {
    lex::has_word(text, word)
}

/// The identifiers a statement names in its own code (not in its string literals or function
/// bodies), folded as PostgreSQL folds them: a table it does not name is one it reaches only
/// through a function, trigger or DO block.
pub fn named_identifiers(text: &str) -> Vec<String> {
    lex::Tokens::new(text)
        .filter_map(|token| token.ident())
        .collect()
}

/// Split `source` and understand every statement. Never panics, whatever the input.
pub fn analyze_source(source: &str) -> Vec<Statement> {
    split(source)
        .into_iter()
        .map(|raw| statement(source, raw))
        .collect()
}

/// The statements of a file of the applied history, for the schema replay alone: those that
/// never change the schema (data changes, comments, grants: a seed INSERT may be most of a file)
/// are left out unread; every other one is understood as [`analyze_source`] does.
pub fn analyze_history_source(source: &str) -> Vec<Statement> {
    split(source)
        .into_iter()
        .filter(|raw| !leaves_schema_alone(raw.text(source)))
        .map(|raw| statement(source, raw))
        .collect()
}

/// Statement kinds whose ops the schema model ignores, whatever follows their first word.
const SCHEMA_NEUTRAL: &[&str] = &["insert", "update", "delete", "comment", "grant", "revoke"];

fn leaves_schema_alone(text: &str) -> bool {
    let first_word = text
        .split(|c: char| !c.is_ascii_alphabetic())
        .next()
        .unwrap_or("");
    SCHEMA_NEUTRAL
        .iter()
        .any(|kind| first_word.eq_ignore_ascii_case(kind))
}

fn statement(source: &str, raw: RawStatement) -> Statement {
    let text = raw.text(source);
    let (ops, understanding) = understand(text);
    Statement {
        text: text.to_string(),
        span: raw.span,
        start: raw.start,
        end: raw.end,
        ops,
        understanding,
    }
}

/// The ops of one statement's text (no terminating `;`) and how well it was understood: for
/// every statement of a file, and again for each statement inside a `DO` block or routine body.
pub fn understand(text: &str) -> (Vec<Op>, Understanding) {
    if let Some(result) = plpgsql::understand_do_block(text) {
        return result;
    }
    if text.len() > MAX_SQLPARSER_BYTES {
        return classify::classify_large(text);
    }
    if let Some(result) = plpgsql::understand_routine(text) {
        return result;
    }
    if let Some(result) = plpgsql::understand_routine_rename(text) {
        return result;
    }
    if lex::longest_operator_chain(text) > MAX_CHAINED_OPERATORS {
        return classify::classify(text);
    }
    match parse::parse(text) {
        Some(ops) => (ops, Understanding::Parsed),
        None => classify::classify(text),
    }
}

/// sqlparser's own recursion limit bounds nesting, but a chain of binary operators parses
/// iteratively into a left-deep tree that Display, our walk and Drop then recurse through: a
/// 40,000-term `OR` chain overflows a worker thread's stack (an abort, not a panic). Such
/// statements go to the token classifier, which walks iteratively. Very large ones (sqlparser's
/// tokens and tree take ~100 times the text: 3.4 GB for a 31 MB INSERT) are read by a bounded
/// window of tokens instead.
const MAX_CHAINED_OPERATORS: usize = 2_000;
const MAX_SQLPARSER_BYTES: usize = 1 << 20;

#[cfg(test)]
mod properties {
    use super::*;
    use proptest::prelude::*;

    /// Real-looking migration text; truncating it anywhere exercises every unterminated form.
    const MIGRATION: &str = "-- CreateEnum\nCREATE TYPE \"Role\" AS ENUM ('USER', 'ADMIN');\n\n-- CreateTable\nCREATE TABLE \"User\" (\n    \"id\" TEXT NOT NULL,\n    \"createdAt\" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,\n    \"role\" \"Role\" NOT NULL DEFAULT 'USER',\n    CONSTRAINT \"User_pkey\" PRIMARY KEY (\"id\")\n);\n\n-- CreateIndex\nCREATE UNIQUE INDEX \"User_email_key\" ON \"User\"(\"email\");\nDROP INDEX CONCURRENTLY IF EXISTS \"Old_idx\";\nDO $$ BEGIN IF true THEN ALTER TABLE \"User\" DROP COLUMN \"legacy\"; END IF; EXECUTE 'UPDATE t SET a = ''x'''; END $$;\nBEGIN;\nALTER TABLE \"User\" ALTER COLUMN \"role\" TYPE \"Role_new\" USING (\"role\"::text::\"Role_new\");\nCOMMIT;\n/* done /* nested */ */ SELECT E'\\'';\n";

    /// Keywords and punctuation the classifier and the DO-block reader branch on.
    const KEYWORD_SOUP: &[&str] = &[
        "DO ",
        "$$",
        "$b$",
        "'",
        "''",
        "BEGIN ",
        "END ",
        "IF ",
        "THEN ",
        "ELSE ",
        "LOOP ",
        "FOR ",
        "CASE ",
        "WHEN ",
        "EXCEPTION ",
        "DECLARE ",
        "EXECUTE ",
        "PERFORM ",
        "LANGUAGE ",
        "plpgsql ",
        "ALTER ",
        "TABLE ",
        "TYPE ",
        "INDEX ",
        "DROP ",
        "COLUMN ",
        "CREATE ",
        "UNIQUE ",
        "CONCURRENTLY ",
        "IF EXISTS ",
        "IF NOT EXISTS ",
        "ON ",
        "ONLY ",
        "USING ",
        "ADD ",
        "VALUE ",
        "RENAME ",
        "TO ",
        "SET ",
        "SCHEMA ",
        "DATA ",
        "DEFAULT ",
        "NOT ",
        "NULL ",
        "CONSTRAINT ",
        "CHECK ",
        "PRIMARY KEY ",
        "REFERENCES ",
        "TRUNCATE ",
        "REINDEX ",
        "VACUUM ",
        "DATABASE ",
        "VALIDATE ",
        "DETACH PARTITION ",
        "WITH ",
        "UPDATE ",
        "DELETE ",
        "FROM ",
        "WHERE ",
        "\"X\" ",
        "x ",
        "a.b ",
        "( ",
        ") ",
        ", ",
        "; ",
        "* ",
        ":= ",
        "<< ",
        ">> ",
        "%I ",
        "1 ",
        "[] ",
        "-- c\n",
        "/* c */ ",
    ];

    proptest! {
        #[test]
        fn analysis_never_panics_on_keyword_soup(
            parts in prop::collection::vec(prop::sample::select(KEYWORD_SOUP), 0..40),
        ) {
            let source = parts.concat();
            for statement in analyze_source(&source) {
                prop_assert_eq!(&statement.text, &source[statement.span.start..statement.span.end]);
            }
        }

        #[test]
        fn analysis_never_panics_on_random_text(source in any::<String>()) {
            let statements = analyze_source(&source);
            prop_assert_eq!(statements.len(), split(&source).len());
        }

        #[test]
        fn analysis_never_panics_on_truncated_migrations(cut in 0..MIGRATION.len(), skip in 0..40usize) {
            let start = MIGRATION.char_indices().map(|(i, _)| i).nth(skip).unwrap_or(0);
            if let Some(piece) = MIGRATION.get(start..cut.max(start)) {
                for statement in analyze_source(piece) {
                    prop_assert_eq!(&statement.text, &piece[statement.span.start..statement.span.end]);
                }
            }
        }
    }

    #[test]
    fn whole_migration_is_understood() {
        let statements = analyze_source(MIGRATION);
        assert_eq!(statements.len(), 9);
        assert!(statements
            .iter()
            .all(|s| s.understanding != Understanding::Unparsed));
        assert!(statements[3].requires_autocommit());
        assert!(statements[4]
            .ops
            .iter()
            .any(|op| matches!(op, Op::DropColumn { column, .. } if column == "legacy")));
    }
}
