//! Replaying operations into the [`Schema`]: how each one changes tables, columns,
//! constraints, indexes, enums, schemas and routines.

use super::{
    column_of, constraint_columns, default_constraint_name, generated_name, get, get_mut,
    inline_constraints, insert, remove, rename_in_constraint, schema_of, Column, EnumType, Index,
    Origin, Routine, Schema, Table, DEFAULT_SCHEMA,
};
use crate::sql::{ColumnSpec, ConstraintKind, ConstraintSpec, ObjectName, Op};

impl Schema {
    /// Fold one operation into the model.
    pub fn apply(&mut self, op: &Op, origin: Origin) {
        let is_new = origin == Origin::Pending;
        match op {
            Op::CreateSchema { name, .. } => {
                self.schemas.entry(name.clone()).or_insert(is_new);
            }
            Op::DropSchema { name, .. } => self.drop_schema(name),
            Op::CreateTable {
                table,
                columns,
                constraints,
                if_not_exists,
                from_query,
            } => {
                if *from_query {
                    // `LIKE ... INCLUDING INDEXES` creates indexes under names not written here.
                    self.read_incompletely = true;
                }
                let name = self.resolve(table);
                if *if_not_exists && get(&self.tables, &name).is_some() {
                    return;
                }
                self.create_table(name, columns, constraints, is_new);
            }
            Op::DropTable { table, .. } => self.drop_table(table),
            Op::RenameTable { table, new_name } => {
                let to = ObjectName::new(Some(schema_of(&self.resolve(table))), new_name);
                self.move_table(table, to, is_new);
            }
            Op::SetTableSchema { table, new_schema } => {
                let to = ObjectName::new(Some(new_schema), &table.name);
                self.move_table(table, to, is_new);
            }
            Op::AddColumn { table, column, .. } => {
                let t = self.table_or_placeholder(table);
                // IF NOT EXISTS, or PostgreSQL would have failed: keep the first definition.
                if t.columns.iter().any(|c| c.name == column.name) {
                    return;
                }
                let column_is_new = is_new || t.is_new;
                let table_name = t.name.clone();
                t.columns.push(column_of(column, column_is_new));
                let inline = inline_constraints(&table_name.name, column);
                for constraint in inline {
                    self.add_constraint(&table_name, constraint, is_new);
                }
            }
            Op::DropColumn { table, column, .. } => {
                if let Some(t) = get_mut(&mut self.tables, table) {
                    t.columns.retain(|c| &c.name != column);
                    t.constraints
                        .retain(|c| !constraint_columns(&c.kind).contains(column));
                }
            }
            Op::RenameColumn {
                table,
                column,
                new_name,
            } => {
                if let Some(t) = get_mut(&mut self.tables, table) {
                    for c in t.columns.iter_mut().filter(|c| &c.name == column) {
                        c.name = new_name.clone();
                    }
                    for constraint in &mut t.constraints {
                        rename_in_constraint(&mut constraint.kind, column, new_name);
                    }
                }
                let resolved = self.resolve(table);
                for index in self.indexes.values_mut().flat_map(|m| m.values_mut()) {
                    if index.table == resolved {
                        for c in index.columns.iter_mut().filter(|c| *c == column) {
                            *c = new_name.clone();
                        }
                    }
                }
            }
            Op::AlterColumnType {
                table,
                column,
                new_type,
                ..
            } => {
                if let Some(c) = self.column_mut(table, column) {
                    c.data_type = new_type.clone();
                }
            }
            Op::SetNotNull { table, column } => {
                if let Some(c) = self.column_mut(table, column) {
                    c.not_null = true;
                }
            }
            Op::DropNotNull { table, column } => {
                if let Some(c) = self.column_mut(table, column) {
                    c.not_null = false;
                }
            }
            Op::SetDefault {
                table,
                column,
                default,
            } => {
                if let Some(c) = self.column_mut(table, column) {
                    c.default = Some(default.clone());
                }
            }
            Op::DropDefault { table, column } => {
                if let Some(c) = self.column_mut(table, column) {
                    c.default = None;
                }
            }
            Op::AddConstraint { table, constraint } => {
                let name = self.resolve(table);
                self.add_constraint(&name, constraint.clone(), is_new);
            }
            Op::ValidateConstraint { table, name } => {
                if let Some(t) = get_mut(&mut self.tables, table) {
                    for c in t
                        .constraints
                        .iter_mut()
                        .filter(|c| c.name.as_ref() == Some(name))
                    {
                        c.not_valid = false;
                    }
                }
            }
            Op::DropConstraint { table, name } => {
                let resolved = self.resolve(table);
                if let Some(t) = get_mut(&mut self.tables, table) {
                    t.constraints.retain(|c| c.name.as_ref() != Some(name));
                }
                // PRIMARY KEY and UNIQUE constraints own an index of the same name.
                let index = ObjectName::new(Some(schema_of(&resolved)), name);
                if get(&self.indexes, &index).is_some_and(|i| i.table == resolved) {
                    remove(&mut self.indexes, &index);
                }
            }
            Op::RenameConstraint {
                table,
                name,
                new_name,
            } => {
                if let Some(t) = get_mut(&mut self.tables, table) {
                    for c in t
                        .constraints
                        .iter_mut()
                        .filter(|c| c.name.as_ref() == Some(name))
                    {
                        c.name = Some(new_name.clone());
                    }
                }
                // A PRIMARY KEY or UNIQUE constraint's index is renamed with it.
                let resolved = self.resolve(table);
                let index = ObjectName::new(Some(schema_of(&resolved)), name);
                if get(&self.indexes, &index).is_some_and(|i| i.table == resolved) {
                    if let Some(mut i) = remove(&mut self.indexes, &index) {
                        let to = ObjectName::new(Some(schema_of(&resolved)), new_name);
                        i.name = to.clone();
                        insert(&mut self.indexes, &to, i);
                    }
                }
            }
            Op::CreateIndex {
                name,
                table,
                columns,
                unique,
                if_not_exists,
                predicate,
                ..
            } => {
                let table = self.resolve(table);
                let index_name = match name {
                    Some(name) => name.clone(),
                    None => {
                        let generated = generated_name(&table.name, columns, "idx");
                        // PostgreSQL names an expression after its function (or `expr`) and
                        // numbers a name already taken: which name it picked is not known.
                        let taken = ObjectName::new(Some(schema_of(&table)), &generated);
                        if get(&self.indexes, &taken).is_some()
                            || columns.iter().any(|c| self.column(&table, c).is_none())
                        {
                            self.read_incompletely = true;
                        }
                        generated
                    }
                };
                let index = ObjectName::new(Some(schema_of(&table)), &index_name);
                if *if_not_exists && get(&self.indexes, &index).is_some() {
                    return;
                }
                let index_is_new = is_new || self.is_new_table(&table);
                insert(
                    &mut self.indexes,
                    &index.clone(),
                    Index {
                        name: index,
                        table,
                        columns: columns.clone(),
                        unique: *unique,
                        is_new: index_is_new,
                        predicate: predicate.clone(),
                    },
                );
            }
            Op::DropIndex { name, .. } => {
                remove(&mut self.indexes, name);
            }
            Op::RenameIndex { name, new_name } => {
                let resolved = self.resolve(name);
                if let Some(mut index) = remove(&mut self.indexes, &resolved) {
                    let to = ObjectName::new(Some(schema_of(&resolved)), new_name);
                    // Renaming a constraint's index renames the constraint too.
                    let (table, old) = (index.table.clone(), resolved.name.clone());
                    if let Some(t) = get_mut(&mut self.tables, &table) {
                        for c in t
                            .constraints
                            .iter_mut()
                            .filter(|c| c.name.as_ref() == Some(&old))
                        {
                            c.name = Some(new_name.clone());
                        }
                    }
                    index.name = to.clone();
                    insert(&mut self.indexes, &to, index);
                }
            }
            Op::CreateEnum { name, values } => {
                let name = self.resolve(name);
                let key = (schema_of(&name).to_string(), name.name.clone());
                self.vacated_enum_names.remove(&key);
                if is_new {
                    self.enums_of_current_migration.push(name.clone());
                }
                insert(
                    &mut self.enums,
                    &name.clone(),
                    EnumType {
                        name,
                        values: values.clone(),
                        is_new,
                        new_values: Vec::new(),
                    },
                );
            }
            Op::AddEnumValue {
                type_name, value, ..
            } => {
                if let Some(e) = get_mut(&mut self.enums, type_name) {
                    if !e.values.contains(value) {
                        e.values.push(value.clone());
                        if is_new {
                            e.new_values.push(value.clone());
                        }
                    }
                }
            }
            Op::RenameEnumValue {
                type_name,
                value,
                new_value,
            } => {
                if let Some(e) = get_mut(&mut self.enums, type_name) {
                    for v in e.values.iter_mut().chain(e.new_values.iter_mut()) {
                        if v == value {
                            *v = new_value.clone();
                        }
                    }
                }
            }
            Op::RenameType {
                type_name,
                new_name,
            } => self.rename_enum(type_name, new_name),
            Op::DropType { type_name, .. } => {
                let resolved = self.resolve(type_name);
                if let Some(e) = remove(&mut self.enums, &resolved) {
                    self.vacated_enum_names
                        .entry((schema_of(&resolved).to_string(), resolved.name))
                        .or_insert(e.is_new);
                }
            }
            Op::CreateMaterializedView {
                view,
                if_not_exists,
            } => {
                let view = self.resolve(view);
                if *if_not_exists && get(&self.materialized_views, &view).is_some() {
                    return;
                }
                insert(&mut self.materialized_views, &view, is_new);
            }
            Op::CreateDomain { name } => {
                let name = self.resolve(name);
                insert(&mut self.domains, &name, is_new);
            }
            Op::Reindex { .. }
            | Op::RewriteTable { .. }
            | Op::RefreshMaterializedView { .. }
            | Op::AddDomainConstraint { .. }
            | Op::DropDatabase { .. }
            | Op::Truncate { .. }
            | Op::Update { .. }
            | Op::Delete { .. }
            | Op::Insert { .. }
            | Op::Transaction(_)
            | Op::NonTransactional { .. }
            | Op::LockTable { .. }
            | Op::CreateTrigger { .. }
            | Op::Other { .. } => {}
            Op::RenameSchema { name, new_name } => self.rename_schema(name, new_name),
            // Which overload moved is not known without argument types: each is kept under the
            // old name as well, so no destructive body is lost from view.
            Op::RenameRoutine { routine, new_name } => {
                let overloads = get(&self.routines, &self.resolve(routine)).cloned();
                for overload in overloads.into_iter().flatten() {
                    self.add_routine(new_name, overload);
                }
            }
            Op::CreateRoutine {
                name,
                signature,
                body,
                calls,
                volatility,
                inline_expression,
            } => self.add_routine(
                name,
                Routine {
                    signature: signature.clone(),
                    body: body.clone(),
                    calls: calls.clone(),
                    volatility: *volatility,
                    inline_expression: inline_expression.clone(),
                },
            ),
        }
    }

    /// A new overload, or the replacement of the one with the same signature.
    fn add_routine(&mut self, name: &ObjectName, routine: Routine) {
        let resolved = self.resolve(name);
        let overloads = self
            .routines
            .entry(schema_of(&resolved).to_string())
            .or_default()
            .entry(resolved.name)
            .or_default();
        match overloads
            .iter_mut()
            .find(|o| o.signature == routine.signature)
        {
            Some(same) => *same = routine,
            None => overloads.push(routine),
        }
    }

    /// The table, or, when the history does not know it, an existing table with no known columns:
    /// what the pending set adds to it (columns, constraints) must still be remembered.
    fn table_or_placeholder(&mut self, table: &ObjectName) -> &mut Table {
        let resolved = self.resolve(table);
        self.tables
            .entry(schema_of(&resolved).to_string())
            .or_default()
            .entry(resolved.name.clone())
            .or_insert_with(|| Table {
                name: resolved,
                columns: Vec::new(),
                constraints: Vec::new(),
                is_new: false,
                production_name: None,
            })
    }

    fn column_mut(&mut self, table: &ObjectName, column: &str) -> Option<&mut Column> {
        get_mut(&mut self.tables, table)?
            .columns
            .iter_mut()
            .find(|c| c.name == column)
    }

    fn create_table(
        &mut self,
        name: ObjectName,
        columns: &[ColumnSpec],
        constraints: &[ConstraintSpec],
        is_new: bool,
    ) {
        let table = Table {
            name: name.clone(),
            columns: columns.iter().map(|c| column_of(c, is_new)).collect(),
            constraints: Vec::new(),
            is_new,
            production_name: None,
        };
        insert(&mut self.tables, &name, table);
        let inline = columns
            .iter()
            .flat_map(|c| inline_constraints(&name.name, c));
        let all: Vec<ConstraintSpec> = inline.chain(constraints.iter().cloned()).collect();
        for constraint in all {
            self.add_constraint(&name, constraint, is_new);
        }
    }

    /// Records a constraint, named the way PostgreSQL names it when the SQL did not, and the
    /// index that PRIMARY KEY and UNIQUE constraints build.
    fn add_constraint(&mut self, table: &ObjectName, mut constraint: ConstraintSpec, is_new: bool) {
        if constraint.name.is_none() && matches!(constraint.kind, ConstraintKind::Exclude) {
            // PostgreSQL names it (and its index) after its columns, which the model does not
            // keep: the index's name is not known.
            self.read_incompletely = true;
        }
        let t = self.table_or_placeholder(table);
        let name = constraint
            .name
            .clone()
            .unwrap_or_else(|| default_constraint_name(&t.name.name, &constraint.kind));
        constraint.name = Some(name.clone());
        let index_is_new = is_new || t.is_new;
        let table_name = t.name.clone();
        let using_index = match &constraint.kind {
            ConstraintKind::PrimaryKey { using_index, .. }
            | ConstraintKind::Unique { using_index, .. } => Some(using_index.clone()),
            // An exclusion constraint builds an index of its name too.
            ConstraintKind::Exclude => Some(None),
            _ => None,
        };
        let columns = constraint_columns(&constraint.kind).to_vec();
        let unique = !matches!(constraint.kind, ConstraintKind::Exclude);
        t.constraints.push(constraint);
        let Some(using_index) = using_index else {
            return;
        };
        let index = ObjectName::new(Some(schema_of(&table_name)), &name);
        match using_index {
            // `USING INDEX i` renames the index to the constraint's name.
            Some(existing) => {
                let from = ObjectName::new(Some(schema_of(&table_name)), &existing);
                if let Some(mut i) = remove(&mut self.indexes, &from) {
                    i.name = index.clone();
                    insert(&mut self.indexes, &index, i);
                }
            }
            None => insert(
                &mut self.indexes,
                &index.clone(),
                Index {
                    name: index,
                    table: table_name,
                    columns,
                    unique,
                    is_new: index_is_new,
                    predicate: None,
                },
            ),
        }
    }

    fn drop_table(&mut self, table: &ObjectName) {
        let resolved = self.resolve(table);
        if remove(&mut self.tables, &resolved).is_some() {
            if let Some(indexes) = self.indexes.get_mut(schema_of(&resolved)) {
                indexes.retain(|_, i| i.table != resolved);
            }
        }
    }

    fn move_table(&mut self, from: &ObjectName, to: ObjectName, pending: bool) {
        let from = self.resolve(from);
        let Some(mut table) = remove(&mut self.tables, &from) else {
            return;
        };
        if pending && !table.is_new {
            table.production_name.get_or_insert_with(|| from.clone());
        }
        table.name = to.clone();
        insert(&mut self.tables, &to, table);
        // Indexes follow their table (into its new schema, for SET SCHEMA).
        let moved: Vec<String> = self
            .indexes
            .get(schema_of(&from))
            .map(|m| {
                m.iter()
                    .filter(|(_, i)| i.table == from)
                    .map(|(k, _)| k.clone())
                    .collect()
            })
            .unwrap_or_default();
        for key in moved {
            let old = ObjectName::new(Some(schema_of(&from)), &key);
            if let Some(mut index) = remove(&mut self.indexes, &old) {
                let new_name = ObjectName::new(Some(schema_of(&to)), &key);
                index.table = to.clone();
                index.name = new_name.clone();
                insert(&mut self.indexes, &new_name, index);
            }
        }
    }

    fn drop_schema(&mut self, name: &str) {
        self.schemas.remove(name);
        self.tables.remove(name);
        self.indexes.remove(name);
        self.enums.remove(name);
        self.materialized_views.remove(name);
        self.domains.remove(name);
    }

    /// Everything in the schema moves under its new name; later statements name it so.
    fn rename_schema(&mut self, from: &str, to: &str) {
        let was_new = self.is_new_schema(from);
        self.schemas.remove(from);
        self.schemas.insert(to.to_string(), was_new);
        let moved = |name: &mut ObjectName| {
            if schema_of(name) == from {
                name.schema = Some(to.to_string());
            }
        };
        if let Some(mut tables) = self.tables.remove(from) {
            for table in tables.values_mut() {
                moved(&mut table.name);
            }
            self.tables.insert(to.to_string(), tables);
        }
        if let Some(mut indexes) = self.indexes.remove(from) {
            for index in indexes.values_mut() {
                moved(&mut index.name);
                moved(&mut index.table);
            }
            self.indexes.insert(to.to_string(), indexes);
        }
        if let Some(mut enums) = self.enums.remove(from) {
            for e in enums.values_mut() {
                moved(&mut e.name);
            }
            self.enums.insert(to.to_string(), enums);
        }
        if let Some(routines) = self.routines.remove(from) {
            self.routines.insert(to.to_string(), routines);
        }
        for name in &mut self.enums_of_current_migration {
            moved(name);
        }
        // Columns of a type in that schema, and foreign keys to its tables, follow it.
        for tables in self.tables.values_mut() {
            for table in tables.values_mut() {
                for column in &mut table.columns {
                    if column.data_type.schema.as_deref() == Some(from) {
                        column.data_type.schema = Some(to.to_string());
                    }
                }
                for constraint in &mut table.constraints {
                    if let ConstraintKind::ForeignKey { references, .. } = &mut constraint.kind {
                        if references.schema.as_deref() == Some(from)
                            || (references.schema.is_none() && from == DEFAULT_SCHEMA)
                        {
                            references.schema = Some(to.to_string());
                        }
                    }
                }
            }
        }
    }

    fn rename_enum(&mut self, type_name: &ObjectName, new_name: &str) {
        let from = self.resolve(type_name);
        let Some(mut e) = remove(&mut self.enums, &from) else {
            return;
        };
        let schema = schema_of(&from).to_string();
        let to = ObjectName::new(Some(&schema), new_name);
        self.vacated_enum_names
            .entry((schema.clone(), from.name.clone()))
            .or_insert(e.is_new);
        // Taking over the name of an existing enum (Prisma's recreate): the type in production
        // is the old one with new values, not a new, unused type.
        if let Some(was_new) = self
            .vacated_enum_names
            .remove(&(schema.clone(), new_name.to_string()))
        {
            e.is_new = e.is_new && was_new;
        }
        e.name = to.clone();
        if let Some(current) = self
            .enums_of_current_migration
            .iter_mut()
            .find(|n| **n == from)
        {
            *current = to.clone();
        }
        insert(&mut self.enums, &to, e);
        // Columns of the renamed type keep pointing at it.
        for tables in self.tables.values_mut() {
            for table in tables.values_mut() {
                for column in &mut table.columns {
                    let ty = &mut column.data_type;
                    if ty.base == from.name
                        && ty.schema.as_deref().unwrap_or(DEFAULT_SCHEMA) == schema
                    {
                        ty.base = new_name.to_string();
                    }
                }
            }
        }
    }
}
