//! What an operation locks and what work it does on existing rows while it holds the lock, and
//! the locks a transaction already holds: locks are kept until the transaction ends, so a
//! statement that is harmless alone blocks the app when an earlier statement of the same
//! transaction took a strong lock. Modes as PostgreSQL 15 takes them (probed in
//! tests/integration/probe_flow.rs).

use crate::lint::schema::Schema;
pub use crate::sql::LockMode;
use crate::sql::{ConstraintKind, ConstraintSpec, ObjectName, Op};

/// What an operation does to the rows already in the table while it holds its lock.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Work {
    /// Catalog only: instant once the lock is granted.
    None,
    /// Reads every row (a validation, SET NOT NULL, an index build).
    Scan,
    /// Writes a new copy of the table.
    Rewrite,
    /// Changes rows (UPDATE, DELETE).
    RowChanges,
}

impl Work {
    /// What the statement does, in words (`scans every row`).
    pub fn describe(self) -> &'static str {
        match self {
            Work::None => "changes only the catalog",
            Work::Scan => "reads every row",
            Work::Rewrite => "rewrites the whole table",
            Work::RowChanges => "changes rows",
        }
    }
}

/// One table lock an operation takes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Lock {
    /// Resolved (schema-qualified) name.
    pub table: ObjectName,
    pub mode: LockMode,
    pub work: Work,
}

/// A lock taken by an earlier statement of the running transaction.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HeldLock {
    pub table: ObjectName,
    pub mode: LockMode,
    /// The line of the statement that took it.
    pub line: u32,
}

/// The table locks `op` takes on tables that exist in production (tables created in the
/// pending set are empty and unseen by the app: their locks hurt nobody).
pub fn locks_of(op: &Op, schema: &Schema, pg_version: u32) -> Vec<Lock> {
    let mut locks = Vec::new();
    let mut take = |table: &ObjectName, mode: LockMode, work: Work| {
        if !schema.is_new_table(table) {
            locks.push(Lock {
                table: schema.resolve(table),
                mode,
                work,
            });
        }
    };
    use LockMode::*;
    match op {
        Op::AddColumn { table, column, .. } => {
            let rewrites = column.generated_stored
                || column.identity
                || column.data_type.base.starts_with("serial")
                || (pg_version < 11 && column.default.is_some());
            let checks = column.constraints.iter().any(|c| {
                !c.not_valid
                    && matches!(
                        c.kind,
                        ConstraintKind::Check { .. }
                            | ConstraintKind::Unique { .. }
                            | ConstraintKind::PrimaryKey { .. }
                    )
            });
            let work = if rewrites {
                Work::Rewrite
            } else if checks {
                Work::Scan
            } else {
                Work::None
            };
            take(table, AccessExclusive, work);
            for constraint in &column.constraints {
                if let ConstraintKind::ForeignKey { references, .. } = &constraint.kind {
                    take(references, ShareRowExclusive, Work::None);
                }
            }
        }
        Op::AlterColumnType {
            table,
            column,
            new_type,
            using,
        } => {
            let work = crate::lint::rules::alter_column_type::work(
                schema,
                table,
                column,
                new_type,
                using.as_deref(),
            );
            take(table, AccessExclusive, work)
        }
        Op::SetNotNull { table, column } => {
            let work = if pg_version >= 12 && schema.has_validated_not_null_check(table, column) {
                Work::None
            } else {
                Work::Scan
            };
            take(table, AccessExclusive, work)
        }
        // Dropping a foreign key (with its table or column) drops its triggers on the
        // referenced table too: ACCESS EXCLUSIVE there as well.
        Op::DropTable { table, .. } => {
            take(table, AccessExclusive, Work::None);
            for referenced in foreign_keys_dropped(schema, table, |_| true) {
                take(&referenced, AccessExclusive, Work::None);
            }
        }
        Op::DropColumn { table, column, .. } => {
            take(table, AccessExclusive, Work::None);
            let on_column = |c: &ConstraintSpec| match &c.kind {
                ConstraintKind::ForeignKey { columns, .. } => columns.contains(column),
                _ => false,
            };
            for referenced in foreign_keys_dropped(schema, table, on_column) {
                take(&referenced, AccessExclusive, Work::None);
            }
        }
        Op::DropConstraint { table, name } => {
            take(table, AccessExclusive, Work::None);
            let named = |c: &ConstraintSpec| c.name.as_deref() == Some(name.as_str());
            for referenced in foreign_keys_dropped(schema, table, named) {
                take(&referenced, AccessExclusive, Work::None);
            }
        }
        Op::RenameTable { table, .. }
        | Op::SetTableSchema { table, .. }
        | Op::Truncate { table }
        | Op::RenameColumn { table, .. }
        | Op::DropNotNull { table, .. }
        | Op::SetDefault { table, .. }
        | Op::DropDefault { table, .. } => take(table, AccessExclusive, Work::None),
        Op::AddConstraint { table, constraint } => {
            let validates = if constraint.not_valid {
                Work::None
            } else {
                Work::Scan
            };
            match &constraint.kind {
                ConstraintKind::ForeignKey { references, .. } => {
                    take(table, ShareRowExclusive, validates);
                    take(references, ShareRowExclusive, Work::None);
                }
                ConstraintKind::PrimaryKey { using_index, .. }
                | ConstraintKind::Unique { using_index, .. } => {
                    let work = if using_index.is_some() {
                        Work::None
                    } else {
                        Work::Scan
                    };
                    take(table, AccessExclusive, work)
                }
                ConstraintKind::Check { .. } => take(table, AccessExclusive, validates),
                ConstraintKind::Exclude => take(table, AccessExclusive, Work::Scan),
            }
        }
        Op::ValidateConstraint { table, .. } => take(table, ShareUpdateExclusive, Work::Scan),
        Op::CreateIndex {
            table,
            concurrently,
            ..
        } => {
            let mode = if *concurrently {
                ShareUpdateExclusive
            } else {
                Share
            };
            take(table, mode, Work::Scan)
        }
        Op::DropIndex {
            name,
            concurrently: false,
            ..
        } => {
            if let Some(index) = schema.index(name) {
                let table = index.table.clone();
                take(&table, AccessExclusive, Work::None)
            }
        }
        Op::Update { table, .. } | Op::Delete { table, .. } => {
            take(table, RowExclusive, Work::RowChanges)
        }
        Op::Insert { table } => take(table, RowExclusive, Work::None),
        // Held to the end of the transaction like any other: what follows runs under it.
        Op::LockTable { table, mode } => {
            // ACCESS SHARE and ROW SHARE block no write: nothing to hold against later statements.
            if *mode < RowExclusive {
                return locks;
            }
            take(table, *mode, Work::None)
        }
        Op::CreateTrigger { table, .. } => take(table, ShareRowExclusive, Work::None),
        Op::CreateTable {
            constraints,
            columns,
            ..
        } => {
            let inline = columns.iter().flat_map(|c| &c.constraints);
            for constraint in constraints.iter().chain(inline) {
                if let ConstraintKind::ForeignKey { references, .. } = &constraint.kind {
                    take(references, ShareRowExclusive, Work::None);
                }
            }
        }
        _ => {}
    }
    locks
}

/// The tables referenced by the foreign keys of `table` that `dropped` selects.
fn foreign_keys_dropped(
    schema: &Schema,
    table: &ObjectName,
    dropped: impl Fn(&ConstraintSpec) -> bool,
) -> Vec<ObjectName> {
    let Some(table) = schema.table(table) else {
        return Vec::new();
    };
    table
        .constraints
        .iter()
        .filter(|c| dropped(c))
        .filter_map(|c| match &c.kind {
            ConstraintKind::ForeignKey { references, .. } => Some(references.clone()),
            _ => None,
        })
        .collect()
}

/// The earlier lock of this transaction on `table` that makes reads of it wait, phrased for a
/// message: `line 3 already holds ACCESS EXCLUSIVE on "User" in this transaction, so reads of
/// it wait too`. `None` when reads of `table` are not blocked by an earlier statement.
pub fn reads_blocked_by_earlier(
    held: &[HeldLock],
    schema: &Schema,
    table: &ObjectName,
    table_sql: &str,
) -> Option<String> {
    let table = schema.resolve(table);
    let lock = held
        .iter()
        .find(|lock| lock.table == table && lock.mode.blocks_reads())?;
    Some(format!(
        "line {} of this transaction already holds {} on {table_sql}, so even reads of it wait",
        lock.line,
        lock.mode.sql()
    ))
}

/// What the app can still do on `table` while `mode` (and the transaction's earlier locks) are
/// held: the phrase every lock message uses so they stay consistent and true.
pub fn what_the_app_can_do(
    held: &[HeldLock],
    schema: &Schema,
    table: &ObjectName,
    table_sql: &str,
    mode: LockMode,
) -> String {
    if let Some(earlier) = reads_blocked_by_earlier(held, schema, table, table_sql) {
        return format!("every query on {table_sql} waits ({earlier})");
    }
    match mode {
        m if m.blocks_reads() => format!("every query on {table_sql}, reads included, waits"),
        m if m.blocks_writes() => format!(
            "the running app can still read {table_sql}, but every INSERT, UPDATE and DELETE on \
             it waits"
        ),
        _ => format!("reads and writes of {table_sql} go on"),
    }
}

/// Add `op`'s locks to those the transaction holds (the strongest per table, first line).
pub fn hold(held: &mut Vec<HeldLock>, locks: &[Lock], line: u32) {
    for lock in locks {
        match held.iter_mut().find(|h| h.table == lock.table) {
            Some(existing) if existing.mode >= lock.mode => {}
            Some(existing) => {
                existing.mode = lock.mode;
                existing.line = line;
            }
            None => held.push(HeldLock {
                table: lock.table.clone(),
                mode: lock.mode,
                line,
            }),
        }
    }
}

/// `SELECT set_config('lock_timeout', '5s', false)` (`true`: like SET LOCAL), in lower case.
fn set_config_lock_timeout(lower: &str) -> Option<LockTimeoutSetting> {
    let compact: String = lower.chars().filter(|c| !c.is_whitespace()).collect();
    let rest = compact.strip_prefix("select")?;
    let rest = rest.strip_prefix("pg_catalog.").unwrap_or(rest);
    let args = rest.strip_prefix("set_config('lock_timeout',")?;
    let (value, rest) = args.strip_prefix('\'')?.split_once('\'')?;
    let local = rest.strip_prefix(',')?.starts_with("true");
    let setting = sets_lock_timeout(&format!("SET lock_timeout = '{value}'"))?;
    Some(LockTimeoutSetting { local, ..setting })
}

/// A savepoint statement, with the savepoint's name (folded as PostgreSQL folds it).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Savepoint {
    /// `SAVEPOINT name`
    Set(String),
    /// `ROLLBACK [WORK | TRANSACTION] TO [SAVEPOINT] name`: undoes what followed, locks included.
    RollbackTo(String),
    /// `RELEASE [SAVEPOINT] name`: forgets it (and later ones); locks stay.
    Release(String),
}

/// What `text` does to savepoints, if anything.
pub fn savepoint_command(text: &str) -> Option<Savepoint> {
    // The longest form is ROLLBACK WORK TO SAVEPOINT name: a bulk INSERT is not split whole.
    let words: Vec<&str> = text.split_whitespace().take(6).collect();
    let keyword = |i: usize, word: &str| words.get(i).is_some_and(|w| w.eq_ignore_ascii_case(word));
    let name = |i: usize| -> Option<String> {
        let written = words.get(i)?;
        crate::sql::ident::fold_written(written)
    };
    if keyword(0, "savepoint") && words.len() == 2 {
        return name(1).map(Savepoint::Set);
    }
    if keyword(0, "release") {
        let at = if keyword(1, "savepoint") { 2 } else { 1 };
        return name(at).map(Savepoint::Release);
    }
    if keyword(0, "rollback") || keyword(0, "abort") {
        let mut at = 1;
        if keyword(at, "work") || keyword(at, "transaction") {
            at += 1;
        }
        if !keyword(at, "to") {
            return None;
        }
        at += 1;
        if keyword(at, "savepoint") {
            at += 1;
        }
        return name(at).map(Savepoint::RollbackTo);
    }
    None
}

/// A `SET [SESSION | LOCAL] lock_timeout ...` statement.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LockTimeoutSetting {
    /// `SET LOCAL`: only until the transaction ends.
    pub local: bool,
    /// A limit is set (`0` and `DEFAULT` turn it off: the server default is no limit).
    pub on: bool,
}

/// What `text` does to lock_timeout, if it is a SET of it.
pub fn sets_lock_timeout(text: &str) -> Option<LockTimeoutSetting> {
    // Only these can set it; a 30 MB INSERT is not lower-cased to find out.
    let first = text.split_whitespace().next().unwrap_or("");
    if !["set", "reset", "select"]
        .iter()
        .any(|word| first.eq_ignore_ascii_case(word))
    {
        return None;
    }
    let lower = text.trim().to_ascii_lowercase();
    if let Some(setting) = set_config_lock_timeout(&lower) {
        return Some(setting);
    }
    let mut words = lower.split_whitespace();
    match words.next()? {
        "set" => {}
        // RESET lock_timeout / RESET ALL: back to the server default, no limit.
        "reset" => {
            return matches!(words.next(), Some("lock_timeout" | "all")).then_some(
                LockTimeoutSetting {
                    local: false,
                    on: false,
                },
            )
        }
        _ => return None,
    }
    let mut word = words.next()?;
    let local = word == "local";
    if local || word == "session" {
        word = words.next()?;
    }
    let rest: String = if let Some(after) = word.strip_prefix("lock_timeout") {
        std::iter::once(after)
            .chain(words)
            .collect::<Vec<_>>()
            .join(" ")
    } else {
        return None;
    };
    let value = rest
        .trim()
        .trim_start_matches('=')
        .trim()
        .trim_start_matches("to ")
        .trim()
        .trim_matches(|c| c == '\'' || c == '"')
        .trim();
    // `0` in any unit (`0`, `'0s'`, `0ms`, `'0min'`) turns it off.
    let number: String = value
        .chars()
        .take_while(|c| c.is_ascii_digit() || *c == '.')
        .collect();
    let zero = number.parse::<f64>().is_ok_and(|n| n == 0.0);
    let off = value.is_empty() || value == "default" || zero;
    Some(LockTimeoutSetting { local, on: !off })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_strongest_lock_per_table_is_kept_with_its_line() {
        let user = ObjectName::new(Some("public"), "User");
        let lock = |mode| Lock {
            table: user.clone(),
            mode,
            work: Work::None,
        };
        let mut held = Vec::new();
        hold(&mut held, &[lock(LockMode::RowExclusive)], 1);
        hold(&mut held, &[lock(LockMode::AccessExclusive)], 2);
        hold(&mut held, &[lock(LockMode::Share)], 3);
        assert_eq!(held.len(), 1);
        assert_eq!((held[0].mode, held[0].line), (LockMode::AccessExclusive, 2));
    }

    #[test]
    fn set_lock_timeout_is_recognised_and_zero_turns_it_off() {
        let on = |local| Some(LockTimeoutSetting { local, on: true });
        assert_eq!(sets_lock_timeout("SET lock_timeout = '5s'"), on(false));
        assert_eq!(
            sets_lock_timeout("set session lock_timeout to 5000"),
            on(false)
        );
        assert_eq!(sets_lock_timeout("SET LOCAL lock_timeout='2s'"), on(true));
        assert_eq!(
            sets_lock_timeout("SET lock_timeout = 0"),
            Some(LockTimeoutSetting {
                local: false,
                on: false
            })
        );
        for off in [
            "SET lock_timeout = '0s'",
            "SET lock_timeout TO '0min'",
            "SET lock_timeout = 0ms",
            "SET lock_timeout TO DEFAULT",
            "RESET lock_timeout",
            "RESET ALL",
        ] {
            assert_eq!(
                sets_lock_timeout(off),
                Some(LockTimeoutSetting {
                    local: false,
                    on: false
                }),
                "{off}"
            );
        }
        assert_eq!(sets_lock_timeout("SET lock_timeout = '10s'"), on(false));
        assert_eq!(sets_lock_timeout("SET lock_timeout = '0.5s'"), on(false));
        assert_eq!(sets_lock_timeout("RESET statement_timeout"), None);
        assert_eq!(
            sets_lock_timeout("SELECT set_config('lock_timeout', '5s', false)"),
            on(false)
        );
        assert_eq!(
            sets_lock_timeout("select pg_catalog.set_config('lock_timeout','5s',true);"),
            on(true)
        );
        assert_eq!(
            sets_lock_timeout("SELECT set_config('statement_timeout', '5s', false)"),
            None
        );
        assert_eq!(sets_lock_timeout("SET statement_timeout = '5s'"), None);
        assert_eq!(sets_lock_timeout("SELECT 1"), None);
    }

    #[test]
    fn savepoint_statements_are_recognised_with_folded_names() {
        assert_eq!(
            savepoint_command("SAVEPOINT Before_Backfill"),
            Some(Savepoint::Set("before_backfill".into()))
        );
        assert_eq!(
            savepoint_command("ROLLBACK TO SAVEPOINT before_backfill"),
            Some(Savepoint::RollbackTo("before_backfill".into()))
        );
        assert_eq!(
            savepoint_command("rollback work to \"S\""),
            Some(Savepoint::RollbackTo("S".into()))
        );
        assert_eq!(
            savepoint_command("RELEASE s"),
            Some(Savepoint::Release("s".into()))
        );
        assert_eq!(savepoint_command("ROLLBACK"), None);
        assert_eq!(savepoint_command("SELECT 1"), None);
    }

    #[test]
    fn only_access_exclusive_blocks_reads_and_share_and_up_block_writes() {
        assert!(LockMode::AccessExclusive.blocks_reads());
        assert!(!LockMode::ShareRowExclusive.blocks_reads());
        assert!(LockMode::Share.blocks_writes());
        assert!(!LockMode::ShareUpdateExclusive.blocks_writes());
        assert!(!LockMode::RowExclusive.blocks_writes());
        assert!(LockMode::Exclusive.blocks_writes() && !LockMode::Exclusive.blocks_reads());
    }
}
