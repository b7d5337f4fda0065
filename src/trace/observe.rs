//! What the server says a statement did to the objects that existed before the pending set:
//! locks its session holds (`pg_locks`), storage replaced (`pg_class.relfilenode`), sequential
//! scans (`pg_stat_xact_user_tables`), and tables, columns, types, enum values and constraints
//! dropped or renamed (the catalogs). One snapshot per statement; two snapshots compared give
//! what the statement between them did.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use tokio_postgres::Client;

use crate::db::history::db_error;
use crate::error::Result;
use crate::sql::ident::quote;

/// The objects that existed before the pending set, by oid (new objects are empty: what
/// happens to them costs nothing).
pub struct Existing {
    relations: Vec<u32>,
    types: Vec<u32>,
    enum_values: Vec<u32>,
    constraints: Vec<u32>,
    /// The schema unqualified names are shown in.
    schema: String,
}

/// The catalogs' view of [`Existing`] at one moment, and the session's locks and scans.
#[derive(Debug, Clone, Default)]
pub struct Snapshot {
    /// oid → (shown name, relfilenode).
    relations: HashMap<u32, (String, u32)>,
    /// oid → the relation's own name, unquoted.
    bare_names: HashMap<u32, String>,
    /// (table oid, attnum) → column name.
    columns: HashMap<(u32, i64), String>,
    types: HashMap<u32, String>,
    /// oid → the type's own name, unquoted.
    type_names: HashMap<u32, String>,
    /// oid → (type oid, label).
    enum_values: HashMap<u32, (u32, String)>,
    /// oid → (table oid, name).
    constraints: HashMap<u32, (u32, String)>,
    /// Sequential scans of each table in the current transaction.
    scans: HashMap<u32, i64>,
    /// Lock modes the session holds on each relation.
    locks: HashMap<u32, BTreeSet<String>>,
}

const USER_SCHEMAS: &str = "n.nspname NOT IN ('pg_catalog', 'information_schema') \
     AND n.nspname NOT LIKE 'pg\\_toast%' AND n.nspname NOT LIKE 'pg\\_temp%'";

impl Existing {
    /// Everything the replayed history created in user schemas (its history table aside).
    pub async fn read(client: &Client, schema: &str) -> Result<Existing> {
        let relations = oids(
            client,
            &format!(
                "SELECT c.oid FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace \
                 WHERE c.relkind IN ('r', 'p', 'm') AND {USER_SCHEMAS} \
                 AND NOT (c.relname = '_prisma_migrations' AND n.nspname = $1)"
            ),
            &[&schema],
        )
        .await?;
        let types = oids(
            client,
            &format!(
                "SELECT t.oid FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace \
                 WHERE t.typtype IN ('e', 'd') AND {USER_SCHEMAS} AND $1::text IS NOT NULL"
            ),
            &[&schema],
        )
        .await?;
        let enum_values = oids(
            client,
            "SELECT oid FROM pg_enum WHERE enumtypid = ANY($1::oid[])",
            &[&types],
        )
        .await?;
        let constraints = oids(
            client,
            "SELECT oid FROM pg_constraint WHERE conrelid = ANY($1::oid[])",
            &[&relations],
        )
        .await?;
        Ok(Existing {
            relations,
            types,
            enum_values,
            constraints,
            schema: schema.to_string(),
        })
    }

    /// The state of the existing objects now, as the session sees it (inside its transaction).
    pub async fn snapshot(&self, client: &Client) -> Result<Snapshot> {
        let rows = client
            .query(
                SNAPSHOT,
                &[
                    &self.relations,
                    &self.types,
                    &self.enum_values,
                    &self.constraints,
                ],
            )
            .await
            .map_err(|e| db_error("trace: cannot read the catalogs", &e))?;
        let mut snapshot = Snapshot::default();
        for row in rows {
            let kind: &str = row.get(0);
            let oid = row.get::<_, i64>(1) as u32;
            let number: i64 = row.get(2);
            let schema: &str = row.get(3);
            let name: String = row.get(4);
            match kind {
                "r" => {
                    let shown = self.shown(schema, &name);
                    snapshot.relations.insert(oid, (shown, number as u32));
                    snapshot.bare_names.insert(oid, name);
                }
                "a" => {
                    snapshot.columns.insert((oid, number), name);
                }
                "t" => {
                    snapshot.types.insert(oid, self.shown(schema, &name));
                    snapshot.type_names.insert(oid, name);
                }
                "e" => {
                    snapshot.enum_values.insert(oid, (number as u32, name));
                }
                "c" => {
                    snapshot.constraints.insert(oid, (number as u32, name));
                }
                "s" => {
                    snapshot.scans.insert(oid, number);
                }
                _ => {
                    snapshot.locks.entry(oid).or_default().insert(name);
                }
            }
        }
        Ok(snapshot)
    }

    /// The state now, read as what changed since `last` (the server compares, so a statement on
    /// a history of thousands of columns costs a few index lookups, not a catalog copy).
    pub async fn since(&self, client: &Client, last: &Snapshot) -> Result<Snapshot> {
        let mut relations: Vec<(u32, u32, String)> = last
            .relations
            .iter()
            .map(|(oid, (_, filenode))| {
                (
                    *oid,
                    *filenode,
                    last.bare_names.get(oid).cloned().unwrap_or_default(),
                )
            })
            .collect();
        relations.sort();
        let (rel_oids, rel_nodes, rel_names) = unzip3(relations);
        let mut columns: Vec<(u32, i16, String)> = last
            .columns
            .iter()
            .map(|((rel, num), name)| (*rel, *num as i16, name.clone()))
            .collect();
        columns.sort();
        let (col_rels, col_nums, col_names) = unzip3(columns);
        let (type_oids, type_names): (Vec<u32>, Vec<String>) = last
            .type_names
            .iter()
            .map(|(oid, name)| (*oid, name.clone()))
            .unzip();
        let (value_oids, value_labels): (Vec<u32>, Vec<String>) = last
            .enum_values
            .iter()
            .map(|(oid, (_, label))| (*oid, label.clone()))
            .unzip();
        let (con_oids, con_rels, con_names) = unzip3(
            last.constraints
                .iter()
                .map(|(oid, (relation, name))| (*oid, *relation, name.clone()))
                .collect(),
        );
        let rows = client
            .query(
                CHANGES,
                &[
                    &rel_oids,
                    &rel_nodes,
                    &rel_names,
                    &col_rels,
                    &col_nums,
                    &col_names,
                    &type_oids,
                    &type_names,
                    &value_oids,
                    &value_labels,
                    &con_oids,
                    &con_names,
                    &self.relations,
                    &con_rels,
                ],
            )
            .await
            .map_err(|e| db_error("trace: cannot read the catalogs", &e))?;
        let mut now = Snapshot {
            scans: HashMap::new(),
            locks: HashMap::new(),
            ..last.clone()
        };
        for row in rows {
            let kind: &str = row.get(0);
            let oid = row.get::<_, i64>(1) as u32;
            let number: i64 = row.get(2);
            let schema: Option<String> = row.get(3);
            let name: Option<String> = row.get(4);
            match (kind, name) {
                ("r", None) => {
                    now.relations.remove(&oid);
                    now.bare_names.remove(&oid);
                }
                ("r", Some(name)) => {
                    let shown = self.shown(schema.as_deref().unwrap_or_default(), &name);
                    now.relations.insert(oid, (shown, number as u32));
                    now.bare_names.insert(oid, name);
                }
                ("a", None) => {
                    now.columns.remove(&(oid, number));
                }
                ("a", Some(name)) => {
                    now.columns.insert((oid, number), name);
                }
                ("t", None) => {
                    now.types.remove(&oid);
                    now.type_names.remove(&oid);
                }
                ("t", Some(name)) => {
                    let shown = self.shown(schema.as_deref().unwrap_or_default(), &name);
                    now.types.insert(oid, shown);
                    now.type_names.insert(oid, name);
                }
                ("e", None) => {
                    now.enum_values.remove(&oid);
                }
                ("e", Some(label)) => {
                    if let Some(value) = now.enum_values.get_mut(&oid) {
                        value.1 = label;
                    }
                }
                ("c", None) => {
                    now.constraints.remove(&oid);
                }
                ("c", Some(name)) => {
                    if let Some(constraint) = now.constraints.get_mut(&oid) {
                        constraint.1 = name;
                    }
                }
                ("s", _) => {
                    now.scans.insert(oid, number);
                }
                (_, Some(mode)) => {
                    now.locks.entry(oid).or_default().insert(mode);
                }
                _ => {}
            }
        }
        Ok(now)
    }

    fn shown(&self, schema: &str, name: &str) -> String {
        if schema == self.schema {
            quote(name)
        } else {
            format!("{}.{}", quote(schema), quote(name))
        }
    }
}

async fn oids(
    client: &Client,
    sql: &str,
    params: &[&(dyn tokio_postgres::types::ToSql + Sync)],
) -> Result<Vec<u32>> {
    let rows = client
        .query(sql, params)
        .await
        .map_err(|e| db_error("trace: cannot read the catalogs", &e))?;
    Ok(rows.iter().map(|row| row.get::<_, u32>(0)).collect())
}

/// One query for the whole snapshot: (kind, oid, number, schema, name) rows.
const SNAPSHOT: &str = "\
SELECT 'r', c.oid::int8, c.relfilenode::int8, n.nspname::text, c.relname::text
  FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE c.oid = ANY($1::oid[])
UNION ALL
SELECT 'a', a.attrelid::int8, a.attnum::int8, '', a.attname::text
  FROM pg_attribute a WHERE a.attrelid = ANY($1::oid[]) AND a.attnum > 0 AND NOT a.attisdropped
UNION ALL
SELECT 't', t.oid::int8, 0, n.nspname::text, t.typname::text
  FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace WHERE t.oid = ANY($2::oid[])
UNION ALL
SELECT 'e', e.oid::int8, e.enumtypid::int8, '', e.enumlabel::text
  FROM pg_enum e WHERE e.oid = ANY($3::oid[])
UNION ALL
SELECT 'c', k.oid::int8, k.conrelid::int8, '', k.conname::text
  FROM pg_constraint k WHERE k.oid = ANY($4::oid[])
UNION ALL
SELECT 's', s.relid::int8, s.seq_scan, '', ''
  FROM pg_stat_xact_user_tables s WHERE s.relid = ANY($1::oid[]) AND s.seq_scan > 0
UNION ALL
SELECT 'l', l.relation::int8, 0, '', l.mode
  FROM pg_locks l WHERE l.pid = pg_backend_pid() AND l.locktype = 'relation' AND l.granted
   AND l.relation = ANY($1::oid[])";

/// What changed since the state given as arrays: (kind, oid, number, schema, name) rows, a NULL
/// name for an object that is gone.
const CHANGES: &str = "\
SELECT 'r', b.oid::int8, coalesce(c.relfilenode, 0)::int8, n.nspname::text, c.relname::text
  FROM unnest($1::oid[], $2::oid[], $3::text[]) AS b(oid, filenode, name)
  LEFT JOIN pg_class c ON c.oid = b.oid LEFT JOIN pg_namespace n ON n.oid = c.relnamespace
 WHERE c.oid IS NULL OR c.relfilenode <> b.filenode OR c.relname::text <> b.name
UNION ALL
SELECT 'a', b.rel::int8, b.num::int8, NULL, a.attname::text
  FROM unnest($4::oid[], $5::int2[], $6::text[]) AS b(rel, num, name)
  LEFT JOIN pg_attribute a ON a.attrelid = b.rel AND a.attnum = b.num AND NOT a.attisdropped
 WHERE a.attname IS NULL OR a.attname::text <> b.name
UNION ALL
SELECT 't', b.oid::int8, 0, n.nspname::text, t.typname::text
  FROM unnest($7::oid[], $8::text[]) AS b(oid, name)
  LEFT JOIN pg_type t ON t.oid = b.oid LEFT JOIN pg_namespace n ON n.oid = t.typnamespace
 WHERE t.oid IS NULL OR t.typname::text <> b.name
UNION ALL
SELECT 'e', b.oid::int8, 0, NULL, e.enumlabel::text
  FROM unnest($9::oid[], $10::text[]) AS b(oid, label)
  LEFT JOIN pg_enum e ON e.oid = b.oid
 WHERE e.oid IS NULL OR e.enumlabel::text <> b.label
UNION ALL
SELECT 'c', b.oid::int8, 0, NULL, k.conname::text
  FROM unnest($11::oid[], $12::text[], $14::oid[]) AS b(oid, name, rel)
  LEFT JOIN pg_constraint k ON k.oid = b.oid
 WHERE k.oid IS NULL AND NOT EXISTS (
         SELECT 1 FROM pg_constraint r WHERE r.conrelid = b.rel AND r.conname::text = b.name)
    OR k.conname::text <> b.name
UNION ALL
SELECT 's', s.relid::int8, s.seq_scan, NULL, ''
  FROM pg_stat_xact_user_tables s WHERE s.relid = ANY($13::oid[]) AND s.seq_scan > 0
UNION ALL
SELECT 'l', l.relation::int8, 0, NULL, l.mode
  FROM pg_locks l WHERE l.pid = pg_backend_pid() AND l.locktype = 'relation' AND l.granted
   AND l.relation = ANY($13::oid[])";

fn unzip3<A, B, C>(items: Vec<(A, B, C)>) -> (Vec<A>, Vec<B>, Vec<C>) {
    let mut a = Vec::with_capacity(items.len());
    let mut b = Vec::with_capacity(items.len());
    let mut c = Vec::with_capacity(items.len());
    for (x, y, z) in items {
        a.push(x);
        b.push(y);
        c.push(z);
    }
    (a, b, c)
}

/// What one statement did to the existing objects.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Effects {
    /// Tables, columns and enum values that disappeared (data gone with them): what, and the
    /// object's own name (`email`), which a static finding covering it mentions.
    pub lost: Vec<(String, String)>,
    /// Other catalog changes: renames, dropped types and constraints.
    pub changed: Vec<String>,
    /// Relations whose storage was replaced (rewritten or truncated).
    pub rewritten: Vec<String>,
    /// Tables read by a sequential scan.
    pub scanned: Vec<String>,
    /// Locks taken by this statement: relation → strongest mode, in SQL words.
    pub locked: BTreeMap<String, &'static str>,
    /// Of [`Effects::locked`], the relations whose lock blocks writes (SHARE or stronger).
    pub write_blocking: Vec<String>,
}

impl Effects {
    pub fn is_empty(&self) -> bool {
        self.lost.is_empty()
            && self.changed.is_empty()
            && self.rewritten.is_empty()
            && self.scanned.is_empty()
            && self.locked.is_empty()
    }
}

/// Lock modes, weakest first, as pg_locks names them and as SQL writes them.
const MODES: &[(&str, &str)] = &[
    ("AccessShareLock", "ACCESS SHARE"),
    ("RowShareLock", "ROW SHARE"),
    ("RowExclusiveLock", "ROW EXCLUSIVE"),
    ("ShareUpdateExclusiveLock", "SHARE UPDATE EXCLUSIVE"),
    ("ShareLock", "SHARE"),
    ("ShareRowExclusiveLock", "SHARE ROW EXCLUSIVE"),
    ("ExclusiveLock", "EXCLUSIVE"),
    ("AccessExclusiveLock", "ACCESS EXCLUSIVE"),
];

/// The first mode of [`MODES`] that blocks INSERT/UPDATE/DELETE.
const FIRST_WRITE_BLOCKING: usize = 4;

fn strength(mode: &str) -> usize {
    MODES.iter().position(|(m, _)| *m == mode).unwrap_or(0)
}

/// What happened between `before` and `after`; `scans_before`: the scan counts the current
/// transaction had before the statement (empty at its start).
pub fn compare(before: &Snapshot, after: &Snapshot, scans_before: &HashMap<u32, i64>) -> Effects {
    let mut effects = Effects::default();
    let table = |oid: &u32| {
        before
            .relations
            .get(oid)
            .map(|(name, _)| name.clone())
            .unwrap_or_else(|| format!("relation {oid}"))
    };
    let before_names = &before.bare_names;
    let mut lost_tables = BTreeSet::new();
    for (oid, (name, filenode)) in sorted(&before.relations) {
        match after.relations.get(oid) {
            None => {
                lost_tables.insert(*oid);
                let bare = before_names.get(oid).cloned().unwrap_or_default();
                effects.lost.push((format!("table {name} dropped"), bare));
            }
            Some((new_name, new_filenode)) => {
                if new_name != name {
                    effects
                        .changed
                        .push(format!("table {name} renamed to {new_name}"));
                }
                if *filenode != 0 && new_filenode != filenode {
                    effects.rewritten.push(name.clone());
                }
            }
        }
    }
    for ((relation, number), name) in sorted(&before.columns) {
        if lost_tables.contains(relation) {
            continue;
        }
        let shown = format!("{}.{}", table(relation), quote(name));
        match after.columns.get(&(*relation, *number)) {
            None => effects
                .lost
                .push((format!("column {shown} dropped"), name.clone())),
            Some(new_name) if new_name != name => effects
                .changed
                .push(format!("column {shown} renamed to {}", quote(new_name))),
            Some(_) => {}
        }
    }
    for (oid, name) in sorted(&before.types) {
        match after.types.get(oid) {
            None => effects.changed.push(format!("type {name} dropped")),
            Some(new_name) if new_name != name => effects
                .changed
                .push(format!("type {name} renamed to {new_name}")),
            Some(_) => {}
        }
    }
    for (oid, (type_oid, label)) in sorted(&before.enum_values) {
        let type_name = before.types.get(type_oid).cloned().unwrap_or_default();
        match after.enum_values.get(oid) {
            // A dropped type takes its values along (Prisma's enum recreate drops the old type
            // after moving the columns to the new one): the type's drop is what is reported.
            None if !after.types.contains_key(type_oid) => {}
            None => effects.lost.push((
                format!("enum value {type_name}.'{label}' dropped"),
                label.clone(),
            )),
            Some((_, new_label)) if new_label != label => effects.changed.push(format!(
                "enum value {type_name}.'{label}' renamed to '{new_label}'"
            )),
            Some(_) => {}
        }
    }
    for (oid, (relation, name)) in sorted(&before.constraints) {
        if lost_tables.contains(relation) {
            continue;
        }
        match after.constraints.get(oid) {
            None => effects.changed.push(format!(
                "constraint {} on {} dropped",
                quote(name),
                table(relation)
            )),
            Some((_, new_name)) if new_name != name => effects.changed.push(format!(
                "constraint {} on {} renamed to {}",
                quote(name),
                table(relation),
                quote(new_name)
            )),
            Some(_) => {}
        }
    }
    for (oid, count) in sorted(&after.scans) {
        if *count > scans_before.get(oid).copied().unwrap_or(0) {
            effects.scanned.push(table(oid));
        }
    }
    for (oid, modes) in sorted(&after.locks) {
        let strongest = modes.iter().map(|m| strength(m)).max().unwrap_or(0);
        let held_before = before
            .locks
            .get(oid)
            .and_then(|modes| modes.iter().map(|m| strength(m)).max());
        if held_before.is_some_and(|before| before >= strongest) {
            continue;
        }
        let name = table(oid);
        if strongest >= FIRST_WRITE_BLOCKING {
            effects.write_blocking.push(name.clone());
        }
        effects.locked.insert(name, MODES[strongest].1);
    }
    effects
}

fn sorted<K: Ord, V>(map: &HashMap<K, V>) -> Vec<(&K, &V)> {
    let mut entries: Vec<(&K, &V)> = map.iter().collect();
    entries.sort_by(|a, b| a.0.cmp(b.0));
    entries
}

impl Snapshot {
    /// The scan counts of the current transaction.
    pub fn scans(&self) -> &HashMap<u32, i64> {
        &self.scans
    }

    /// The same catalogs with no lock held and no scan counted: the state a new transaction
    /// starts from.
    pub fn at_transaction_start(&self) -> Snapshot {
        Snapshot {
            scans: HashMap::new(),
            locks: HashMap::new(),
            ..self.clone()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn snapshot() -> Snapshot {
        let mut s = Snapshot::default();
        s.relations.insert(1, ("\"User\"".into(), 100));
        s.columns.insert((1, 1), "id".into());
        s.columns.insert((1, 2), "email".into());
        s
    }

    #[test]
    fn a_dropped_column_is_lost_and_a_new_filenode_is_a_rewrite() {
        let before = snapshot();
        let mut after = snapshot();
        after.columns.remove(&(1, 2));
        after.relations.insert(1, ("\"User\"".into(), 101));
        after
            .locks
            .insert(1, ["AccessExclusiveLock".to_string()].into());
        let effects = compare(&before, &after, &HashMap::new());
        assert_eq!(
            effects.lost,
            vec![(
                "column \"User\".\"email\" dropped".to_string(),
                "email".to_string()
            )]
        );
        assert_eq!(effects.rewritten, vec!["\"User\""]);
        assert_eq!(effects.locked.get("\"User\""), Some(&"ACCESS EXCLUSIVE"));
        assert_eq!(effects.write_blocking, vec!["\"User\""]);
    }

    #[test]
    fn a_lock_already_held_is_not_taken_again_and_weak_locks_block_no_writes() {
        let mut before = snapshot();
        before
            .locks
            .insert(1, ["RowExclusiveLock".to_string()].into());
        let after = before.clone();
        assert!(compare(&before, &after, &HashMap::new()).is_empty());
        let effects = compare(&before.at_transaction_start(), &after, &HashMap::new());
        assert_eq!(effects.locked.get("\"User\""), Some(&"ROW EXCLUSIVE"));
        assert!(effects.write_blocking.is_empty());
    }

    #[test]
    fn an_enum_value_is_lost_from_a_type_that_stays_not_with_a_dropped_type() {
        let mut before = Snapshot::default();
        before.types.insert(7, "\"Role\"".into());
        before.enum_values.insert(70, (7, "USER".into()));
        before.enum_values.insert(71, (7, "ADMIN".into()));
        let mut after = before.clone();
        after.enum_values.remove(&71);
        let effects = compare(&before, &after, &HashMap::new());
        assert_eq!(effects.lost[0].0, "enum value \"Role\".'ADMIN' dropped");
        let effects = compare(&before, &Snapshot::default(), &HashMap::new());
        assert!(effects.lost.is_empty());
        assert_eq!(effects.changed, vec!["type \"Role\" dropped"]);
    }

    #[test]
    fn a_dropped_table_is_reported_once_not_column_by_column() {
        let before = snapshot();
        let effects = compare(&before, &Snapshot::default(), &HashMap::new());
        assert_eq!(effects.lost[0].0, "table \"User\" dropped");
        assert_eq!(effects.lost.len(), 1);
    }
}
