//! `table-rewrite`: CLUSTER, VACUUM FULL and ALTER TABLE ... SET LOGGED / SET UNLOGGED /
//! SET TABLESPACE / SET ACCESS METHOD write the whole table anew under ACCESS EXCLUSIVE.
//!
//! Each copies every row (and rebuilds every index, except SET TABLESPACE, which copies the
//! table's files and leaves its indexes where they are) while holding the strongest lock: the
//! running app can neither read nor write the table until the copy is done. A bare `CLUSTER` or
//! `VACUUM FULL` does it to every table, one after another. pg_repack and pg_squeeze do the same
//! work online, locking only at the start and the end.

use super::advice::{self, Sql, FOR_THE_TABLE_SIZE};
use super::{Example, Impact, RuleContext, RuleInfo, Violation};
use crate::findings::Severity;
use crate::sql::{ObjectName, Op};

pub const RULE: RuleInfo = RuleInfo {
    id: "table-rewrite",
    default_severity: Severity::Error,
    impact: Impact::Blocks,
    summary: "CLUSTER, VACUUM FULL, SET LOGGED/UNLOGGED/TABLESPACE/ACCESS METHOD rewrite the table under ACCESS EXCLUSIVE",
    check: Some(check),
    file: include_str!("table_rewrite.rs"),
    example: Example::Migration("CLUSTER \"User\" USING \"User_pkey\";\n"),
};

pub fn check(op: &Op, ctx: &RuleContext) -> Option<Violation> {
    let Op::RewriteTable { table, kind } = op else {
        return None;
    };
    let Some(table) = table else {
        return Some(every_table(kind));
    };
    if !advice::has_rows_in_production(ctx, table) {
        return None;
    }
    let sql = Sql::of(ctx);
    let table_sql = sql.table(table);
    let what = match kind.as_str() {
        "SET TABLESPACE" => format!(
            "ALTER TABLE {table_sql} SET TABLESPACE copies every block of {table_sql} into the new \
             tablespace (its indexes stay where they are; nothing is copied when it is already \
             there)"
        ),
        "SET ACCESS METHOD" => format!(
            "ALTER TABLE {table_sql} SET ACCESS METHOD rewrites {table_sql} and rebuilds all its \
             indexes (nothing is rewritten when it already uses that method)"
        ),
        "SET LOGGED" | "SET UNLOGGED" => format!(
            "ALTER TABLE {table_sql} {kind} rewrites {table_sql} and all its indexes into new files"
        ),
        _ => format!("{kind} rewrites {table_sql} and all its indexes into new files"),
    };
    let message = format!(
        "{what} under an ACCESS EXCLUSIVE lock: the running app can neither read nor write \
         {table_sql} {FOR_THE_TABLE_SIZE}."
    );
    Some(Violation::new(message, help(kind, table, &sql)))
}

fn every_table(kind: &str) -> Violation {
    let which = if kind == "CLUSTER" {
        "every table that was clustered before (ALTER TABLE ... CLUSTER ON or an earlier \
         CLUSTER ... USING)"
    } else {
        "every table of the database"
    };
    let message = format!(
        "{kind} without a table rewrites {which}, one after another, each with all its indexes \
         under an ACCESS EXCLUSIVE lock: the running app can neither read nor write the table \
         being rewritten, for a time that grows with the size of the database."
    );
    let help = format!(
        "Do not rewrite whole databases in a migration. Reclaim space or restore row order \
         online, table by table, with pg_repack (`pg_repack --table=<table>`, \
         `pg_repack --order-by=<column> --table=<table>` for CLUSTER) or pg_squeeze, outside the \
         migration: they lock only briefly at the start and the end. Plain VACUUM (without FULL) \
         makes dead space reusable without blocking reads or writes.\n{}",
        allow_for_small(kind, "<table>")
    );
    Violation::new(message, help)
}

fn help(kind: &str, table: &ObjectName, sql: &Sql) -> String {
    let table_sql = sql.table(table);
    let online = match kind {
        "CLUSTER" => format!(
            "Restore the row order online, outside the migration, with pg_repack \
             (`pg_repack --table={table_sql} --order-by=<column>`) or pg_squeeze: they copy the \
             table while the app keeps working and lock it only briefly at the start and the end."
        ),
        "VACUUM FULL" => format!(
            "Reclaim the space online, outside the migration, with pg_repack \
             (`pg_repack --table={table_sql}`) or pg_squeeze: they copy the table while the app \
             keeps working and lock it only briefly at the start and the end. Plain VACUUM makes \
             dead space reusable without blocking reads or writes:\nVACUUM {table_sql};"
        ),
        "SET TABLESPACE" => format!(
            "Move it online, outside the migration, with pg_repack \
             (`pg_repack --table={table_sql} --tablespace=<tablespace>`): it copies the table \
             while the app keeps working and locks it only briefly at the end."
        ),
        _ => format!(
            "Build the new table alongside instead of rewriting this one in place:\n\
             CREATE {new_kind}TABLE {new} (LIKE {table_sql} INCLUDING ALL){access_method};\n\
             -- copy the rows in batches outside the migration (a trigger or a second write in \
             the app keeps the copy current), then swap the names in one short transaction:\n\
             ALTER TABLE {table_sql} RENAME TO {old};\n\
             ALTER TABLE {new} RENAME TO {name};",
            new_kind = if kind == "SET UNLOGGED" {
                "UNLOGGED "
            } else {
                ""
            },
            access_method = if kind == "SET ACCESS METHOD" {
                " USING <method>"
            } else {
                ""
            },
            new = sql.table(&renamed(table, "new")),
            old = sql.derived_ident(&table.name, &format!("{}_old", table.name)),
            name = sql.ident(&table.name),
        ),
    };
    format!("{online}\n{}", allow_for_small(kind, &table.name))
}

/// `table` with `suffix` added to its name (`User` → `User_new`), same schema.
fn renamed(table: &ObjectName, suffix: &str) -> ObjectName {
    ObjectName::new(table.schema.as_deref(), &format!("{}_{suffix}", table.name))
}

fn allow_for_small(kind: &str, table: &str) -> String {
    format!(
        "On a small table, a {kind} is quick: allow it with a reason, e.g.\n\
         -- migration-gate: allow table-rewrite reason: {table} holds a few hundred rows"
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lint::rules::testing::{assert_mentions, only_violation, violations, HISTORY};

    #[test]
    fn cluster_on_an_existing_table_rewrites_it_under_access_exclusive() {
        let v = only_violation(HISTORY, r#"CLUSTER "User" USING "User_pkey";"#, &RULE);
        assert_mentions(&v.message, r#"CLUSTER rewrites "User" and all its indexes"#);
        assert_mentions(&v.message, "ACCESS EXCLUSIVE");
        assert_mentions(&v.message, "neither read nor write");
        assert_mentions(&v.help, r#"pg_repack --table="User" --order-by="#);
        assert_mentions(&v.help, "-- migration-gate: allow table-rewrite reason: User holds");
    }

    #[test]
    fn vacuum_full_suggests_pg_repack_and_plain_vacuum() {
        let v = only_violation(HISTORY, "VACUUM FULL \"User\";", &RULE);
        assert_mentions(&v.message, r#"VACUUM FULL rewrites "User""#);
        assert_mentions(&v.help, r#"pg_repack --table="User""#);
        assert_mentions(&v.help, "VACUUM \"User\";");
        // One finding per table named.
        let both = violations(
            &format!("{HISTORY} CREATE TABLE orders (id int);"),
            "VACUUM (FULL, ANALYZE) \"User\", orders;",
            &RULE,
        );
        assert_eq!(both.len(), 2, "{both:#?}");
    }

    #[test]
    fn bare_cluster_and_vacuum_full_touch_every_table() {
        let v = only_violation(HISTORY, "CLUSTER;", &RULE);
        assert_mentions(&v.message, "every table that was clustered before");
        let v = only_violation(HISTORY, "VACUUM FULL;", &RULE);
        assert_mentions(&v.message, "every table of the database");
        assert_mentions(&v.help, "pg_squeeze");
    }

    #[test]
    fn set_logged_and_unlogged_suggest_a_new_table_and_a_batched_copy() {
        let v = only_violation(HISTORY, r#"ALTER TABLE "User" SET LOGGED;"#, &RULE);
        assert_mentions(&v.message, r#"ALTER TABLE "User" SET LOGGED rewrites "User""#);
        assert_mentions(&v.help, r#"CREATE TABLE "User_new" (LIKE "User" INCLUDING ALL);"#);
        assert_mentions(&v.help, r#"ALTER TABLE "User" RENAME TO "User_old";"#);
        assert_mentions(&v.help, r#"ALTER TABLE "User_new" RENAME TO "User";"#);
        let v = only_violation(HISTORY, "alter table app.events set unlogged;", &RULE);
        assert_mentions(&v.help, "CREATE UNLOGGED TABLE app.events_new (LIKE app.events INCLUDING ALL);");
    }

    #[test]
    fn set_tablespace_and_access_method_say_what_they_copy() {
        let v = only_violation(HISTORY, r#"ALTER TABLE "User" SET TABLESPACE fast;"#, &RULE);
        assert_mentions(&v.message, "copies every block");
        assert_mentions(&v.message, "its indexes stay where they are");
        assert_mentions(&v.help, "--tablespace=");
        let v = only_violation(HISTORY, r#"ALTER TABLE "User" SET ACCESS METHOD columnar;"#, &RULE);
        assert_mentions(&v.message, "rebuilds all its indexes");
        assert_mentions(&v.help, "INCLUDING ALL) USING <method>;");
    }

    #[test]
    fn plain_vacuum_and_analyze_are_fine() {
        for harmless in ["VACUUM \"User\";", "VACUUM ANALYZE \"User\";", "ANALYZE \"User\";", "VACUUM;"] {
            assert!(violations(HISTORY, harmless, &RULE).is_empty(), "{harmless}");
        }
    }

    #[test]
    fn a_table_created_in_the_pending_set_is_fine() {
        let pending = format!(
            "{}CREATE INDEX draft_id ON \"Draft\" (id);\nCLUSTER \"Draft\" USING draft_id;\n\
             ALTER TABLE \"Draft\" SET UNLOGGED;\nALTER TABLE \"Draft\" SET LOGGED;\n",
            crate::lint::rules::testing::CREATE_DRAFT
        );
        assert!(violations(HISTORY, &pending, &RULE).is_empty());
    }

    #[test]
    fn unknown_table_counts_as_existing() {
        assert_eq!(violations("", "CLUSTER events USING events_pkey;", &RULE).len(), 1);
    }
}
