//! Shared wording and SQL builders for the lock and rewrite rules, so every finding describes
//! production the same way and every suggested statement quotes names the way PostgreSQL needs
//! (the statement's own spelling: `"User"` stays `"User"`, `users` stays `users`).

use super::RuleContext;
use crate::sql::model::quote_ident;
use crate::sql::{ConstraintKind, ObjectName};

/// PostgreSQL truncates identifiers to 63 bytes (NAMEDATALEN - 1).
const MAX_IDENTIFIER_BYTES: usize = 63;

/// How long the running app is affected: the part every lock message ends with.
pub const FOR_THE_TABLE_SIZE: &str =
    "for as long as that takes, which grows with the table's size (minutes on a large table)";

/// Locking and rewrite rules only matter where production has rows: tables created in the pending
/// set are empty, tables the history does not know are treated as existing.
pub fn has_rows_in_production(ctx: &RuleContext, table: &ObjectName) -> bool {
    !ctx.schema.is_new_table(table)
}

/// A resolved name as the user would write it: `public` is left out.
pub fn as_written(name: &ObjectName) -> ObjectName {
    match name.schema.as_deref() {
        Some("public") => ObjectName::unqualified(&name.name),
        _ => name.clone(),
    }
}

/// `"email"` / `email`, ready to paste into SQL.
pub fn ident(name: &str) -> String {
    quote_ident(name)
}

/// A comma-separated, quoted column list: `"tenantId", "email"`.
pub fn column_list(columns: &[String]) -> String {
    columns
        .iter()
        .map(|c| ident(c))
        .collect::<Vec<_>>()
        .join(", ")
}

/// A constraint or index name in PostgreSQL's own style (`User_email_key`), cut to the 63 bytes
/// PostgreSQL keeps, and quoted for SQL.
pub fn derived_name(table: &ObjectName, columns: &[String], suffix: &str) -> String {
    let mut parts: Vec<&str> = vec![table.name.as_str()];
    parts.extend(columns.iter().map(String::as_str));
    parts.push(suffix);
    let mut name = parts.join("_");
    if name.len() > MAX_IDENTIFIER_BYTES {
        let mut cut = MAX_IDENTIFIER_BYTES;
        while !name.is_char_boundary(cut) {
            cut -= 1;
        }
        name.truncate(cut);
    }
    ident(&name)
}

/// The column(s) a batched backfill can walk: the table's primary key when the history declares
/// one, else `ctid` (always present, good enough for a one-off backfill).
pub fn batch_key(ctx: &RuleContext, table: &ObjectName) -> String {
    let primary_key = ctx.schema.table(table).and_then(|t| {
        t.constraints.iter().find_map(|c| match &c.kind {
            ConstraintKind::PrimaryKey { columns, .. } if columns.len() == 1 => {
                Some(ident(&columns[0]))
            }
            _ => None,
        })
    });
    primary_key.unwrap_or_else(|| "ctid".to_string())
}

/// One batch of a backfill, to repeat outside the migration until it updates 0 rows.
pub fn batched_update(
    ctx: &RuleContext,
    table: &ObjectName,
    assignment: &str,
    pending_rows: &str,
) -> String {
    let key = batch_key(ctx, table);
    format!(
        "UPDATE {table} SET {assignment} WHERE {key} IN (SELECT {key} FROM {table} WHERE {pending_rows} LIMIT 1000);"
    )
}

/// The way to make a column NOT NULL without a long ACCESS EXCLUSIVE scan (PostgreSQL ≥ 12 uses
/// the validated CHECK as proof and skips the scan).
pub fn set_not_null_safely(table: &ObjectName, column: &str, pg_version: u32) -> String {
    let constraint = derived_name(table, &[column.to_string()], "not_null");
    let col = ident(column);
    let mut sql = format!(
        "ALTER TABLE {table} ADD CONSTRAINT {constraint} CHECK ({col} IS NOT NULL) NOT VALID;\n\
         -- in a later migration (VALIDATE takes SHARE UPDATE EXCLUSIVE: reads and writes go on):\n\
         ALTER TABLE {table} VALIDATE CONSTRAINT {constraint};\n\
         ALTER TABLE {table} ALTER COLUMN {col} SET NOT NULL;\n\
         ALTER TABLE {table} DROP CONSTRAINT {constraint};"
    );
    if pg_version < 12 {
        sql.push_str(&format!(
            "\n-- PostgreSQL {pg_version} still scans on SET NOT NULL even with the CHECK; \
             from PostgreSQL 12 it does not. On {pg_version}, keep the validated CHECK instead of SET NOT NULL."
        ));
    }
    sql
}

/// Where a CONCURRENTLY statement has to run.
pub const CONCURRENTLY_OUTSIDE_TRANSACTION: &str =
    "CONCURRENTLY cannot run inside a transaction block: `migration-gate deploy` runs such a \
     statement alone in autocommit automatically; with `prisma migrate deploy` put it in a \
     migration of its own, as its only statement.";

#[cfg(test)]
pub mod test_support {
    //! Rule tests build their context from real SQL: the history is replayed as the existing
    //! schema, then each pending statement is checked and applied, exactly as the analysis does.

    use super::super::{CheckFn, RuleContext, Violation};
    use crate::schema::{Origin, Schema};
    use crate::sql::{analyze_source, TransactionControl};

    pub const DEFAULT_PG_VERSION: u32 = 15;

    /// Every violation `rule` raises on the `pending` SQL, given the `history` SQL.
    pub fn violations(history: &str, pending: &str, rule: CheckFn) -> Vec<Violation> {
        violations_on(DEFAULT_PG_VERSION, history, pending, rule)
    }

    pub fn violations_on(
        pg_version: u32,
        history: &str,
        pending: &str,
        rule: CheckFn,
    ) -> Vec<Violation> {
        let mut schema = Schema::new();
        for statement in analyze_source(history) {
            for op in &statement.ops {
                schema.apply(op, Origin::Existing);
            }
        }
        let statements = analyze_source(pending);
        let mut found = Vec::new();
        let mut in_transaction_block = false;
        for (i, statement) in statements.iter().enumerate() {
            match statement.transaction_control() {
                Some(TransactionControl::Begin) => in_transaction_block = true,
                Some(_) => in_transaction_block = false,
                None => {}
            }
            for op in &statement.ops {
                let ctx = RuleContext {
                    schema: &schema,
                    pg_version,
                    statement,
                    later_in_file: &statements[i + 1..],
                    in_transaction_block,
                };
                found.extend(rule(op, &ctx));
                schema.apply(op, Origin::Pending);
            }
        }
        found
    }

    /// The single violation `rule` raises; fails the test on none or several.
    pub fn only_violation(history: &str, pending: &str, rule: CheckFn) -> Violation {
        let mut found = violations(history, pending, rule);
        assert_eq!(
            found.len(),
            1,
            "expected exactly one violation, got {found:#?}"
        );
        found.remove(0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn derived_names_follow_postgres_style_and_quote_when_needed() {
        let table = ObjectName::unqualified("User");
        assert_eq!(
            derived_name(&table, &["email".to_string()], "key"),
            "\"User_email_key\""
        );
        let plain = ObjectName::unqualified("users");
        assert_eq!(
            derived_name(&plain, &["email".to_string()], "key"),
            "users_email_key"
        );
    }

    #[test]
    fn derived_names_are_cut_to_63_bytes() {
        let table = ObjectName::unqualified(&"t".repeat(80));
        let name = derived_name(&table, &["c".to_string()], "key");
        assert_eq!(name.len(), 63);
    }

    #[test]
    fn set_not_null_safely_names_the_real_table_and_column() {
        let sql = set_not_null_safely(&ObjectName::unqualified("User"), "email", 15);
        assert!(sql.contains(
            "ALTER TABLE \"User\" ADD CONSTRAINT \"User_email_not_null\" CHECK (email IS NOT NULL) NOT VALID;"
        ));
        assert!(sql.contains("VALIDATE CONSTRAINT \"User_email_not_null\";"));
        assert!(sql.contains("ALTER COLUMN email SET NOT NULL;"));
        assert!(!sql.contains("PostgreSQL 15 still scans"));
        assert!(
            set_not_null_safely(&ObjectName::unqualified("User"), "email", 11)
                .contains("PostgreSQL 11 still scans")
        );
    }
}
