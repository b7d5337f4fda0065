//! `add-column-rewrite`: ADD COLUMN with a volatile default, SERIAL, identity or GENERATED STORED:
//! rewrites the table.
//!
//! From PostgreSQL 11 a non-volatile default (a constant, `now()`, `CURRENT_TIMESTAMP`) is stored
//! once in the catalog and ADD COLUMN is instant. A value that differs per row (a volatile
//! function, a sequence, an identity, a stored generated expression) has to be written into every
//! existing row: a full rewrite under ACCESS EXCLUSIVE. Before 11 every non-null default rewrites.

use std::sync::LazyLock;

use regex::Regex;

use super::advice::{self, Sql, FOR_THE_TABLE_SIZE};
use super::{Example, Impact, RuleContext, RuleInfo, Violation};
use crate::sql::{ColumnSpec, Op};
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
    let cause = rewrite_cause(column, ctx.pg_version)?;
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
fn rewrite_cause(column: &ColumnSpec, pg_version: u32) -> Option<String> {
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
    volatile_function(default).map(|function| {
        format!("the default {default} calls the volatile {function}(), evaluated once per existing row")
    })
}

pub(super) fn is_null(default: &str) -> bool {
    let lower = default.trim().to_ascii_lowercase();
    lower == "null" || lower.starts_with("null::") || lower.starts_with("(null)")
}

/// The first volatile function the default expression calls (string literals skipped).
fn volatile_function(default: &str) -> Option<&'static str> {
    static STRING_LITERAL: LazyLock<Regex> =
        LazyLock::new(|| Regex::new(r"'(?:[^']|'')*'").expect("valid regex"));
    static CALL: LazyLock<Regex> = LazyLock::new(|| {
        // `\b`, not a consumed character before the name: `md5(random())` has two calls.
        Regex::new(r#"(?i)"?\b([A-Za-z_][A-Za-z0-9_$]*)"?\s*\("#).expect("valid regex")
    });
    let code = STRING_LITERAL.replace_all(default, "''");
    CALL.captures_iter(&code).find_map(|call| {
        let name = call[1].to_ascii_lowercase();
        VOLATILE_FUNCTIONS.iter().copied().find(|f| *f == name)
    })
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
    fn new_table_is_exempt() {
        let pending = r#"CREATE TABLE "Invoice" ("id" TEXT NOT NULL);
            ALTER TABLE "Invoice" ADD COLUMN "publicId" UUID DEFAULT gen_random_uuid();"#;
        assert!(violations("", pending, &RULE).is_empty());
    }
}
