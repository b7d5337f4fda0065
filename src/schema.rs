//! The schema model: the history that is already applied is replayed to know the *existing*
//! schema; the pending migrations are then applied statement by statement so each rule sees the
//! schema just before its statement. Objects created in the pending set are *new*: a new table is
//! empty, so locking and rewrite rules do not fire on it. Objects the history does not know are
//! treated as existing (conservative). Names resolve the PostgreSQL way: unqualified → `public`.

use crate::sql::{ConstraintSpec, ObjectName, Op, TypeName};

/// Whether an operation comes from the applied history or from the pending set.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Origin {
    Existing,
    Pending,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Column {
    pub name: String,
    pub data_type: TypeName,
    pub not_null: bool,
    pub default: Option<String>,
    /// Added in the pending set.
    pub is_new: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Table {
    /// Schema-qualified (resolved) name.
    pub name: ObjectName,
    pub columns: Vec<Column>,
    /// Named and unnamed table constraints, including validated/NOT VALID state.
    pub constraints: Vec<ConstraintSpec>,
    /// Created in the pending set (empty in production).
    pub is_new: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Index {
    pub name: ObjectName,
    pub table: ObjectName,
    pub unique: bool,
    pub is_new: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EnumType {
    pub name: ObjectName,
    pub values: Vec<String>,
    pub is_new: bool,
}

#[derive(Debug, Clone, Default)]
pub struct Schema {}

impl Schema {
    pub fn new() -> Self {
        Schema::default()
    }

    /// Fold one operation into the model.
    pub fn apply(&mut self, op: &Op, origin: Origin) {
        let _ = (op, origin);
        todo!("schema::apply")
    }

    /// `name` with its schema filled in (`public` when unqualified).
    pub fn resolve(&self, name: &ObjectName) -> ObjectName {
        ObjectName {
            schema: Some(name.schema.clone().unwrap_or_else(|| "public".to_string())),
            name: name.name.clone(),
        }
    }

    pub fn table(&self, name: &ObjectName) -> Option<&Table> {
        let _ = name;
        todo!("schema::table")
    }

    /// True only for tables created in the pending set; unknown tables count as existing.
    pub fn is_new_table(&self, name: &ObjectName) -> bool {
        self.table(name).is_some_and(|t| t.is_new)
    }

    pub fn column(&self, table: &ObjectName, column: &str) -> Option<&Column> {
        self.table(table)?.columns.iter().find(|c| c.name == column)
    }

    pub fn index(&self, name: &ObjectName) -> Option<&Index> {
        let _ = name;
        todo!("schema::index")
    }

    pub fn enum_type(&self, name: &ObjectName) -> Option<&EnumType> {
        let _ = name;
        todo!("schema::enum_type")
    }

    /// A validated `CHECK (column IS NOT NULL)` exists on the table (lets SET NOT NULL skip the
    /// full scan on PostgreSQL ≥ 12).
    pub fn has_validated_not_null_check(&self, table: &ObjectName, column: &str) -> bool {
        let _ = (table, column);
        todo!("schema::has_validated_not_null_check")
    }
}
