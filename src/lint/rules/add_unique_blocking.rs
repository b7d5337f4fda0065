//! `add-unique-blocking`: ADD UNIQUE / PRIMARY KEY builds an index under ACCESS EXCLUSIVE (use
//! USING INDEX).
//!
//! The constraint builds its index while holding ACCESS EXCLUSIVE on the table. Building the
//! unique index CONCURRENTLY first and attaching it with `USING INDEX` makes the lock a moment.
//!
//! A PRIMARY KEY also makes its columns NOT NULL: `PRIMARY KEY USING INDEX` on a nullable column
//! scans every row for NULLs under that ACCESS EXCLUSIVE lock, unless a validated
//! `CHECK (col IS NOT NULL)` proves there is none (PostgreSQL ≥ 12).

use super::advice::{self, Sql, CONCURRENTLY_OUTSIDE_TRANSACTION, FOR_THE_TABLE_SIZE};
use super::{Example, Impact, RuleContext, RuleInfo, Violation};
use crate::sql::{ConstraintKind, ConstraintSpec, ObjectName, Op};
use crate::findings::Severity;

pub const RULE: RuleInfo = RuleInfo {
    id: "add-unique-blocking",
    default_severity: Severity::Error,
    impact: Impact::Blocks,
    summary: "ADD UNIQUE / PRIMARY KEY builds an index under ACCESS EXCLUSIVE (use USING INDEX)",
    check: Some(check),
    file: include_str!("add_unique_blocking.rs"),
    example: Example::Migration("ALTER TABLE \"User\" ADD CONSTRAINT \"User_email_key\" UNIQUE (\"email\");\n"),
};

pub fn check(op: &Op, ctx: &RuleContext) -> Option<Violation> {
    let (table, constraint) = match op {
        Op::AddConstraint { table, constraint } => (table, constraint),
        Op::AddColumn { table, column, .. } => {
            let inline = column.constraints.iter().find(|c| builds_index(c))?;
            (table, inline)
        }
        _ => return None,
    };
    if !advice::has_rows_in_production(ctx, table) {
        return None;
    }
    if let ConstraintKind::PrimaryKey {
        using_index: Some(index),
        ..
    } = &constraint.kind
    {
        return primary_key_using_index(ctx, table, constraint, index);
    }
    if !builds_index(constraint) {
        return None;
    }
    let (kind, columns, suffix) = match &constraint.kind {
        ConstraintKind::PrimaryKey { columns, .. } => ("PRIMARY KEY", columns, "pkey"),
        ConstraintKind::Unique { columns, .. } => ("UNIQUE", columns, "key"),
        _ => return None,
    };
    let sql = Sql::of(ctx);
    let table_sql = sql.table(table);
    let message = format!(
        "Adding {kind} ({cols}) on {table_sql} builds its unique index under an ACCESS EXCLUSIVE \
         lock: the running app can neither read nor write {table_sql} {FOR_THE_TABLE_SIZE}.",
        cols = sql.column_list(columns),
    );
    let name = match &constraint.name {
        Some(name) => sql.ident(name),
        None if suffix == "pkey" => sql.derived_name(table, &[], suffix),
        None => sql.derived_name(table, columns, suffix),
    };
    let nullable = if suffix == "pkey" {
        nullable_columns(ctx, table, columns)
    } else {
        Vec::new()
    };
    let primary_key_note = if nullable.is_empty() {
        String::new()
    } else {
        format!(
            "\n{} NOT NULL yet: PRIMARY KEY USING INDEX would set it with a full scan under \
             ACCESS EXCLUSIVE. Make {} NOT NULL first without the scan, before attaching the \
             index:\n{}",
            describe_columns(&sql, &nullable),
            if nullable.len() == 1 { "it" } else { "them" },
            not_null_steps(ctx, table, &nullable),
        )
    };
    let help = format!(
        "Build the unique index without blocking, then attach it (a brief lock, no build):\n\
         CREATE UNIQUE INDEX CONCURRENTLY {name} ON {table_sql} ({cols});\n\
         ALTER TABLE {table_sql} ADD CONSTRAINT {name} {kind} USING INDEX {name};\n\
         {CONCURRENTLY_OUTSIDE_TRANSACTION}{primary_key_note}",
        cols = sql.column_list(columns),
    );
    Some(Violation::new(message, help))
}

/// `PRIMARY KEY USING INDEX`: no build, but its columns become NOT NULL, which scans for NULLs
/// unless each already is NOT NULL or proven by a validated CHECK.
fn primary_key_using_index(
    ctx: &RuleContext,
    table: &ObjectName,
    constraint: &ConstraintSpec,
    index: &str,
) -> Option<Violation> {
    let resolved = ctx.schema.resolve(table);
    let index_name = ObjectName::new(resolved.schema.as_deref(), index);
    // Without the index's columns (not created in a statement the history shows) nothing is
    // known to be nullable.
    let columns = ctx.schema.index(&index_name)?.columns.clone();
    let nullable = nullable_columns(ctx, table, &columns);
    if nullable.is_empty() {
        return None;
    }
    let sql = Sql::of(ctx);
    let table_sql = sql.table(table);
    let index_sql = sql.ident(index);
    let name = match &constraint.name {
        Some(name) => sql.ident(name),
        None => sql.derived_name(table, &[], "pkey"),
    };
    let ignored = if ctx.pg_version < CHECK_PROOF_SINCE
        && nullable
            .iter()
            .any(|c| ctx.schema.has_validated_not_null_check(table, c))
    {
        format!(
            " (PostgreSQL {} ignores a validated CHECK; only 12 and later use it)",
            ctx.pg_version
        )
    } else {
        String::new()
    };
    let message = format!(
        "PRIMARY KEY USING INDEX {index_sql} on {table_sql} builds no index, but a primary key \
         makes {} NOT NULL: PostgreSQL scans every row of {table_sql} for NULLs under an ACCESS \
         EXCLUSIVE lock{ignored}. The running app can neither read nor write {table_sql} \
         {FOR_THE_TABLE_SIZE}; if a NULL is left the migration fails (23502).",
        describe_columns(&sql, &nullable),
    );
    let help = format!(
        "Make the column NOT NULL first with a CHECK that validates without blocking; then SET \
         NOT NULL and the primary key skip the scan:\n{}\n\
         ALTER TABLE {table_sql} ADD CONSTRAINT {name} PRIMARY KEY USING INDEX {index_sql};",
        not_null_steps(ctx, table, &nullable),
    );
    Some(Violation::new(message, help))
}

/// SET NOT NULL uses a validated CHECK constraint as proof from PostgreSQL 12.
const CHECK_PROOF_SINCE: u32 = 12;

/// The columns a primary key would have to scan for NULLs: known nullable, with no validated
/// `CHECK (col IS NOT NULL)` that PostgreSQL takes as proof.
fn nullable_columns(ctx: &RuleContext, table: &ObjectName, columns: &[String]) -> Vec<String> {
    columns
        .iter()
        .filter(|c| ctx.schema.column(table, c).is_some_and(|col| !col.not_null))
        .filter(|c| {
            ctx.pg_version < CHECK_PROOF_SINCE
                || !ctx.schema.has_validated_not_null_check(table, c)
        })
        .cloned()
        .collect()
}

fn describe_columns(sql: &Sql, columns: &[String]) -> String {
    match columns {
        [one] => format!("column {} (nullable)", sql.ident(one)),
        _ => format!("columns {} (nullable)", sql.column_list(columns)),
    }
}

/// CHECK NOT VALID, then in a later migration VALIDATE and SET NOT NULL, for each column.
fn not_null_steps(ctx: &RuleContext, table: &ObjectName, columns: &[String]) -> String {
    columns
        .iter()
        .map(|c| advice::set_not_null_safely(ctx, table, c))
        .collect::<Vec<_>>()
        .join("\n")
}

/// UNIQUE or PRIMARY KEY that builds a new index (not `USING INDEX` an existing one).
fn builds_index(constraint: &ConstraintSpec) -> bool {
    matches!(
        &constraint.kind,
        ConstraintKind::PrimaryKey {
            using_index: None,
            ..
        } | ConstraintKind::Unique {
            using_index: None,
            ..
        }
    )
}

#[cfg(test)]
mod tests {
    use crate::lint::rules::testing::{assert_mentions, only_violation, violations, violations_on};
    use super::*;

    const HISTORY: &str = r#"CREATE TABLE "User" ("id" TEXT NOT NULL, "email" TEXT NOT NULL);"#;

    #[test]
    fn unique_constraint_on_existing_table_is_flagged() {
        let v = only_violation(
            HISTORY,
            r#"ALTER TABLE "User" ADD CONSTRAINT "User_email_key" UNIQUE ("email");"#,
            &RULE,
        );
        assert_mentions(&v.message, "ACCESS EXCLUSIVE");
        assert_mentions(&v.help, r#"CREATE UNIQUE INDEX CONCURRENTLY "User_email_key" ON "User" ("email");"#);
        assert_mentions(
            &v.help,
            r#"ALTER TABLE "User" ADD CONSTRAINT "User_email_key" UNIQUE USING INDEX "User_email_key";"#,
        );
    }

    #[test]
    fn primary_key_gets_postgres_name_and_not_null_steps_for_a_nullable_column() {
        let v = only_violation(
            HISTORY,
            r#"ALTER TABLE "User" ADD PRIMARY KEY ("id");"#,
            &RULE,
        );
        assert_mentions(&v.help, r#"PRIMARY KEY USING INDEX "User_pkey";"#);
        assert!(!v.help.contains("SET NOT NULL"), "{}", v.help);
        let nullable = r#"CREATE TABLE "User" ("id" TEXT, "email" TEXT NOT NULL);"#;
        let v = only_violation(nullable, r#"ALTER TABLE "User" ADD PRIMARY KEY ("id");"#, &RULE);
        assert_mentions(&v.help, "column \"id\" (nullable) NOT NULL yet");
        assert_mentions(&v.help, r#"ADD CONSTRAINT "User_id_not_null" CHECK ("id" IS NOT NULL) NOT VALID;"#);
    }

    const KEYLESS: &str = r#"CREATE TABLE "Item" ("id" TEXT, "label" TEXT NOT NULL);
        CREATE UNIQUE INDEX "Item_id_key" ON "Item"("id");"#;
    const ATTACH: &str =
        r#"ALTER TABLE "Item" ADD CONSTRAINT "Item_pkey" PRIMARY KEY USING INDEX "Item_id_key";"#;

    #[test]
    fn primary_key_using_index_on_a_nullable_column_scans() {
        let v = only_violation(KEYLESS, ATTACH, &RULE);
        assert_mentions(&v.message, "makes column id (nullable) NOT NULL");
        assert_mentions(&v.message, "scans every row of \"Item\" for NULLs under an ACCESS EXCLUSIVE lock");
        assert_mentions(
            &v.help,
            "ALTER TABLE \"Item\" ADD CONSTRAINT \"Item_id_not_null\" CHECK (id IS NOT NULL) NOT VALID;\n\
             -- in a later migration (VALIDATE takes SHARE UPDATE EXCLUSIVE: reads and writes go on):\n\
             ALTER TABLE \"Item\" VALIDATE CONSTRAINT \"Item_id_not_null\";\n\
             ALTER TABLE \"Item\" ALTER COLUMN id SET NOT NULL;\n\
             ALTER TABLE \"Item\" DROP CONSTRAINT \"Item_id_not_null\";\n\
             ALTER TABLE \"Item\" ADD CONSTRAINT \"Item_pkey\" PRIMARY KEY USING INDEX \"Item_id_key\";",
        );
        // The index built concurrently in the pending set, as the help for ADD PRIMARY KEY says.
        let history = r#"CREATE TABLE "Item" ("id" TEXT, "label" TEXT NOT NULL);"#;
        let pending = format!(
            "CREATE UNIQUE INDEX CONCURRENTLY \"Item_id_key\" ON \"Item\"(\"id\");\n{ATTACH}"
        );
        assert_eq!(violations(history, &pending, &RULE).len(), 1);
        // A NOT VALID check proves nothing.
        let not_valid = format!(
            "{KEYLESS}\nALTER TABLE \"Item\" ADD CONSTRAINT \"Item_id_not_null\" CHECK (\"id\" IS NOT NULL) NOT VALID;"
        );
        assert_eq!(violations(&not_valid, ATTACH, &RULE).len(), 1);
    }

    #[test]
    fn primary_key_using_index_on_a_not_null_or_proven_column_is_fine() {
        let not_null = r#"CREATE TABLE "Item" ("id" TEXT NOT NULL);
            CREATE UNIQUE INDEX "Item_id_key" ON "Item"("id");"#;
        assert!(violations(not_null, ATTACH, &RULE).is_empty());
        let set_first = format!("ALTER TABLE \"Item\" ALTER COLUMN \"id\" SET NOT NULL;\n{ATTACH}");
        assert!(violations(KEYLESS, &set_first, &RULE).is_empty());
        let proven = format!(
            "{KEYLESS}\nALTER TABLE \"Item\" ADD CONSTRAINT \"Item_id_not_null\" CHECK (\"id\" IS NOT NULL);"
        );
        assert!(violations(&proven, ATTACH, &RULE).is_empty());
        // Before PostgreSQL 12 the CHECK is no proof.
        let v = violations_on(11, &proven, ATTACH, &RULE);
        assert_mentions(&v[0].message, "PostgreSQL 11 ignores a validated CHECK");
        // Unknown index: its columns are not known.
        assert!(violations("", ATTACH, &RULE).is_empty());
    }

    #[test]
    fn primary_key_using_index_on_a_new_table_is_fine() {
        let pending = format!(
            "CREATE TABLE \"Item\" (\"id\" TEXT);\nCREATE UNIQUE INDEX \"Item_id_key\" ON \"Item\"(\"id\");\n{ATTACH}"
        );
        assert!(violations("", &pending, &RULE).is_empty());
    }

    #[test]
    fn inline_unique_on_added_column_is_flagged() {
        let v = only_violation(
            HISTORY,
            r#"ALTER TABLE "User" ADD COLUMN "handle" TEXT UNIQUE;"#,
            &RULE,
        );
        assert_mentions(&v.help, r#"CREATE UNIQUE INDEX CONCURRENTLY "User_handle_key" ON "User" ("handle");"#);
        let new_table = r#"CREATE TABLE "Org" ("id" TEXT NOT NULL);
            ALTER TABLE "Org" ADD COLUMN "slug" TEXT UNIQUE;"#;
        assert!(violations(HISTORY, new_table, &RULE).is_empty());
    }

    #[test]
    fn using_index_is_fine() {
        let pending = r#"CREATE UNIQUE INDEX CONCURRENTLY "User_email_key" ON "User"("email");
            ALTER TABLE "User" ADD CONSTRAINT "User_email_key" UNIQUE USING INDEX "User_email_key";"#;
        assert!(violations(HISTORY, pending, &RULE).is_empty());
    }

    #[test]
    fn new_table_is_fine() {
        let pending = r#"CREATE TABLE "Team" ("id" TEXT NOT NULL, "slug" TEXT NOT NULL);
            ALTER TABLE "Team" ADD CONSTRAINT "Team_slug_key" UNIQUE ("slug");"#;
        assert!(violations(HISTORY, pending, &RULE).is_empty());
    }
}
