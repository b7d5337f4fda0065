//! `slow-under-lock`: a slow statement runs while an earlier statement of the same transaction
//! holds a lock that blocks the app.
//!
//! PostgreSQL keeps every lock until the transaction ends. `ALTER TABLE "User" ADD COLUMN` is
//! instant, but its ACCESS EXCLUSIVE lock stays held while the next statement of the same
//! transaction backfills, validates, scans or rewrites rows: every query on "User" waits for the
//! whole UPDATE. Typical Prisma file: `ADD COLUMN "x"; UPDATE "User" SET "x" = ...;`.
//! Which statements share a transaction follows the deployer (`migration-gate deploy`: the whole
//! file; Prisma 7.4+: each statement alone unless the file writes BEGIN ... COMMIT).

use super::advice::{as_written, Sql, FOR_THE_TABLE_SIZE};
use super::{Example, Impact, RuleContext, RuleInfo, Violation};
use crate::findings::Severity;
use crate::lint::locks::{self, Lock, Work};
use crate::sql::Op;

pub const RULE: RuleInfo = RuleInfo {
    id: "slow-under-lock",
    default_severity: Severity::Error,
    impact: Impact::Blocks,
    summary: "a backfill, scan or rewrite runs while an earlier statement of its transaction holds a blocking lock",
    check: Some(check),
    file: include_str!("slow_under_lock.rs"),
    example: Example::Migration(
        "ALTER TABLE \"User\" ADD COLUMN \"nickname\" TEXT;\nUPDATE \"User\" SET \"nickname\" = \"name\";\n",
    ),
};

pub fn check(op: &Op, ctx: &RuleContext) -> Option<Violation> {
    if op.requires_autocommit() {
        // In a transaction it fails outright (concurrently-in-transaction); outside one it
        // holds nothing of the file's.
        return None;
    }
    let slow: Vec<&Lock> = ctx
        .own_locks
        .iter()
        .filter(|lock| lock.work != Work::None)
        .collect();
    let work = slow.first()?;
    // The strongest earlier lock that blocks writes, unless this statement takes as much on that
    // table itself (its own rule says so then).
    let held = ctx
        .held_locks
        .iter()
        .filter(|held| held.mode.blocks_writes())
        .filter(|held| {
            // create-index-blocking names the earlier lock on its own table.
            let reported_by_own_rule = matches!(op, Op::CreateIndex { .. });
            !slow.iter().any(|own| {
                own.table == held.table && (own.mode >= held.mode || reported_by_own_rule)
            })
        })
        .max_by_key(|held| (held.mode, std::cmp::Reverse(held.line)))?;
    let sql = Sql::of(ctx);
    let held_table = sql.table(&as_written(&held.table));
    let table = sql.table(&as_written(&work.table));
    let waits = locks::what_the_app_can_do(&[], ctx.schema, &held.table, &held_table, held.mode);
    let message = format!(
        "This statement {} of {table} while line {} of the same transaction holds {} on \
         {held_table} (locks are kept until the transaction commits): {waits} {FOR_THE_TABLE_SIZE}.",
        work.work.describe(),
        held.line,
        held.mode.sql(),
    );
    let then = match (op, work.work) {
        (Op::CreateIndex { .. }, _) => {
            "build the index with CREATE INDEX CONCURRENTLY, alone in a migration of its own"
                .to_string()
        }
        (_, Work::RowChanges) => format!(
            "change the rows on their own, in batches repeated until they change 0 rows \
             (`... WHERE <key> IN (SELECT <key> FROM {table} WHERE <not yet done> LIMIT 1000)`)"
        ),
        _ => "run this statement on its own, when nothing else of the migration holds a lock"
            .to_string(),
    };
    let help = format!(
        "Commit the change of line {} before the slow part: move this statement to a later \
         migration (or write COMMIT; before it), then {then}.",
        held.line
    );
    Some(Violation::new(message, help))
}


#[cfg(test)]
mod tests {
    use super::*;
    use crate::lint::rules::testing::{
        assert_mentions, flags, only_violation, violations_under_prisma, CREATE_DRAFT, HISTORY,
    };

    const ADD_THEN_BACKFILL: &str = "ALTER TABLE \"User\" ADD COLUMN \"nickname\" TEXT;\n\
                                     UPDATE \"User\" SET \"nickname\" = email;\n";

    #[test]
    fn a_backfill_after_add_column_runs_under_its_access_exclusive_lock() {
        let v = only_violation(HISTORY, ADD_THEN_BACKFILL, &RULE);
        assert_mentions(&v.message, "changes rows of \"User\"");
        assert_mentions(&v.message, "line 1 of the same transaction holds ACCESS EXCLUSIVE");
        assert_mentions(&v.message, "reads included, waits");
        assert_mentions(&v.help, "COMMIT; before it");
        assert_mentions(&v.help, "LIMIT 1000");
        assert_eq!(v.severity, Some(Severity::Error));
    }

    #[test]
    fn validate_scan_and_index_builds_count_and_other_tables_too() {
        for slow in [
            "ALTER TABLE \"User\" VALIDATE CONSTRAINT c",
            "ALTER TABLE \"Team\" ALTER COLUMN id SET NOT NULL",
            "CREATE INDEX i ON \"Team\" (id)",
            "ALTER TABLE \"Team\" ADD CONSTRAINT c CHECK (id > 0)",
            "DELETE FROM \"Team\" WHERE id < 10",
        ] {
            let pending = format!(
                "ALTER TABLE \"User\" RENAME COLUMN email TO mail;\n{slow};\n"
            );
            let history = format!("{HISTORY}CREATE TABLE \"Team\" (id int4);\n");
            assert!(flags(&history, &pending, &RULE), "{slow}");
        }
    }

    #[test]
    fn a_commit_between_or_a_deployer_that_commits_each_statement_is_fine() {
        let committed = "ALTER TABLE \"User\" ADD COLUMN \"nickname\" TEXT;\nCOMMIT;\n\
                         UPDATE \"User\" SET \"nickname\" = email;\n";
        assert!(!flags(HISTORY, committed, &RULE));
        assert!(violations_under_prisma(Some("7.4.0"), HISTORY, ADD_THEN_BACKFILL, &RULE).is_empty());
        assert_eq!(
            violations_under_prisma(Some("7.3.0"), HISTORY, ADD_THEN_BACKFILL, &RULE).len(),
            1
        );
        // CONCURRENTLY in Prisma's one-query file fails (concurrently-in-transaction): no
        // lock is held while it runs.
        let concurrently = "ALTER TABLE \"User\" ADD COLUMN \"nickname\" TEXT;\n\
                            CREATE INDEX CONCURRENTLY i ON \"User\" (email);\n";
        assert!(violations_under_prisma(Some("7.3.0"), HISTORY, concurrently, &RULE).is_empty());
    }

    #[test]
    fn an_explicit_lock_table_is_held_too() {
        let locked = "LOCK TABLE \"User\" IN EXCLUSIVE MODE;\nUPDATE \"User\" SET email = 'a';\n";
        let v = only_violation(HISTORY, locked, &RULE);
        assert_mentions(&v.message, "line 1 of the same transaction holds EXCLUSIVE on \"User\"");
        assert_mentions(&v.message, "can still read \"User\", but every INSERT, UPDATE and DELETE");
        // A weak mode blocks nobody.
        let weak = "LOCK TABLE \"User\" IN ROW SHARE MODE;\nUPDATE \"User\" SET email = 'a';\n";
        assert!(!flags(HISTORY, weak, &RULE));
    }

    #[test]
    fn dropping_a_foreign_key_locks_the_referenced_table_too() {
        let history = format!(
            "{HISTORY}CREATE TABLE \"Post\" (id int4, \"authorId\" int4, \
             CONSTRAINT \"Post_authorId_fkey\" FOREIGN KEY (\"authorId\") REFERENCES \"User\" (id));\n"
        );
        for drop in [
            "ALTER TABLE \"Post\" DROP CONSTRAINT \"Post_authorId_fkey\"",
            "ALTER TABLE \"Post\" DROP COLUMN \"authorId\"",
            "DROP TABLE \"Post\"",
        ] {
            let pending = format!("{drop};\nUPDATE \"User\" SET email = 'a';\n");
            let v = only_violation(&history, &pending, &RULE);
            assert_mentions(&v.message, "holds ACCESS EXCLUSIVE on \"User\"");
        }
        let other_column = "ALTER TABLE \"Post\" DROP COLUMN id;\nUPDATE \"User\" SET email = 'a';\n";
        let v = only_violation(&history, other_column, &RULE);
        assert_mentions(&v.message, "holds ACCESS EXCLUSIVE on \"Post\"");
    }

    #[test]
    fn a_type_change_is_slow_only_when_it_rewrites() {
        let history = format!("{HISTORY}CREATE TABLE \"Team\" (id int4, name varchar(10));\n");
        let change = |to: &str| {
            format!(
                "ALTER TABLE \"User\" RENAME COLUMN email TO mail;\n\
                 ALTER TABLE \"Team\" ALTER COLUMN name TYPE {to};\n"
            )
        };
        // varchar widening and varchar → text keep the values as they are.
        assert!(!flags(&history, &change("varchar(20)"), &RULE));
        assert!(!flags(&history, &change("text"), &RULE));
        let v = only_violation(&history, &change("int4 USING name::int4"), &RULE);
        assert_mentions(&v.message, "rewrites the whole table");
    }

    #[test]
    fn rollback_to_savepoint_releases_the_locks_taken_after_it() {
        let rolled_back = "BEGIN;\nSAVEPOINT s;\nALTER TABLE \"User\" ADD COLUMN b int;\n\
                           ROLLBACK TO SAVEPOINT s;\nUPDATE \"User\" SET email = 'a';\nCOMMIT;\n";
        assert!(!flags(HISTORY, rolled_back, &RULE));
        // Released, the savepoint keeps its locks.
        let released = rolled_back.replace("ROLLBACK TO SAVEPOINT s", "RELEASE SAVEPOINT s");
        assert!(flags(HISTORY, &released, &RULE));
    }

    #[test]
    fn weak_earlier_locks_and_new_tables_are_fine() {
        // ROW EXCLUSIVE blocks nobody's reads or writes.
        let two_updates = "UPDATE \"User\" SET email = 'a' WHERE id = 1;\n\
                           UPDATE \"User\" SET email = 'b' WHERE id = 2;\n";
        assert!(!flags(HISTORY, two_updates, &RULE));
        let new = format!(
            "{CREATE_DRAFT}ALTER TABLE \"Draft\" ADD COLUMN x TEXT;\nUPDATE \"Draft\" SET x = email;\n"
        );
        assert!(!flags(HISTORY, &new, &RULE));
        // An instant change after the lock is no slow part.
        let instant = "ALTER TABLE \"User\" ADD COLUMN a TEXT;\nALTER TABLE \"User\" ADD COLUMN b TEXT;\n";
        assert!(!flags(HISTORY, instant, &RULE));
        // A routine's body runs when it is called, not under this file's locks.
        let routine = "ALTER TABLE \"User\" ADD COLUMN a TEXT;\n\
                       CREATE FUNCTION f() RETURNS void AS $$ UPDATE \"User\" SET a = email; $$ LANGUAGE sql;\n";
        assert!(!flags(HISTORY, routine, &RULE));
        // An index on the locked table: create-index-blocking says reads wait.
        let index = "ALTER TABLE \"User\" ADD COLUMN a TEXT;\nCREATE INDEX i ON \"User\" (a);\n";
        assert!(!flags(HISTORY, index, &RULE));
    }
}
