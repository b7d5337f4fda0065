//! `add-column-rewrite`: ADD COLUMN with a volatile default, SERIAL, identity or GENERATED STORED:
//! rewrites the table.
//!
//! From PostgreSQL 11 a non-volatile default (a constant, `now()`, `CURRENT_TIMESTAMP`) is stored
//! once in the catalog and ADD COLUMN is instant. A value that differs per row (a volatile
//! function, a sequence, an identity, a stored generated expression) has to be written into every
//! existing row: a full rewrite under ACCESS EXCLUSIVE. Before 11 every non-null default rewrites.
//!
//! A function is volatile unless it is known not to be: a built-in known STABLE or IMMUTABLE, or
//! a function the history creates with `IMMUTABLE` or `STABLE`. `CREATE FUNCTION` without either
//! declares it VOLATILE (PostgreSQL's default, in any language), and a function the history does
//! not define (`uuid()`) is taken as volatile too. PostgreSQL inlines an SQL function whose body
//! is one `SELECT <expression>`: such a call is as volatile as the expression.

use std::sync::LazyLock;

use regex::Regex;

use super::advice::{self, Sql, FOR_THE_TABLE_SIZE};
use super::{Example, Impact, RuleContext, RuleInfo, Violation};
use crate::lint::schema::Schema;
use crate::sql::{ident, ColumnSpec, ObjectName, Op, Volatility};
use crate::findings::Severity;

pub const RULE: RuleInfo = RuleInfo {
    id: "add-column-rewrite",
    default_severity: Severity::Error,
    impact: Impact::Blocks,
    summary: "ADD COLUMN with a volatile default, SERIAL, identity or GENERATED STORED: rewrites the table",
    check: Some(check),
    file: include_str!("add_column_rewrite.rs"),
    example: Example::Migration("ALTER TABLE \"User\" ADD COLUMN \"token\" UUID NOT NULL DEFAULT gen_random_uuid();\n"),
};

/// Fast (catalog-only) defaults arrived in PostgreSQL 11.
const FAST_DEFAULT_SINCE: u32 = 11;

/// Built-in volatile functions seen in column defaults (pgcrypto / uuid-ossp included).
const VOLATILE_FUNCTIONS: &[&str] = &[
    "gen_random_uuid",
    "gen_random_bytes",
    "uuid_generate_v1",
    "uuid_generate_v1mc",
    "uuid_generate_v4",
    "uuidv4",
    "uuidv7",
    "random",
    "random_normal",
    "clock_timestamp",
    "timeofday",
    "nextval",
    "txid_current",
    "pg_current_xact_id",
    "setseed",
    "gen_salt",
];

/// Built-in functions seen in column defaults that are STABLE or IMMUTABLE: evaluated once for
/// the ADD COLUMN, whatever the number of rows.
const NON_VOLATILE_FUNCTIONS: &[&str] = &[
    "now",
    "current_timestamp",
    "current_date",
    "current_time",
    "localtime",
    "localtimestamp",
    "transaction_timestamp",
    "statement_timestamp",
    "current_setting",
    "current_schema",
    "timezone",
    "date_trunc",
    "date_part",
    "extract",
    "make_date",
    "make_interval",
    "make_timestamp",
    "make_timestamptz",
    "to_timestamp",
    "to_date",
    "to_char",
    "to_number",
    "lower",
    "upper",
    "md5",
    "concat",
    "concat_ws",
    "substr",
    "substring",
    "length",
    "replace",
    "trim",
    "btrim",
    "ltrim",
    "rtrim",
    "left",
    "right",
    "abs",
    "round",
    "floor",
    "ceil",
    "ceiling",
    "coalesce",
    "nullif",
    "greatest",
    "least",
    "to_json",
    "to_jsonb",
    "json_build_object",
    "jsonb_build_object",
    "json_build_array",
    "jsonb_build_array",
    "array_fill",
    "encode",
    "decode",
    "digest",
    "crypt",
    "sha256",
    "sha512",
    "format",
    "lpad",
    "rpad",
    "repeat",
    "split_part",
    "initcap",
    "char_length",
    "array_to_string",
    "uuid_nil",
    "uuid_generate_v3",
    "uuid_generate_v5",
    "text",
    "int4",
    "int8",
    "date",
];

/// Words written before a `(` that are SQL syntax or a type's modifiers, not function calls:
/// `CAST(x AS varchar(10))`, `'x'::character varying(10)`, `ARRAY(...)`, `ROW(...)`.
const NOT_CALLS: &[&str] = &[
    "cast", "array", "row", "in", "exists", "and", "or", "not", "any", "some", "all", "values",
    "varchar", "varying", "char", "character", "bpchar", "numeric", "decimal", "dec", "timestamp",
    "timestamptz", "time", "timetz", "interval", "bit", "varbit", "float",
];

pub fn check(op: &Op, ctx: &RuleContext) -> Option<Violation> {
    let Op::AddColumn {
        table,
        column,
        if_not_exists,
    } = op
    else {
        return None;
    };
    if advice::is_noop_add_column(ctx, table, &column.name, *if_not_exists) {
        return None;
    }
    let cause = rewrite_cause(column, ctx)?;
    if !advice::has_rows_in_production(ctx, table) {
        return None;
    }
    let sql = Sql::of(ctx);
    let col = sql.ident(&column.name);
    let table_sql = sql.table(table);
    let message = format!(
        "ADD COLUMN {col} on {table_sql}: {cause}, so PostgreSQL rewrites every row of {table_sql} and \
         rebuilds all its indexes under an ACCESS EXCLUSIVE lock. The running app can neither \
         read nor write {table_sql} {FOR_THE_TABLE_SIZE}."
    );
    Some(Violation::new(
        message,
        help(ctx, table, column),
    ))
}

/// Why existing rows must each get their own value written, if they must.
fn rewrite_cause(column: &ColumnSpec, ctx: &RuleContext) -> Option<String> {
    let pg_version = ctx.pg_version;
    let base = column.data_type.base.as_str();
    if base.starts_with("serial") {
        return Some(format!(
            "{} takes a new sequence value for each existing row",
            column.data_type.sql
        ));
    }
    if column.identity {
        return Some("an identity column takes a new sequence value for each existing row".into());
    }
    if column.generated_stored {
        return Some(
            "GENERATED ... STORED computes and stores the value for each existing row".into(),
        );
    }
    let default = column.default.as_deref().filter(|d| !is_null(d))?;
    if pg_version < FAST_DEFAULT_SINCE {
        return Some(format!(
            "on PostgreSQL {pg_version} any non-null DEFAULT ({default}) is written into each existing row \
             (fast defaults start with PostgreSQL 11)"
        ));
    }
    let call = volatile_call(default, ctx.schema)?;
    let function = &call.function;
    Some(match call.known {
        Known::BuiltIn => format!(
            "the default {default} calls the volatile {function}(), evaluated once per existing row"
        ),
        Known::DeclaredVolatile => format!(
            "the default {default} calls {function}(), which the history creates without \
             IMMUTABLE or STABLE (so VOLATILE, PostgreSQL's default): it is evaluated once per \
             existing row"
        ),
        Known::Unknown => format!(
            "the default {default} calls {function}(), which is neither a built-in known to be \
             STABLE or IMMUTABLE nor created in the history with IMMUTABLE or STABLE: taken as \
             VOLATILE (PostgreSQL's default), it is evaluated once per existing row"
        ),
    })
}

pub(super) fn is_null(default: &str) -> bool {
    let lower = default.trim().to_ascii_lowercase();
    lower == "null" || lower.starts_with("null::") || lower.starts_with("(null)")
}

/// A call in a default that PostgreSQL evaluates for each existing row.
struct VolatileCall {
    /// As a person would write it back: `uuid`, `app."myJsonb"`.
    function: String,
    known: Known,
}

/// How the call is known to be volatile.
enum Known {
    /// A built-in volatile function (`gen_random_uuid`, `random`, `clock_timestamp`, ...).
    BuiltIn,
    /// Created in the history without IMMUTABLE or STABLE.
    DeclaredVolatile,
    /// Neither built-in nor created in the history.
    Unknown,
}

/// How deep calls of inlined SQL functions are followed (a function may call itself).
const MAX_INLINING_DEPTH: u32 = 8;

/// The first call in the default expression that is volatile (string literals skipped).
fn volatile_call(default: &str, schema: &Schema) -> Option<VolatileCall> {
    volatile_call_at(default, schema, 0)
}

/// `default` with each string literal (`'...'`, `E'...'`, `$tag$...$tag$`) emptied: a function
/// name inside a string is no call.
fn without_strings(default: &str) -> String {
    static LITERAL: LazyLock<Regex> = LazyLock::new(|| {
        Regex::new(r"(?s)[Ee]'(?:[^'\\]|\\.|'')*'|'(?:[^']|'')*'|\$(?:[A-Za-z_][A-Za-z0-9_]*)?\$")
            .expect("valid regex")
    });
    let mut code = String::new();
    let mut rest = default;
    while let Some(found) = LITERAL.find(rest) {
        let before = &rest[..found.start()];
        let after = &rest[found.end()..];
        let quote = found.as_str();
        // `$` inside a name (`a$b$c`) opens no dollar quote.
        if quote.starts_with('$')
            && before.ends_with(|c: char| c.is_ascii_alphanumeric() || c == '_' || c == '$')
        {
            code.push_str(before);
            code.push_str(quote);
            rest = after;
            continue;
        }
        code.push_str(before);
        code.push_str("''");
        rest = if quote.starts_with('$') {
            after.find(quote).map_or("", |end| &after[end + quote.len()..])
        } else {
            after
        };
    }
    code.push_str(rest);
    code
}

fn volatile_call_at(default: &str, schema: &Schema, depth: u32) -> Option<VolatileCall> {
    static CALL: LazyLock<Regex> = LazyLock::new(|| {
        // Leftmost-first, ending at the `(`: `md5(random())` has two calls.
        let name = r#"("(?:[^"]|"")+"|[A-Za-z_][A-Za-z0-9_$]*)"#;
        Regex::new(&format!(r"(?:{name}\s*\.\s*)?{name}\s*\(")).expect("valid regex")
    });
    let code = without_strings(default);
    CALL.captures_iter(&code).find_map(|call| {
        let whole = call.get(0)?;
        // `x::"Money"(2)` is a type with its modifier.
        if code[..whole.start()].trim_end().ends_with("::") {
            return None;
        }
        let folded = |m: regex::Match<'_>| {
            let text = m.as_str();
            ident::fold_written(text).unwrap_or_else(|| text.to_string())
        };
        let name = folded(call.get(2)?);
        let qualifier = call.get(1).map(folded);
        let function = ObjectName::new(qualifier.as_deref(), &name);
        let known = volatility_of(&function, schema, depth)?;
        Some(VolatileCall {
            function: function.to_string(),
            known,
        })
    })
}

/// `None` when a call of `function` is not volatile.
fn volatility_of(function: &ObjectName, schema: &Schema, depth: u32) -> Option<Known> {
    let built_in_path = function
        .schema
        .as_deref()
        .is_none_or(|s| s == "pg_catalog");
    let name = function.name.as_str();
    // pg_catalog comes first on the search path: a built-in name is the built-in.
    if built_in_path && NOT_CALLS.contains(&name) {
        return None;
    }
    if VOLATILE_FUNCTIONS.contains(&name) && schema.routine_volatility(function).is_none() {
        return Some(Known::BuiltIn);
    }
    if built_in_path && NON_VOLATILE_FUNCTIONS.contains(&name) {
        return None;
    }
    match schema.routine_volatility(function) {
        // Which overload a call reaches is not known: volatile if any is.
        Some(overloads) => overloads
            .into_iter()
            .any(|overload| match overload {
                (Volatility::Immutable | Volatility::Stable, _) => false,
                // Inlined: the expression's own volatility is what counts.
                (Volatility::Volatile, Some(expression)) if depth < MAX_INLINING_DEPTH => {
                    volatile_call_at(expression, schema, depth + 1).is_some()
                }
                (Volatility::Volatile, _) => true,
            })
            .then_some(Known::DeclaredVolatile),
        // Extension functions are called schema-qualified too (`extensions.digest(...)`).
        None if NON_VOLATILE_FUNCTIONS.contains(&name) => None,
        None => Some(Known::Unknown),
    }
}

fn help(ctx: &RuleContext, table: &crate::sql::ObjectName, column: &ColumnSpec) -> String {
    let sql = Sql::of(ctx);
    let col = sql.ident(&column.name);
    let table_sql = sql.table(table);
    let base = column.data_type.base.as_str();
    let plain_type = match base {
        "serial2" => "smallint".to_string(),
        "serial4" => "integer".to_string(),
        "serial8" => "bigint".to_string(),
        _ => column.data_type.sql.clone(),
    };
    let numbered = base.starts_with("serial") || column.identity;
    // A sequence-backed default gives new rows their number at once, like SERIAL does.
    let (sequence, value) = if numbered {
        let sequence = sql.derived_name(table, std::slice::from_ref(&column.name), "seq");
        let create = format!("CREATE SEQUENCE {sequence} OWNED BY {table_sql}.{col};\n");
        let value = format!("nextval('{}')", sequence.replace('\'', "''"));
        (create, value)
    } else if column.generated_stored {
        (String::new(), "<the generation expression>".to_string())
    } else {
        (String::new(), column.default.clone().unwrap_or_default())
    };
    let backfill = advice::batched_update(
        ctx,
        table,
        &format!("{col} = {value}"),
        &format!("{col} IS NULL"),
    );
    let old_version = if ctx.pg_version < FAST_DEFAULT_SINCE {
        format!(
            " (on PostgreSQL {} even a constant default rewrites: add the column without it)",
            ctx.pg_version
        )
    } else {
        String::new()
    };
    let new_rows = if column.generated_stored {
        "-- keep it filled for new and updated rows from the app or a BEFORE INSERT OR UPDATE trigger\n"
            .to_string()
    } else {
        format!(
            "ALTER TABLE {table_sql} ALTER COLUMN {col} SET DEFAULT {value};  -- new rows only, instant\n"
        )
    };
    format!(
        "Add the column without the per-row value, then fill it in batches{old_version}:\n\
         ALTER TABLE {table_sql} ADD COLUMN {col} {plain_type};\n\
         {sequence}{new_rows}\
         -- outside the migration, repeat until it updates 0 rows:\n\
         {backfill}\n\
         -- then, if it must be NOT NULL:\n\
         {not_null}",
        not_null = advice::set_not_null_safely(ctx, table, &column.name),
    )
}

#[cfg(test)]
mod tests {
    use crate::lint::rules::testing::{assert_mentions, only_violation, violations, violations_on};
    use super::*;

    const HISTORY: &str = r#"CREATE TABLE "Order" ("id" TEXT NOT NULL, "total" INTEGER,
        CONSTRAINT "Order_pkey" PRIMARY KEY ("id"));"#;

    fn flagged_on(pg_version: u32, add: &str) -> bool {
        !violations_on(pg_version, HISTORY, add, &RULE).is_empty()
    }

    #[test]
    fn volatile_defaults_rewrite() {
        let v = only_violation(
            HISTORY,
            r#"ALTER TABLE "Order" ADD COLUMN "publicId" UUID NOT NULL DEFAULT gen_random_uuid();"#,
            &RULE,
        );
        assert_mentions(&v.message, "volatile gen_random_uuid()");
        assert_mentions(&v.message, "ACCESS EXCLUSIVE");
        assert_mentions(&v.help, "ALTER TABLE \"Order\" ADD COLUMN \"publicId\" UUID;");
        assert_mentions(&v.help, "SET DEFAULT gen_random_uuid();");
        assert_mentions(&v.help, "UPDATE \"Order\" SET \"publicId\" = gen_random_uuid() WHERE \"id\" IN (SELECT \"id\" FROM \"Order\" WHERE \"publicId\" IS NULL LIMIT 1000);");
        for default in [
            "uuid_generate_v4()",
            "random()",
            "clock_timestamp()",
            "public.uuid_generate_v4()",
            "(random() * 10)::int",
            "md5(random()::text)",
            "substr(md5(clock_timestamp()::text), 1, 8)",
        ] {
            let add = format!(r#"ALTER TABLE "Order" ADD COLUMN "x" TEXT DEFAULT {default};"#);
            assert!(flagged_on(15, &add), "{default}");
        }
    }

    #[test]
    fn serial_identity_and_generated_stored_rewrite() {
        assert!(flagged_on(
            15,
            r#"ALTER TABLE "Order" ADD COLUMN "number" SERIAL;"#
        ));
        assert!(flagged_on(
            15,
            r#"ALTER TABLE "Order" ADD COLUMN "number" BIGSERIAL NOT NULL;"#
        ));
        assert!(flagged_on(
            15,
            r#"ALTER TABLE "Order" ADD COLUMN "n" BIGINT GENERATED BY DEFAULT AS IDENTITY;"#
        ));
        assert!(flagged_on(
            15,
            r#"ALTER TABLE "Order" ADD COLUMN "double" INTEGER GENERATED ALWAYS AS ("total" * 2) STORED;"#
        ));
    }

    #[test]
    fn serial_help_creates_the_sequence_it_uses() {
        let v = only_violation(
            HISTORY,
            r#"ALTER TABLE "Order" ADD COLUMN "number" BIGSERIAL NOT NULL;"#,
            &RULE,
        );
        assert_mentions(&v.message, "sequence value for each existing row");
        assert_mentions(&v.help, "ALTER TABLE \"Order\" ADD COLUMN \"number\" bigint;");
        assert_mentions(&v.help, "CREATE SEQUENCE \"Order_number_seq\" OWNED BY \"Order\".\"number\";");
        assert_mentions(&v.help, "ALTER TABLE \"Order\" ALTER COLUMN \"number\" SET DEFAULT nextval('\"Order_number_seq\"');");
    }

    #[test]
    fn constant_and_now_defaults_are_fast_from_11() {
        for add in [
            r#"ALTER TABLE "Order" ADD COLUMN "status" TEXT NOT NULL DEFAULT 'random()';"#,
            // A call written inside any kind of string literal is no call.
            r#"ALTER TABLE "Order" ADD COLUMN "status" TEXT DEFAULT E'it\'s random()';"#,
            r#"ALTER TABLE "Order" ADD COLUMN "status" TEXT DEFAULT $$random()$$;"#,
            r#"ALTER TABLE "Order" ADD COLUMN "status" TEXT DEFAULT $q$ 'random()' $q$;"#,
            r#"ALTER TABLE "Order" ADD COLUMN "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP;"#,
            r#"ALTER TABLE "Order" ADD COLUMN "at" TIMESTAMPTZ DEFAULT now();"#,
            r#"ALTER TABLE "Order" ADD COLUMN "meta" JSONB NOT NULL DEFAULT '{}'::jsonb;"#,
            r#"ALTER TABLE "Order" ADD COLUMN "n" VARCHAR(10) DEFAULT 'x'::character varying(10);"#,
            r#"ALTER TABLE "Order" ADD COLUMN "note" TEXT;"#,
        ] {
            assert!(!flagged_on(15, add), "{add}");
            assert!(!flagged_on(11, add), "{add}");
        }
    }

    #[test]
    fn a_call_after_a_string_literal_is_still_seen() {
        for add in [
            r#"ALTER TABLE "Order" ADD COLUMN "code" TEXT DEFAULT E'\'' || random()::text;"#,
            r#"ALTER TABLE "Order" ADD COLUMN "code" TEXT DEFAULT $$x$$ || random()::text;"#,
        ] {
            assert!(flagged_on(15, add), "{add}");
        }
    }

    #[test]
    fn before_11_any_non_null_default_rewrites() {
        assert!(flagged_on(
            10,
            r#"ALTER TABLE "Order" ADD COLUMN "status" TEXT NOT NULL DEFAULT 'new';"#
        ));
        assert!(!flagged_on(
            10,
            r#"ALTER TABLE "Order" ADD COLUMN "status" TEXT DEFAULT NULL;"#
        ));
        assert!(!flagged_on(
            10,
            r#"ALTER TABLE "Order" ADD COLUMN "status" TEXT;"#
        ));
    }

    #[test]
    fn a_function_the_history_does_not_define_is_volatile() {
        let v = only_violation(
            HISTORY,
            r#"ALTER TABLE "Order" ADD COLUMN "ref" UUID NOT NULL DEFAULT uuid();"#,
            &RULE,
        );
        assert_mentions(&v.message, "calls uuid(), which is neither a built-in");
        assert_mentions(&v.message, "rewrites every row");
        assert_mentions(&v.help, "SET DEFAULT uuid();");
        for default in [
            "app.next_code()",
            "\"makeSlug\"('x')",
            "lower(shortid())",
            "pg_catalog.uuid_generate_v4()",
        ] {
            let add = format!(r#"ALTER TABLE "Order" ADD COLUMN "x" TEXT DEFAULT {default};"#);
            assert!(flagged_on(15, &add), "{default}");
        }
    }

    #[test]
    fn a_function_of_the_history_is_as_volatile_as_it_was_declared() {
        let add = r#"ALTER TABLE "Order" ADD COLUMN "meta" JSONB NOT NULL DEFAULT myjsonb();"#;
        let volatile = format!(
            "{HISTORY}\nCREATE FUNCTION myjsonb() RETURNS jsonb AS $$ BEGIN RETURN '{{}}'; END $$ LANGUAGE plpgsql;"
        );
        let v = only_violation(&volatile, add, &RULE);
        assert_mentions(&v.message, "calls myjsonb(), which the history creates without IMMUTABLE or STABLE");
        for declared in [
            "CREATE FUNCTION myjsonb() RETURNS jsonb IMMUTABLE AS $$ SELECT '{}'::jsonb $$ LANGUAGE sql;",
            "CREATE OR REPLACE FUNCTION public.myjsonb() RETURNS jsonb LANGUAGE plpgsql STABLE AS $$ BEGIN RETURN '{}'; END $$;",
            "CREATE FUNCTION myjsonb() RETURNS jsonb LANGUAGE plv8 STABLE AS $$ return {}; $$;",
        ] {
            let history = format!("{HISTORY}\n{declared}");
            assert!(violations(&history, add, &RULE).is_empty(), "{declared}");
        }
        // Replaced by a volatile one: volatile again.
        let replaced = format!(
            "{HISTORY}\nCREATE FUNCTION myjsonb() RETURNS jsonb IMMUTABLE AS $$ SELECT '{{}}'::jsonb $$ LANGUAGE sql;\n\
             CREATE OR REPLACE FUNCTION myjsonb() RETURNS jsonb AS $$ BEGIN RETURN '{{}}'; END $$ LANGUAGE plpgsql;"
        );
        assert_eq!(violations(&replaced, add, &RULE).len(), 1);
        // A schema-qualified, quoted name is looked up as written.
        let qualified = format!(
            "{HISTORY}\nCREATE FUNCTION app.\"newCode\"() RETURNS text STABLE LANGUAGE sql AS $$ SELECT 'x' $$;"
        );
        let add = r#"ALTER TABLE "Order" ADD COLUMN "code" TEXT DEFAULT app."newCode"();"#;
        assert!(violations(&qualified, add, &RULE).is_empty());
        let other_schema = r#"ALTER TABLE "Order" ADD COLUMN "code" TEXT DEFAULT "newCode"();"#;
        assert_eq!(violations(&qualified, other_schema, &RULE).len(), 1);
    }

    #[test]
    fn an_inlined_sql_function_is_as_volatile_as_its_expression() {
        let add = r#"ALTER TABLE "Order" ADD COLUMN "meta" JSONB NOT NULL DEFAULT myjsonb();"#;
        let constant = format!(
            "{HISTORY}\nCREATE FUNCTION myjsonb() RETURNS jsonb AS $$ SELECT '{{}}'::jsonb $$ LANGUAGE sql;"
        );
        assert!(violations(&constant, add, &RULE).is_empty());
        let calls_volatile = format!(
            "{HISTORY}\nCREATE FUNCTION myjsonb() RETURNS jsonb AS $$ SELECT jsonb_build_object('id', gen_random_uuid()) $$ LANGUAGE sql;"
        );
        assert_eq!(violations(&calls_volatile, add, &RULE).len(), 1);
        // Not inlined (SECURITY DEFINER): the declared VOLATILE counts.
        let definer = format!(
            "{HISTORY}\nCREATE FUNCTION myjsonb() RETURNS jsonb AS $$ SELECT '{{}}'::jsonb $$ LANGUAGE sql SECURITY DEFINER;"
        );
        assert_eq!(violations(&definer, add, &RULE).len(), 1);
        // A function inlined into itself ends.
        let recursive = format!(
            "{HISTORY}\nCREATE FUNCTION myjsonb() RETURNS jsonb AS $$ SELECT myjsonb() $$ LANGUAGE sql;"
        );
        assert_eq!(violations(&recursive, add, &RULE).len(), 1);
    }

    #[test]
    fn a_function_created_earlier_in_the_pending_set_counts_too() {
        let pending = r#"CREATE FUNCTION short_code() RETURNS text AS $$ SELECT substr(md5(random()::text), 1, 6) $$ LANGUAGE sql;
            ALTER TABLE "Order" ADD COLUMN "code" TEXT DEFAULT short_code();"#;
        assert_eq!(violations(HISTORY, pending, &RULE).len(), 1);
        let stable = r#"CREATE FUNCTION tenant() RETURNS text STABLE AS $$ SELECT current_setting('app.tenant') $$ LANGUAGE sql;
            ALTER TABLE "Order" ADD COLUMN "tenant" TEXT DEFAULT tenant();"#;
        assert!(violations(HISTORY, stable, &RULE).is_empty());
    }

    #[test]
    fn type_modifiers_and_syntax_are_not_calls() {
        for add in [
            r#"ALTER TABLE "Order" ADD COLUMN "p" NUMERIC(10,2) DEFAULT CAST(0 AS numeric(10,2));"#,
            r#"ALTER TABLE "Order" ADD COLUMN "at" TIMESTAMP(3) DEFAULT CURRENT_TIMESTAMP(3);"#,
            r#"ALTER TABLE "Order" ADD COLUMN "day" DATE DEFAULT (now() AT TIME ZONE 'utc')::date;"#,
            r#"ALTER TABLE "Order" ADD COLUMN "at" TIMESTAMPTZ DEFAULT timezone('utc', now());"#,
            r#"ALTER TABLE "Order" ADD COLUMN "tags" TEXT[] DEFAULT ARRAY[]::varchar(20)[];"#,
            r#"ALTER TABLE "Order" ADD COLUMN "name" TEXT DEFAULT COALESCE(NULL, lower('X'));"#,
        ] {
            assert!(!flagged_on(15, add), "{add}");
        }
    }

    #[test]
    fn new_table_is_exempt() {
        let pending = r#"CREATE TABLE "Invoice" ("id" TEXT NOT NULL);
            ALTER TABLE "Invoice" ADD COLUMN "publicId" UUID DEFAULT gen_random_uuid();"#;
        assert!(violations("", pending, &RULE).is_empty());
    }
}
