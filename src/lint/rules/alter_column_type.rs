//! `alter-column-type`: ALTER COLUMN TYPE that rewrites or scans the table under ACCESS EXCLUSIVE.
//!
//! PostgreSQL skips the rewrite only when the old values are valid, byte for byte, in the new type
//! (binary-coercible and no narrower): varchar widening, varchar ↔ text, citext ↔ text/varchar,
//! numeric widening with the same scale, cidr → inet, more fractional-second precision. A USING
//! that is only the column cast to the new type (`USING "c"::text`) is the same change. Everything
//! else, and any other USING clause (Prisma's enum recreate included), rewrites every row and
//! rebuilds every index.
//!
//! Even without a rewrite the change is not free when PostgreSQL must re-check or rebuild
//! something of the column, under the same ACCESS EXCLUSIVE lock: a validated CHECK constraint
//! on the column is checked again against every row (a full scan), an index whose operator class
//! changes (text ↔ citext) or that indexes an expression of the column is rebuilt.

use super::advice::{self, Sql, CONCURRENTLY_OUTSIDE_TRANSACTION, FOR_THE_TABLE_SIZE};
use super::{Example, Impact, RuleContext, RuleInfo, Violation};
use crate::lint::locks::Work;
use crate::lint::schema::{expression_mentions, Schema};
use crate::sql::{ConstraintKind, ObjectName, Op, TypeName};
use crate::findings::Severity;

pub const RULE: RuleInfo = RuleInfo {
    id: "alter-column-type",
    default_severity: Severity::Error,
    impact: Impact::Blocks,
    summary: "ALTER COLUMN TYPE that rewrites or scans the table under ACCESS EXCLUSIVE",
    check: Some(check),
    file: include_str!("alter_column_type.rs"),
    example: Example::Migration("ALTER TABLE \"User\" ALTER COLUMN \"teamId\" SET DATA TYPE BIGINT;\n"),
};

pub fn check(op: &Op, ctx: &RuleContext) -> Option<Violation> {
    let Op::AlterColumnType {
        table,
        column,
        new_type,
        using,
    } = op
    else {
        return None;
    };
    if !advice::has_rows_in_production(ctx, table) {
        return None;
    }
    let current = ctx
        .schema
        .column(table, column)
        .map(|c| stored_type(&c.data_type));
    let current = current.as_ref();
    // `USING "c"::text` converts exactly as the implicit cast would: same change as no USING.
    let using = using
        .as_ref()
        .filter(|expression| !is_plain_cast(expression, column, new_type));
    if let (None, Some(old)) = (using, current) {
        if change_kind(old, new_type) == Change::InPlace {
            return in_place_work(ctx, table, column, old, new_type);
        }
    }
    let timezone_dependent = using.is_none()
        && current.is_some_and(|old| change_kind(old, new_type) == Change::TimeZoneDependent);
    let why = match (using, current) {
        (Some(expression), _) if is_enum_recreate(expression) => {
            format!("Prisma's enum change converts every value with `USING {expression}`, so")
        }
        (Some(expression), _) => {
            format!("the USING clause ({expression}) converts every value, so")
        }
        (None, Some(old)) => match change_kind(old, new_type) {
            Change::InPlace => return None,
            Change::Rewrite => format!(
                "{} values are not stored the same way as {}, so",
                old.sql, new_type.sql
            ),
            Change::TimeZoneDependent if ctx.pg_version >= 12 => format!(
                "{} → {} is only free when the session TimeZone is UTC (PostgreSQL ≥ 12); \
                 otherwise",
                old.sql, new_type.sql
            ),
            Change::TimeZoneDependent => format!(
                "on PostgreSQL {} {} → {} always converts every value, so",
                ctx.pg_version, old.sql, new_type.sql
            ),
        },
        (None, None) => {
            "the current type of the column is not known from the history (treated as a rewrite):"
                .to_string()
        }
    };
    let sql = Sql::of(ctx);
    let col = sql.ident(column);
    let table_sql = sql.table(table);
    let table_sql = &table_sql;
    let message = format!(
        "ALTER COLUMN {col} TYPE {new} on {table_sql}: {why} PostgreSQL rewrites every row of {table_sql} \
         and rebuilds all its indexes under an ACCESS EXCLUSIVE lock. The running app can neither \
         read nor write {table_sql} {FOR_THE_TABLE_SIZE}.",
        new = new_type.sql,
    );
    let expand_contract =
        || expand_contract_help(ctx, table, column, new_type, using.map(String::as_str));
    let help = match enum_change(ctx, table, column, new_type) {
        Some(change) if change.removed.is_empty() && !change.added.is_empty() => {
            add_enum_values_help(ctx, table, column, &change.added)
        }
        Some(change) if !change.removed.is_empty() => format!(
            "Removing enum values ({}) always converts every row. The cheap safe path: keep the \
             values in the type and stop using them (move rows off them in batches outside the \
             migration); PostgreSQL keeps an unused enum value at no cost.\nIf the type must \
             change: {}",
            quoted_values(&change.removed),
            expand_contract()
        ),
        _ if timezone_dependent && ctx.pg_version >= 12 => format!(
            "If the stored values are UTC, run the change in a UTC session and it is catalog-only: \
             put `SET timezone = 'UTC';` before it in this migration and allow this finding with \
             a reason.\nOtherwise: {}",
            expand_contract()
        ),
        _ => expand_contract(),
    };
    Some(Violation::new(message, help))
}

/// The type a column holds: SERIAL is an integer column with a sequence default.
fn stored_type(declared: &TypeName) -> TypeName {
    let integer = match declared.base.as_str() {
        "serial4" => "integer",
        "serial8" => "bigint",
        "serial2" => "smallint",
        _ => return declared.clone(),
    };
    TypeName::parse(integer)
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Change {
    /// Catalog-only: no rewrite, no scan, indexes kept.
    InPlace,
    Rewrite,
    /// timestamp → timestamptz: free only when the session TimeZone is UTC.
    TimeZoneDependent,
}

/// Types whose only modifier is a maximum length (a wider one accepts every old value as is).
const LENGTH_LIMITED: &[&str] = &["varchar", "varbit"];
/// Types whose only modifier is fractional-second precision (none = 6, the maximum).
const PRECISION_LIMITED: &[&str] = &["timestamp", "timestamptz", "time", "timetz", "interval"];
const MAX_SECONDS_PRECISION: u32 = 6;

fn change_kind(old: &TypeName, new: &TypeName) -> Change {
    if old.array != new.array {
        return Change::Rewrite;
    }
    let same_type = old.base == new.base && old.schema == new.schema;
    if old.array {
        // Array element coercions go through array_coerce: only the identical type is free.
        return if same_type && old.modifiers == new.modifiers {
            Change::InPlace
        } else {
            Change::Rewrite
        };
    }
    let in_place = match (old.base.as_str(), new.base.as_str()) {
        (a, b) if same_type && a == b => {
            if old.modifiers == new.modifiers {
                true
            } else if LENGTH_LIMITED.contains(&a) {
                widens(&old.modifiers, &new.modifiers, None)
            } else if PRECISION_LIMITED.contains(&a) {
                widens(&old.modifiers, &new.modifiers, Some(MAX_SECONDS_PRECISION))
            } else if a == "numeric" {
                numeric_widens(&old.modifiers, &new.modifiers)
            } else {
                // char(n) pads to its length, bit(n) is exact: any change rewrites.
                false
            }
        }
        ("varchar", "text") => true,
        ("text", "varchar") => new.modifiers.is_empty(),
        ("cidr", "inet") => true,
        // citext's casts from and to text and varchar are binary (WITHOUT FUNCTION).
        ("citext", "text") | ("text", "citext") | ("varchar", "citext") => true,
        ("citext", "varchar") => new.modifiers.is_empty(),
        // Measured on PostgreSQL 15: in place only in a UTC session and only to the full
        // precision; timestamp(3) → timestamptz(3) rewrites even then (it rounds every value).
        ("timestamp", "timestamptz")
            if new
                .modifiers
                .first()
                .is_none_or(|p| *p >= MAX_SECONDS_PRECISION) =>
        {
            return Change::TimeZoneDependent
        }
        _ => false,
    };
    if in_place {
        Change::InPlace
    } else {
        Change::Rewrite
    }
}

/// The work an ALTER COLUMN TYPE does to the rows already in the table, for the lock model
/// (src/lint/locks.rs): a rewrite unless the change is in place; in place, a scan when a CHECK
/// is checked again or an index rebuilt (as [`in_place_work`] says), else none.
pub(crate) fn work(
    schema: &Schema,
    table: &ObjectName,
    column: &str,
    new_type: &TypeName,
    using: Option<&str>,
) -> Work {
    let using = using.filter(|expression| !is_plain_cast(expression, column, new_type));
    let Some(old) = schema.column(table, column).map(|c| &c.data_type) else {
        return Work::Rewrite;
    };
    if using.is_some() || change_kind(old, new_type) != Change::InPlace {
        return Work::Rewrite;
    }
    let checks = schema.table(table).is_some_and(|t| {
        t.constraints.iter().any(|c| {
            !c.not_valid
                && matches!(&c.kind, ConstraintKind::Check { expression }
                    if expression_mentions(expression, column))
        })
    });
    let operator_class_changes = (old.base == "citext") != (new_type.base == "citext");
    let rebuilds = schema.indexes_on(table).iter().any(|index| {
        index.columns.iter().any(|c| {
            let plain = c == column;
            (plain && operator_class_changes) || (!plain && expression_mentions(c, column))
        })
    });
    if checks || rebuilds {
        Work::Scan
    } else {
        Work::None
    }
}

/// `USING` that only casts the column itself to the new type (or names it): `"c"::text`,
/// `("c")`, `CAST(c AS varchar(20))` is not matched (written rarely), so it stays a rewrite.
fn is_plain_cast(expression: &str, column: &str, new_type: &TypeName) -> bool {
    let mut text = expression.trim();
    while let Some(inner) = text.strip_prefix('(').and_then(|t| t.strip_suffix(')')) {
        text = inner.trim();
    }
    let (operand, cast_to) = match text.split_once("::") {
        Some((operand, cast_to)) => (operand.trim(), Some(cast_to.trim())),
        None => (text, None),
    };
    let mut operand = operand;
    while let Some(inner) = operand.strip_prefix('(').and_then(|t| t.strip_suffix(')')) {
        operand = inner.trim();
    }
    if crate::sql::ident::fold_written(operand).as_deref() != Some(column) {
        return false;
    }
    match cast_to {
        None => true,
        Some(cast_to) if cast_to.contains("::") => false,
        Some(cast_to) => {
            let cast_to = TypeName::parse(cast_to);
            cast_to.base == new_type.base
                && cast_to.schema == new_type.schema
                && cast_to.modifiers == new_type.modifiers
                && cast_to.array == new_type.array
        }
    }
}

/// What an in-place type change still does to the table's rows, as a finding.
fn in_place_work(
    ctx: &RuleContext,
    table: &ObjectName,
    column: &str,
    old: &TypeName,
    new_type: &TypeName,
) -> Option<Violation> {
    let checks: Vec<(String, String)> = ctx
        .schema
        .table(table)
        .map(|t| {
            t.constraints
                .iter()
                .filter(|c| !c.not_valid)
                .filter_map(|c| match (&c.kind, &c.name) {
                    (ConstraintKind::Check { expression }, Some(name))
                        if expression_mentions(expression, column) =>
                    {
                        Some((name.clone(), expression.clone()))
                    }
                    _ => None,
                })
                .collect()
        })
        .unwrap_or_default();
    let operator_class_changes = (old.base == "citext") != (new_type.base == "citext");
    let rebuilt: Vec<(String, bool, String, Option<String>)> = ctx
        .schema
        .indexes_on(table)
        .into_iter()
        .filter(|index| {
            // PostgreSQL never reuses a partial index that depends on the column.
            let predicate = index.predicate.as_deref();
            predicate.is_some_and(|p| expression_mentions(p, column))
                || index.columns.iter().any(|c| {
                    let plain = c == column;
                    (plain && (operator_class_changes || predicate.is_some()))
                        || (!plain && expression_mentions(c, column))
                })
        })
        .map(|index| {
            // A column is kept folded, an expression as written.
            let columns = index
                .columns
                .iter()
                .map(|c| match ctx.schema.column(table, c) {
                    Some(_) => Sql::of(ctx).ident(c),
                    None => c.clone(),
                })
                .collect::<Vec<_>>();
            (
                index.name.name.clone(),
                index.unique,
                columns.join(", "),
                index.predicate.clone(),
            )
        })
        .collect();
    if checks.is_empty() && rebuilt.is_empty() {
        return None;
    }
    let sql = Sql::of(ctx);
    let col = sql.ident(column);
    let table_sql = sql.table(table);
    let mut work = Vec::new();
    if !checks.is_empty() {
        let names: Vec<String> = checks.iter().map(|(n, _)| sql.ident(n)).collect();
        work.push(format!(
            "checks the CHECK constraint {} again against every row (a full scan)",
            names.join(", ")
        ));
    }
    if !rebuilt.is_empty() {
        let names: Vec<String> = rebuilt.iter().map(|(n, ..)| sql.ident(n)).collect();
        let why = if operator_class_changes {
            "its operator class changes with the type, it indexes an expression of the column, \
             or it is a partial index on it"
        } else {
            "it indexes an expression of the column, or it is a partial index on it"
        };
        work.push(format!(
            "rebuilds the index {} ({why}), reading every row",
            names.join(", ")
        ));
    }
    let message = format!(
        "ALTER COLUMN {col} TYPE {new} on {table_sql}: the values are kept as they are (no \
         rewrite), but PostgreSQL {work} under an ACCESS EXCLUSIVE lock. The running app can \
         neither read nor write {table_sql} {FOR_THE_TABLE_SIZE}.",
        new = new_type.sql,
        work = work.join(" and "),
    );
    let mut help = Vec::new();
    if !checks.is_empty() {
        let drops: String = checks
            .iter()
            .map(|(n, _)| format!("ALTER TABLE {table_sql} DROP CONSTRAINT {};\n", sql.ident(n)))
            .collect();
        let adds: String = checks
            .iter()
            .map(|(n, e)| {
                format!(
                    "ALTER TABLE {table_sql} ADD CONSTRAINT {} CHECK ({}) NOT VALID;\n",
                    sql.ident(n),
                    strip_outer_parens(e)
                )
            })
            .collect();
        let validates: String = checks
            .iter()
            .map(|(n, _)| format!("ALTER TABLE {table_sql} VALIDATE CONSTRAINT {};\n", sql.ident(n)))
            .collect();
        help.push(format!(
            "Take the CHECK off for the change and put it back NOT VALID (no scan), then validate \
             it in a later migration (VALIDATE takes SHARE UPDATE EXCLUSIVE: reads and writes go \
             on):\n{drops}ALTER TABLE {table_sql} ALTER COLUMN {col} TYPE {new};\n{adds}\
             -- in a later migration:\n{validates}",
            new = new_type.sql,
        ));
    }
    if !rebuilt.is_empty() {
        let drops: String = rebuilt
            .iter()
            .map(|(n, ..)| format!("DROP INDEX CONCURRENTLY {};\n", sql.ident(n)))
            .collect();
        let creates: String = rebuilt
            .iter()
            .map(|(n, unique, columns, predicate)| {
                let unique = if *unique { "UNIQUE " } else { "" };
                let predicate = predicate
                    .as_deref()
                    .map(|p| format!(" WHERE {p}"))
                    .unwrap_or_default();
                format!(
                    "CREATE {unique}INDEX CONCURRENTLY {} ON {table_sql} ({columns}){predicate};\n",
                    sql.ident(n)
                )
            })
            .collect();
        help.push(format!(
            "Drop the index without blocking, change the type (then catalog-only), and build the \
             index again without blocking, each CONCURRENTLY statement in a migration of its own; \
             queries that need the index are slower (and a unique index enforces nothing) until \
             it is back:\n{drops}ALTER TABLE {table_sql} ALTER COLUMN {col} TYPE {new};\n{creates}\
             {CONCURRENTLY_OUTSIDE_TRANSACTION}",
            new = new_type.sql,
        ));
    }
    Some(Violation::new(message, help.join("\n").trim_end().to_string()))
}

fn strip_outer_parens(expression: &str) -> &str {
    let trimmed = expression.trim();
    match trimmed.strip_prefix('(').and_then(|t| t.strip_suffix(')')) {
        Some(inner) if inner.matches('(').count() == inner.matches(')').count() => inner,
        _ => trimmed,
    }
}

/// A single limit that only grows: no limit is the widest; `unlimited` is what "no modifier"
/// means when it is not "unbounded" (precision 6 for timestamps).
fn widens(old: &[u32], new: &[u32], unlimited: Option<u32>) -> bool {
    let limit = |m: &[u32]| m.first().copied().or(unlimited);
    match (limit(old), limit(new)) {
        (_, None) => true,
        (None, Some(_)) => false,
        (Some(o), Some(n)) => n >= o,
    }
}

/// numeric(p, s) → numeric(p2 ≥ p, s) or unbounded numeric keeps every value as stored.
fn numeric_widens(old: &[u32], new: &[u32]) -> bool {
    if new.is_empty() {
        return true;
    }
    if old.is_empty() {
        return false;
    }
    let scale = |m: &[u32]| m.get(1).copied().unwrap_or(0);
    scale(old) == scale(new) && new[0] >= old[0]
}

/// Prisma changes an enum by creating `"E_new"` and converting the column through text.
fn is_enum_recreate(using: &str) -> bool {
    using
        .to_ascii_lowercase()
        .replace(' ', "")
        .contains("::text::")
}

/// How the values differ when the column moves from one enum type to another.
struct EnumChange {
    added: Vec<String>,
    removed: Vec<String>,
}

fn enum_change(
    ctx: &RuleContext,
    table: &ObjectName,
    column: &str,
    new_type: &TypeName,
) -> Option<EnumChange> {
    let old_type = &ctx.schema.column(table, column)?.data_type;
    if old_type.array || new_type.array {
        return None;
    }
    let old_enum = ctx.schema.enum_type(&type_object_name(old_type))?;
    let new_enum = ctx.schema.enum_type(&type_object_name(new_type))?;
    if old_enum.name == new_enum.name {
        return None;
    }
    let missing_from = |from: &[String], other: &[String]| {
        from.iter()
            .filter(|v| !other.contains(v))
            .cloned()
            .collect::<Vec<_>>()
    };
    Some(EnumChange {
        added: missing_from(&new_enum.values, &old_enum.values),
        removed: missing_from(&old_enum.values, &new_enum.values),
    })
}

fn sql_string(value: &str) -> String {
    format!("'{}'", value.replace('\'', "''"))
}

fn quoted_values(values: &[String]) -> String {
    values
        .iter()
        .map(|v| sql_string(v))
        .collect::<Vec<_>>()
        .join(", ")
}

fn type_object_name(data_type: &TypeName) -> ObjectName {
    ObjectName::new(data_type.schema.as_deref(), &data_type.base)
}

fn add_enum_values_help(
    ctx: &RuleContext,
    table: &ObjectName,
    column: &str,
    values: &[String],
) -> String {
    let old_type = ctx
        .schema
        .column(table, column)
        .map(|c| type_object_name(&c.data_type))
        .map(|name| Sql::of(ctx).table(&name))
        .unwrap_or_else(|| column.to_string());
    let adds = values
        .iter()
        .map(|v| format!("ALTER TYPE {old_type} ADD VALUE {};", sql_string(v)))
        .collect::<Vec<_>>()
        .join("\n");
    format!(
        "The new enum only adds values: add them to the existing type instead (no rewrite, no \
         table lock), in a migration of their own, and use them only in a later one (55P04):\n{adds}"
    )
}

fn expand_contract_help(
    ctx: &RuleContext,
    table: &ObjectName,
    column: &str,
    new_type: &TypeName,
    using: Option<&str>,
) -> String {
    let sql = Sql::of(ctx);
    let col = sql.ident(column);
    let new_col = sql.derived_ident(column, &format!("{column}_new"));
    let table_sql = sql.table(table);
    let conversion = using
        .map(str::to_string)
        .unwrap_or_else(|| format!("{col}::{}", new_type.sql));
    let backfill = advice::batched_update(
        ctx,
        table,
        &format!("{new_col} = {conversion}"),
        &format!("{new_col} IS NULL AND {col} IS NOT NULL"),
    );
    format!(
        "Expand and contract instead of converting in place:\n\
         1. ALTER TABLE {table_sql} ADD COLUMN {new_col} {new};\n\
         2. Make the app write both columns (or add a trigger), then backfill outside the \
         migration in batches, repeating until it updates 0 rows:\n   {backfill}\n\
         3. Switch the app to read {new_col} (Prisma: `@map(\"{column}_new\")` on the field).\n\
         4. In a later migration, once nothing uses {col}: ALTER TABLE {table_sql} DROP COLUMN {col};",
        new = new_type.sql,
    )
}

#[cfg(test)]
mod tests {
    use crate::lint::rules::testing::{assert_mentions, only_violation, violations, violations_on};
    use super::*;

    const USERS: &str = r#"CREATE TABLE "User" (
        "id" SERIAL NOT NULL,
        "age" INTEGER,
        "name" VARCHAR(100),
        "bio" TEXT,
        "price" DECIMAL(10,2),
        "code" CHAR(4),
        "net" CIDR,
        "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
        "tags" VARCHAR(10)[],
        CONSTRAINT "User_pkey" PRIMARY KEY ("id")
    );"#;

    fn flagged(alter: &str) -> bool {
        !violations(USERS, alter, &RULE).is_empty()
    }

    #[test]
    fn int_to_bigint_rewrites_with_expand_contract_help() {
        let v = only_violation(
            USERS,
            r#"ALTER TABLE "User" ALTER COLUMN "age" SET DATA TYPE BIGINT;"#,
            &RULE,
        );
        assert_mentions(&v.message, "ACCESS EXCLUSIVE");
        assert_mentions(&v.message, "rewrites every row of \"User\"");
        assert_mentions(&v.help, "ALTER TABLE \"User\" ADD COLUMN \"age_new\" BIGINT;");
        assert_mentions(&v.help, "UPDATE \"User\" SET \"age_new\" = \"age\"::BIGINT WHERE \"id\" IN (SELECT \"id\" FROM \"User\"");
        assert_mentions(&v.help, "ALTER TABLE \"User\" DROP COLUMN \"age\";");
    }

    #[test]
    fn widening_varchar_or_to_text_is_in_place() {
        assert!(!flagged(
            r#"ALTER TABLE "User" ALTER COLUMN "name" SET DATA TYPE VARCHAR(200);"#
        ));
        assert!(!flagged(
            r#"ALTER TABLE "User" ALTER COLUMN "name" TYPE varchar;"#
        ));
        assert!(!flagged(
            r#"ALTER TABLE "User" ALTER COLUMN "name" SET DATA TYPE TEXT;"#
        ));
        assert!(!flagged(
            r#"ALTER TABLE "User" ALTER COLUMN "bio" TYPE character varying;"#
        ));
        assert!(!flagged(
            r#"ALTER TABLE "User" ALTER COLUMN "name" TYPE VARCHAR(100);"#
        ));
    }

    #[test]
    fn narrowing_or_limiting_varchar_rewrites() {
        assert!(flagged(
            r#"ALTER TABLE "User" ALTER COLUMN "name" SET DATA TYPE VARCHAR(50);"#
        ));
        assert!(flagged(
            r#"ALTER TABLE "User" ALTER COLUMN "bio" SET DATA TYPE VARCHAR(50);"#
        ));
    }

    #[test]
    fn numeric_widening_with_same_scale_is_in_place() {
        assert!(!flagged(
            r#"ALTER TABLE "User" ALTER COLUMN "price" TYPE DECIMAL(12,2);"#
        ));
        assert!(!flagged(
            r#"ALTER TABLE "User" ALTER COLUMN "price" TYPE NUMERIC;"#
        ));
        assert!(flagged(
            r#"ALTER TABLE "User" ALTER COLUMN "price" TYPE DECIMAL(12,3);"#
        ));
        assert!(flagged(
            r#"ALTER TABLE "User" ALTER COLUMN "price" TYPE DECIMAL(8,2);"#
        ));
    }

    #[test]
    fn timestamp_precision_increase_is_in_place_and_timezone_change_is_not() {
        assert!(!flagged(
            r#"ALTER TABLE "User" ALTER COLUMN "createdAt" TYPE TIMESTAMP(6);"#
        ));
        assert!(!flagged(
            r#"ALTER TABLE "User" ALTER COLUMN "createdAt" TYPE TIMESTAMP;"#
        ));
        assert!(flagged(
            r#"ALTER TABLE "User" ALTER COLUMN "createdAt" TYPE TIMESTAMP(0);"#
        ));
        let v = only_violation(
            USERS,
            r#"ALTER TABLE "User" ALTER COLUMN "createdAt" SET DATA TYPE TIMESTAMPTZ;"#,
            &RULE,
        );
        assert_mentions(&v.message, "TimeZone is UTC");
        assert!(
            v.help.starts_with("If the stored values are UTC"),
            "{}",
            v.help
        );
        // Prisma's TIMESTAMPTZ(3) rounds every value: a rewrite even in a UTC session.
        let v = only_violation(
            USERS,
            r#"ALTER TABLE "User" ALTER COLUMN "createdAt" SET DATA TYPE TIMESTAMPTZ(3);"#,
            &RULE,
        );
        assert!(!v.message.contains("TimeZone is UTC"), "{}", v.message);
        assert!(v.help.starts_with("Expand and contract"), "{}", v.help);
    }

    #[test]
    fn timezone_change_before_12_always_rewrites() {
        let v = violations_on(
            11,
            USERS,
            r#"ALTER TABLE "User" ALTER COLUMN "createdAt" SET DATA TYPE TIMESTAMPTZ;"#,
            &RULE,
        );
        assert!(
            v[0].message
                .contains("on PostgreSQL 11 TIMESTAMP(3) → TIMESTAMPTZ always converts"),
            "{}",
            v[0].message
        );
    }

    #[test]
    fn cidr_to_inet_is_in_place_but_char_length_change_rewrites() {
        assert!(!flagged(
            r#"ALTER TABLE "User" ALTER COLUMN "net" TYPE INET;"#
        ));
        assert!(flagged(
            r#"ALTER TABLE "User" ALTER COLUMN "code" TYPE CHAR(8);"#
        ));
        assert!(flagged(
            r#"ALTER TABLE "User" ALTER COLUMN "tags" TYPE VARCHAR(20)[];"#
        ));
    }

    #[test]
    fn any_using_clause_rewrites() {
        let v = only_violation(
            USERS,
            r#"ALTER TABLE "User" ALTER COLUMN "bio" TYPE TEXT USING trim("bio");"#,
            &RULE,
        );
        assert_mentions(&v.message, "USING clause");
        assert!(
            v.help
                .to_lowercase()
                .contains("set \"bio_new\" = trim(\"bio\")"),
            "{}",
            v.help
        );
    }

    #[test]
    fn prisma_enum_recreate_counts_and_suggests_add_value_when_only_adding() {
        let history = r#"CREATE TYPE "Role" AS ENUM ('USER', 'ADMIN');
            CREATE TABLE "Member" ("id" TEXT NOT NULL, "role" "Role" NOT NULL DEFAULT 'USER',
                CONSTRAINT "Member_pkey" PRIMARY KEY ("id"));"#;
        let pending = r#"CREATE TYPE "Role_new" AS ENUM ('USER', 'ADMIN', 'OWNER');
            ALTER TABLE "Member" ALTER COLUMN "role" DROP DEFAULT;
            ALTER TABLE "Member" ALTER COLUMN "role" TYPE "Role_new" USING ("role"::text::"Role_new");
            ALTER TYPE "Role" RENAME TO "Role_old";
            ALTER TYPE "Role_new" RENAME TO "Role";
            DROP TYPE "Role_old";"#;
        let v = only_violation(history, pending, &RULE);
        assert_mentions(&v.message, "Prisma's enum change");
        assert_mentions(&v.help, "ALTER TYPE \"Role\" ADD VALUE 'OWNER';");
    }

    #[test]
    fn prisma_enum_recreate_removing_a_value_suggests_keeping_it_or_expand_contract() {
        let history = r#"CREATE TYPE "Role" AS ENUM ('USER', 'ADMIN', 'GUEST');
            CREATE TABLE "Member" ("id" TEXT NOT NULL, "role" "Role" NOT NULL);"#;
        let pending = r#"CREATE TYPE "Role_new" AS ENUM ('USER', 'ADMIN');
            ALTER TABLE "Member" ALTER COLUMN "role" TYPE "Role_new" USING ("role"::text::"Role_new");"#;
        let v = only_violation(history, pending, &RULE);
        assert!(
            v.help
                .starts_with("Removing enum values ('GUEST') always converts every row"),
            "{}",
            v.help
        );
        assert_mentions(&v.help, "ADD COLUMN \"role_new\" \"Role_new\"");
        // No primary key in the history: the batch walks ctid.
        assert_mentions(&v.help, "WHERE ctid IN (SELECT ctid FROM \"Member\"");
    }

    #[test]
    fn unknown_table_is_treated_as_existing() {
        let v = only_violation(
            "",
            "ALTER TABLE orders ALTER COLUMN total TYPE bigint;",
            &RULE,
        );
        assert_mentions(&v.message, "not known from the history");
        // Not quoted in the statement, not quoted in the advice.
        assert!(
            v.help
                .to_lowercase()
                .contains("alter table orders add column total_new bigint;"),
            "{}",
            v.help
        );
    }

    const CHECKED: &str = r#"CREATE TABLE "Doc" ("id" INTEGER NOT NULL, "title" VARCHAR(10),
        "body" TEXT, CONSTRAINT "Doc_title_check" CHECK (length("title") > 0),
        CONSTRAINT "Doc_pkey" PRIMARY KEY ("id"));"#;

    #[test]
    fn a_check_on_the_column_is_rechecked_even_without_a_rewrite() {
        let v = only_violation(
            CHECKED,
            r#"ALTER TABLE "Doc" ALTER COLUMN "title" SET DATA TYPE VARCHAR(20);"#,
            &RULE,
        );
        assert_mentions(&v.message, "no rewrite");
        assert_mentions(&v.message, "checks the CHECK constraint \"Doc_title_check\" again against every row (a full scan)");
        assert_mentions(&v.message, "ACCESS EXCLUSIVE");
        assert_mentions(&v.help, "ALTER TABLE \"Doc\" DROP CONSTRAINT \"Doc_title_check\";\nALTER TABLE \"Doc\" ALTER COLUMN \"title\" TYPE VARCHAR(20);\nALTER TABLE \"Doc\" ADD CONSTRAINT \"Doc_title_check\" CHECK (length(\"title\") > 0) NOT VALID;");
        assert_mentions(&v.help, "ALTER TABLE \"Doc\" VALIDATE CONSTRAINT \"Doc_title_check\";");
        // An inline column CHECK, named by PostgreSQL, counts the same.
        let inline = r#"CREATE TABLE t (id int, code varchar(4) CHECK (code <> ''));"#;
        let v = only_violation(inline, "ALTER TABLE t ALTER COLUMN code TYPE text;", &RULE);
        assert_mentions(&v.message, "t_code_check");
    }

    #[test]
    fn a_check_on_another_column_or_not_valid_is_not_rechecked() {
        let other = r#"ALTER TABLE "Doc" ALTER COLUMN "body" TYPE VARCHAR;"#;
        assert!(violations(CHECKED, other, &RULE).is_empty());
        let not_valid = r#"CREATE TABLE "Doc" ("id" INTEGER, "title" VARCHAR(10));
            ALTER TABLE "Doc" ADD CONSTRAINT "Doc_title_check" CHECK (length("title") > 0) NOT VALID;"#;
        let widen = r#"ALTER TABLE "Doc" ALTER COLUMN "title" TYPE VARCHAR(20);"#;
        assert!(violations(not_valid, widen, &RULE).is_empty());
        // The safe sequence the help gives raises nothing.
        let safe = r#"ALTER TABLE "Doc" DROP CONSTRAINT "Doc_title_check";
            ALTER TABLE "Doc" ALTER COLUMN "title" TYPE VARCHAR(20);
            ALTER TABLE "Doc" ADD CONSTRAINT "Doc_title_check" CHECK (length("title") > 0) NOT VALID;"#;
        assert!(violations(CHECKED, safe, &RULE).is_empty());
    }

    const EMAILS: &str = r#"CREATE EXTENSION IF NOT EXISTS citext;
        CREATE TABLE "Account" ("id" INTEGER NOT NULL, "email" TEXT, "login" VARCHAR(50),
            "nick" CITEXT, "name" VARCHAR(20));"#;

    #[test]
    fn citext_and_text_convert_in_place_without_an_index() {
        for alter in [
            r#"ALTER TABLE "Account" ALTER COLUMN "email" SET DATA TYPE CITEXT;"#,
            r#"ALTER TABLE "Account" ALTER COLUMN "login" TYPE citext;"#,
            r#"ALTER TABLE "Account" ALTER COLUMN "nick" TYPE TEXT;"#,
            r#"ALTER TABLE "Account" ALTER COLUMN "nick" TYPE VARCHAR;"#,
        ] {
            assert!(violations(EMAILS, alter, &RULE).is_empty(), "{alter}");
        }
        // A length limit is checked value by value: a rewrite.
        let limited = r#"ALTER TABLE "Account" ALTER COLUMN "nick" TYPE VARCHAR(20);"#;
        assert_eq!(violations(EMAILS, limited, &RULE).len(), 1);
    }

    #[test]
    fn citext_change_rebuilds_an_index_on_the_column() {
        let history = format!(
            "{EMAILS}\nCREATE UNIQUE INDEX \"Account_email_key\" ON \"Account\"(\"email\");"
        );
        let v = only_violation(
            &history,
            r#"ALTER TABLE "Account" ALTER COLUMN "email" SET DATA TYPE CITEXT;"#,
            &RULE,
        );
        assert_mentions(&v.message, "rebuilds the index \"Account_email_key\"");
        assert_mentions(&v.message, "no rewrite");
        assert_mentions(&v.help, "DROP INDEX CONCURRENTLY \"Account_email_key\";");
        assert_mentions(&v.help, "CREATE UNIQUE INDEX CONCURRENTLY \"Account_email_key\" ON \"Account\" (\"email\");");
        // text → varchar keeps the index (same operator class).
        let to_varchar = r#"ALTER TABLE "Account" ALTER COLUMN "email" TYPE VARCHAR;"#;
        assert!(violations(&history, to_varchar, &RULE).is_empty());
    }

    #[test]
    fn a_serial_column_is_an_integer_column() {
        let history = r#"CREATE TABLE "Counter" ("id" SERIAL NOT NULL, "big" BIGSERIAL NOT NULL,
            CONSTRAINT "Counter_pkey" PRIMARY KEY ("id"));"#;
        for same in [
            r#"ALTER TABLE "Counter" ALTER COLUMN "id" SET DATA TYPE INTEGER;"#,
            r#"ALTER TABLE "Counter" ALTER COLUMN "big" TYPE int8;"#,
        ] {
            assert!(violations(history, same, &RULE).is_empty(), "{same}");
        }
        let widen = r#"ALTER TABLE "Counter" ALTER COLUMN "id" SET DATA TYPE BIGINT;"#;
        let v = only_violation(history, widen, &RULE);
        assert_mentions(&v.message, "integer values are not stored the same way as BIGINT");
    }

    #[test]
    fn a_partial_index_on_the_column_is_rebuilt_by_any_type_change() {
        // Measured in probe_rules.rs: PostgreSQL never reuses a partial index.
        let history = format!(
            "{EMAILS}\nCREATE UNIQUE INDEX \"Account_name_key\" ON \"Account\"(\"name\") WHERE \"id\" > 0;\n\
             CREATE INDEX \"Account_live_idx\" ON \"Account\"(\"id\") WHERE \"login\" IS NOT NULL;"
        );
        let v = only_violation(
            &history,
            r#"ALTER TABLE "Account" ALTER COLUMN "name" TYPE VARCHAR(40);"#,
            &RULE,
        );
        assert_mentions(&v.message, "rebuilds the index \"Account_name_key\"");
        assert_mentions(&v.message, "partial index");
        // Built again as it was: with its WHERE.
        assert_mentions(&v.help, "ON \"Account\" (\"name\") WHERE");
        let v = only_violation(
            &history,
            r#"ALTER TABLE "Account" ALTER COLUMN "login" TYPE TEXT;"#,
            &RULE,
        );
        assert_mentions(&v.message, "rebuilds the index \"Account_live_idx\"");
        // A partial index that does not depend on the column is kept.
        let other = r#"ALTER TABLE "Account" ALTER COLUMN "email" TYPE VARCHAR;"#;
        assert!(violations(&history, other, &RULE).is_empty());
    }

    #[test]
    fn an_expression_index_on_the_column_is_rebuilt_by_any_type_change() {
        let history = format!("{EMAILS}\nCREATE INDEX \"Account_name_idx\" ON \"Account\"(lower(\"name\"));");
        let v = only_violation(
            &history,
            r#"ALTER TABLE "Account" ALTER COLUMN "name" TYPE VARCHAR(40);"#,
            &RULE,
        );
        assert_mentions(&v.message, "rebuilds the index \"Account_name_idx\"");
    }

    #[test]
    fn using_the_plain_cast_to_the_new_type_is_the_same_change() {
        for alter in [
            r#"ALTER TABLE "User" ALTER COLUMN "name" SET DATA TYPE TEXT USING "name"::TEXT;"#,
            r#"ALTER TABLE "User" ALTER COLUMN "name" TYPE VARCHAR(200) USING ("name"::varchar(200));"#,
            r#"ALTER TABLE "User" ALTER COLUMN "name" TYPE text USING ("name");"#,
        ] {
            assert!(!flagged(alter), "{alter}");
        }
        for alter in [
            r#"ALTER TABLE "User" ALTER COLUMN "name" TYPE TEXT USING "bio"::TEXT;"#,
            r#"ALTER TABLE "User" ALTER COLUMN "name" TYPE TEXT USING "name"::VARCHAR(10);"#,
            r#"ALTER TABLE "User" ALTER COLUMN "age" TYPE BIGINT USING "age"::BIGINT;"#,
        ] {
            assert!(flagged(alter), "{alter}");
        }
    }

    #[test]
    fn table_created_in_the_pending_set_is_exempt() {
        let pending = r#"CREATE TABLE "Invoice" ("id" INTEGER NOT NULL, "total" INTEGER);
            ALTER TABLE "Invoice" ALTER COLUMN "total" SET DATA TYPE BIGINT;"#;
        assert!(violations("", pending, &RULE).is_empty());
        let checked = r#"CREATE TABLE "Note" ("id" INTEGER, "title" VARCHAR(10) CHECK ("title" <> ''));
            CREATE INDEX "Note_title_idx" ON "Note"(lower("title"));
            ALTER TABLE "Note" ALTER COLUMN "title" TYPE VARCHAR(20);"#;
        assert!(violations("", checked, &RULE).is_empty());
    }

    #[test]
    fn other_operations_are_ignored() {
        assert!(violations(USERS, r#"ALTER TABLE "User" DROP COLUMN "age";"#, &RULE).is_empty());
    }
}
