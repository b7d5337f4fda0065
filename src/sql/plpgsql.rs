//! PL/pgSQL and routine bodies: a `DO` block, an `EXECUTE` literal, a `CREATE FUNCTION` /
//! `CREATE PROCEDURE` body. The block frame is stripped and the SQL inside goes back through
//! [`super::understand`] statement by statement, so a `DO` block that drops a column yields
//! `DropColumn`. Routines are also followed by name: what they call, and their renames.

use super::classify::scan_destructive;
use super::lex::{tokenize, Cursor, Kind, Token, Tokens};
use super::model::{BodyOp, ObjectName, Op, Understanding, Volatility};
use super::split::split;

/// Nested `DO` / `EXECUTE '...'` deeper than this is not followed (it only guards the stack).
const MAX_NESTING: u32 = 8;

/// A `DO` block: the ops of the SQL in its body. `None` when `text` is not a `DO` statement.
pub(super) fn understand_do_block(text: &str) -> Option<(Vec<Op>, Understanding)> {
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
            None => super::understand(text),
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
pub(super) fn understand_routine(text: &str) -> Option<(Vec<Op>, Understanding)> {
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
    let mut volatility = Volatility::Volatile;
    // What keeps PostgreSQL from inlining an SQL function (see `inline_function`).
    let mut not_inlinable = false;
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
        } else if depth <= 0
            && ["definer", "set", "setof", "strict", "table"]
                .iter()
                .any(|w| token.is_word(w))
        {
            not_inlinable = true;
        } else if depth <= 0 && token.is_word("immutable") {
            volatility = Volatility::Immutable;
        } else if depth <= 0 && token.is_word("stable") {
            volatility = Volatility::Stable;
        } else if depth <= 0 && token.is_word("volatile") {
            volatility = Volatility::Volatile;
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
    let inline_expression = match (&body, language.as_deref()) {
        (Some((body, _)), Some("sql")) if !not_inlinable => inlinable_select(body),
        _ => None,
    };
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
            volatility,
            inline_expression,
        }],
        Understanding::Parsed,
    ))
}

/// `SELECT <expression>` alone (a trailing `;` allowed): the expression. `None` for anything
/// else (FROM, WHERE, several statements, several columns...), which PostgreSQL does not inline.
fn inlinable_select(body: &str) -> Option<String> {
    let tokens = tokenize(body);
    let words: Vec<&Token<'_>> = tokens.iter().collect();
    let first = words.first()?;
    if !first.is_word("select") {
        return None;
    }
    let mut depth = 0i32;
    let mut end = body.len();
    for (i, token) in words.iter().enumerate().skip(1) {
        if token.is_punct("(") {
            depth += 1;
        } else if token.is_punct(")") {
            depth -= 1;
        } else if depth == 0 && token.is_punct(";") {
            if words[i + 1..].iter().any(|t| !t.is_punct(";")) {
                return None;
            }
            end = token.start;
            break;
        } else if depth == 0
            && (token.is_punct(",")
                || [
                    "from",
                    "where",
                    "group",
                    "having",
                    "window",
                    "order",
                    "limit",
                    "offset",
                    "union",
                    "intersect",
                    "except",
                    "fetch",
                    "for",
                    "into",
                ]
                .iter()
                .any(|w| token.is_word(w)))
        {
            return None;
        }
    }
    let start = words.get(1)?.start;
    let expression = body.get(start..end)?.trim();
    (!expression.is_empty()).then(|| expression.to_string())
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
pub(super) fn understand_routine_rename(text: &str) -> Option<(Vec<Op>, Understanding)> {
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
pub(super) fn called_routines(text: &str) -> Vec<ObjectName> {
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
    use crate::sql::understand;

    fn name(name: &str) -> ObjectName {
        ObjectName::unqualified(name)
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
        let (ops, understanding) = understand(
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
        let (ops, understanding) = understand(
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
            understand("DO $$ BEGIN EXECUTE 'DROP TABLE ' || quote_ident(t); END $$");
        assert_eq!(understanding, Understanding::Unparsed);
        assert_eq!(
            ops,
            vec![Op::DropTable {
                table: name("?"),
                if_exists: false,
                cascade: false
            }]
        );
        let drop_of_unknown_column = vec![Op::DropColumn {
            table: name("?"),
            column: "?".into(),
            if_exists: false,
        }];
        let (ops, understanding) = understand(
            "DO $$ BEGIN EXECUTE format('ALTER TABLE %I DROP COLUMN %I', t, c); END $$ LANGUAGE 'plpgsql'",
        );
        assert_eq!(understanding, Understanding::Unparsed);
        assert_eq!(ops, drop_of_unknown_column);
        // Literal arguments of format() are values for its placeholders, not more SQL.
        let (ops, _) = understand(
            "DO $$ BEGIN EXECUTE format('ALTER TABLE %I DROP COLUMN %I', 'User', 'legacy'); END $$",
        );
        assert_eq!(ops, drop_of_unknown_column);
        let (ops, understanding) = understand(
            "DO $$ BEGIN CASE 1 WHEN 1 THEN EXECUTE 'TRUNCATE \"Log\"' USING 1; END CASE; END $$",
        );
        assert_eq!(understanding, Understanding::Parsed);
        assert_eq!(ops, vec![Op::Truncate { table: name("Log") }]);
        let (ops, understanding) = understand("DO $$ import os $$ LANGUAGE plpython3u");
        assert_eq!((ops, understanding), (vec![], Understanding::Unparsed));
    }

    #[test]
    fn a_routine_carries_what_its_body_does() {
        let (ops, understanding) = understand("CREATE OR REPLACE FUNCTION f() RETURNS trigger AS $$ BEGIN DROP TABLE x; RETURN NEW; END $$ LANGUAGE plpgsql");
        assert_eq!(understanding, Understanding::Parsed);
        assert_eq!(
            ops,
            vec![Op::CreateRoutine {
                name: ObjectName::unqualified("f"),
                signature: String::new(),
                body: vec![BodyOp {
                    line: 0,
                    op: Op::DropTable {
                        table: ObjectName::unqualified("x"),
                        if_exists: false,
                        cascade: false,
                    },
                }],
                calls: vec![],
                volatility: Volatility::Volatile,
                inline_expression: None,
            }]
        );
    }

    #[test]
    fn a_routine_carries_its_declared_volatility_in_any_language() {
        let volatility = |sql: &str| match understand(sql).0.as_slice() {
            [Op::CreateRoutine { volatility, .. }] => *volatility,
            other => panic!("not a routine: {other:?}"),
        };
        assert_eq!(
            volatility("CREATE FUNCTION uuid() RETURNS uuid AS $$ SELECT gen_random_uuid() $$ LANGUAGE sql"),
            Volatility::Volatile
        );
        assert_eq!(
            volatility("CREATE OR REPLACE FUNCTION app.slug(t text) RETURNS text LANGUAGE sql IMMUTABLE AS $$ SELECT lower(t) $$"),
            Volatility::Immutable
        );
        assert_eq!(
            volatility("CREATE FUNCTION myjsonb() RETURNS jsonb STABLE LANGUAGE plpython3u AS 'return \"{}\"'"),
            Volatility::Stable
        );
        assert_eq!(
            volatility(
                "CREATE FUNCTION f(stable int) RETURNS int LANGUAGE c VOLATILE AS 'lib', 'f'"
            ),
            Volatility::Volatile
        );
        assert_eq!(
            volatility("CREATE FUNCTION one() RETURNS int LANGUAGE sql IMMUTABLE BEGIN ATOMIC SELECT 1; END"),
            Volatility::Immutable
        );
    }

    #[test]
    fn an_sql_function_of_one_select_expression_carries_it_for_inlining() {
        let inlined = |sql: &str| match understand(sql).0.as_slice() {
            [Op::CreateRoutine {
                inline_expression, ..
            }] => inline_expression.clone(),
            other => panic!("not a routine: {other:?}"),
        };
        assert_eq!(
            inlined(
                "CREATE FUNCTION myjsonb() RETURNS jsonb AS $$ SELECT '{}'::jsonb $$ LANGUAGE sql"
            ),
            Some("'{}'::jsonb".to_string())
        );
        assert_eq!(
            inlined("CREATE FUNCTION uuid() RETURNS uuid LANGUAGE sql BEGIN ATOMIC SELECT gen_random_uuid(); END"),
            Some("gen_random_uuid()".to_string())
        );
        for not_inlined in [
            "CREATE FUNCTION f() RETURNS int AS $$ SELECT count(*) FROM t $$ LANGUAGE sql",
            "CREATE FUNCTION f() RETURNS int AS $$ SELECT 1; SELECT 2 $$ LANGUAGE sql",
            "CREATE FUNCTION f() RETURNS int AS $$ SELECT 1 $$ LANGUAGE sql SECURITY DEFINER",
            "CREATE FUNCTION f() RETURNS int AS $$ SELECT 1 $$ LANGUAGE sql SET search_path = app",
            "CREATE FUNCTION f() RETURNS SETOF int AS $$ SELECT 1 $$ LANGUAGE sql",
            "CREATE FUNCTION f() RETURNS int AS $$ BEGIN RETURN 1; END $$ LANGUAGE plpgsql",
        ] {
            assert_eq!(inlined(not_inlined), None, "{not_inlined}");
        }
    }
}
