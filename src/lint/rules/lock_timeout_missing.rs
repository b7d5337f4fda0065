//! `lock-timeout-missing`: with `prisma migrate deploy`, a file takes ACCESS EXCLUSIVE on an
//! existing table without `SET lock_timeout` first.
//!
//! Prisma never sets lock_timeout. ACCESS EXCLUSIVE must wait for every query already using the
//! table; while it waits, every new query on the table queues behind it. One long report or an
//! idle-in-transaction session then stalls the whole app until it ends. With lock_timeout the
//! migration gives up instead, and can be retried. (`migration-gate deploy` sets lock_timeout
//! itself and retries.) Raised once per file, at the first such statement.

use super::advice::{as_written, Sql};
use super::{Example, Impact, RuleContext, RuleInfo, Violation};
use crate::findings::Severity;
use crate::lint::locks::{self, LockMode};
use crate::sql::transactions::Runner;
use crate::sql::Op;

pub const RULE: RuleInfo = RuleInfo {
    id: "lock-timeout-missing",
    default_severity: Severity::Warning,
    // The queue forms behind the waiting lock however small the table is: sizes do not soften it.
    impact: Impact::Process,
    summary: "with prisma migrate deploy, ACCESS EXCLUSIVE on an existing table without SET lock_timeout first",
    check: Some(check),
    file: include_str!("lock_timeout_missing.rs"),
    example: Example::UnderPrisma {
        version: "7.4.0",
        sql: "ALTER TABLE \"User\" ADD COLUMN \"nickname\" TEXT;\n",
    },
};

pub fn check(op: &Op, ctx: &RuleContext) -> Option<Violation> {
    if ctx.runner == Runner::Segmenting
        || ctx.file.lock_timeout_set
        || ctx.file.first_access_exclusive.is_some()
    {
        return None;
    }
    let lock = ctx
        .own_locks
        .iter()
        .find(|lock| lock.mode == LockMode::AccessExclusive)?;
    // Once per file: only the statement's own first such operation (not a routine's body).
    let position = ctx.statement.ops.iter().position(|o| std::ptr::eq(o, op))?;
    let takes_access_exclusive = |op: &Op| {
        locks::locks_of(op, ctx.schema, ctx.pg_version)
            .iter()
            .any(|lock| lock.mode == LockMode::AccessExclusive)
    };
    if ctx.statement.ops[..position]
        .iter()
        .any(takes_access_exclusive)
    {
        return None;
    }
    let table = Sql::of(ctx).table(&as_written(&lock.table));
    Some(Violation::new(
        format!(
            "`prisma migrate deploy` sets no lock_timeout, and this takes ACCESS EXCLUSIVE on \
             {table}: if any query or open transaction is using {table}, the migration waits \
             for it, and every new query on {table}, reads included, queues behind the \
             migration until that long query ends."
        ),
        "Put `SET lock_timeout = '5s';` at the top of the migration: the statement then gives \
         up after 5 s instead of stalling the app; deploy again when the long query is gone."
            .to_string(),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lint::rules::testing::{
        assert_mentions, flags, violations_under_prisma, CREATE_DRAFT, HISTORY,
    };

    const TWO_ALTERS: &str = "ALTER TABLE \"User\" ADD COLUMN a TEXT, ADD COLUMN b TEXT;\n\
                              ALTER TABLE \"User\" DROP COLUMN email;\n";

    #[test]
    fn raised_once_per_file_with_prisma() {
        for version in [Some("7.3.0"), Some("7.4.0"), None] {
            let found = violations_under_prisma(version, HISTORY, TWO_ALTERS, &RULE);
            assert_eq!(found.len(), 1, "{version:?}: {found:#?}");
            assert_mentions(&found[0].message, "ACCESS EXCLUSIVE on \"User\"");
            assert_mentions(&found[0].help, "SET lock_timeout = '5s';");
        }
    }

    #[test]
    fn a_timeout_turned_off_again_counts_as_none() {
        for off in [
            "SET lock_timeout = '0s';\n",
            "SET lock_timeout = '5s';\nRESET lock_timeout;\n",
            "BEGIN;\nSET LOCAL lock_timeout = '5s';\nSET lock_timeout = 0;\n",
            // The first ALTER was covered; the ones after RESET are not.
            "SET lock_timeout = '5s';\nALTER TABLE \"User\" ADD COLUMN c TEXT;\nRESET lock_timeout;\n",
        ] {
            let pending = format!("{off}{TWO_ALTERS}");
            let found = violations_under_prisma(Some("7.3.0"), HISTORY, &pending, &RULE);
            assert_eq!(found.len(), 1, "{off}: {found:#?}");
        }
    }

    #[test]
    fn set_lock_timeout_first_our_deployer_and_new_tables_are_fine() {
        let with_timeout = format!("SET lock_timeout = '5s';\n{TWO_ALTERS}");
        assert!(violations_under_prisma(Some("7.4.0"), HISTORY, &with_timeout, &RULE).is_empty());
        // SET LOCAL in autocommit ends with its own statement under Prisma 7.4+.
        let local = format!("SET LOCAL lock_timeout = '5s';\n{TWO_ALTERS}");
        assert_eq!(violations_under_prisma(Some("7.4.0"), HISTORY, &local, &RULE).len(), 1);
        assert!(violations_under_prisma(Some("7.3.0"), HISTORY, &local, &RULE).is_empty());
        assert!(!flags(HISTORY, TWO_ALTERS, &RULE));
        let new = format!("{CREATE_DRAFT}ALTER TABLE \"Draft\" ADD COLUMN a TEXT;\n");
        assert!(violations_under_prisma(None, HISTORY, &new, &RULE).is_empty());
        // SHARE (a plain CREATE INDEX) lets reads through: not this rule.
        let index = "CREATE INDEX i ON \"User\" (email);\n";
        assert!(violations_under_prisma(None, HISTORY, index, &RULE).is_empty());
    }
}
