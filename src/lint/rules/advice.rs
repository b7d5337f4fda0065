//! Shared wording and SQL builders for the lock and rewrite rules, so every finding describes
//! production the same way and every suggested statement quotes names the way PostgreSQL needs
//! (the statement's own spelling: `"User"` stays `"User"`, `users` stays `users`).

use super::RuleContext;
use crate::sql::ident::{quote, quote_if_needed, truncate_to_max_bytes};
use crate::sql::{ConstraintKind, ConstraintSpec, ObjectName, Op};

/// How long the running app is affected: the part every lock message ends with.
pub const FOR_THE_TABLE_SIZE: &str =
    "for as long as that takes, which grows with the table's size (minutes on a large table)";

/// Locking and rewrite rules only matter where production has rows: tables created in the pending
/// set are empty, tables the history does not know are treated as existing.
pub fn has_rows_in_production(ctx: &RuleContext, table: &ObjectName) -> bool {
    !ctx.schema.is_new_table(table)
}

/// `ADD COLUMN IF NOT EXISTS` of a column the table already has does nothing.
pub fn is_noop_add_column(
    ctx: &RuleContext,
    table: &ObjectName,
    column: &str,
    if_not_exists: bool,
) -> bool {
    if_not_exists && ctx.schema.column(table, column).is_some()
}

/// A resolved name as the user would write it: `public` is left out.
pub fn as_written(name: &ObjectName) -> ObjectName {
    match name.schema.as_deref() {
        Some("public") => ObjectName::unqualified(&name.name),
        _ => name.clone(),
    }
}

/// Writes names into suggested SQL the way the statement wrote them: a name the statement
/// double-quoted stays quoted (Prisma quotes everything: `"email"`, `"age_new"`), any other is
/// quoted only when PostgreSQL needs it.
#[derive(Debug, Clone, Copy)]
pub struct Sql<'a> {
    statement: &'a str,
}

impl<'a> Sql<'a> {
    pub fn of(ctx: &RuleContext<'a>) -> Self {
        Sql {
            statement: &ctx.statement.text,
        }
    }

    fn was_quoted(&self, name: &str) -> bool {
        self.statement.contains(&quote(name))
    }

    /// `"email"` / `email`, ready to paste into SQL.
    pub fn ident(&self, name: &str) -> String {
        if self.was_quoted(name) {
            quote(name)
        } else {
            quote_if_needed(name)
        }
    }

    /// A new name made from `source` (`age` → `age_new`): quoted when `source` was.
    pub fn derived_ident(&self, source: &str, name: &str) -> String {
        if self.was_quoted(source) {
            quote(name)
        } else {
            quote_if_needed(name)
        }
    }

    pub fn table(&self, table: &ObjectName) -> String {
        let table = as_written(table);
        match &table.schema {
            Some(schema) => format!("{}.{}", self.ident(schema), self.ident(&table.name)),
            None => self.ident(&table.name),
        }
    }

    /// A comma-separated, quoted column list: `"tenantId", "email"`.
    pub fn column_list(&self, columns: &[String]) -> String {
        columns
            .iter()
            .map(|c| self.ident(c))
            .collect::<Vec<_>>()
            .join(", ")
    }

    /// A constraint or index name in PostgreSQL's own style (`User_email_key`), cut to the 63
    /// bytes PostgreSQL keeps, quoted like the table name.
    pub fn derived_name(&self, table: &ObjectName, columns: &[String], suffix: &str) -> String {
        self.derived_ident(&table.name, &derived_name(table, columns, suffix))
    }
}

/// PostgreSQL's own naming style for a constraint or index (`User_email_key`), unquoted, cut
/// to the 63 bytes PostgreSQL keeps.
pub fn derived_name(table: &ObjectName, columns: &[String], suffix: &str) -> String {
    let mut parts: Vec<&str> = vec![table.name.as_str()];
    parts.extend(columns.iter().map(String::as_str));
    parts.push(suffix);
    truncate_to_max_bytes(parts.join("_"))
}

/// The column a batched backfill can walk: the table's single-column primary key when the
/// history declares one, else `ctid` (always present, good enough for a one-off backfill).
pub fn batch_key(ctx: &RuleContext, table: &ObjectName) -> String {
    let primary_key = ctx.schema.table(table).and_then(|t| {
        t.constraints.iter().find_map(|c| match &c.kind {
            ConstraintKind::PrimaryKey { columns, .. } if columns.len() == 1 => {
                Some(Sql::of(ctx).derived_ident(&table.name, &columns[0]))
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
    let table = Sql::of(ctx).table(table);
    format!(
        "UPDATE {table} SET {assignment} WHERE {key} IN (SELECT {key} FROM {table} WHERE {pending_rows} LIMIT 1000);"
    )
}

/// The way to make a column NOT NULL without a long ACCESS EXCLUSIVE scan (PostgreSQL ≥ 12 uses
/// the validated CHECK as proof and skips the scan).
pub fn set_not_null_safely(ctx: &RuleContext, table: &ObjectName, column: &str) -> String {
    let sql = Sql::of(ctx);
    let constraint = sql.derived_name(table, &[column.to_string()], "not_null");
    let col = sql.ident(column);
    let pg_version = ctx.pg_version;
    let table = sql.table(table);
    let mut steps = format!(
        "ALTER TABLE {table} ADD CONSTRAINT {constraint} CHECK ({col} IS NOT NULL) NOT VALID;\n\
         -- in a later migration (VALIDATE takes SHARE UPDATE EXCLUSIVE: reads and writes go on):\n\
         ALTER TABLE {table} VALIDATE CONSTRAINT {constraint};\n\
         ALTER TABLE {table} ALTER COLUMN {col} SET NOT NULL;\n\
         ALTER TABLE {table} DROP CONSTRAINT {constraint};"
    );
    if pg_version < 12 {
        steps.push_str(&format!(
            "\n-- PostgreSQL {pg_version} still scans on SET NOT NULL even with the CHECK; \
             from PostgreSQL 12 it does not. On {pg_version}, keep the validated CHECK instead of SET NOT NULL."
        ));
    }
    steps
}

/// Whether adding `constraint` to `table` checks the existing rows now, and so holds its lock for
/// a full scan. `Some(note)` when it does: `""` for a plain ADD, [`VALIDATE_IN_SAME_MIGRATION`]
/// for a NOT VALID one that a later statement of the same migration validates (the file runs as
/// one transaction, so the ADD's lock is still held while VALIDATE scans the table). `None` when
/// the table is empty in production or the constraint is NOT VALID and validated later.
pub fn scans_existing_rows_now(
    ctx: &RuleContext,
    table: &ObjectName,
    constraint: &ConstraintSpec,
) -> Option<&'static str> {
    if !has_rows_in_production(ctx, table) {
        return None;
    }
    if !constraint.not_valid {
        return Some("");
    }
    validated_in_same_migration(ctx, table, constraint.name.as_deref())
        .then_some(VALIDATE_IN_SAME_MIGRATION)
}

fn validated_in_same_migration(
    ctx: &RuleContext,
    table: &ObjectName,
    constraint: Option<&str>,
) -> bool {
    let Some(constraint) = constraint else {
        return false;
    };
    let table = ctx.schema.resolve(table);
    // Only a VALIDATE in the same transaction runs under the ADD's lock: after the file's own
    // COMMIT (or with a deployer that commits each statement) it is the safe pattern.
    ctx.later_in_transaction
        .iter()
        .flat_map(|s| &s.ops)
        .any(|op| {
            matches!(op, Op::ValidateConstraint { table: t, name }
            if name == constraint && ctx.schema.resolve(t) == table)
        })
}

/// Said when a NOT VALID constraint is validated in the same migration.
pub const VALIDATE_IN_SAME_MIGRATION: &str =
    "NOT VALID buys nothing here: the VALIDATE CONSTRAINT \
     later in this migration runs in the same transaction, while the ADD's lock is still held. ";

/// Where a CONCURRENTLY statement has to run.
pub const CONCURRENTLY_OUTSIDE_TRANSACTION: &str =
    "CONCURRENTLY cannot run inside a transaction block: `migration-gate deploy` runs such a \
     statement alone in autocommit automatically; with `prisma migrate deploy` put it in a \
     migration of its own, as its only statement.";

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lint::rules::set_not_null;
    use crate::lint::rules::testing::violations_on;

    #[test]
    fn derived_names_follow_postgres_style_and_are_cut_to_63_bytes() {
        let table = ObjectName::unqualified("User");
        assert_eq!(
            derived_name(&table, &["email".to_string()], "key"),
            "User_email_key"
        );
        let long = ObjectName::unqualified(&"t".repeat(80));
        assert_eq!(derived_name(&long, &["c".to_string()], "key").len(), 63);
    }

    #[test]
    fn names_are_quoted_the_way_the_statement_wrote_them() {
        let prisma = violations_on(
            15,
            "",
            r#"ALTER TABLE "User" ALTER COLUMN "email" SET NOT NULL;"#,
            &set_not_null::RULE,
        );
        assert!(
            prisma[0]
                .message
                .starts_with(r#"SET NOT NULL on "User"."email" scans"#),
            "{}",
            prisma[0].message
        );
        assert!(prisma[0].help.contains(
            r#"ALTER TABLE "User" ADD CONSTRAINT "User_email_not_null" CHECK ("email" IS NOT NULL) NOT VALID;"#
        ), "{}", prisma[0].help);
        let plain = violations_on(
            15,
            "",
            "alter table app.users alter column email set not null;",
            &set_not_null::RULE,
        );
        assert!(
            plain[0]
                .message
                .starts_with("SET NOT NULL on app.users.email scans"),
            "{}",
            plain[0].message
        );
        assert!(plain[0].help.contains(
            "ALTER TABLE app.users ADD CONSTRAINT users_email_not_null CHECK (email IS NOT NULL) NOT VALID;"
        ), "{}", plain[0].help);
    }

    /// The issue's safe examples: none of the lock and rewrite rules may fire on them.
    #[test]
    fn safe_examples_raise_nothing_from_the_lock_and_rewrite_rules() {
        use crate::lint::rules::{
            add_check_validating, add_column_required, add_column_rewrite,
            add_foreign_key_validating, add_unique_blocking, alter_column_type,
            create_index_blocking, drop_index_blocking, set_not_null,
        };
        let rules = [
            &alter_column_type::RULE,
            &add_column_required::RULE,
            &add_column_rewrite::RULE,
            &set_not_null::RULE,
            &create_index_blocking::RULE,
            &drop_index_blocking::RULE,
            &add_foreign_key_validating::RULE,
            &add_check_validating::RULE,
            &add_unique_blocking::RULE,
        ];
        let history = r#"
            CREATE TYPE "Role" AS ENUM ('USER', 'ADMIN');
            CREATE TABLE "User" ("id" TEXT NOT NULL, "email" TEXT, "role" "Role" NOT NULL DEFAULT 'USER',
                CONSTRAINT "User_pkey" PRIMARY KEY ("id"));
            CREATE INDEX "User_email_idx" ON "User"("email");
            CREATE TABLE "Post" ("id" TEXT NOT NULL, "authorId" TEXT NOT NULL, "title" TEXT NOT NULL,
                CONSTRAINT "Post_pkey" PRIMARY KEY ("id"));
            ALTER TABLE "Post" ADD CONSTRAINT "Post_authorId_fkey" FOREIGN KEY ("authorId") REFERENCES "User"("id") NOT VALID;
            CREATE VIEW "PostTitles" AS SELECT "title" FROM "Post";"#;
        let safe = [
            r#"CREATE TABLE "Comment" ("id" TEXT NOT NULL, "postId" TEXT NOT NULL, "userId" TEXT NOT NULL,
                   "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
                   CONSTRAINT "Comment_pkey" PRIMARY KEY ("id"));
               CREATE UNIQUE INDEX "Comment_postId_userId_key" ON "Comment"("postId", "userId");
               CREATE INDEX "Comment_userId_idx" ON "Comment"("userId");
               ALTER TABLE "Comment" ADD CONSTRAINT "Comment_postId_fkey" FOREIGN KEY ("postId") REFERENCES "Post"("id") ON DELETE CASCADE ON UPDATE CASCADE;
               ALTER TABLE "Comment" ADD CONSTRAINT "Comment_userId_fkey" FOREIGN KEY ("userId") REFERENCES "User"("id") ON DELETE RESTRICT ON UPDATE CASCADE;"#,
            r#"ALTER TABLE "User" ADD COLUMN "nickname" TEXT;"#,
            r#"ALTER TABLE "User" ADD COLUMN "plan" TEXT NOT NULL DEFAULT 'free';"#,
            r#"ALTER TABLE "User" ADD COLUMN "updatedAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP;"#,
            r#"CREATE INDEX CONCURRENTLY "Post_title_idx" ON "Post"("title");"#,
            r#"DROP INDEX CONCURRENTLY "User_email_idx";"#,
            r#"DROP INDEX CONCURRENTLY IF EXISTS "User_email_idx";"#,
            r#"ALTER TABLE "Post" VALIDATE CONSTRAINT "Post_authorId_fkey";"#,
            r#"ALTER TYPE "Role" ADD VALUE 'OWNER';"#,
            r#"ALTER TABLE "Post" ALTER COLUMN "title" DROP NOT NULL;"#,
            r#"ALTER TABLE "User" ALTER COLUMN "role" SET DEFAULT 'ADMIN';"#,
            r#"ALTER TABLE "User" ALTER COLUMN "role" DROP DEFAULT;"#,
            r#"ALTER INDEX "User_email_idx" RENAME TO "User_mail_idx";"#,
            r#"ALTER TABLE "Post" RENAME CONSTRAINT "Post_authorId_fkey" TO "Post_author_fkey";"#,
            r#"DROP VIEW "PostTitles";"#,
            r#"CREATE EXTENSION IF NOT EXISTS "pgcrypto";"#,
            r#"COMMENT ON TABLE "User" IS 'people';"#,
        ];
        for pending in safe {
            for rule in rules {
                let found = violations_on(15, history, pending, rule);
                assert!(
                    found.is_empty(),
                    "{} fired on safe SQL {pending}: {found:#?}",
                    rule.id
                );
            }
        }
    }

    #[test]
    fn set_not_null_safely_warns_before_postgres_12() {
        let old = violations_on(
            11,
            "",
            "ALTER TABLE t ALTER COLUMN c SET NOT NULL;",
            &set_not_null::RULE,
        );
        assert!(
            old[0].help.contains("PostgreSQL 11 still scans"),
            "{}",
            old[0].help
        );
        let new = violations_on(
            12,
            "",
            "ALTER TABLE t ALTER COLUMN c SET NOT NULL;",
            &set_not_null::RULE,
        );
        assert!(!new[0].help.contains("still scans"));
    }
}
